"""Generate the demo organisation and its ground truth.

:func:`generate` returns a :class:`DemoOrg`: every canonical table except ``member_days``
and ``feature_events`` as pandas frames, those two as streams of weekly Arrow chunks drawn
afresh on demand, and the ground truth (:mod:`wecom_eval.demo.truth`). Given ``on_week``, it
hands each week's ``member_days`` and ``feature_events`` to it as they are drawn, so a
build lands them (:mod:`wecom_eval.demo.build`) without holding more than a week.

Frames use these types: ``date`` columns are ``datetime64`` at midnight (naive),
``timestamp`` columns are timezone-aware (Asia/Shanghai), nullable integers are ``Int64``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.demo.activity import FEATURES, ActivityModel, FeatureUse, Week, scan
from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.org import Org, Window, build_org, eligible_departments
from wecom_eval.demo.processes import Approvals, approvals, tickets, training
from wecom_eval.demo.surveys import build_surveys
from wecom_eval.demo.truth import build_truth, efficiency_truth, penetration_window, ticket_truth
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.schema import table as table_def

Progress = Callable[[str], None]
DAY_GRAIN_LIMIT = 20_000_000  # member-days up to which feature_events are per day (auto grain)


@dataclass
class DemoOrg:
    """A generated organisation: tables, the member-day and feature-event streams, and its ground truth."""

    config: DemoConfig
    plan: RolloutPlan
    truth: dict[str, Any]
    window: Window
    _tables: dict[str, pd.DataFrame] = field(repr=False)  # all but the three below
    _activity: ActivityModel = field(repr=False)  # member_days and feature_events
    _approvals: Approvals | None = field(repr=False)  # process_records
    _all: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every canonical table except ``member_days``, as frames in load order.

        ``feature_events`` is drawn on first use (at 100,000 employees it holds about 11
        million rows; a build lands it week by week instead).
        """
        if self._all is None:
            model = self._activity
            weeks = [model.features(d0, d1, model.block(d0, d1)[0]) for d0, d1 in model.weeks()]
            frames = {**self._tables, "feature_events": FeatureUse.concat(weeks).frame(model)}
            if self._approvals is not None:
                frames["process_records"] = self._approvals.frame()
            self._all = {name: frames[name] for name in LOAD_ORDER if name in frames}
        return self._all

    def frame_chunks(self, rows: int = 1 << 20) -> Iterator[tuple[str, Iterator[pd.DataFrame]]]:
        """Every table but ``member_days`` and ``feature_events``, in load order, as frames of at
        most ``rows`` rows (``process_records`` is built a slice at a time)."""
        for name in LOAD_ORDER:
            if name in self._tables:
                yield name, iter([self._tables[name]])
            elif name == "process_records" and self._approvals is not None:
                records = self._approvals
                yield (
                    name,
                    (records.frame(lo, min(lo + rows, len(records))) for lo in range(0, max(len(records), 1), rows)),
                )

    def feature_events_chunks(self) -> Iterator[pa.Table]:
        """``feature_events`` one week at a time (Arrow, canonical column types), drawn afresh."""
        return self._activity.feature_chunks()

    def member_days_chunks(self) -> Iterator[pa.Table]:
        """``member_days`` one week at a time (Arrow, canonical column types), drawn afresh."""
        return self._activity.chunks()

    def member_days_frame(self) -> pd.DataFrame:
        """All of ``member_days`` as one pandas frame (for small organisations and tests)."""
        table = pa.concat_tables(list(self.member_days_chunks()))
        frame = table.to_pandas(date_as_object=False)
        frame["date"] = frame["date"].astype("datetime64[s]")
        frame["minutes"] = frame["minutes"].astype("Int64")
        result: pd.DataFrame = frame
        return result


def _substream(config: DemoConfig, k: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, 100 + k])


