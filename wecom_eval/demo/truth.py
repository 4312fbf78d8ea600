"""The demo's ground truth: every rate realised in the generated data, beside the model's parameters.

Every rate below is realised in the generated data, computed with the definition stated in
``truth["definitions"]`` (:data:`DEFINITIONS`), so a KPI computed from the warehouse must
agree with it exactly; the model's true parameters sit beside them. It is written to
``data/demo/truth.json``.

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

from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.demo import activity as act_mod
from wecom_eval.demo.activity import FEATURES, ActivityModel, Aggregates, FeatureSummary
from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.org import NEVER, Org, Window, eligible_departments
from wecom_eval.demo.processes import headcount, member_of_employee
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import LOAD_ORDER

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


def rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def penetration_window(plan: RolloutPlan, w: Window) -> tuple[int, int]:
    """First and last day index of the penetration target's window (both included)."""
    day = min(w.day(plan.deadline(plan.targets.feature_penetration.deadline_day)), w.n_days - 1)
    return day - plan.targets.feature_penetration.window_days + 1, day


def build_truth(
    config: DemoConfig,
    plan: RolloutPlan,
    org: Org,
    model: ActivityModel,
    agg: Aggregates,
    features: FeatureSummary,
    efficiency: dict[str, Any],
    extras: dict[str, Any],
    counts: dict[str, int],
) -> dict[str, Any]:
    """The truth document; ``extras`` holds ``satisfaction``, ``tickets``, ``training``, ``pseudonymisation``.

    ``counts`` gives the rows of every table but ``member_days`` and ``feature_events``.
    """
    w = org.window
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
        "departments": departments_truth(org),
        "pilots": [
            {"department_id": int(org.dept_ids[j]), "path": org.dept_paths[j]} for j in np.flatnonzero(org.dept_pilot)
        ],
        "registration": registration_truth(config, plan, org),
        "activity": activity_truth(config, org, model, agg),
        "penetration": penetration_truth(plan, org, model, features),
        "efficiency": efficiency,
        "satisfaction": extras["satisfaction"],
        "tickets": extras["tickets"],
        "training": extras["training"],
        "anomalies": org.anomalies,
        "pseudonymisation": extras["pseudonymisation"],
        "counts": {
            name: (
                model.n_members * model.n_days
                if name == "member_days"
                else features.events
                if name == "feature_events"
                else counts.get(name, 0)
            )
            for name in LOAD_ORDER
        },
    }
    return truth


def departments_truth(org: Org) -> list[dict[str, Any]]:
    w = org.window
    heads = headcount(org)
    members_per_dept = np.bincount(org.mem_dept, minlength=len(org.dept_ids))
    measured_per_dept = np.bincount(org.mem_dept, weights=org.mem_measured, minlength=len(org.dept_ids))
    return [
        {
            "department_id": int(dept_id),
            "path": org.dept_paths[j],
            "level": int(org.dept_level[j]),
            "is_pilot": bool(org.dept_pilot[j]),
            "go_live_date": str(w.date(org.dept_go_live[j])),
            "go_live_week": int(org.dept_go_live_week[j]),
            "roster_at_start": int(heads[min(w.rollout_day0, w.n_days - 1), j]),
            "members": int(members_per_dept[j]),
            "minutes_measured": bool(measured_per_dept[j] > 0) if members_per_dept[j] else None,
        }
        for j, dept_id in enumerate(org.dept_ids)
    ]


def registration_truth(config: DemoConfig, plan: RolloutPlan, org: Org) -> dict[str, Any]:
    """Registration by the roster's department at the deadline, and the company's rate each rollout week."""
    w = org.window
    r0 = w.rollout_day0
    ids = [int(i) for i in org.dept_ids]
    member_of = member_of_employee(org)
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
    weekly = []
    for week in range(1, config.rollout_weeks + 1):
        d = r0 + 7 * week - 1
        ro, re = registration_on(d)
        weekly.append(
            {
                "week": week,
                "date": str(w.date(d)),
                "roster": int(ro.sum()),
                "registered": int(re.sum()),
                "rate": rate(re.sum(), ro.sum()),
            }
        )
    return {
        "as_of": str(w.date(reg_day)),
        "company": {
            "roster": int(roster.sum()),
            "registered": int(registered.sum()),
            "rate": rate(registered.sum(), roster.sum()),
        },
        "by_department": {
            str(i): {"roster": int(roster[j]), "registered": int(registered[j]), "rate": rate(registered[j], roster[j])}
            for j, i in enumerate(ids)
            if roster[j]
        },
        "weekly": weekly,
    }


