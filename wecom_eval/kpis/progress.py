"""Each adoption KPI today against its path and its target, by group, with the verdicts.

:func:`progress` reads registration, the week's active and engaged rates and feature
penetration on the day ``data_through`` (the last day of data included), for the company,
each branch or each department, and judges each against its path
(:mod:`wecom_eval.kpis.paths`) and its final target (:mod:`wecom_eval.kpis.verdicts`). The
company's rows feed the reports' scorecard (:mod:`wecom_eval.kpis.targets`).

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
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis._base import By, Context, as_date, finish, keys_of
from wecom_eval.kpis._cache import memo
from wecom_eval.kpis.paths import Align, Shape, first_days, path_deadline, path_value, target_of
from wecom_eval.kpis.verdicts import holm_verdicts, judge_all, look_of, planned_looks
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

NO_DAYS = "no working day in the week so far"
NOT_MEASURED = "not measured: the source gives no minutes of use"
# Each note of a progress row by its code (the ``note_codes`` column); reports show the
# same codes in their own language (``kpi_notes`` in wecom_eval/strings.yaml).
NOTES: dict[str, str] = {
    "hidden": "hidden: fewer than {floor} people (or hidden so that a small group cannot be worked out)",
    "no_days": NO_DAYS,
    "no_minutes": NOT_MEASURED,
    "no_eligible": "no eligible staff",
    "no_data": "no data",
    "not_live": "path starts {path_start} (not live yet)",
}


def _registration(ctx: Context, day: dt.date, by: By) -> pd.DataFrame:
    """Registration on ``day`` per group, protected."""
    from wecom_eval.kpis.registration import registration_raw

    keys = keys_of(by)
    reg = privacy.suppress(
        registration_raw(ctx, data_through=[day], by=by),
        size="employees",
        by=keys,
        within=["data_through"],
        min_group_size=privacy.floor(ctx.plan),
    )
    return pd.DataFrame(
        {
            **{k: reg[k] for k in keys},
            "kpi": "registration",
            "feature": None,
            "estimate": reg["registration_rate"],
            "successes": reg["registered"],
            "n": reg["employees"],
            "suppressed": reg["suppressed"],
            "note": None,
            "period": f"on {day}",
        }
    )


def _activity(ctx: Context, day: dt.date, by: By) -> list[pd.DataFrame]:
    """The active and the engaged rate of the week to ``day`` per group, protected."""
    from wecom_eval.kpis.activity import weekly_activity_raw

    keys = keys_of(by)
    act = privacy.suppress(
        weekly_activity_raw(ctx, start=day, end=day, by=by),
        size="registered_week",
        by=keys,
        within=["week"],
        min_group_size=privacy.floor(ctx.plan),
    )
    act = act.loc[act["week"] == act["week"].max()] if len(act) else act
    period = (
        f"week {int(act['week'].iloc[0])} to date ({act['week_start'].iloc[0]} – {day}), working days"
        if len(act)
        else ""
    )
    no_days = (act["working_days"].fillna(0).astype(float) == 0).to_numpy(dtype=bool)
    unmeasured = (~act["engaged_measured"].fillna(True).astype(bool)).to_numpy(dtype=bool)
    common = {**{k: act[k] for k in keys}, "feature": None, "suppressed": act["suppressed"], "period": period}
    active = pd.DataFrame(
        {
            **common,
            "kpi": "active_rate",
            "estimate": act["active_rate"],
            "successes": act["active_rate"] * act["registered_mean"],
            "n": act["registered_mean"],
            "note": ["no_days" if d else None for d in no_days],
        }
    )
    engaged = pd.DataFrame(
        {
            **common,
            "kpi": "engaged_rate",
            "estimate": act["engaged_rate"],
            "successes": act["engaged_rate"] * act["measured_mean"],
            "n": act["measured_mean"],
            "note": ["no_days" if d else "no_minutes" if u else None for d, u in zip(no_days, unmeasured, strict=True)],
        }
    )
    columns = [*keys, "kpi", "feature", "estimate", "successes", "n", "suppressed", "note", "period"]
    return [active[columns], engaged[columns]]


def _penetration(ctx: Context, day: dt.date, by: By) -> pd.DataFrame:
    """Each core feature's penetration in the window to ``day`` per group, protected."""
    from wecom_eval.kpis.penetration import penetration_raw

    keys = keys_of(by)
    pen = penetration_raw(ctx, data_through=[day], by=by)
    pen = privacy.suppress(
        pen, size="eligible", by=keys, within=["feature", "data_through"], min_group_size=privacy.floor(ctx.plan)
    )
    window = ctx.plan.targets.feature_penetration.window_days
    return pd.DataFrame(
        {
            **{k: pen[k] for k in keys},
            "kpi": "feature_penetration",
            "feature": pen["feature"],
            "estimate": pen["penetration"],
            "successes": pen["users"],
            "n": pen["eligible"],
            "suppressed": pen["suppressed"],
            "note": ["no_eligible" if e == 0 else None for e in pen["eligible"].fillna(-1)],
            "period": f"{window} days to {day}",
        }
    )


def _figures(ctx: Context, day: dt.date, by: By) -> pd.DataFrame:
    """The figure on ``day`` per group and KPI, protected, as (keys, kpi, feature, estimate, successes, n, note).

    ``note`` is a code of :data:`NOTES` or None.
    """
    parts = [_registration(ctx, day, by), *_activity(ctx, day, by), _penetration(ctx, day, by)]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def _asks(
    rec: Mapping[Hashable, Any], *, day: dt.date, first: dt.date, pv: float, alpha: float, looks: dict[str, int]
) -> list[dict[str, Any]]:
    """What one figure asks of :func:`judge`: against its target, then (when live and measured) its path."""
    census = rec["kpi"] == "registration"
    if rec["suppressed"]:
        return [{"successes": math.nan, "n": 0, "value": pv, "census": census}]
    est = rec["estimate"]
    ok = est is not None and not (isinstance(est, float) and math.isnan(est))
    n = float(rec["n"]) if ok and rec["n"] is not None and not pd.isna(rec["n"]) else 0.0
    common = {"successes": float(rec["successes"]) if ok else math.nan, "n": n, "census": census, "alpha": alpha}
    target = {**common, "value": rec["target"], **looks}
    return [target, {**common, "value": pv, **looks}] if ok and day >= first else [target]


