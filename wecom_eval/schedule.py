"""Which reports are due on a date, from the rollout plan and the working calendar.

The rules (DESIGN §8, issue 8), chosen so that each report sees the whole period it covers:

* ``weekly`` — on the first working day of each week (Monday, or the next working day of
  that week when Monday is a holiday), from the first week after the start;
* ``monthly`` — on the first working day of each month after the start;
* ``launch-review``, ``promotion-review``, ``deepening-review`` — on the first working day
  after the phase ends (after week 2, 8 and 12 in the default plan; later when the plan
  prolongs a phase, because the phase's ``last_week`` moves);
* ``quarterly`` — on the first working day after each calendar quarter that overlaps the
  rollout ends.

A report is due with ``as_of`` equal to the due day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wecom_eval.plan import RolloutPlan
from wecom_eval.workcal import WorkCalendar

PHASE_REVIEWS = {"launch": "launch-review", "promotion": "promotion-review", "deepening": "deepening-review"}
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


def _quarter_end(day: dt.date) -> dt.date:
    month = 3 * ((day.month - 1) // 3) + 3
    next_month = dt.date(day.year + (month == 12), month % 12 + 1, 1)
    return next_month - dt.timedelta(days=1)


def due_reports(plan: RolloutPlan, calendar: WorkCalendar, day: dt.date) -> list[DueReport]:
    """The reports due on ``day`` (empty on a non-working day or before the rollout)."""
    if day < plan.start_date or not calendar.is_working_day(day):
        return []
    due: list[DueReport] = []
    monday = day - dt.timedelta(days=day.weekday())
    if monday > plan.start_date and first_working_day_from(calendar, monday) == day and day - monday < dt.timedelta(7):
        due.append(DueReport("weekly", day, f"first working day of the week of {monday}"))
    first_of_month = day.replace(day=1)
    if first_of_month > plan.start_date and first_working_day_from(calendar, first_of_month) == day:
        due.append(DueReport("monthly", day, f"first working day of {day:%Y-%m}"))
    for phase in plan.phases:
        report = PHASE_REVIEWS.get(phase.name)
        if report is None:
            continue
        phase_end = plan.week_start(phase.last_week) + dt.timedelta(days=6)
        if first_working_day_from(calendar, phase_end + dt.timedelta(days=1)) == day:
            due.append(DueReport(report, day, f"the {phase.name} phase ended on {phase_end} (week {phase.last_week})"))
    previous_day = day - dt.timedelta(days=1)
    quarter_end = _quarter_end(previous_day)
    # the first working day after a quarter end that falls after the start
    if quarter_end >= plan.start_date:
        after = quarter_end + dt.timedelta(days=1)
        if after <= day and first_working_day_from(calendar, after) == day:
            quarter = (quarter_end.month - 1) // 3 + 1
            due.append(DueReport("quarterly", day, f"{quarter_end.year} Q{quarter} ended on {quarter_end}"))
    return due


def schedule(plan: RolloutPlan, calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[DueReport]:
    """Every report due from ``start`` to ``end``, both included, in date order."""
    out: list[DueReport] = []
    day = start
    while day <= end:
        out += due_reports(plan, calendar, day)
        day += dt.timedelta(days=1)
    return out
