"""Penetration's department cells, from the feature uses or the raw events, once per report.

Every penetration figure is a sum of department cells — per department, as-of date and
feature: ``headcount`` (on the roster), ``eligible`` and ``users`` — because each person
belongs to one department: a branch or the company adds its departments' integers up, which
is what the raw statement's GROUP BY does. :func:`department_cells` computes the cells

* from ``feature_uses`` (:mod:`wecom_eval.kpis.penetration_uses`) when the table is fresh,
* otherwise with the raw statement :data:`~wecom_eval.kpis.queries.PENETRATION` over
  ``feature_events``: the same cells either way;

and, on a read-only warehouse (a report's), keeps them per window, features and eligibility
(:mod:`wecom_eval.kpis._cache`), so that the forecast history, the alerts at three levels,
progress, the leaderboard and the targets of one report ask the warehouse once per as-of
date instead of once each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from wecom_eval.kpis import queries as q
from wecom_eval.kpis._base import By, Context, dates_frame, keys_of, run, select_prefix, week_ends
from wecom_eval.kpis._cache import by_date, feature_uses_fresh
from wecom_eval.kpis.penetration_uses import department_cells as cells_from_uses

CELLS = ["department_id", "data_through", "feature", "headcount", "eligible", "users"]
COUNTS = ["headcount", "eligible", "users"]


def _raw_cells(
    ctx: Context, dates: list[dt.date], days: int, parts: dict[str, str], relations: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    sel, grp = select_prefix("department")
    sql = q.render(q.PENETRATION, people=parts["people"], person_map=parts["person_map"], select=sel, group=grp)
    frame = dates_frame(ctx.plan, dates, window_days=days)
    params = {"first_day": min(frame["window_start"]), "last_day": max(frame["date"])}
    out = run(ctx.con, sql, params, {**relations, "kpi_dates": frame})
    return out[CELLS]


def _compute(
    ctx: Context, dates: list[dt.date], days: int, parts: dict[str, str], relations: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    if feature_uses_fresh(ctx.con):
        frame = cells_from_uses(ctx, dates, days, parts, relations)
    else:
        frame = _raw_cells(ctx, dates, days, parts, relations)
    return frame.astype({"department_id": "int64", **dict.fromkeys(COUNTS, "int64")})


def department_cells(
    ctx: Context,
    *,
    dates: Sequence[dt.date],
    window_days: int,
    parts: dict[str, str],
    relations: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """The department cells (:data:`CELLS`) of ``dates``; ``relations`` holds ``kpi_departments``,
    ``kpi_eligibility`` and ``kpi_features``. Only the dates not yet asked of a read-only
    connection are computed, from the feature uses together with the rollout's week ends up to
    the last date asked: one statement answers 64 dates for about the cost of one, and a
    report's forecast history and alerts ask for those week ends after its targets ask for its
    day (two passes over the feature uses become one)."""
    elig = relations["kpi_eligibility"]
    key = (
        "penetration",
        window_days,
        tuple(relations["kpi_features"]["feature"]),
        tuple(zip(elig["department_id"], elig["feature"], strict=True)),
        parts["people"],
    )

    def week_ends_before() -> list[dt.date]:
        last = max(dates, default=None)
        if last is None or last < ctx.plan.start_date or not feature_uses_fresh(ctx.con):
            return []
        return [d for d in week_ends(ctx.plan, ctx.plan.start_date, last) if d < last][-63:]

    return by_date(
        ctx.con,
        key,
        dates,
        lambda missing: _compute(ctx, missing, window_days, parts, relations),
        along=week_ends_before,
    )


def grouped(cells: pd.DataFrame, departments: pd.DataFrame, by: By) -> pd.DataFrame:
    """The cells summed over the departments of each group (as the raw statement groups)."""
    keys = keys_of(by)
    frame = cells.merge(departments[["department_id", "department", "branch"]], on="department_id", how="inner")
    out = frame.groupby([*keys, "feature", "data_through"], sort=False, as_index=False)[COUNTS].sum()
    return out.astype(dict.fromkeys(COUNTS, "int64"))


__all__ = ["CELLS", "department_cells", "grouped"]
