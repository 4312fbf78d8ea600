"""Which days a report describes, from its period rule, its ``as_of`` and the rollout plan.

``as_of`` is the day a report is made; its data runs to the day before (the last complete
day). Within that window each report focuses on a period, by the ``period`` rule of its
registry entry (:mod:`wecom_eval.reporting.registry`):

* ``week`` (``weekly``) — the last complete rollout week (Monday to Sunday) before ``as_of``;
* ``month`` (``monthly``) — the last complete calendar month before ``as_of``;
* ``phase`` (the three phase reviews) — the phase's weeks, cut at the last complete day
  when the phase has not ended yet (an interim review);
* ``quarter`` (``quarterly``) — the calendar quarter of the last complete day, to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wecom_eval.plan import RolloutPlan
from wecom_eval.reporting import registry


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
    """The period ``report`` describes when made on ``as_of`` (by its registry entry's rule).

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
    spec = registry.spec(report)
    last = as_of - dt.timedelta(days=1)
    if spec.period == "week":
        return _week(plan, last)
    if spec.period == "month":
        return _month(as_of, last)
    if spec.period == "phase" and spec.phase:
        return _phase(plan, spec.phase, last)
    return _quarter(last)


def _week(plan: RolloutPlan, last: dt.date) -> Period:
    """The last complete rollout week up to ``last`` (the first week while none is complete)."""
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


def _month(as_of: dt.date, last: dt.date) -> Period:
    first_this = as_of.replace(day=1)
    end = first_this - dt.timedelta(days=1) if last.month == as_of.month and as_of.day != 1 else last
    start = end.replace(day=1)
    return Period(start, end, True, f"{start.year}年{start.month}月", f"{start:%B %Y}")


def _phase(plan: RolloutPlan, phase: str, last: dt.date) -> Period:
    p = plan.phase(phase)
    start = plan.week_start(p.first_week)
    end = phase_end(plan, phase)
    complete = end <= last
    end = min(end, last)
    zh = {"launch": "启动阶段", "promotion": "推广阶段", "deepening": "深化阶段"}.get(phase, f"{phase}阶段")
    return Period(
        start,
        end,
        complete,
        f"{zh}（第{p.first_week}–{p.last_week}周，{start} 至 {end}）" + ("" if complete else "，阶段未结束"),
        f"the {phase} phase (weeks {p.first_week}–{p.last_week}, {start} to {end})"
        + ("" if complete else ", not yet over"),
    )


def _quarter(last: dt.date) -> Period:
    q = (last.month - 1) // 3
    start = dt.date(last.year, 3 * q + 1, 1)
    complete = (last + dt.timedelta(days=1)).month != last.month and last.month % 3 == 0
    return Period(
        start, last, complete, f"{last.year}年第{q + 1}季度（截至 {last}）", f"{last.year} Q{q + 1} (to {last})"
    )


__all__ = ["Period", "phase_end", "report_period"]
