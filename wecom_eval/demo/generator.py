"""Generate the demo organisation, record its ground truth, and load it into the warehouse.

:func:`generate` returns a :class:`DemoOrg`: every canonical table except ``member_days``
as pandas frames, ``member_days`` as a stream of weekly Arrow chunks, and the ground truth.
:func:`build_demo` writes the truth beside the data and loads everything in one transaction.

Frames use these types: ``date`` columns are ``datetime64`` at midnight (naive),
``timestamp`` columns are timezone-aware (Asia/Shanghai), nullable integers are ``Int64``.

Ground truth (``DemoOrg.truth``, written to ``data/demo/truth.json``)
--------------------------------------------------------------------
Every rate below is realised in the generated data, computed with the definition stated in
``truth["definitions"]``, so a KPI computed from the warehouse must agree with it exactly;
the model's true parameters sit beside them.

``definitions``
    The exact definition behind each realised figure (on the roster, registered, active,
    engaged, penetration, turnaround).
``config``, ``seed``, ``window``
    The :class:`DemoConfig`, the seed, and the data window (``start``, ``rollout_start``,
    ``end``, ``days``, ``baseline_weeks``, ``rollout_weeks``).
``departments``
    One entry per department: ``department_id``, ``path``, ``level``, ``is_pilot``,
    ``go_live_date``, ``go_live_week``, ``roster_at_start`` (employees on the roster on the
    rollout's first day), ``members``, ``minutes_measured`` (False where the activity
    source has no minutes), ``activation_mu_days`` / ``activation_scale_days`` (the
    logistic S-curve of registration after go-live).
``pilots``
    ``[{department_id, path}]`` as resolved from the plan.
``registration``
    ``as_of`` (the plan's registration deadline, or the window's end if earlier),
    ``company`` and ``by_department`` (``{department_id: {roster, registered, rate}}``, by the
    roster's department), and ``weekly`` (company rate at the end of each rollout week).
``activity``
    ``min_daily_minutes``; ``daily``: one entry per rollout day (``date``, ``working``,
    ``registered``, ``active``, ``active_rate``, ``registered_measured``, ``engaged``,
    ``engaged_rate`` — null when nothing is measured); ``weekly``: per rollout week the
    mean over its working days of ``active_rate`` and ``engaged_rate``;
    ``by_department_weekly``: the same per department (members' WeCom department);
    ``not_measured_departments``: ids whose engaged rate is "not measured";
    ``true``: the model's parameters (logits, ramp, minutes).
``penetration``
    ``as_of`` (day 90, or the window's end), ``window_days``, ``feature_grain`` ("day" or
    "week": one feature_events row per user × feature × day/week used, ``ts`` the first use),
    and per feature ``{eligible, users, rate, eligible_department_names}``, plus
    ``by_department``.
``efficiency``
    ``true``: ``pilot_factor`` (turnaround × factor at go-live in pilot departments),
    ``pilot_log_effect``, ``pilot_gain`` (1 − factor), ``other_factor``,
    ``other_log_effect``, ``drift_per_28_days``, ``drift_log_per_day``,
    ``legacy_median_hours``, ``sigma``, ``department_sigma``. ``realised``: on finished
    approvals (approved or rejected) in calendar hours, ``launch_did`` compares pilots and
    controls (departments not yet live) between the baseline and the launch weeks before any
    other department goes live: geometric means per cell, cell sizes, ``ratio`` (ratio of
    geometric-mean ratios) and ``log_effect``; ``pilot_before_after`` is the raw pilot
    change (legacy vs WeCom records).
``satisfaction``
    Per wave: ``invited``, ``respondents``, ``response_rate``, ``mean_overall`` (the mean of
    answered overall items, what the survey shows), ``top2box_overall``,
    ``population_mean_overall`` (all invited, before non-response), ``latent_mean_overall``,
    ``cronbach_alpha_ease`` (complete ease rows), ``by_department``. The needs wave lists
    the number of times each option was chosen.
``tickets``
    ``n``, ``answered_within_1h`` and ``resolved_within_4h`` (shares of all tickets).
``training``
    ``sessions`` and ``attendances``.
``anomalies``
    userids of shared accounts (no employee), members in another department than the
    roster, employees with no member, never-registering stragglers, disabled members.
``pseudonymisation``
    "environment" when ``$WECOM_EVAL_SALT`` supplied the salt, else "demo default".
``counts``
    Rows per table (``member_days`` included).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.demo import activity as act_mod
from wecom_eval.demo.activity import FEATURES, ActivityModel, Aggregates, FeatureUse, scan
from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.org import NEVER, Org, Window, build_org
from wecom_eval.demo.processes import approvals, headcount, tickets, training
from wecom_eval.demo.surveys import build_surveys
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.schema import table as table_def

Progress = Callable[[str], None]
DAY_GRAIN_LIMIT = 20_000_000  # member-days up to which feature_events are per day (auto grain)
SOURCE = "demo"

DEFINITIONS = {
    "on_roster": "an employee is on the roster on day d when hire_date <= d and "
    "(leave_date is null or d <= leave_date)",
    "registered_employee": "an employee on the roster on day d whose member (members.employee_id) has "
    "activated_at on or before d (any status)",
    "registered_member": "a member with activated_at on or before d whose employee (if any) is on the roster on d; "
    "members with no employee count once activated",
    "active": "member_days.active on d; daily active rate = active / registered members on working days",
    "engaged": "active and minutes >= min_daily_minutes, among registered members whose source reports minutes",
    "department": "registration and penetration by the roster's department (employees.department_id); "
    "activity by the member's WeCom department (members.department_id)",
    "penetration": "eligible employees on the roster at as_of whose member has a feature_events row of the "
    "feature with date(ts) in [as_of - window_days + 1, as_of], over eligible employees",
    "turnaround": "finished_at - started_at in calendar hours, approvals with status approved or rejected",
}


@dataclass
class DemoOrg:
    """A generated organisation: tables, the member-day stream, and its ground truth."""

    config: DemoConfig
    plan: RolloutPlan
    truth: dict[str, Any]
    window: Window
    _tables: dict[str, pd.DataFrame] = field(repr=False)  # all but feature_events and member_days
    _activity: ActivityModel = field(repr=False)
    _features: FeatureUse = field(repr=False)
    _all: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every canonical table except ``member_days``, as frames in load order.

        ``feature_events`` is built on first use (at 100,000 employees it holds about 11
        million rows; :func:`build_demo` loads it from :meth:`feature_events_chunks` instead).
        """
        if self._all is None:
            frames = {**self._tables, "feature_events": self._features.frame(self._activity)}
            self._all = {name: frames[name] for name in LOAD_ORDER if name in frames}
        return self._all

    def feature_events_chunks(self) -> Iterator[pa.Table]:
        """``feature_events`` one week at a time (Arrow, canonical column types)."""
        return self._features.chunks(self._activity)

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

    @property
    def member_days_chunk_count(self) -> int:
        return len(self._activity.weeks())

    @property
    def member_days_rows(self) -> int:
        return self._activity.n_members * self._activity.n_days

    def arrow(self, name: str) -> pa.Table:
        """A table as Arrow with the canonical column types (shares memory with the frame)."""
        if name == "feature_events" and self._all is None:
            return pa.concat_tables(list(self.feature_events_chunks()))
        if name == "member_days":
            return pa.concat_tables(list(self.member_days_chunks()))
        return to_arrow(name, self.tables[name] if name not in self._tables else self._tables[name])

    def load_rows(
        self,
        wrap_chunks: Callable[[Iterator[pa.Table], int], Iterator[pa.Table]] | None = None,
    ) -> dict[str, pa.Table | Iterator[pa.Table]]:
        """What :meth:`Warehouse.load_many` takes: Arrow tables, and chunk streams for the two big ones."""
        rows: dict[str, pa.Table | Iterator[pa.Table]] = {}
        for name in LOAD_ORDER:
            if name == "member_days":
                chunks = self.member_days_chunks()
                rows[name] = wrap_chunks(chunks, self.member_days_chunk_count) if wrap_chunks else chunks
            elif name == "feature_events":
                rows[name] = self.feature_events_chunks()
            elif name in self._tables:  # the demo states activation times: no status snapshots
                rows[name] = to_arrow(name, self._tables[name])
        return rows


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
        eligible = _eligible_departments(plan, feature, org.dept_paths, names)
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


