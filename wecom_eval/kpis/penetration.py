"""Feature penetration: the share of eligible employees who used a core feature recently.

**Feature penetration** (per core feature) on day d = eligible employees on the roster on d
who used the feature at least once in the trailing ``window_days`` (d − window_days + 1 … d,
by the date of ``feature_events.ts`` in the plan's time zone) ÷ eligible employees on the
roster on d (DESIGN §6). Eligibility comes from the plan: a feature the plan lists under
``features:`` applies to the departments with one of those names anywhere in their path,
every other feature to everyone. A use counts for an employee through any of their WeCom
members. Broken down by the roster's department.

A department (or a whole company) with no eligible staff for a feature has no penetration
for it: ``eligible`` is 0 and ``penetration`` is null — never 0 %. So is a feature whose
events do not reach into the window (:mod:`wecom_eval.kpis.coverage`): ``users`` and
``penetration`` are null — not measured, not 0 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis._base import (
    By,
    Context,
    as_date,
    as_dates,
    check_by,
    eligibility_frame,
    finish,
    keys_of,
    people_parts,
    week_ends,
)
from wecom_eval.kpis._cache import memo
from wecom_eval.kpis.coverage import feature_measured, feature_ranges
from wecom_eval.kpis.penetration_cells import department_cells, grouped
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import FEATURES
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

DEFINITION = (
    "Feature penetration: eligible employees (by the plan's feature eligibility) who used the feature "
    "at least once in the trailing {days} days ÷ eligible employees on the roster."
)


def _features(plan: RolloutPlan, features: Sequence[str] | None) -> list[str]:
    chosen: list[str] = list(features if features is not None else plan.targets.feature_penetration.features)
    unknown = [f for f in chosen if f not in FEATURES]
    if unknown or not chosen:
        raise ValueError(f"features {unknown or chosen}: use some of {', '.join(FEATURES)}")
    return chosen


def penetration_raw(
    ctx: Context,
    *,
    data_through: Sequence[dt.date],
    by: By = "department",
    features: Sequence[str] | None = None,
    window_days: int | None = None,
) -> pd.DataFrame:
    """Eligible staff and users per group, feature and as-of date, before privacy protection.

    Keeps ``headcount`` (everyone on the roster, eligible or not) for pooled figures. Kept per
    read-only connection (:mod:`wecom_eval.kpis._cache`).
    """
    check_by(by)
    plan = ctx.plan
    feats = _features(plan, features)
    days = window_days if window_days is not None else plan.targets.feature_penetration.window_days
    if days < 1:
        raise ValueError(f"window_days must be 1 or more, got {days}")
    dates = list(data_through)
    key = ("penetration_raw", tuple(sorted(set(dates))), by, tuple(feats), days)
    return memo(ctx.con, key, lambda: _penetration_raw(ctx, dates, by, feats, days), owners=(plan,))


def _penetration_raw(
    ctx: Context, data_through: Sequence[dt.date], by: By, feats: list[str], days: int
) -> pd.DataFrame:
    plan = ctx.plan
    departments = ctx.departments()
    parts, _notes = people_parts(ctx)
    relations = {
        "kpi_departments": departments,
        "kpi_eligibility": eligibility_frame(departments, plan, feats),
        "kpi_features": pd.DataFrame({"feature": feats}),
    }
    cells = department_cells(ctx, dates=data_through, window_days=days, parts=parts, relations=relations)
    frame = grouped(cells, departments, by)
    frame["penetration"] = np.where(
        frame["eligible"] > 0, frame["users"] / frame["eligible"].where(frame["eligible"] > 0, 1), np.nan
    )
    ranges = feature_ranges(ctx)
    measured = [
        feature_measured(ranges, f, window_start=d - dt.timedelta(days=days - 1), data_through=d)
        for f, d in zip(frame["feature"], frame["data_through"], strict=True)
    ]
    frame.loc[~np.array(measured, dtype=bool), ["users", "penetration"]] = np.nan
    frame["window_days"] = days
    keys = keys_of(by)
    order = {f: i for i, f in enumerate(feats)}
    frame = frame.assign(_f=frame["feature"].map(order)).sort_values(["_f", *keys, "data_through"], ignore_index=True)
    frame = _with_missing_company_rows(frame, by, feats, data_through)
    return frame[[*keys, "feature", "data_through", "window_days", "headcount", "eligible", "users", "penetration"]]


def _with_missing_company_rows(
    frame: pd.DataFrame, by: By, feats: list[str], data_through: Sequence[dt.date]
) -> pd.DataFrame:
    """Company-wide, every (feature, day) has a row, even with nobody on the roster."""
    if by != "company":
        return frame
    full = pd.MultiIndex.from_product([feats, sorted(set(data_through))], names=["feature", "data_through"]).to_frame(
        index=False
    )
    out = full.merge(
        frame.drop(columns=["_f"], errors="ignore"), on=["feature", "data_through"], how="left", indicator=True
    )
    absent = out.pop("_merge").eq("left_only")
    for col in ("headcount", "eligible"):
        out[col] = out[col].fillna(0).astype("int64")
    out.loc[absent, "users"] = 0  # nobody on the roster; an unmeasured feature keeps users null
    out["window_days"] = out["window_days"].fillna(frame["window_days"].iloc[0] if len(frame) else 0).astype("int64")
    return out


def feature_penetration(
    source: Source,
    plan: RolloutPlan,
    *,
    data_through: dt.date | Sequence[dt.date],
    by: By = "department",
    features: Sequence[str] | None = None,
    window_days: int | None = None,
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Feature penetration per core feature on one or several days.

    Parameters
    ----------
    source
        The warehouse (or its DuckDB connection).
    plan
        The rollout plan: ``targets.feature_penetration`` (features, ``window_days``) and
        ``features`` (eligibility).
    data_through
        A day or several days.
    by
        ``"department"`` (the roster's department), ``"branch"`` or ``"company"``.
    features
        The features to report (default: the plan's core features).
    window_days
        The trailing window (default: the plan's, 28).
    cal
        Unused; accepted so that every KPI function takes the same arguments.

    Returns
    -------
    pandas.DataFrame
        One row per group, feature and day: key columns, ``feature``, ``data_through``,
        ``window_days``, ``eligible`` (eligible employees on the roster: the people the row
        describes), ``users``, ``penetration`` (null when ``eligible`` is 0), ``applies``
        (the feature applies to someone in the group), ``suppressed``, ``suppression``.
    """
    del cal
    ctx = Context.of(source, plan)
    days = as_dates(data_through, name="data_through")
    raw = penetration_raw(ctx, data_through=days, by=by, features=features, window_days=window_days)
    raw = raw.drop(columns=["headcount"])
    raw["applies"] = raw["eligible"] > 0
    out = privacy.suppress(
        raw,
        size="eligible",
        by=keys_of(by),
        within=["feature", "data_through", "window_days"],
        keep=["applies"],
        min_group_size=privacy.floor(plan),
    )
    _parts, notes = people_parts(ctx)
    for feature in sorted(set(raw.loc[raw["eligible"] == 0, "feature"])):
        if by == "company":
            notes.append(f"No eligible staff for {feature}: its penetration is not defined (shown empty, not 0).")
    window = int(raw["window_days"].iloc[0]) if len(raw) else plan.targets.feature_penetration.window_days
    return finish(out, notes=notes, definition=DEFINITION.format(days=window))


def penetration_trend(
    source: Source,
    plan: RolloutPlan,
    *,
    start: dt.date,
    end: dt.date,
    by: By = "department",
    features: Sequence[str] | None = None,
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Feature penetration read at the end of each rollout week from ``start`` to ``end`` (and on ``end``).

    Columns as :func:`feature_penetration` plus ``week``.
    """
    start = as_date(start, name="start")
    end = as_date(end, name="end")
    out = feature_penetration(source, plan, data_through=week_ends(plan, start, end), by=by, features=features, cal=cal)
    week = np.array([(d - plan.start_date).days // 7 + 1 for d in out["data_through"]], dtype=np.int64)
    out.insert(list(out.columns).index("data_through") + 1, "week", week)
    return out


__all__ = ["feature_penetration", "penetration_trend"]
