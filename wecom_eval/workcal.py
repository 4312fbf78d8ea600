"""Working days and rollout weeks: China's public holidays and adjusted working days (调休).

Years the calendar package does not cover fall back to Monday–Friday; the calendar records
that it did, so every report that used the fallback can say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import chinese_calendar
import numpy as np
import pandas as pd

from wecom_eval.plan import Phase, RolloutPlan


@cache
def _covered_years() -> frozenset[int]:
    years = set()
    for year in range(2004, 2100):
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            continue
        years.add(year)
    return frozenset(years)


class WorkCalendar:
    """Answers which days are working days and where a date falls in the rollout."""

    def __init__(self, plan: RolloutPlan) -> None:
        self.plan = plan
        self._extra_off = frozenset(plan.calendar.extra_days_off)
        self.fallback_years: set[int] = set()

    # ---- working days --------------------------------------------------------------
    def is_working_day(self, day: dt.date) -> bool:
        """A working day under China's official calendar, minus the plan's extra days off."""
        if day in self._extra_off:
            return False
        if day.year in _covered_years():
            return bool(chinese_calendar.is_workday(day))
        self.fallback_years.add(day.year)
        return day.weekday() < 5

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days from ``start`` to ``end``, both included."""
        days = pd.date_range(start, end, freq="D").date
        return [d for d in days if self.is_working_day(d)]

    def working_day_mask(self, days: Iterable[dt.date]) -> np.ndarray:
        return np.fromiter((self.is_working_day(d) for d in days), dtype=bool)

    @property
    def fallback_note(self) -> str | None:
        """A sentence for reports when some year was not covered by the official calendar."""
        if not self.fallback_years:
            return None
        years = ", ".join(str(y) for y in sorted(self.fallback_years))
        return (
            f"China's official holiday calendar for {years} is not yet available to this workbook; "
            "working days in those years are Monday–Friday, plus the plan's extra days off."
        )

    # ---- rollout position ----------------------------------------------------------
    def rollout_week(self, day: dt.date) -> int:
        """Week number since the start: 1 for the first seven days, 0 or less before the start."""
        return (day - self.plan.start_date).days // 7 + 1

    def phase_of(self, day: dt.date) -> Phase | None:
        """The phase a date falls in, or None before the start or after the last phase."""
        week = self.rollout_week(day)
        for phase in self.plan.phases:
            if phase.first_week <= week <= phase.last_week:
                return phase
        return None

    def working_hours_between(
        self, start: pd.Series, end: pd.Series, *, day_start: int = 9, day_end: int = 18
    ) -> pd.Series:
        """Working hours between two timestamps (09:00–18:00 on working days), vectorised.

        Used to report turnaround in working hours beside calendar hours.
        """
        start = pd.to_datetime(start)
        end = pd.to_datetime(end)
        if start.empty:
            return pd.Series([], dtype=float, index=start.index)
        first = min(start.min(), end.min()).date()
        last = max(start.max(), end.max()).date()
        days = pd.date_range(first, last, freq="D")
        working = self.working_day_mask(days.date).astype(float) * (day_end - day_start)
        cumulative = np.concatenate([[0.0], np.cumsum(working)])  # hours before each day

        def position(ts: pd.Series) -> np.ndarray:
            naive = ts.dt.tz_localize(None) if ts.dt.tz is not None else ts
            idx = (naive.dt.normalize() - days[0]).dt.days.to_numpy()
            hour = (naive - naive.dt.normalize()).dt.total_seconds().to_numpy() / 3600.0
            within = np.clip(hour, day_start, day_end) - day_start
            return np.asarray(cumulative[idx] + within * (working[idx] > 0))

        return pd.Series(position(end) - position(start), index=start.index)
