"""IT support: the share of tickets first answered within 1 hour and resolved within 4 hours.

By the rollout week in which each ticket was created (DESIGN §6, and the plan's own "IT
responds within 1 hour and solves within 4"). Hours are calendar hours by default, or
working hours (09:00–18:00 on working days) with ``clock="working"``.

A ticket counts in a share's denominator once its window has closed by the end of ``end``
(or it was answered/resolved): a ticket opened ten minutes before the cut-off is not yet late.
A ticket with no answer (or no resolution) whose window has closed counts as not within it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis import queries_records as q
from wecom_eval.kpis._base import Context, as_date, check_range, finish, has_rows, run
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

Clock = Literal["calendar", "working"]
COLUMNS = [
    "week",
    "week_start",
    "tickets",
    "answer_due",
    "answered_within_1h",
    "answered_share",
    "resolve_due",
    "resolved_within_4h",
    "resolved_share",
    "unanswered",
    "unresolved",
    "clock",
]
DEFINITION = (
    "IT support: tickets first answered within {a} hour and resolved within {r} hours "
    "({clock} hours) ÷ tickets whose window had closed, by the week they were opened."
)


def it_support(
    source: Source,
    plan: RolloutPlan,
    *,
    start: dt.date,
    end: dt.date,
    clock: Clock = "calendar",
    answer_hours: float = 1.0,
    resolve_hours: float = 4.0,
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Weekly IT-support shares (when tickets are loaded).

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    start, end
        Tickets created on these days (both included).
    clock
        ``"calendar"`` (default) or ``"working"`` hours.
    answer_hours, resolve_hours
        The service levels (1 and 4 hours).

    Returns
    -------
    pandas.DataFrame
        One row per rollout week with tickets: ``week``, ``week_start``, ``tickets``,
        ``answer_due``, ``answered_within_1h``, ``answered_share``, ``resolve_due``,
        ``resolved_within_4h``, ``resolved_share``, ``unanswered`` and ``unresolved`` (no
        answer / resolution yet), ``clock``; then ``suppressed``/``suppression`` (weeks with
        fewer than ``min_group_size`` tickets are blanked: a ticket is one person's
        request). Empty, with a note, when no tickets are loaded.
    """
    ctx = Context.of(source, plan, cal)
    start = as_date(start, name="start")
    end = as_date(end, name="end")
    check_range(start, end)
    if clock not in ("calendar", "working"):
        raise ValueError(f"clock={clock!r}: use 'calendar' or 'working'")
    if not has_rows(ctx.con, "tickets"):
        return finish(pd.DataFrame(columns=COLUMNS), notes=["No support tickets are loaded: IT support not measured."])
    rows = run(ctx.con, q.TICKETS, {"start": start, "end": end}, {"kpi_calendar": ctx.calendar(start, end)})
    cutoff = pd.Timestamp(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), tz=ZoneInfo(plan.timezone))
    created = pd.to_datetime(rows["created_at"]).dt.tz_convert(plan.timezone)
    first = pd.to_datetime(rows["first_response_at"]).dt.tz_convert(plan.timezone)
    resolved = pd.to_datetime(rows["resolved_at"]).dt.tz_convert(plan.timezone)
    cut = pd.Series(cutoff, index=rows.index)

    def hours(a: pd.Series, b: pd.Series) -> pd.Series:
        if clock == "working":
            return ctx.cal.working_hours_between(a.dt.tz_localize(None), b.dt.tz_localize(None))
        return (b - a).dt.total_seconds() / 3600.0

    to_cut = hours(created, cut)
    answer_h = hours(created, first.fillna(cut))
    resolve_h = hours(created, resolved.fillna(cut))
    frame = pd.DataFrame(
        {
            "week": rows["week"].astype("int64"),
            "week_start": rows["week_start"],
            "answer_due": first.notna() | (to_cut >= answer_hours),
            "answered": first.notna() & (answer_h <= answer_hours),
            "resolve_due": resolved.notna() | (to_cut >= resolve_hours),
            "resolved": resolved.notna() & (resolve_h <= resolve_hours),
            "unanswered": first.isna(),
            "unresolved": resolved.isna(),
        }
    )
    out = frame.groupby(["week", "week_start"], as_index=False).agg(
        tickets=("answered", "size"),
        answer_due=("answer_due", "sum"),
        answered_within_1h=("answered", "sum"),
        resolve_due=("resolve_due", "sum"),
        resolved_within_4h=("resolved", "sum"),
        unanswered=("unanswered", "sum"),
        unresolved=("unresolved", "sum"),
    )
    out["answered_share"] = np.where(
        out["answer_due"] > 0, out["answered_within_1h"] / out["answer_due"].clip(1), np.nan
    )
    out["resolved_share"] = np.where(
        out["resolve_due"] > 0, out["resolved_within_4h"] / out["resolve_due"].clip(1), np.nan
    )
    out["clock"] = clock
    out = out[COLUMNS].sort_values("week", ignore_index=True)
    out = privacy.suppress(
        out, size="tickets", by=["week"], keep=["week_start", "clock"], min_group_size=privacy.floor(plan)
    )
    definition = DEFINITION.format(a=f"{answer_hours:g}", r=f"{resolve_hours:g}", clock=clock)
    return finish(out, notes=ctx.notes(), definition=definition)


__all__ = ["it_support"]
