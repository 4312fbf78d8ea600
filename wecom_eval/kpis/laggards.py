"""The departments furthest behind their engaged-rate path, with the likely reasons.

A department is behind when its engaged rate is below today's point on its path
(:func:`wecom_eval.kpis.progress.progress`, by department). The reasons are codes the
reports put in words: ``late_go_live`` (it went live after the plan's week for the other
departments), ``low_registration`` (under 90 % registered) and ``low_training`` (a trained
share under 80 % of the median department's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.kpis._base import Context, as_date, run
from wecom_eval.kpis.progress import progress
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

LOW_REGISTRATION = 0.9
LOW_TRAINING = 0.8  # of the median department's trained share

# Members (active, disabled or never activated) per department who attended a training by
# $data_through, as a share of the department's members.
TRAINED_SHARE = """
SELECT m.department_id, count(DISTINCT t.userid) * 1.0 / count(DISTINCT m.userid) AS trained
FROM members m LEFT JOIN training_attendance t ON t.userid = m.userid AND t.date <= $data_through
WHERE m.status IN (1, 2, 4) GROUP BY m.department_id
"""

COLUMNS = [
    "department_id",
    "department",
    "n",
    "go_live_week",
    "registration_rate",
    "active_rate",
    "engaged_rate",
    "gap",
    "trained",
    "reasons",
]


def laggards(
    source: Source, plan: RolloutPlan, *, data_through: dt.date, top: int = 10, cal: WorkCalendar | None = None
) -> pd.DataFrame:
    """The ``top`` departments furthest behind their engaged-rate path on ``data_through``.

    Returns
    -------
    pandas.DataFrame
        One row per department, furthest behind first: ``department_id``, ``department``,
        ``n`` (measured members), ``go_live_week`` (rollout week its path starts),
        ``registration_rate``, ``active_rate``, ``engaged_rate``, ``gap`` (engaged rate −
        path), ``trained`` (share of members trained) and ``reasons`` (a list of the codes
        in the module docstring, possibly empty).
    """
    ctx = Context.of(source, plan, cal)
    day = as_date(data_through, name="data_through")
    sc = progress(ctx.con, plan, data_through=day, by="department", cal=ctx.cal)
    act = sc.loc[(sc["kpi"] == "engaged_rate") & sc["estimate"].notna()].set_index("department_id")
    reg: Any = sc.loc[(sc["kpi"] == "registration") & sc["estimate"].notna()].set_index("department_id")["estimate"]
    act_rate: Any = sc.loc[(sc["kpi"] == "active_rate") & sc["estimate"].notna()].set_index("department_id")["estimate"]
    training: Any = run(ctx.con, TRAINED_SHARE, {"data_through": day}).set_index("department_id")["trained"]
    median_training = float(training.median()) if len(training) else 0.0
    first_week = plan.departments.others_go_live_week
    rows = []
    behind = act.loc[act["gap_to_path"] < 0].sort_values("gap_to_path").head(top)
    did: Any
    for did, rec in behind.iterrows():
        week = (rec["path_start"] - plan.start_date).days // 7 + 1
        reasons = []
        if week > first_week:
            reasons.append("late_go_live")
        if did in reg.index and reg[did] < LOW_REGISTRATION:
            reasons.append("low_registration")
        trained = training[did] if did in training.index else np.nan
        if did in training.index and training[did] < LOW_TRAINING * median_training:
            reasons.append("low_training")
        rows.append(
            {
                "department_id": did,
                "department": rec["department"],
                "n": rec["n"],
                "go_live_week": week,
                "registration_rate": reg.get(did, np.nan),
                "active_rate": act_rate.get(did, np.nan),
                "engaged_rate": rec["estimate"],
                "gap": rec["gap_to_path"],
                "trained": trained,
                "reasons": reasons,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["COLUMNS", "LOW_REGISTRATION", "LOW_TRAINING", "laggards"]
