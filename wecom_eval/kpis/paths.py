"""Target paths from the start to each deadline, and the DESIGN §6 verdicts.

The path
--------
Each target (registration, daily active/engaged, feature penetration) has a path from 0 on
the first day to the target on the deadline. The path is **S-shaped** by default — the
smoothstep ``target · (3x² − 2x³)`` of the elapsed share ``x`` of the time — because
adoption follows an S-curve: a straight line would call everyone behind in the first days
(when nobody can be far along yet) and ask too little in the last weeks (when a department
that is really behind can still be helped). ``shape="linear"`` gives ``target · x``.

``x = (days from the path's first day to d, both included) / deadline_day``: on the first
day x = 1/deadline_day, on the deadline x = 1, after it the path stays at the target and
before the first day it is 0.

Whose path
----------
The company's path starts on the plan's ``start_date`` and ends on the plan's deadline.
With ``align="go_live"`` (the default) a department's path starts on its own go-live date
and lasts as long as the company's (``deadline_day`` days), so a department that goes live
in week 6 is not called behind for weeks it was not yet live; a branch's path starts on the
plan's go-live week for the branch's path. ``align="start"`` measures every group against the
company's path.

Verdicts
--------
``path_verdict`` compares today's figure with today's point on the path; ``verdict`` compares
it with the final target. The reports read them every week, so both come from the weekly
confidence sequence: :func:`wecom_eval.stats.proportion_vs_target` with exact
(Clopper-Pearson) bounds, each one-sided at ``alpha_k`` = :func:`wecom_eval.stats.spent_alpha`
of the rollout week, which keeps the chance of *ever* a wrong "met" (or "missed") over all
the weekly reports at ``alpha``. **met** when the lower bound clears the value, **missed**
when the upper bound is below it, otherwise **not yet shown**; then, within one scorecard,
the target verdicts form a family and the path verdicts another, each adjusted by Holm
(a claim survives only when its Holm-adjusted anytime p-value is at most ``alpha``;
``p_value``/``p_adjusted`` and ``path_p_value``/``path_p_adjusted`` show both). Before a
deadline the final target cannot be missed yet: a figure short of it is *not yet shown*.
Registration counts the whole roster, not a sample: its figure is exact, so its verdicts
compare the count itself (met when it reaches the value, missed when it does not), with no
interval. The daily rates are weekly averages of working days; their interval treats the
week's average as a share of the average number of registered members (people, not
member-days).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis._base import By, Context, Source, as_date, check_by, finish, keys_of
from wecom_eval.plan import RolloutPlan, ShareTarget
from wecom_eval.workcal import WorkCalendar

Shape = Literal["s_curve", "linear"]
Align = Literal["go_live", "start"]
KPIS: tuple[str, ...] = ("registration", "active_rate", "engaged_rate", "feature_penetration")
_TARGET_OF = {
    "registration": "registration",
    "active_rate": "daily_active",
    "engaged_rate": "daily_active",
    "feature_penetration": "feature_penetration",
}
EPS = 1e-12
NO_DAYS = "no working day in the week so far"
NOT_MEASURED = "not measured: the source gives no minutes of use"
# Each note of a scorecard row by its code (the ``note_codes`` column); reports show the
# same codes in their own language (``kpi_notes`` in wecom_eval/strings.yaml).
NOTES: dict[str, str] = {
    "hidden": "hidden: fewer than {floor} people (or hidden so that a small group cannot be worked out)",
    "no_days": NO_DAYS,
    "no_minutes": NOT_MEASURED,
    "no_eligible": "no eligible staff",
    "no_data": "no data",
    "not_live": "path starts {path_start} (not live yet)",
}


def target_of(plan: RolloutPlan, kpi: str) -> ShareTarget:
    """The plan's target for a KPI name (``registration``, ``active_rate``, ``engaged_rate``,
    ``feature_penetration``)."""
    if kpi not in _TARGET_OF:
        raise ValueError(f"kpi={kpi!r}: use one of {', '.join(KPIS)}")
    target: ShareTarget = getattr(plan.targets, _TARGET_OF[kpi])
    return target


def path_share(elapsed_days: float | np.ndarray, duration_days: int, *, shape: Shape = "s_curve") -> float | np.ndarray:
    """The share of the target the path asks for after ``elapsed_days`` of ``duration_days``.

    >>> path_share(15, 30), path_share(15, 30, shape="linear")
    (0.5, 0.5)
    >>> round(float(path_share(7, 28)), 4), path_share(0, 28), path_share(40, 28)
    (0.1562, 0.0, 1.0)
    """
    if duration_days < 1:
        raise ValueError(f"duration_days must be 1 or more, got {duration_days}")
    x = np.clip(np.asarray(elapsed_days, dtype=float) / duration_days, 0.0, 1.0)
    if shape == "s_curve":
        y = x * x * (3.0 - 2.0 * x)
    elif shape == "linear":
        y = x
    else:
        raise ValueError(f"shape={shape!r}: use 's_curve' or 'linear'")
    return float(y) if np.ndim(y) == 0 else y


def path_value(
    plan: RolloutPlan, kpi: str, day: dt.date, *, first_day: dt.date | None = None, shape: Shape = "s_curve"
) -> float:
    """The path's value on ``day`` for a path starting on ``first_day`` (default: the plan's start)."""
    target = target_of(plan, kpi)
    first = first_day or plan.start_date
    elapsed = (day - first).days + 1
    return float(target.target * path_share(max(elapsed, 0), target.deadline_day, shape=shape))


def path_deadline(plan: RolloutPlan, kpi: str, *, first_day: dt.date | None = None) -> dt.date:
    """The day a path starting on ``first_day`` reaches its target."""
    first = first_day or plan.start_date
    return first + dt.timedelta(days=target_of(plan, kpi).deadline_day - 1)


def target_path(
    plan: RolloutPlan,
    kpi: str,
    *,
    start: dt.date,
    end: dt.date,
    first_day: dt.date | None = None,
    shape: Shape = "s_curve",
) -> pd.DataFrame:
    """The path day by day from ``start`` to ``end``: ``date``, ``path``, ``target``, ``deadline``.

    For trend charts; ``first_day`` is where the path begins (default: the plan's start).
    """
    start = as_date(start, name="start")
    end = as_date(end, name="end")
    days = pd.date_range(start, end, freq="D").date
    first = first_day or plan.start_date
    elapsed = np.array([(d - first).days + 1 for d in days], dtype=float)
    target = target_of(plan, kpi)
    return pd.DataFrame(
        {
            "date": days,
            "path": target.target * np.asarray(path_share(np.maximum(elapsed, 0), target.deadline_day, shape=shape)),
            "target": target.target,
            "deadline": path_deadline(plan, kpi, first_day=first),
        }
    )


def first_days(ctx: Context, by: By, *, align: Align = "go_live") -> dict[Any, dt.date]:
    """Where each group's path begins: its go-live (``align="go_live"``) or the plan's start."""
    check_by(by)
    plan = ctx.plan
    if align not in ("go_live", "start"):
        raise ValueError(f"align={align!r}: use 'go_live' or 'start'")
    if by == "company" or align == "start":
        return {}
    deps = ctx.departments()
    if by == "department":
        return {int(i): d for i, d in zip(deps["department_id"], deps["go_live_date"], strict=True)}
    out = {}
    for branch in deps["branch"].unique():
        out[branch] = plan.week_start(plan.go_live_week(str(branch), -1, is_pilot=False))
    return out


# ---- verdicts ------------------------------------------------------------------------------


def planned_looks(plan: RolloutPlan) -> int:
    """Weekly looks the plan foresees: the weeks up to the end of its last phase."""
    return max(p.last_week for p in plan.phases)


def look_of(plan: RolloutPlan, as_of: dt.date) -> int:
    """The rollout week ``as_of`` falls in (1 in the first week and before the start)."""
    return max(1, (as_of - plan.start_date).days // 7 + 1)


def judge(
    *,
    successes: float,
    n: float,
    value: float,
    census: bool,
    alpha: float = 0.05,
    look: int | None = None,
    planned_looks: int = 12,
) -> dict[str, Any]:
    """One figure against one value: estimate, bounds, p-values, verdict, method, verdict basis.

    ``census`` figures (registration) are exact counts: no interval, verdict by the count.
    Others go through :func:`wecom_eval.stats.proportion_vs_target` with ``successes`` and
    ``n`` rounded to whole people. With ``look`` (the rollout week) the bounds are those of
    the weekly confidence sequence (:func:`wecom_eval.stats.spent_alpha`): exact
    Clopper-Pearson bounds, each one-sided at ``alpha_k``, so that reading the verdict every
    week keeps the chance of ever a wrong "met" (or ever a wrong "missed") at ``alpha``;
    ``p_greater``/``p_less`` are the anytime p-values of "the value is not reached" / "the
    value is reached", comparable with ``alpha`` (and ready for Holm). Without ``look``:
    the one-off Wilson interval at ``alpha``.
    """
    if n is None or not n > 0 or successes is None or (isinstance(successes, float) and math.isnan(successes)):
        return {
            "estimate": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
            "p_greater": math.nan,
            "p_less": math.nan,
            "verdict": None,
            "method": None,
            "n": 0,
            "verdict_basis": None,
        }
    if census:
        est = successes / n
        verdict = "met" if est >= value - EPS else "missed"
        return {
            "estimate": est,
            "ci_low": est,
            "ci_high": est,
            "p_value": math.nan,
            "p_greater": math.nan,
            "p_less": math.nan,
            "verdict": verdict,
            "method": "census count",
            "n": int(round(n)),
            "verdict_basis": "census",
        }
    from wecom_eval.stats import proportion_vs_target
    from wecom_eval.stats.sequential import anytime_p_value, spent_alpha

    n_int = max(int(round(n)), 1)
    s_int = min(max(int(round(successes)), 0), n_int)
    value = min(max(value, 0.0), 1.0)
    a_look = alpha if look is None else spent_alpha(look, alpha=alpha, planned_looks=planned_looks)
    # the sequence spends a small alpha_k at each look, deep in the tails where the score
    # test's normal approximation is too liberal: there the exact (Clopper-Pearson) bounds
    method: Literal["wilson", "exact"] = "wilson" if look is None else "exact"
    r = proportion_vs_target(s_int, n_int, target=value, alpha=a_look, method=method)
    p_less = proportion_vs_target(s_int, n_int, target=value, alpha=a_look, alternative="less", method=method).p_value
    if look is None:
        p_g, p_l, basis = r.p_value, p_less, "fixed_sample"
    else:
        p_g, p_l = (anytime_p_value(p, look, planned_looks=planned_looks) for p in (r.p_value, p_less))
        basis = "confidence_sequence:spending"
    return {
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "p_greater": p_g,
        "p_less": p_l,
        "verdict": r.verdict,
        "method": r.method,
        "n": n_int,
        "verdict_basis": basis,
    }


def holm_verdicts(
    frame: pd.DataFrame, *, verdict: str, p_greater: str, p_less: str, alpha: float = 0.05
) -> tuple[pd.Series, pd.Series]:
    """Holm over a report's family of verdicts: the adjusted p-values and the verdicts they allow.

    Each row claims "met" (a floor reached: ``p_greater`` small) or "missed" (``p_less``
    small) or nothing; the row's p-value is the smaller of the two, the family is every row
    with one (census rows have none and keep their verdict). A row keeps "met"/"missed"
    only when its Holm-adjusted p-value is at most ``alpha``; otherwise it becomes
    "not_yet_shown". Rows without a verdict keep theirs.
    """
    from wecom_eval.stats import holm

    p = pd.concat([frame[p_greater], frame[p_less]], axis=1).astype(float).min(axis=1, skipna=False)
    adjusted = pd.Series(math.nan, index=frame.index)
    out = frame[verdict].copy()
    ok = p.notna()
    if ok.any():
        res = holm(p[ok].to_numpy(), alpha=alpha)
        adjusted[ok] = res.p_adjusted
        claims = frame[verdict].isin(["met", "missed"]) & ok
        out[claims & (adjusted > alpha)] = "not_yet_shown"
    return adjusted, out


def _figures(ctx: Context, as_of: dt.date, by: By) -> pd.DataFrame:
    """Today's figure per group and KPI, protected, as (keys, kpi, feature, estimate, successes, n, note).

    ``note`` is a code of :data:`NOTES` or None.
    """
    from wecom_eval.kpis.activity import weekly_activity_raw
    from wecom_eval.kpis.penetration import penetration_raw
    from wecom_eval.kpis.registration import registration_raw

    plan = ctx.plan
    keys = keys_of(by)
    floor = privacy.floor(plan)
    parts = []

    reg = privacy.suppress(
        registration_raw(ctx, as_of=[as_of], by=by), size="employees", by=keys, within=["as_of"], min_group_size=floor
    )
    parts.append(
        pd.DataFrame(
            {
                **{k: reg[k] for k in keys},
                "kpi": "registration",
                "feature": None,
                "estimate": reg["registration_rate"],
                "successes": reg["registered"],
                "n": reg["employees"],
                "suppressed": reg["suppressed"],
                "note": None,
                "period": f"on {as_of}",
            }
        )
    )

    act = privacy.suppress(
        weekly_activity_raw(ctx, start=as_of, end=as_of, by=by),
        size="registered_week",
        by=keys,
        within=["week"],
        min_group_size=floor,
    )
    act = act.loc[act["week"] == act["week"].max()] if len(act) else act
    period = (
        f"week {int(act['week'].iloc[0])} to date ({act['week_start'].iloc[0]} – {as_of}), working days"
        if len(act)
        else ""
    )
    no_days = (act["working_days"].fillna(0).astype(float) == 0).to_numpy(dtype=bool)
    parts.append(
        pd.DataFrame(
            {
                **{k: act[k] for k in keys},
                "kpi": "active_rate",
                "feature": None,
                "estimate": act["active_rate"],
                "successes": act["active_rate"] * act["registered_mean"],
                "n": act["registered_mean"],
                "suppressed": act["suppressed"],
                "note": ["no_days" if d else None for d in no_days],
                "period": period,
            }
        )
    )
    unmeasured = (~act["engaged_measured"].fillna(True).astype(bool)).to_numpy(dtype=bool)
    parts.append(
        pd.DataFrame(
            {
                **{k: act[k] for k in keys},
                "kpi": "engaged_rate",
                "feature": None,
                "estimate": act["engaged_rate"],
                "successes": act["engaged_rate"] * act["measured_mean"],
                "n": act["measured_mean"],
                "suppressed": act["suppressed"],
                "note": [
                    "no_days" if d else "no_minutes" if u else None for d, u in zip(no_days, unmeasured, strict=True)
                ],
                "period": period,
            }
        )
    )

    pen = penetration_raw(ctx, as_of=[as_of], by=by)
    pen = privacy.suppress(pen, size="eligible", by=keys, within=["feature", "as_of"], min_group_size=floor)
    window = plan.targets.feature_penetration.window_days
    parts.append(
        pd.DataFrame(
            {
                **{k: pen[k] for k in keys},
                "kpi": "feature_penetration",
                "feature": pen["feature"],
                "estimate": pen["penetration"],
                "successes": pen["users"],
                "n": pen["eligible"],
                "suppressed": pen["suppressed"],
                "note": ["no_eligible" if e == 0 else None for e in pen["eligible"].fillna(-1)],
                "period": f"{window} days to {as_of}",
            }
        )
    )
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def scorecard(
    source: Source,
    plan: RolloutPlan,
    *,
    as_of: dt.date,
    by: By = "company",
    align: Align = "go_live",
    shape: Shape = "s_curve",
    alpha: float = 0.05,
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Every adoption KPI today against its path and its target, with the verdicts.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    as_of
        Today.
    by
        ``"company"`` (default), ``"branch"`` or ``"department"``.
    align, shape
        Whose path and which shape (module docstring).
    alpha
        One-sided error rate of each bound.

    Returns
    -------
    pandas.DataFrame
        One row per group, KPI and feature: key columns, ``kpi`` (``registration``,
        ``active_rate``, ``engaged_rate`` — the plan's active target counts only days with
        at least ``min_daily_minutes``, so this is the one its verdict is about —,
        ``feature_penetration``), ``feature``, ``period`` (what the figure covers),
        ``estimate``, ``n`` (people), ``ci_low``, ``ci_high``, ``method``, ``target``,
        ``deadline``, ``days_to_deadline``, ``path_start``, ``path_value`` (today's point on the
        path), ``gap_to_path`` (estimate − path value), ``path_verdict``, ``verdict``, ``note``
        (English) and ``note_codes`` (its :data:`NOTES` codes, comma-separated, for reports).
        Groups hidden by the privacy floor keep their row with every figure blank and the
        note "hidden: fewer than … people".
    """
    ctx = Context.of(source, plan, cal)
    as_of = as_date(as_of, name="as_of")
    keys = keys_of(by)
    figures = _figures(ctx, as_of, by)
    starts = first_days(ctx, by, align=align)
    looks = {"look": look_of(plan, as_of), "planned_looks": planned_looks(plan)}
    rows = []
    for rec in figures.to_dict("records"):
        kpi = rec["kpi"]
        target = target_of(plan, kpi)
        group = rec[keys[0]] if keys else None
        first = (
            starts.get(int(str(group)) if by == "department" else group, plan.start_date) if keys else plan.start_date
        )
        deadline = path_deadline(plan, kpi, first_day=first)
        pv = path_value(plan, kpi, as_of, first_day=first, shape=shape)
        row: dict[str, Any] = {k: rec[k] for k in keys}
        row.update(
            {
                "kpi": kpi,
                "feature": rec["feature"],
                "period": rec["period"],
                "target": target.target,
                "deadline": deadline,
                "days_to_deadline": (deadline - as_of).days,
                "path_start": first,
                "path_value": pv,
            }
        )
        census = kpi == "registration"
        codes = [rec["note"]] if isinstance(rec["note"], str) else []
        row["feature"] = rec["feature"] if isinstance(rec["feature"], str) else None
        if rec["suppressed"]:
            result = judge(successes=math.nan, n=0, value=pv, census=census)
            codes = ["hidden"]
        else:
            est = rec["estimate"]
            ok = est is not None and not (isinstance(est, float) and math.isnan(est))
            n = float(rec["n"]) if ok and rec["n"] is not None and not pd.isna(rec["n"]) else 0.0
            result = judge(
                successes=float(rec["successes"]) if ok else math.nan,
                n=n,
                value=target.target,
                census=census,
                alpha=alpha,
                **looks,
            )
            if ok and census:
                result["estimate"] = result["ci_low"] = result["ci_high"] = float(est)
            elif ok:
                result["estimate"] = float(est)
            path_result = (
                judge(
                    successes=float(rec["successes"]) if ok else math.nan,
                    n=n,
                    value=pv,
                    census=census,
                    alpha=alpha,
                    **looks,
                )
                if ok and as_of >= first
                else {"verdict": None}
            )
            row["path_verdict"] = path_result["verdict"]
            row["_path_pg"], row["_path_pl"] = (
                path_result.get("p_greater", math.nan),
                path_result.get("p_less", math.nan),
            )
            if as_of < deadline:  # the final target cannot be missed before its deadline
                result["p_less"] = math.nan
                if result["verdict"] == "missed":
                    result["verdict"] = "not_yet_shown"
            if not ok and not codes:
                codes = ["no_data"]
            if as_of < first:
                codes.append("not_live")
        row.setdefault("path_verdict", None)
        row.update(
            {
                "estimate": result["estimate"],
                "n": result["n"],
                "ci_low": result["ci_low"],
                "ci_high": result["ci_high"],
                "method": result["method"],
                "verdict": result["verdict"],
                "verdict_basis": result["verdict_basis"],
                "_pg": result["p_greater"],
                "_pl": result["p_less"],
                "note": "; ".join(NOTES[c].format(floor=privacy.floor(plan), path_start=first) for c in codes) or None,
                "note_codes": ",".join(codes) or None,
            }
        )
        est = row["estimate"]
        row["gap_to_path"] = est - pv if est is not None and not math.isnan(est) else math.nan
        rows.append(row)
    out = pd.DataFrame(
        rows,
        columns=[
            *keys,
            "kpi",
            "feature",
            "period",
            "estimate",
            "n",
            "ci_low",
            "ci_high",
            "method",
            "target",
            "deadline",
            "days_to_deadline",
            "path_start",
            "path_value",
            "gap_to_path",
            "path_verdict",
            "verdict",
            "note",
            "note_codes",
            "verdict_basis",
            "_pg",
            "_pl",
            "_path_pg",
            "_path_pl",
        ],
    )
    out["p_value"] = out[["_pg", "_pl"]].astype(float).min(axis=1, skipna=False)
    out["p_adjusted"], out["verdict"] = holm_verdicts(
        out, verdict="verdict", p_greater="_pg", p_less="_pl", alpha=alpha
    )
    out["path_p_value"] = out[["_path_pg", "_path_pl"]].astype(float).min(axis=1, skipna=False)
    out["path_p_adjusted"], out["path_verdict"] = holm_verdicts(
        out, verdict="path_verdict", p_greater="_path_pg", p_less="_path_pl", alpha=alpha
    )
    out["look"] = looks["look"]
    out = out.drop(columns=["_pg", "_pl", "_path_pg", "_path_pl"])
    notes = ctx.notes()
    return finish(out, notes=notes, definition=__doc__.split("Verdicts\n--------\n", 1)[1].strip())


__all__ = [
    "KPIS",
    "NOTES",
    "holm_verdicts",
    "judge",
    "look_of",
    "path_deadline",
    "path_share",
    "path_value",
    "planned_looks",
    "scorecard",
    "target_of",
    "target_path",
]