def _activity_model(org: Org, config: DemoConfig, plan: RolloutPlan, rng: np.random.Generator) -> ActivityModel:
    m_n, d_n = org.n_members, len(org.dept_ids)
    dept_effect = rng.normal(0.0, 0.4, size=d_n)
    base = (rng.normal(0.0, 0.9, size=m_n) + dept_effect[org.mem_dept]).astype(np.float32)
    log_minutes = (
        np.log(38.0) + rng.normal(0.0, 0.45, size=m_n) + rng.normal(0.0, 0.2, size=d_n)[org.mem_dept]
    ).astype(np.float32)
    use_logit, live_from = {}, {}
    names = org.departments["name"].to_numpy()
    for feature, (never, mean, _extra, _code) in FEATURES.items():
        logit = (mean + rng.normal(0.0, 1.0, size=m_n)).astype(np.float32)
        logit[rng.random(m_n) < never] = -np.inf
        eligible = eligible_departments(plan, feature, org.dept_paths, names)
        logit[~eligible[org.mem_dept]] = -np.inf
        use_logit[feature] = logit
        live_from[feature] = (
            org.dept_go_live[org.mem_dept] if feature in ("approval", "attendance") else np.zeros(m_n, dtype=np.int64)
        )
    n_member_days = m_n * org.window.n_days
    grain = config.feature_grain
    if grain == "auto":
        grain = "day" if n_member_days <= DAY_GRAIN_LIMIT else "week"
    return ActivityModel(
        seed=config.seed,
        start=np.datetime64(org.window.start, "D"),
        working=org.window.working,
        userids=pa.array(org.members["userid"].to_numpy(dtype=object), type=pa.string()),
        mem_dept=org.mem_dept,
        n_dept=d_n,
        act=org.mem_act,
        last=org.mem_last,
        leave=org.mem_leave,
        base=base,
        log_minutes=log_minutes,
        measured=org.mem_measured,
        min_minutes=plan.targets.daily_active.min_daily_minutes,
        use_logit=use_logit,
        live_from=live_from,
        grain=grain,
    )


def generate(
    config: DemoConfig | None = None,
    plan: RolloutPlan | None = None,
    *,
    progress: Progress | None = None,
    on_week: Week | None = None,
) -> DemoOrg:
    """Generate a demo organisation, deterministically for ``config.seed``.

    Parameters
    ----------
    config
        Size, window and planted effects (default :class:`DemoConfig()`).
    plan
        The rollout plan (default: the home's ``params/rollout.yaml``); its start date is
        day 1 of the rollout, its pilots and go-live weeks are honoured.
    progress
        Called with a short line as each stage finishes.
    on_week
        Called with (week number from 0, ``member_days``, ``feature_events``) for each week
        as it is drawn (Arrow tables with the canonical column types).
    """
    from wecom_eval.plan import load_plan

    config = config or DemoConfig()
    plan = plan or load_plan(Home.from_env().plan)
    say = progress or (lambda _m: None)
    org = build_org(config, plan, _substream(config, 0))
    say(
        f"organisation: {len(org.departments)} departments, {len(org.employees):,} employees, {org.n_members:,} members"
    )
    model = _activity_model(org, config, plan, _substream(config, 1))
    agg, features = scan(model, penetration_window(plan, org.window), on_week)
    say(
        f"activity: {model.n_members * model.n_days:,} member-days, {features.events:,} feature events "
        f"(one per user × feature × {model.grain})"
    )
    records = approvals(org, config, _substream(config, 2))
    efficiency = efficiency_truth(config, org, records.facts())
    sessions = training(org, plan, _substream(config, 3))
    support = tickets(org, _substream(config, 4))
    surveys = build_surveys(org, config, plan, _substream(config, 5))
    say(
        f"processes: {len(records):,} approvals, {len(sessions):,} training sign-ins, "
        f"{len(support):,} tickets, {len(surveys.responses):,} survey responses"
    )
    tables = {
        "departments": org.departments,
        "employees": org.employees,
        "members": org.members,
        "survey_responses": surveys.responses,
        "survey_items": surveys.items,
        "survey_choices": surveys.choices,
        "survey_text": surveys.text,
        "training_attendance": sessions,
        "tickets": support,
    }
    extras = {
        "satisfaction": surveys.truth["waves"],
        "tickets": ticket_truth(support),
        "training": {"sessions": int(sessions["session_id"].nunique()), "attendances": len(sessions)},
        "pseudonymisation": surveys.truth["pseudonymisation"],
    }
    counts = {"process_records": len(records), **{name: len(frame) for name, frame in tables.items()}}
    truth = build_truth(config, plan, org, model, agg, features, efficiency, extras, counts)
    return DemoOrg(config, plan, truth, org.window, tables, model, records)


_ARROW_TYPES = {
    "int": pa.int64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s", tz="Asia/Shanghai"),
    "float": pa.float64(),
}


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """A generated frame as Arrow with the canonical column types (no per-value conversion)."""
    t = table_def(name)
    arrays = []
    for c in t.columns:
        if c.omittable and c.name not in frame:
            continue  # left out: the warehouse fills it with nulls
        values = frame[c.name]
        typ = _ARROW_TYPES[c.kind]
        if c.kind == "str":
            arr = pa.Array.from_pandas(values)
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = arr.cast(typ)
            arrays.append(arr)  # string or large_string: no copy
            continue
        if c.kind == "timestamp":
            arr = pa.Array.from_pandas(values.dt.tz_convert("Asia/Shanghai"))
        elif c.kind == "date":
            arr = pa.Array.from_pandas(values.astype("datetime64[s]"))
        else:
            arr = pa.Array.from_pandas(values)
        arrays.append(arr.cast(typ))
    return pa.Table.from_arrays(arrays, names=[c.name for c in t.columns if not c.omittable or c.name in frame])