def activity_truth(config: DemoConfig, org: Org, model: ActivityModel, agg: Aggregates) -> dict[str, Any]:
    """Daily rates of the rollout, weekly means over working days, per department too."""
    w = org.window
    ids = [int(i) for i in org.dept_ids]
    members_per_dept = np.bincount(org.mem_dept, minlength=len(ids))
    measured_per_dept = np.bincount(org.mem_dept, weights=org.mem_measured, minlength=len(ids))
    daily = []
    for d in range(w.rollout_day0, w.n_days):
        reg, act = agg.registered[d].sum(), agg.active[d].sum()
        rm, eng = agg.registered_measured[d].sum(), agg.engaged[d].sum()
        daily.append(
            {
                "date": str(w.date(d)),
                "working": bool(w.working[d]),
                "registered": int(reg),
                "active": int(act),
                "active_rate": rate(act, reg),
                "registered_measured": int(rm),
                "engaged": int(eng),
                "engaged_rate": rate(eng, rm),
            }
        )
    return {
        "min_daily_minutes": model.min_minutes,
        "daily": daily,
        "weekly": _weekly_rates(config, w, agg, slice(None)),
        "by_department_weekly": {
            str(i): _weekly_rates(config, w, agg, j) for j, i in enumerate(ids) if members_per_dept[j]
        },
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


def _weekly_rates(config: DemoConfig, w: Window, agg: Aggregates, cols: slice | int) -> list[dict[str, Any]]:
    r0 = w.rollout_day0
    out = []
    for week in range(1, config.rollout_weeks + 1):
        days = [d for d in range(r0 + 7 * (week - 1), min(r0 + 7 * week, w.n_days)) if w.working[d]]
        ar = [x for d in days if (x := rate(agg.active[d, cols].sum(), agg.registered[d, cols].sum())) is not None]
        er = [
            x
            for d in days
            if (x := rate(agg.engaged[d, cols].sum(), agg.registered_measured[d, cols].sum())) is not None
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


def penetration_truth(plan: RolloutPlan, org: Org, model: ActivityModel, features: FeatureSummary) -> dict[str, Any]:
    """Share of eligible employees on the roster whose member used each feature in the window."""
    w = org.window
    ids = [int(i) for i in org.dept_ids]
    _first, pen_day = penetration_window(plan, w)
    feature_no = {f: k for k, f in enumerate(FEATURES)}
    member_of = member_of_employee(org)
    on = (org.emp_hire <= pen_day) & (pen_day <= org.emp_leave)
    names = org.departments["name"].to_numpy()
    penetration: dict[str, Any] = {
        "as_of": str(w.date(pen_day)),
        "window_days": plan.targets.feature_penetration.window_days,
        "feature_grain": model.grain,
        "features": {},
        "by_department": {},
    }
    for feature in plan.targets.feature_penetration.features:
        eligible_dept = eligible_departments(plan, feature, org.dept_paths, names)
        eligible = on & eligible_dept[org.emp_dept]
        used_m = features.used[feature_no[feature]]
        used = eligible & (member_of >= 0) & used_m[np.maximum(member_of, 0)]
        penetration["features"][feature] = {
            "eligible": int(eligible.sum()),
            "users": int(used.sum()),
            "rate": rate(used.sum(), eligible.sum()),
            "eligible_department_names": plan.eligible_names(feature),
        }
        el = np.bincount(org.emp_dept, weights=eligible, minlength=len(ids))
        us = np.bincount(org.emp_dept, weights=used, minlength=len(ids))
        penetration["by_department"][feature] = {
            str(i): {"eligible": int(el[j]), "users": int(us[j]), "rate": rate(us[j], el[j])}
            for j, i in enumerate(ids)
            if el[j]
        }
    return penetration


def efficiency_truth(config: DemoConfig, org: Org, facts: dict[str, Any]) -> dict[str, Any]:
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
    done = facts["status"] <= 1  # approved or rejected (STATUSES)
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


def ticket_truth(support: pd.DataFrame) -> dict[str, Any]:
    n = len(support)
    answered = (support["first_response_at"] - support["created_at"]) <= pd.Timedelta(hours=1)
    resolved = (support["resolved_at"] - support["created_at"]) <= pd.Timedelta(hours=4)
    return {
        "n": n,
        "answered_within_1h": rate(answered.fillna(False).sum(), n),
        "resolved_within_4h": rate(resolved.fillna(False).sum(), n),
    }
