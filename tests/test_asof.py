"""``run --as-of``: from the plan's start to a week after the last day of activity loaded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wecom_eval.asof import check_as_of
from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest


@pytest.fixture
def loaded(home: Home, tmp_path: Path) -> Home:
    # The example plan starts on 2026-03-02; activity is loaded up to 2026-04-10.
    path = tmp_path / "a.csv"
    path.write_text("日期,账号,是否活跃\n2026-03-02,a,是\n2026-04-10,a,是\n", encoding="utf-8")
    ingest("activity", [path], home=home, today=dt.date(2026, 4, 11))
    return home


def test_a_day_before_the_plan_starts_is_refused_before_anything_runs(loaded: Home, capsys: pytest.CaptureFixture[str]):
    assert main(["run", "weekly", "--as-of", "2026-03-01"]) == 2
    err = capsys.readouterr().err
    assert "--as-of: got '2026-03-01'; expected a day from 2026-03-02 (the plan's start) to 2026-04-17" in err
    assert not loaded.reports.exists()  # no run folder, nothing published


def test_more_than_a_week_after_the_last_loaded_day_is_refused_unless_allowed(
    loaded: Home, capsys: pytest.CaptureFixture[str]
):
    # last day 2026-04-10 + 7 days = 2026-04-17 is the last valid day; 2026-04-18 is stale.
    check_as_of(loaded, dt.date(2026, 4, 17))
    check_as_of(loaded, dt.date(2026, 3, 2))
    assert main(["run", "weekly", "--as-of", "2026-04-18"]) == 2
    err = capsys.readouterr().err
    assert "to 2026-04-17, a week after the last day of activity loaded (2026-04-10)" in err
    assert "--allow-stale" in err and "wecom-eval ingest activity" in err
    check_as_of(loaded, dt.date(2033, 1, 1), allow_stale=True)
    with pytest.raises(InputError):
        check_as_of(loaded, dt.date(2026, 3, 1), allow_stale=True)  # the start is no matter of staleness


def test_without_activity_only_the_start_bounds_the_day(home: Home):
    check_as_of(home, dt.date(2030, 1, 1))
    with pytest.raises(InputError) as err:
        check_as_of(home, dt.date(2026, 1, 1))
    assert "any later day (no activity loaded yet)" in str(err.value)
