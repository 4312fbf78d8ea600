"""IT support: answered within 1 hour, resolved within 4 hours, by week (tiny.py tickets)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis

D = dt.date.fromisoformat


def test_calendar_hours(wh) -> None:  # noqa: ANN001
    out = kpis.it_support(wh, tiny.plan(1), start=D("2026-02-09"), end=D("2026-03-01")).set_index("week")
    # week 1: T4 answered after 20 min, resolved after 5 h → 1/1 and 0/1
    assert (out.loc[1, "answered_within_1h"], out.loc[1, "resolved_within_4h"], out.loc[1, "tickets"]) == (1, 0, 1)
    # week 3: T1 (30 min, 3 h) yes/yes; T2 (17:30 → 18:45 = 75 min; resolved next morning) no/no;
    # T3 never answered: no/no → 1/3 each
    assert out.loc[3, "answered_share"] == pytest.approx(1 / 3) and out.loc[3, "resolved_share"] == pytest.approx(1 / 3)
    assert (out.loc[3, "unanswered"], out.loc[3, "unresolved"]) == (1, 1)


def test_working_hours(wh) -> None:  # noqa: ANN001
    out = kpis.it_support(wh, tiny.plan(1), start=D("2026-02-09"), end=D("2026-03-01"), clock="working").set_index(
        "week"
    )
    # T2 counted from 17:30 to 18:00 (the day ends at 18:00): 0.5 working hours to the answer
    # and to the resolution at 09:00 the next working day → within both
    assert out.loc[3, "answered_within_1h"] == 2 and out.loc[3, "resolved_within_4h"] == 2


def test_a_ticket_whose_window_is_still_open_is_not_late(wh) -> None:  # noqa: ANN001
    # as of the end of 02-24: T2 (17:30, answered 18:45) is due and late; T1 fine. Cut at 02-23,
    # nothing of week 3 exists yet.
    out = kpis.it_support(wh, tiny.plan(1), start=D("2026-02-23"), end=D("2026-02-24")).set_index("week")
    assert (out.loc[3, "answer_due"], out.loc[3, "answered_within_1h"]) == (2, 1)


def test_small_weeks_are_hidden_and_no_tickets_is_said(wh, tmp_path: Path) -> None:  # noqa: ANN001
    out = kpis.it_support(wh, tiny.plan(5), start=D("2026-02-09"), end=D("2026-03-01"))
    assert out["suppressed"].all()  # 1 and 3 tickets a week
    tables = tiny.frames()
    tables.pop("tickets")
    empty = tiny.load(tmp_path / "w.duckdb", tables)
    none = kpis.it_support(empty, tiny.plan(1), start=D("2026-02-09"), end=D("2026-03-01"))
    assert none.empty and "not measured" in none.attrs["notes"][0]
    empty.close()