def _judged(
    rec: Mapping[Hashable, Any], answers: list[dict[str, Any]], *, day: dt.date, first: dt.date, deadline: dt.date
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """One figure judged against its target and its path, from :func:`judge`'s ``answers`` to its
    :func:`_asks`: (target result, path result, note codes)."""
    census = rec["kpi"] == "registration"
    codes = [rec["note"]] if isinstance(rec["note"], str) else []
    if rec["suppressed"]:
        return answers[0], {"verdict": None}, ["hidden"]
    est = rec["estimate"]
    ok = est is not None and not (isinstance(est, float) and math.isnan(est))
    result = answers[0]
    if ok and census:
        result["estimate"] = result["ci_low"] = result["ci_high"] = float(est)
    elif ok:
        result["estimate"] = float(est)
    path_result = answers[1] if len(answers) > 1 else {"verdict": None}
    if day < deadline:  # the final target cannot be missed before its deadline
        result["p_less"] = math.nan
        if result["verdict"] == "missed":
            result["verdict"] = "not_yet_shown"
    if not ok and not codes:
        codes = ["no_data"]
    if day < first:
        codes.append("not_live")
    return result, path_result, codes


def _row(
    rec: Mapping[Hashable, Any],
    plan: RolloutPlan,
    answers: list[dict[str, Any]],
    *,
    keys: list[str],
    day: dt.date,
    first: dt.date,
    deadline: dt.date,
    pv: float,
) -> dict[str, Any]:
    """One group's KPI against its path and its target (``_``-columns: the p-values for Holm);
    ``rec`` holds the figure and its ``target``, ``answers`` :func:`judge`'s to its :func:`_asks`."""
    kpi = rec["kpi"]
    result, path_result, codes = _judged(rec, answers, day=day, first=first, deadline=deadline)
    row: dict[str, Any] = {k: rec[k] for k in keys}
    row.update(
        {
            "kpi": kpi,
            "feature": rec["feature"] if isinstance(rec["feature"], str) else None,
            "period": rec["period"],
            "target": rec["target"],
            "deadline": deadline,
            "days_to_deadline": (deadline - day).days,
            "path_start": first,
            "path_value": pv,
            "path_verdict": path_result["verdict"],
            "_path_pg": path_result.get("p_greater", math.nan),
            "_path_pl": path_result.get("p_less", math.nan),
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
    return row


COLUMNS = [
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
]


def progress(
    source: Source,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    by: By = "company",
    align: Align = "go_live",
    shape: Shape = "s_curve",
    alpha: float = 0.05,
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Every adoption KPI on the day ``data_through`` against its path and its target, with the verdicts.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    data_through
        The last day of data included ("today" in the definitions).
    by
        ``"company"`` (default), ``"branch"`` or ``"department"``.
    align, shape
        Whose path and which shape (:mod:`wecom_eval.kpis.paths`).
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
        (English) and ``note_codes`` (its :data:`NOTES` codes, comma-separated, for reports),
        ``p_value``, ``p_adjusted``, ``path_p_value``, ``path_p_adjusted`` and ``look``.
        Groups hidden by the privacy floor keep their row with every figure blank and the
        note "hidden: fewer than … people".
    """
    ctx = Context.of(source, plan, cal)
    day = as_date(data_through, name="data_through")
    key = ("progress", day, by, align, shape, alpha)
    return memo(ctx.con, key, lambda: _progress(ctx, day, by, align, shape, alpha), owners=(plan,), cal=ctx.cal)


def _progress(ctx: Context, day: dt.date, by: By, align: Align, shape: Shape, alpha: float) -> pd.DataFrame:
    plan = ctx.plan
    keys = keys_of(by)
    starts = first_days(ctx, by, align=align)
    looks = {"look": look_of(plan, day), "planned_looks": planned_looks(plan)}
    staged, asks = [], []
    for rec in _figures(ctx, day, by).to_dict("records"):
        group = rec[keys[0]] if keys else None
        first = (
            starts.get(int(str(group)) if by == "department" else group, plan.start_date) if keys else plan.start_date
        )
        kpi = rec["kpi"]
        deadline = path_deadline(plan, kpi, first_day=first)
        pv = path_value(plan, kpi, day, first_day=first, shape=shape)
        rec = {**rec, "target": target_of(plan, kpi).target}
        mine = _asks(rec, day=day, first=first, pv=pv, alpha=alpha, looks=looks)
        staged.append((rec, len(mine), first, deadline, pv))
        asks.extend(mine)
    answers = iter(judge_all(asks))  # the verdicts' exact tests computed together
    rows = [
        _row(rec, plan, [next(answers) for _ in range(k)], keys=keys, day=day, first=first, deadline=deadline, pv=pv)
        for rec, k, first, deadline, pv in staged
    ]
    out = pd.DataFrame(rows, columns=[*keys, *COLUMNS, "_pg", "_pl", "_path_pg", "_path_pl"])
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
    definition = (__doc__ or "").split("Verdicts\n--------\n", 1)[1].strip()
    return finish(out, notes=ctx.notes(), definition=definition)


__all__ = ["COLUMNS", "NOTES", "progress"]
