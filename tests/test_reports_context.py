"""A report's two days: ``as_of`` (the day it is made) and ``data_through`` (the last day of data)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from kpis_tiny_fixture import tiny

from wecom_eval.home import Home
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.params import validate_params

TINY_PLAN = Path(__file__).parent / "fixtures" / "kpis" / "tiny_plan.yaml"


@pytest.fixture
def tiny_home(home: Home) -> Home:
    """A home with the tiny organisation, whose member-days and feature events run to 2026-02-28."""
    home.own_params.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY_PLAN, home.own_params / "rollout.yaml")  # the home's own plan, not the repository's
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    tiny.load(home.warehouse).close()
    return home


def _report(home: Home, as_of: str) -> Report:
    return Report("weekly", validate_params("weekly", {"as_of": as_of, "n_boot": 99}), home=home)


@pytest.mark.parametrize("as_of", ["2026-02-28", "2026-03-01"])
def test_a_report_made_on_day_d_includes_the_day_before_and_not_day_d(tiny_home: Home, as_of: str) -> None:
    day = dt.date.fromisoformat(as_of)
    report = _report(tiny_home, as_of)
    try:
        assert report.as_of == day
        assert report.data_through == day - dt.timedelta(days=1)
        # the data end on 2026-02-28: a report made that day reads the 27th, one made the next day the 28th
        assert report.data_window[1] == day - dt.timedelta(days=1)
        activity = next(c for c in report.coverage_records() if c["source"] == "activity")
        assert activity["last_day"] == (day - dt.timedelta(days=1)).isoformat()
    finally:
        report.close()
