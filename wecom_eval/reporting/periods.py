"""Which days a report describes, from its kind, its ``as_of`` and the rollout plan.

``as_of`` is the day a report is made; its data runs to the day before (the last complete
day). Within that window each report focuses on a period:

* ``weekly`` — the last complete rollout week (Monday to Sunday) before ``as_of``;
* ``monthly`` — the last complete calendar month before ``as_of``;
* ``launch-review`` / ``promotion-review`` / ``deepening-review`` — the phase's weeks, cut
  at the last complete day when the phase has not ended yet (an interim review);
* ``quarterly`` — the calendar quarter of the last complete day, to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wecom_eval.plan import RolloutPlan

PHASE_OF_REVIEW = {"launch-review": "launch", "promotion-review": "promotion", "deepening-review": "deepening"}


@dataclass(frozen=True)
class Period:
    """The days a report focuses on, both included, and whether the period is complete."""

    start: dt.date
    end: dt.date
    complete: bool
    label_zh: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def phase_end(plan: RolloutPlan, phase: str) -> dt.date:
    """The last day (a Sunday) of ``phase``."""
    p = plan.phase(phase)
    return plan.week_start(p.last_week) + dt.timedelta(days=6)


def report_period(report: str, plan: RolloutPlan, as_of: dt.date) -> Period:
    """The period ``report`` describes when made on ``as_of``.

    Examples
    --------
    >>> from wecom_eval.plan import load_plan
    >>> from wecom_eval.home import Home
    >>> plan = load_plan(Home.from_env().plan)
    >>> report_period("weekly", plan, dt.date(2026, 5, 25)).label_en
    'rollout week 12 (2026-05-18 to 2026-05-24)'
    >>> report_period("monthly", plan, dt.date(2026, 5, 25)).label_zh
    '2026年4月'
    """
    last = as_of - dt.timedelta(days=1)
    if report == "weekly":
        week = (last - plan.start_date).days // 7 + 1
        if (last - plan.start_date).days % 7 != 6:
            week -= 1  # the week of `last` is not complete yet
        week = max(week, 1)
        start = plan.week_start(week)
        end = start + dt.timedelta(days=6)
        complete = end <= last
        end = min(end, last)
        return Period(
            start, end, complete, f"推广第{week}周（{start} 至 {end}）", f"rollout week {week} ({start} to {end})"
        )
    if report == "monthly":
        first_this = as_of.replace(day=1)
        end = first_this - dt.timedelta(days=1) if last.month == as_of.month and as_of.day != 1 else last
        start = end.replace(day=1)
        return Period(start, end, True, f"{start.year}年{start.month}月", f"{start:%B %Y}")
    if report in PHASE_OF_REVIEW:
        phase = PHASE_OF_REVIEW[report]
        p = plan.phase(phase)
        start = plan.week_start(p.first_week)
        end = phase_end(plan, phase)
        complete = end <= last
        end = min(end, last)
        zh = {"launch": "启动阶段", "promotion": "推广阶段", "deepening": "深化阶段"}[phase]
        return Period(
            start,
            end,
            complete,
            f"{zh}（第{p.first_week}–{p.last_week}周，{start} 至 {end}）" + ("" if complete else "，阶段未结束"),
            f"the {phase} phase (weeks {p.first_week}–{p.last_week}, {start} to {end})"
            + ("" if complete else ", not yet over"),
        )
    if report == "quarterly":
        q = (last.month - 1) // 3
        start = dt.date(last.year, 3 * q + 1, 1)
        complete = (last + dt.timedelta(days=1)).month != last.month and last.month % 3 == 0
        return Period(
            start, last, complete, f"{last.year}年第{q + 1}季度（截至 {last}）", f"{last.year} Q{q + 1} (to {last})"
        )
    raise ValueError(f"unknown report {report!r}")


__all__ = ["PHASE_OF_REVIEW", "Period", "phase_end", "report_period"]
