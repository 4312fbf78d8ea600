"""The launch comparison before it runs: which departments are the pilots, and its power.

:func:`launch_power` takes the baseline approvals (before the rollout) for the variance
components, the departments with baseline approvals and their staff, and the launch weeks
as the after period, and hands them to :func:`wecom_eval.stats.did_power`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from wecom_eval.kpis import queries_records as q
from wecom_eval.kpis.efficiency import turnaround_records
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse


def pilot_ids(warehouse: Warehouse, plan: RolloutPlan) -> list[int]:
    """The department ids the plan names as pilots (by id or by path)."""
    deps = warehouse.query(q.DEPARTMENT_PATHS)
    return list(plan.resolve_pilots(deps.itertuples(index=False, name=None)))


@dataclass(frozen=True)
class LaunchPower:
    """The power of the planned comparison: ``result`` (None when the baseline allows no
    estimate), the weeks before and after it compares, and the baseline records it rests on."""

    result: Any
    weeks_pre: int
    weeks_post: int
    baseline_records: int


def launch_power(
    warehouse: Warehouse,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    effect: float,
    n_sim: int,
    seed: int,
    max_weeks: int,
) -> LaunchPower:
    """Power and minimum detectable effect of the planned pilot comparison (module docstring).

    ``effect`` is the assumed gain, ``n_sim`` the simulations, ``max_weeks`` the longest
    after-period searched for 80 % probability of "met".
    """
    from wecom_eval import stats

    records = turnaround_records(warehouse, plan, data_through=data_through)
    base = records.loc[records["week"] < 1]
    try:
        comps = stats.variance_components(base, outcome="hours", department="department_id", week="week")
    except ValueError:  # too little baseline data: the report says so
        return LaunchPower(None, 0, 0, len(base))
    per_dep = base.groupby("department_id").agg(records=("record_id", "size"), pilot=("is_pilot", "max"))
    staff = warehouse.query(q.STAFF_BY_DEPARTMENT).set_index("department_id")["staff"]
    per_dep = per_dep.join(staff, how="left").fillna({"staff": 1})
    weeks_pre = max(1, int(base["week"].nunique()))
    weeks_post = max(1, int(plan.phase("launch").last_week))
    rate = float(per_dep["records"].sum() / per_dep["staff"].sum() / weeks_pre)
    pilots = [i for i, p in enumerate(per_dep["pilot"]) if p]
    result = stats.did_power(
        n_departments=len(per_dep),
        n_treated=len(pilots),
        staff=per_dep["staff"].astype(int).tolist(),
        approvals_per_staff_week=rate,
        weeks_pre=weeks_pre,
        weeks_post=weeks_post,
        components=comps,
        effect=effect,
        pilots=pilots,
        n_sim=n_sim,
        seed=seed,
        target=plan.targets.pilot_efficiency.target,
        max_weeks=max_weeks,
    )
    return LaunchPower(result, weeks_pre, weeks_post, len(base))


__all__ = ["LaunchPower", "launch_power", "pilot_ids"]
