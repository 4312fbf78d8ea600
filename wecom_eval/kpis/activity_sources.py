"""Where the activity figures of a date range are read from: the rollups or the member days.

The store keeps pre-folded department-day and department-week tables
(:mod:`wecom_eval.store.rollups`) fresh after every load; the activity KPIs read them when
they are fresh and cover the range, and otherwise fold the member-day rows on the fly with
the very same SQL (:mod:`wecom_eval.store.rollup_sql`), so both give identical numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wecom_eval.kpis._base import Context, has_rows
from wecom_eval.kpis._cache import memo
from wecom_eval.store import rollup_sql as q
from wecom_eval.store.member_days import MEMBER_DAYS_STORE
from wecom_eval.store.rollups import DAYS_TABLE, WEEKS_TABLE, rollup_info


@dataclass(frozen=True)
class ActivitySources:
    """The SQL parts the activity queries read (slots ``spans``, ``department_days``,
    ``department_weeks``), and whether the department figures came from the rollups."""

    parts: dict[str, str]
    from_rollups: bool


def _inline(start: dt.date, end: dt.date) -> dict[str, str]:
    weeks = q.department_weeks(q.week_words(start, end))
    return {"spans": q.SPANS, "department_days": q.DEPARTMENT_DAYS, "department_weeks": weeks}


def activity_sources(ctx: Context, start: dt.date, end: dt.date, *, weeks: bool) -> ActivitySources:
    """The relations for the activity figures of ``start``..``end``.

    The rollups are used when they are fresh and cover the days. Distinct weekly users come
    from the week rollup only when the range holds the same (clipped) weeks as the rollup:
    ``start`` on a week's first day (or the rollup's first day) and ``end`` on a week's last
    day (or the rollup's last day); otherwise they are folded on the fly.
    """
    info = (
        memo(ctx.con, "rollup_info", lambda: rollup_info(ctx.con, ctx.plan), owners=(ctx.plan,))
        if has_rows(ctx.con, MEMBER_DAYS_STORE)
        else None
    )
    if info is None or not info.covers(start, end):
        return ActivitySources(_inline(start, end), False)
    offset = ctx.plan.start_date
    start_ok = (start - offset).days % 7 == 0 or start == info.first_day
    end_ok = (end - offset).days % 7 == 6 or end == info.last_day
    parts = _inline(start, end)
    parts["department_days"] = f"SELECT * FROM {DAYS_TABLE} WHERE date BETWEEN $start AND $end"
    if weeks and start_ok and end_ok:
        parts["department_weeks"] = (
            f"SELECT * FROM {WEEKS_TABLE} WHERE week_start IN "
            "(SELECT week_start FROM kpi_calendar WHERE date BETWEEN $start AND $end)"
        )
    return ActivitySources(parts, True)


__all__ = ["ActivitySources", "activity_sources"]
