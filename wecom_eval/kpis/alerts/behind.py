"""``behind_path`` alerts: a KPI of the company or a department below its path this week.

The weekly series of each KPI (registration and penetration at each week's end, the
active and engaged rates of each week) are read for one level, and the last point of each
is judged against its path; Benjamini-Hochberg then adjusts the family (package docstring).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis._base import By, Context, keys_of, week_ends
from wecom_eval.kpis.alerts._rows import MESSAGES, Language, alert, label, records, what
from wecom_eval.kpis.paths import Align, Shape, first_days, path_value
from wecom_eval.kpis.verdicts import judge, look_of, planned_looks
from wecom_eval.plan import RolloutPlan

Series = dict[tuple[Any, ...], list[dict[str, Any]]]
Groups = dict[tuple[Any, ...], dict[str, Any]]


def _registration(ctx: Context, level: By, ends: list[dt.date], series: Series, groups: Groups) -> None:
    """Registration at each week's end, per visible group."""
    from wecom_eval.kpis.registration import registration_raw

    plan, keys = ctx.plan, keys_of(level)
    reg = privacy.suppress(
        registration_raw(ctx, data_through=ends, by=level),
        size="employees",
        by=keys,
        within=["data_through"],
        min_group_size=privacy.floor(plan),
    )
    for rec in records(reg.loc[~reg["suppressed"]]):
        key = ("registration", None, *(rec[k] for k in keys))
        groups[key] = rec
        series.setdefault(key, []).append(
            {
                "date": rec["data_through"],
                "week": (rec["data_through"] - plan.start_date).days // 7 + 1,
                "week_start": plan.week_start((rec["data_through"] - plan.start_date).days // 7 + 1),
                "estimate": float(rec["registration_rate"]),
                "successes": float(rec["registered"]),
                "n": float(rec["employees"]),
            }
        )


def _activity(act: pd.DataFrame, keys: list[str], series: Series, groups: Groups) -> None:
    """The active and the engaged rate of each week, per visible group (``act`` is protected)."""
    for rec in records(act.loc[~act["suppressed"]]):
        for kpi, rate, n in (
            ("active_rate", "active_rate", "registered_mean"),
            ("engaged_rate", "engaged_rate", "measured_mean"),
        ):
            key = (kpi, None, *(rec[k] for k in keys))
            groups[key] = rec
            est = rec[rate]
            est = math.nan if est is None or pd.isna(est) else float(est)
            n_val = 0.0 if rec[n] is None or pd.isna(rec[n]) else float(rec[n])
            series.setdefault(key, []).append(
                {
                    "date": rec["week_end"],
                    "week": int(rec["week"]),
                    "week_start": rec["week_start"],
                    "estimate": est,
                    "successes": est * n_val if n_val else math.nan,
                    "n": n_val,
                }
            )


def _penetration(ctx: Context, level: By, ends: list[dt.date], series: Series, groups: Groups) -> None:
    """Each feature's penetration at each week's end, per visible group with eligible staff."""
    from wecom_eval.kpis.penetration import penetration_raw

    plan, keys = ctx.plan, keys_of(level)
    pen = privacy.suppress(
        penetration_raw(ctx, data_through=ends, by=level),
        size="eligible",
        by=keys,
        within=["feature", "data_through"],
        min_group_size=privacy.floor(plan),
    )
    for rec in records(pen.loc[~pen["suppressed"] & (pen["eligible"] > 0)]):
        key = ("feature_penetration", rec["feature"], *(rec[k] for k in keys))
        groups[key] = rec
        week = (rec["data_through"] - plan.start_date).days // 7 + 1
        series.setdefault(key, []).append(
            {
                "date": rec["data_through"],
                "week": week,
                "week_start": plan.week_start(week),
                "estimate": float(rec["penetration"]),
                "successes": float(rec["users"]),
                "n": float(rec["eligible"]),
            }
        )


def _behind(
    series: list[dict[str, Any]],
    *,
    kpi: str,
    level: str,
    census: bool,
    alpha: float,
    plan: RolloutPlan,
    first: dt.date,
    shape: Shape,
) -> dict[str, Any] | None:
    """An alert when the last point of a weekly series is below the path, else None."""
    points = [
        p
        for p in series
        if p["date"] >= first and p["estimate"] is not None and not math.isnan(p["estimate"]) and p["n"] > 0
    ]
    if not points or points[-1]["week"] != series[-1]["week"]:
        return None
    flags = []
    for p in points:
        p["path"] = path_value(plan, kpi, p["date"], first_day=first, shape=shape)
        flags.append(p["estimate"] < p["path"] - 1e-12)
    if not flags[-1]:
        return None
    k = len(flags) - 1  # back to the first of the unbroken run of weeks behind (unmeasured weeks skipped)
    while k > 0 and flags[k - 1]:
        k -= 1
    last = points[-1]
    shown = judge(
        successes=last["successes"],
        n=last["n"],
        value=last["path"],
        census=census,
        alpha=alpha,
        look=look_of(plan, last["date"]),
        planned_looks=planned_looks(plan),
    )
    return {
        "value": last["estimate"],
        "expected": last["path"],
        "gap": last["estimate"] - last["path"],
        "week": last["week"],
        "since_week": points[k]["week"],
        "since_date": points[k]["week_start"],
        "severity": "high" if shown["verdict"] == "missed" else "low",
        "count": int(round(last["n"])),
        "p_value": shown["p_less"],
    }


def behind_path(
    ctx: Context,
    level: By,
    *,
    day: dt.date,
    act: pd.DataFrame,
    align: Align,
    shape: Shape,
    alpha: float,
    language: Language,
) -> list[dict[str, Any]]:
    """The ``behind_path`` alerts of one level (``act``: its protected weekly activity)."""
    plan, keys = ctx.plan, keys_of(level)
    starts = first_days(ctx, level, align=align)
    ends = week_ends(plan, plan.start_date, day)
    series: Series = {}
    groups: Groups = {}
    _registration(ctx, level, ends, series, groups)
    _activity(act, keys, series, groups)
    _penetration(ctx, level, ends, series, groups)
    current_week = (day - plan.start_date).days // 7 + 1
    rows = []
    for key, points in series.items():
        kpi, feature = key[0], key[1]
        points.sort(key=lambda p: p["week"])
        if points[-1]["week"] != current_week:
            continue
        rec = groups[key]
        first = starts.get(int(rec["department_id"]), plan.start_date) if level == "department" else plan.start_date
        found = _behind(
            points, kpi=kpi, level=level, census=kpi == "registration", alpha=alpha, plan=plan, first=first, shape=shape
        )
        if found is None:
            continue
        dep_id, group = label(rec, level)
        message = MESSAGES[language]["behind_path"].format(
            group=group if language == "en" else group + " ",
            what=what(kpi, feature, language),
            value=found["value"],
            expected=found["expected"],
            gap_pp=-100 * found["gap"],
            since_week=found["since_week"],
        )
        fields = {k: found[k] for k in ("week", "value", "expected", "gap", "since_week", "since_date", "count")}
        rows.append(
            alert(
                "behind_path",
                found["severity"],
                level,
                dep_id,
                group,
                kpi=kpi,
                feature=feature,
                **fields,
                message=message,
                p_value=found["p_value"],
            )
        )
    return rows


def adjust_behind(out: pd.DataFrame, *, alpha: float) -> pd.DataFrame:
    """Benjamini-Hochberg over the report's behind-path alerts that rest on a sample.

    The family is every ``behind_path`` alert with a p-value (registration counts the whole
    roster and has none: its shortfall is a fact). ``p_value`` is the anytime p-value of
    "at or above the path" from the weekly confidence sequence; an alert is ``high`` only
    when its adjusted p-value is at most ``alpha``, otherwise ``low`` (below the path, but
    within what chance gives across this many groups).
    """
    from wecom_eval.stats import benjamini_hochberg

    out["p_value"] = out["p_value"].astype(float)
    out["p_adjusted"] = math.nan
    tested = (out["kind"] == "behind_path") & out["p_value"].notna()
    if tested.any():
        res = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy(), alpha=alpha)
        out.loc[tested, "p_adjusted"] = res.p_adjusted
        out.loc[tested, "severity"] = np.where(res.reject, "high", "low")
    return out


__all__ = ["adjust_behind", "behind_path"]
