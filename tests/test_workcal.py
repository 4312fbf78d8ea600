"""Working days follow China's official calendar (holidays and adjusted working days)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from wecom_eval.plan import parse_plan
from wecom_eval.workcal import WorkCalendar

D = dt.date


def test_spring_festival_2026(plan):
    cal = WorkCalendar(plan)
    # State Council notice for 2026: Spring Festival off 15–23 Feb; Sat 14 Feb and Sat 28 Feb are working days.
    assert cal.is_working_day(D(2026, 2, 14)) and cal.is_working_day(D(2026, 2, 28))
    assert not any(cal.is_working_day(D(2026, 2, d)) for d in range(15, 24))
    assert cal.working_days(D(2026, 2, 9), D(2026, 2, 15)) == [D(2026, 2, d) for d in (9, 10, 11, 12, 13, 14)]
    assert cal.fallback_note is None


def test_national_day_is_off(plan):
    cal = WorkCalendar(plan)
    assert not cal.is_working_day(D(2026, 10, 1))
    assert not cal.is_working_day(D(2026, 3, 7))  # an ordinary Saturday


def test_uncovered_year_falls_back_and_says_so(plan):
    cal = WorkCalendar(plan)
    assert cal.is_working_day(D(2031, 1, 1))  # a Wednesday: Monday–Friday fallback
    assert not cal.is_working_day(D(2031, 1, 4))
    assert "2031" in (cal.fallback_note or "")


def test_extra_days_off_from_the_plan(plan):
    data = plan.model_dump(mode="json")
    data["calendar"]["extra_days_off"] = ["2026-03-06"]
    cal = WorkCalendar(parse_plan(data))
    assert not cal.is_working_day(D(2026, 3, 6))


def test_rollout_weeks_and_phases(plan):
    cal = WorkCalendar(plan)
    assert cal.rollout_week(D(2026, 3, 2)) == 1
    assert cal.rollout_week(D(2026, 3, 8)) == 1
    assert cal.rollout_week(D(2026, 3, 9)) == 2
    assert cal.rollout_week(D(2026, 3, 1)) == 0
    assert cal.phase_of(D(2026, 3, 13)).name == "launch"
    assert cal.phase_of(D(2026, 3, 16)).name == "promotion"
    assert cal.phase_of(D(2026, 5, 24)).name == "deepening"
    assert cal.phase_of(D(2026, 5, 25)) is None and cal.phase_of(D(2026, 3, 1)) is None


def test_working_hours_between(plan):
    cal = WorkCalendar(plan)
    start = pd.Series(pd.to_datetime(["2026-03-06 17:00", "2026-03-02 10:00", "2026-02-13 17:30"]))
    end = pd.Series(pd.to_datetime(["2026-03-09 10:00", "2026-03-02 12:30", "2026-02-24 09:30"]))
    hours = cal.working_hours_between(start, end)
    # Fri 17:00 → Mon 10:00: 1 h on Friday + 1 h on Monday (09:00–18:00 working hours).
    # Same day 10:00 → 12:30: 2.5 h.
    # Fri 13 Feb 17:30 → Tue 24 Feb 09:30: 0.5 h + Sat 14 Feb (adjusted working day) 9 h + 0.5 h.
    assert hours.tolist() == pytest.approx([2.0, 2.5, 10.0])
