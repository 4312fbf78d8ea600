"""Which reports are due on a date, from the registry, the rollout plan and the working calendar.

Each report's ``due`` rule (:mod:`wecom_eval.reporting.registry`; DESIGN §8, issue 8) is
chosen so that the report sees the whole period it covers:

* ``week-start`` (``weekly``) — on the first working day of each week (Monday, or the next
  working day of that week when Monday is a holiday), from the first week after the start;
* ``month-start`` (``monthly``) — on the first working day of each month after the start;
* ``phase-end`` (the phase reviews) — on the first working day after the phase ends (after
  week 2, 8 and 12 in the default plan; later when the plan prolongs a phase, because the
  phase's ``last_week`` moves);
* ``quarter-end`` (``quarterly``) — on the first working day after each calendar quarter
  that overlaps the rollout ends.

A report is due with ``as_of`` equal to the due day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.reporting import registry
from wecom_eval.reporting.periods import phase_end
from wecom_eval.workcal import WorkCalendar

MAX_LOOKAHEAD_DAYS = 31  # a run of non-working days is never longer than this in China's calendar


@dataclass(frozen=True)
class DueReport:
    report: str
    as_of: dt.date
    reason: str


def first_working_day_from(calendar: WorkCalendar, day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the next working day."""
    for offset in range(MAX_LOOKAHEAD_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {MAX_LOOKAHEAD_DAYS} days of {day}; check calendar.extra_days_off")


def due_reports(plan: RolloutPlan, calendar: WorkCalendar, day: dt.date, home: Home | None = None) -> list[DueReport]:
    """The reports due on ``day`` (empty on a non-working day or before the rollout), in registry order."""
    if day < plan.start_date or not calendar.is_working_day(day):
        return []
    due: list[DueReport] = []
    for spec in registry.reports(home).values():
        reason = _due_reason(spec, plan, calendar, day)
        if reason is not None:
            due.append(DueReport(spec.name, day, reason))
    return due


def _due_reason(spec: registry.ReportSpec, plan: RolloutPlan, calendar: WorkCalendar, day: dt.date) -> str | None:
    """Why ``spec`` is due on the working day ``day`` by its ``due`` rule, or None when it is not."""
    if spec.due == "week-start":
        monday = day - dt.timedelta(days=day.weekday())
        if monday > plan.start_date and first_working_day_from(calendar, monday) == day:
            return f"first working day of the week of {monday}"
        return None
    if spec.due == "month-start":
        first_of_month = day.replace(day=1)
        if first_of_month > plan.start_date and first_working_day_from(calendar, first_of_month) == day:
            return f"first working day of {day:%Y-%m}"
        return None
    if spec.due == "phase-end":
        phase = next((p for p in plan.phases if p.name == spec.phase), None)
        if phase is None:
            return None
        end = phase_end(plan, phase.name)
        if first_working_day_from(calendar, end + dt.timedelta(days=1)) == day:
            return f"the {phase.name} phase ended on {end} (week {phase.last_week})"
        return None
    # the first working day of a quarter (after National Day, say) that follows a quarter overlapping the rollout
    quarter_start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    quarter_end = quarter_start - dt.timedelta(days=1)
    if quarter_end >= plan.start_date and first_working_day_from(calendar, quarter_start) == day:
        return f"{quarter_end.year} Q{(quarter_end.month - 1) // 3 + 1} ended on {quarter_end}"
    return None


def schedule(
    plan: RolloutPlan, calendar: WorkCalendar, start: dt.date, end: dt.date, home: Home | None = None
) -> list[DueReport]:
    """Every report due from ``start`` to ``end``, both included, in date order."""
    out: list[DueReport] = []
    day = start
    while day <= end:
        out += due_reports(plan, calendar, day, home)
        day += dt.timedelta(days=1)
    return out
