"""Which days each report describes."""

from __future__ import annotations

import datetime as dt

import pytest

from wecom_eval.errors import InputError
from wecom_eval.reporting.periods import report_period

D = dt.date


@pytest.mark.parametrize(
    ("report", "as_of", "start", "end", "complete"),
    [
        ("weekly", D(2026, 5, 25), D(2026, 5, 18), D(2026, 5, 24), True),  # Monday: the week just ended
        ("weekly", D(2026, 5, 20), D(2026, 5, 11), D(2026, 5, 17), True),  # mid-week: the last whole week
        ("weekly", D(2026, 3, 3), D(2026, 3, 2), D(2026, 3, 2), False),  # day 2: week 1 so far
        ("monthly", D(2026, 5, 25), D(2026, 4, 1), D(2026, 4, 30), True),
        ("monthly", D(2026, 6, 1), D(2026, 5, 1), D(2026, 5, 31), True),
        ("launch-review", D(2026, 3, 16), D(2026, 3, 2), D(2026, 3, 15), True),
        ("promotion-review", D(2026, 4, 1), D(2026, 3, 16), D(2026, 3, 31), False),  # an interim review
        ("deepening-review", D(2026, 5, 25), D(2026, 4, 27), D(2026, 5, 24), True),
        ("quarterly", D(2026, 4, 1), D(2026, 1, 1), D(2026, 3, 31), True),
        ("quarterly", D(2026, 5, 25), D(2026, 4, 1), D(2026, 5, 24), False),
    ],
)
def test_periods(plan, report, as_of, start, end, complete):
    period = report_period(report, plan, as_of)
    assert (period.start, period.end, period.complete) == (start, end, complete)
    assert period.label("zh") and period.label("en")


def test_unknown_report(plan):
    with pytest.raises(InputError, match="daily"):
        report_period("daily", plan, D(2026, 5, 25))
