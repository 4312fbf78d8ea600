"""The due-report calendar over a whole rollout, with holidays and a prolonged phase."""

from __future__ import annotations

import datetime as dt

from wecom_eval.plan import parse_plan
from wecom_eval.reporting.schedule import due_reports, schedule
from wecom_eval.workcal import WorkCalendar

D = dt.date


def _by_report(items):
    out: dict[str, list[dt.date]] = {}
    for item in items:
        out.setdefault(item.report, []).append(item.as_of)
    return out


def test_whole_rollout_calendar(plan):
    due = _by_report(schedule(plan, WorkCalendar(plan), D(2026, 2, 23), D(2026, 7, 5)))
    assert due["launch-review"] == [D(2026, 3, 16)]  # week 2 ends Sun 15 March
    assert due["promotion-review"] == [D(2026, 4, 27)]  # week 8 ends Sun 26 April
    assert due["deepening-review"] == [D(2026, 5, 25)]  # week 12 ends Sun 24 May
    assert due["monthly"] == [D(2026, 4, 1), D(2026, 5, 6), D(2026, 6, 1), D(2026, 7, 1)]  # 1–5 May is Labour Day
    assert due["quarterly"] == [D(2026, 4, 1), D(2026, 7, 1)]
    weekly = due["weekly"]
    assert weekly[0] == D(2026, 3, 9)  # the first full week after the start on Mon 2 March
    assert D(2026, 4, 7) in weekly and D(2026, 4, 6) not in weekly  # Qingming: Mon 6 April is off
    assert D(2026, 5, 6) in weekly  # Labour Day week: first working day is Wed 6 May
    assert len(weekly) == len(set(weekly)) == 17  # one per week from 9 March to 29 June


def test_prolonged_promotion_phase_moves_the_reviews(plan):
    data = plan.model_dump(mode="json")
    data["phases"][1]["last_week"] = 10
    data["phases"][2].update(first_week=11, last_week=14)
    longer = parse_plan(data)
    due = _by_report(schedule(longer, WorkCalendar(longer), D(2026, 3, 1), D(2026, 6, 30)))
    assert due["promotion-review"] == [D(2026, 5, 11)]  # week 10 ends Sun 10 May
    assert due["deepening-review"] == [D(2026, 6, 8)]  # week 14 ends Sun 7 June


def test_a_quarter_that_starts_with_holidays_is_reported_on_its_first_working_day(plan):
    cal = WorkCalendar(plan)
    due = _by_report(schedule(plan, cal, D(2026, 7, 2), D(2027, 1, 10)))
    first_in_october = next(D(2026, 10, d) for d in range(1, 32) if cal.is_working_day(D(2026, 10, d)))
    assert first_in_october > D(2026, 10, 1)  # National Day: 1 October is off
    assert first_in_october in due["quarterly"]  # Q3 is not skipped because its next day is a holiday
    assert len(due["quarterly"]) == 2  # Q3 and Q4 2026


def test_nothing_due_on_a_holiday_or_before_the_start(plan):
    cal = WorkCalendar(plan)
    assert due_reports(plan, cal, D(2026, 10, 1)) == []
    assert due_reports(plan, cal, D(2026, 3, 1)) == []
    assert due_reports(plan, cal, D(2026, 3, 10)) == []  # an ordinary Tuesday