def _eligible_departments(plan: RolloutPlan, feature: str, paths: list[str], names: np.ndarray) -> np.ndarray:
    allowed = plan.eligible_names(feature)
    if allowed is None:
        return np.ones(len(paths), dtype=bool)
    return np.array([any(part in allowed for part in p.split("/")) for p in paths], dtype=bool)


def generate(
    config: DemoConfig | None = None, plan: RolloutPlan | None = None, *, progress: Progress | None = None
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
    agg, uses = scan(model)
    say(
        f"activity: {model.n_members * model.n_days:,} member-days scanned, {len(uses):,} feature events "
        f"(one per user × feature × {model.grain})"
    )
    process_records, facts = approvals(org, config, _substream(config, 2))
    sessions = training(org, plan, _substream(config, 3))
    support = tickets(org, _substream(config, 4))
    surveys = build_surveys(org, config, plan, _substream(config, 5))
    say(
        f"processes: {len(process_records):,} approvals, {len(sessions):,} training sign-ins, "
        f"{len(support):,} tickets, {len(surveys.responses):,} survey responses"
    )
    tables = {
        "departments": org.departments,
        "employees": org.employees,
        "members": org.members,
        "process_records": process_records,
        "survey_responses": surveys.responses,
        "survey_items": surveys.items,
        "survey_choices": surveys.choices,
        "survey_text": surveys.text,
        "training_attendance": sessions,
        "tickets": support,
    }
    truth = _truth(config, plan, org, model, agg, uses, facts, sessions, support, surveys.truth, tables)
    return DemoOrg(config, plan, truth, org.window, tables, model, uses)


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


# ---- ground truth ---------------------------------------------------------------------


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _truth(
    config: DemoConfig,
    plan: RolloutPlan,
    org: Org,
    model: ActivityModel,
    agg: Aggregates,
    uses: FeatureUse,
    facts: dict[str, Any],
    sessions: pd.DataFrame,
    support: pd.DataFrame,
    survey_truth: dict[str, Any],
    tables: dict[str, pd.DataFrame],
) -> dict[str, Any]:
    w = org.window
    r0 = w.rollout_day0
    ids = [int(i) for i in org.dept_ids]
    heads = headcount(org)
    members_per_dept = np.bincount(org.mem_dept, minlength=len(ids))
    measured_per_dept = np.bincount(org.mem_dept, weights=org.mem_measured, minlength=len(ids))
    departments = []
    for j, dept_id in enumerate(ids):
        departments.append(
            {
                "department_id": dept_id,
                "path": org.dept_paths[j],
                "level": int(org.dept_level[j]),
                "is_pilot": bool(org.dept_pilot[j]),
                "go_live_date": str(w.date(org.dept_go_live[j])),
                "go_live_week": int(org.dept_go_live_week[j]),
                "roster_at_start": int(heads[min(r0, w.n_days - 1), j]),
                "members": int(members_per_dept[j]),
                "minutes_measured": bool(measured_per_dept[j] > 0) if members_per_dept[j] else None,
            }
        )

    # registration, by the roster's department
    member_of = np.full(len(org.emp_dept), -1, dtype=np.int64)
    has = org.mem_emp >= 0
    member_of[org.mem_emp[has]] = np.flatnonzero(has)
    emp_act = np.where(member_of >= 0, org.mem_act[np.maximum(member_of, 0)], NEVER)

    def registration_on(d: int) -> tuple[np.ndarray, np.ndarray]:
        on = (org.emp_hire <= d) & (d <= org.emp_leave)
        reg = on & (emp_act <= d)
        return (
            np.bincount(org.emp_dept, weights=on, minlength=len(ids)).astype(int),
            np.bincount(org.emp_dept, weights=reg, minlength=len(ids)).astype(int),
        )

    reg_day = min(w.day(plan.deadline(plan.targets.registration.deadline_day)), w.n_days - 1)
    roster, registered = registration_on(reg_day)
    weekly_reg = []
    for week in range(1, config.rollout_weeks + 1):
        d = r0 + 7 * week - 1
        ro, re = registration_on(d)
        weekly_reg.append(
            {
                "week": week,
                "date": str(w.date(d)),
                "roster": int(ro.sum()),
                "registered": int(re.sum()),
                "rate": _rate(re.sum(), ro.sum()),
            }
        )
    registration = {
        "as_of": str(w.date(reg_day)),
        "company": {
            "roster": int(roster.sum()),
            "registered": int(registered.sum()),
            "rate": _rate(registered.sum(), roster.sum()),
        },
        "by_department": {
            str(i): {
                "roster": int(roster[j]),
                "registered": int(registered[j]),
                "rate": _rate(registered[j], roster[j]),
            }
            for j, i in enumerate(ids)
            if roster[j]
        },
        "weekly": weekly_reg,
    }

    # activity
    daily = []
    for d in range(r0, w.n_days):
        reg, act = agg.registered[d].sum(), agg.active[d].sum()
        rm, eng = agg.registered_measured[d].sum(), agg.engaged[d].sum()
        daily.append(
            {
                "date": str(w.date(d)),
                "working": bool(w.working[d]),
                "registered": int(reg),
                "active": int(act),
                "active_rate": _rate(act, reg),
                "registered_measured": int(rm),
                "engaged": int(eng),
                "engaged_rate": _rate(eng, rm),
            }
        )

    def weekly_rates(cols: slice | int) -> list[dict[str, Any]]:
        out = []
        for week in range(1, config.rollout_weeks + 1):
            days = [d for d in range(r0 + 7 * (week - 1), min(r0 + 7 * week, w.n_days)) if w.working[d]]
            ar = [x for d in days if (x := _rate(agg.active[d, cols].sum(), agg.registered[d, cols].sum())) is not None]
            er = [
                x
                for d in days
                if (x := _rate(agg.engaged[d, cols].sum(), agg.registered_measured[d, cols].sum())) is not None
            ]
            out.append(
                {
                    "week": week,
                    "working_days": len(days),
                    "active_rate": float(np.mean(ar)) if ar else None,
                    "engaged_rate": float(np.mean(er)) if er else None,
                }
            )
        return out

    activity = {
        "min_daily_minutes": model.min_minutes,
        "daily": daily,
        "weekly": weekly_rates(slice(None)),
        "by_department_weekly": {str(i): weekly_rates(j) for j, i in enumerate(ids) if members_per_dept[j]},
        "not_measured_departments": [i for j, i in enumerate(ids) if members_per_dept[j] and measured_per_dept[j] == 0],
        "sources": {
            "with_minutes": act_mod.SOURCE_WITH_MINUTES,
            "without_minutes": act_mod.SOURCE_WITHOUT_MINUTES,
            "branch_without_minutes": config.no_minutes_branch,
        },
        "true": {
            "working_day_logit": act_mod.WORKING_LOGIT,
            "off_day_logit": act_mod.OFF_LOGIT,
            "member_logit_sd": 0.9,
            "department_logit_sd": 0.4,
            "ramp": "-0.8 + 1.4 * (1 - exp(-k / 14)), k days since registration",
            "median_minutes": 38.0,
            "minutes_log_sd": 0.6,
        },
    }

    # penetration
    pen_day = min(w.day(plan.deadline(plan.targets.feature_penetration.deadline_day)), w.n_days - 1)
    window_days = plan.targets.feature_penetration.window_days
    in_window = (uses.day >= pen_day - window_days + 1) & (uses.day <= pen_day)
    feature_no = {f: k for k, f in enumerate(FEATURES)}
    on = (org.emp_hire <= pen_day) & (pen_day <= org.emp_leave)
    names = org.departments["name"].to_numpy()
    penetration: dict[str, Any] = {
        "as_of": str(w.date(pen_day)),
        "window_days": window_days,
        "feature_grain": model.grain,
        "features": {},
        "by_department": {},
    }
    for feature in plan.targets.feature_penetration.features:
        eligible_dept = _eligible_departments(plan, feature, org.dept_paths, names)
        eligible = on & eligible_dept[org.emp_dept]
        used_m = np.zeros(org.n_members, dtype=bool)
        used_m[uses.member[in_window & (uses.feature == feature_no[feature])]] = True
        used = eligible & (member_of >= 0) & used_m[np.maximum(member_of, 0)]
        penetration["features"][feature] = {
            "eligible": int(eligible.sum()),
            "users": int(used.sum()),
            "rate": _rate(used.sum(), eligible.sum()),
            "eligible_department_names": plan.eligible_names(feature),
        }
        el = np.bincount(org.emp_dept, weights=eligible, minlength=len(ids))
        us = np.bincount(org.emp_dept, weights=used, minlength=len(ids))
        penetration["by_department"][feature] = {
            str(i): {"eligible": int(el[j]), "users": int(us[j]), "rate": _rate(us[j], el[j])}
            for j, i in enumerate(ids)
            if el[j]
        }

    truth: dict[str, Any] = {
        "definitions": DEFINITIONS,
        "seed": config.seed,
        "config": config.model_dump(mode="json"),
        "window": {
            "start": str(w.start),
            "rollout_start": str(w.rollout_start),
            "end": str(w.end),
            "days": w.n_days,
            "baseline_weeks": config.baseline_weeks,
            "rollout_weeks": config.rollout_weeks,
        },
        "departments": departments,
        "pilots": [{"department_id": ids[j], "path": org.dept_paths[j]} for j in np.flatnonzero(org.dept_pilot)],
        "registration": registration,
        "activity": activity,
        "penetration": penetration,
        "efficiency": _efficiency_truth(config, org, facts),
        "satisfaction": survey_truth["waves"],
        "tickets": _ticket_truth(support),
        "training": {"sessions": int(sessions["session_id"].nunique()), "attendances": len(sessions)},
        "anomalies": org.anomalies,
        "pseudonymisation": survey_truth["pseudonymisation"],
        "counts": {
            name: (
                model.n_members * model.n_days
                if name == "member_days"
                else len(uses)
                if name == "feature_events"
                else len(tables.get(name, ()))
            )
            for name in LOAD_ORDER
        },
    }
    return truth


def _efficiency_truth(config: DemoConfig, org: Org, facts: dict[str, Any]) -> dict[str, Any]:
    w = org.window
    r0 = w.rollout_day0
    true = {
        "process": "approval",
        "pilot_factor": config.pilot_effect,
        "pilot_log_effect": float(np.log(config.pilot_effect)),
        "pilot_gain": 1.0 - config.pilot_effect,
        "other_factor": config.other_effect,
        "other_log_effect": float(np.log(config.other_effect)),
        "drift_per_28_days": config.drift_per_28_days,
        "drift_log_per_day": float(np.log(config.drift_per_28_days) / 28.0),
        "legacy_median_hours": config.legacy_median_hours,
        "sigma": config.turnaround_sigma,
        "department_sigma": config.department_sigma,
    }
    done = np.isin(facts["status"], ["approved", "rejected"])
    log_h = np.log(np.maximum(facts["hours"], 1e-9))
    pilot = org.dept_pilot[facts["dept"]]
    day = facts["day"]
    others_live = org.dept_go_live[~org.dept_pilot & (org.dept_level == 2)]
    post_end = int(min(others_live.min() if len(others_live) else w.n_days, w.n_days))
    controls = ~pilot & (org.dept_go_live[facts["dept"]] >= post_end)

    def cell(mask: np.ndarray) -> dict[str, Any]:
        x = log_h[mask & done]
        return {
            "n": int(len(x)),
            "geometric_mean_hours": float(np.exp(x.mean())) if len(x) else None,
            "mean_log_hours": float(x.mean()) if len(x) else None,
        }

    pre, post = day < r0, (day >= r0) & (day < post_end)
    launch: dict[str, Any] = {
        "pre": [str(w.start), str(w.date(r0 - 1))] if r0 > 0 else None,
        "post": [str(w.date(r0)), str(w.date(post_end - 1))] if post_end > r0 else None,
        "pilot_pre": cell(pilot & pre),
        "pilot_post": cell(pilot & post),
        "control_pre": cell(controls & pre),
        "control_post": cell(controls & post),
    }
    means = [launch[k]["mean_log_hours"] for k in ("pilot_pre", "pilot_post", "control_pre", "control_post")]
    if all(m is not None for m in means):
        effect = (means[1] - means[0]) - (means[3] - means[2])
        launch["log_effect"] = float(effect)
        launch["ratio"] = float(np.exp(effect))
    else:
        launch["log_effect"] = launch["ratio"] = None
    before, after = cell(pilot & ~facts["wecom"]), cell(pilot & facts["wecom"])
    raw = (
        after["geometric_mean_hours"] / before["geometric_mean_hours"]
        if before["geometric_mean_hours"] and after["geometric_mean_hours"]
        else None
    )
    return {
        "true": true,
        "realised": {
            "launch_did": launch,
            "pilot_before_after": {"before": before, "after": after, "ratio": raw},
            "records": int(len(day)),
            "pending": int(facts["pending"].sum()),
        },
    }


def _ticket_truth(support: pd.DataFrame) -> dict[str, Any]:
    n = len(support)
    answered = (support["first_response_at"] - support["created_at"]) <= pd.Timedelta(hours=1)
    resolved = (support["resolved_at"] - support["created_at"]) <= pd.Timedelta(hours=4)
    return {
        "n": n,
        "answered_within_1h": _rate(answered.fillna(False).sum(), n),
        "resolved_within_4h": _rate(resolved.fillna(False).sum(), n),
    }


# ---- building into a home ---------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` generated and loaded."""

    home: Path
    warehouse: Path
    truth_path: Path
    window: tuple[dt.date, dt.date, dt.date]  # start, rollout start, end
    counts: dict[str, int]
    pilots: list[str]
    go_live_weeks: dict[str, int]
    true_effects: dict[str, float]
    registration_rate: float | None
    pseudonymisation: str
    seconds_generate: float
    seconds_load: float

    def __str__(self) -> str:
        start, rollout, end = self.window
        lines = [
            f"Demo organisation loaded into {self.warehouse}",
            f"  window: {start} – {end} (rollout from {rollout})",
            f"  pilots: {', '.join(self.pilots)} (week 1)",
            "  go-live weeks: " + ", ".join(f"{p} {w}" for p, w in self.go_live_weeks.items()),
            f"  planted pilot effect: approval turnaround × {self.true_effects['pilot_factor']:.2f} "
            f"({1 - self.true_effects['pilot_factor']:.0%} faster); other departments × "
            f"{self.true_effects['other_factor']:.2f}",
        ]
        if self.registration_rate is not None:
            lines.append(f"  registration at the deadline: {self.registration_rate:.1%}")
        lines.append("  rows:")
        width = max(len(k) for k in self.counts)
        lines += [f"    {k:<{width}}  {v:>12,}" for k, v in self.counts.items()]
        lines.append(f"  ground truth: {self.truth_path}")
        if self.pseudonymisation != "environment":
            lines.append("  survey respondent ids use the demo salt (set WECOM_EVAL_SALT for a real one)")
        lines.append(f"  took {self.seconds_generate:.1f} s to generate, {self.seconds_load:.1f} s to load")
        return "\n".join(lines)


def write_truth(demo: DemoOrg, folder: Path, *, fingerprint: str | None = None) -> Path:
    """Write ``truth.json`` and ``config.json`` (and ``build.json``) into ``folder``.

    Returns the truth's path. ``build.json`` holds a fingerprint of the config and the plan,
    so that a later build can tell whether the warehouse already holds this very demo.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "truth.json": json.dumps(demo.truth, ensure_ascii=False, indent=1),
        "config.json": demo.config.model_dump_json(indent=2),
        "build.json": json.dumps({"fingerprint": fingerprint or _fingerprint(demo.config, demo.plan)}),
    }
    for name, text in files.items():
        tmp = folder / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(folder / name)
    return folder / "truth.json"


def _fingerprint(config: DemoConfig, plan: RolloutPlan) -> str:
    text = config.model_dump_json() + plan.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_fingerprint(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "build.json").read_text(encoding="utf-8"))["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build_demo(
    home: Home | None = None,
    config: DemoConfig | None = None,
    plan: RolloutPlan | None = None,
    progress: Progress | None = None,
    *,
    wrap_chunks: Callable[[Iterator[pa.Table], int], Iterator[pa.Table]] | None = None,
) -> DemoSummary:
    """Generate the demo organisation, write its truth, and load it in one transaction.

    Parameters
    ----------
    home
        Where to build (default: ``$WECOM_EVAL_HOME`` or the repository root). The truth and
        the config go to ``home.demo``; the tables to the home's warehouse.
    config, plan
        The demo's parameters and the rollout plan (default: the home's plan).
    progress
        Called with one short line per stage (generation, each table staged and loaded).
    wrap_chunks
        Wraps the member_days chunk iterator, given the number of chunks (e.g. a tqdm bar).
    """
    from wecom_eval.plan import load_plan
    from wecom_eval.store.load import refresh_dependents
    from wecom_eval.store.warehouse import Warehouse, open_writer

    home = home or Home.from_env()
    config = config or DemoConfig()
    plan = plan or load_plan(home.plan)
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    demo = generate(config, plan, progress=say)
    t1 = time.perf_counter()
    fingerprint = _fingerprint(config, plan)
    rows = demo.load_rows(wrap_chunks)
    with open_writer(home) as wh:
        loads = wh.query("SELECT source, count(*) AS n FROM _loads GROUP BY source")
        holds = sum(wh.counts().values())
        previous = _read_fingerprint(home.demo)
        if holds and set(loads["source"]) - {SOURCE}:
            raise InputError(
                "wecom-eval demo",
                [
                    Problem(
                        str(home.warehouse),
                        f"{holds:,} rows loaded from {', '.join(sorted(loads['source']))}",
                        "a warehouse that is empty or holds only the demo",
                        "Build the demo into another home (wecom-eval --home DIR demo); the demo never mixes "
                        "with real data.",
                    )
                ],
            )
        if not holds or previous == fingerprint:
            say(f"loading into {home.warehouse}")
            results = wh.load_many(rows, source=SOURCE, progress=say)
            refresh_dependents(wh, plan)
        else:
            # another demo (other size, seed or plan): build a fresh warehouse beside it and
            # swap it in at once, so a failure leaves the previous demo as it was
            fresh = home.warehouse.with_name(home.warehouse.name + ".new")
            for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
                leftover.unlink(missing_ok=True)
            say(f"replacing the previous demo in {home.warehouse}")
            new = Warehouse(fresh)
            try:
                results = new.load_many(rows, source=SOURCE, progress=say)
                refresh_dependents(new, plan)
            finally:
                new.close()
            wh.close()
            fresh.replace(home.warehouse)
        truth_path = write_truth(demo, home.demo, fingerprint=fingerprint)
    t2 = time.perf_counter()
    effects = demo.truth["efficiency"]["true"]
    return DemoSummary(
        home=home.root,
        warehouse=home.warehouse,
        truth_path=truth_path,
        window=(demo.window.start, demo.window.rollout_start, demo.window.end),
        counts={name: results[name].received if name in results else 0 for name in LOAD_ORDER},
        pilots=[p["path"] for p in demo.truth["pilots"]],
        go_live_weeks=_go_live_summary(demo.truth["departments"]),
        true_effects={"pilot_factor": effects["pilot_factor"], "other_factor": effects["other_factor"]},
        registration_rate=demo.truth["registration"]["company"]["rate"],
        pseudonymisation=demo.truth["pseudonymisation"],
        seconds_generate=t1 - t0,
        seconds_load=t2 - t1,
    )


def _go_live_summary(departments: list[dict[str, Any]]) -> dict[str, int]:
    """Go-live week per level-1 unit (the latest among its departments), e.g. {"总部": 3, …}."""
    out: dict[str, int] = {}
    for d in departments:
        if d["level"] == 2 and not d["is_pilot"]:
            unit = d["path"].split("/")[0]
            out[unit] = max(out.get(unit, 0), d["go_live_week"])
    return out
