"""The pre-folded feature uses give exactly the penetration of the raw events, and stay exact
through incremental refreshes, migrations and stale tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval.kpis._base import Context, week_ends
from wecom_eval.kpis.coverage import feature_ranges
from wecom_eval.kpis.penetration import penetration_raw
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.feature_uses import (
    drop_feature_uses,
    feature_uses_fresh,
    feature_uses_info,
    refresh_feature_uses,
)
from wecom_eval.store.load import refresh_dependents
from wecom_eval.store.warehouse import Warehouse

D = dt.date.fromisoformat
WINDOWS = (1, 7, 28, 90)
# as-of dates that are not week ends (the fixture's weeks end on Sundays), before the rollout
# start, inside it, and past the last event
DAYS = [D("2026-01-21"), D("2026-02-11"), D("2026-02-13"), D("2026-02-21"), D("2026-02-27"), D("2026-03-03")]
FEATURES = ["approval", "docs", "customer", "attendance"]


def _event(event_id: str, userid: str, feature: str, ts: str) -> dict[str, str]:
    return {"event_id": event_id, "userid": userid, "feature": feature, "ts": ts, "count": "1"}


def messy_tables() -> dict[str, pd.DataFrame]:
    """The tiny organisation (leavers, a member in another department than its employee, a
    member without employee, a department without activity, a feature with no events, UTC
    timestamps) plus: a second member for one person, events before the rollout start (one
    of them the only use of ``docs``) and events far apart (windows over 64 days)."""
    tables = tiny.frames()
    members = tables["members"]
    extra = members.loc[members["userid"] == "u01"].assign(userid="u01b")
    tables["members"] = pd.concat([members, extra], ignore_index=True)
    more = pd.DataFrame(
        [
            _event("X1", "u01b", "approval", "2026-02-13T09:00:00+08:00"),  # E01's second member
            _event("X2", "u02", "approval", "2026-01-20T10:00:00+08:00"),  # before the rollout start
            _event("X3", "u12", "docs", "2026-01-05T23:30:00+08:00"),  # docs: only before the start
            _event("X4", "u33", "customer", "2025-11-20T08:00:00+08:00"),  # three words earlier
            _event("X5", "u15", "approval", "2026-02-20T10:00:00+08:00"),  # E15 left after 02-12
        ]
    )
    tables["feature_events"] = pd.concat([tables["feature_events"], more], ignore_index=True)
    return tables


def _pen(wh: Warehouse, plan: RolloutPlan, by: str, window: int, days: list[dt.date]) -> pd.DataFrame:
    return penetration_raw(Context.of(wh, plan), data_through=days, by=by, features=FEATURES, window_days=window)  # type: ignore[arg-type]


def _assert_same_as_raw(wh: Warehouse, plan: RolloutPlan, days: list[dt.date]) -> None:
    """Every level and window: the figures read from the table equal those of the raw events."""
    assert feature_uses_fresh(wh)
    ranges = feature_ranges(Context.of(wh, plan))
    fast = {(by, w): _pen(wh, plan, by, w, days) for by in ("department", "branch", "company") for w in WINDOWS}
    drop_feature_uses(wh)
    assert not feature_uses_fresh(wh)
    assert feature_ranges(Context.of(wh, plan)) == ranges
    for (by, w), frame in fast.items():
        pd.testing.assert_frame_equal(frame, _pen(wh, plan, by, w, days), obj=f"by={by}, window={w}")
    refresh_feature_uses(wh)


@pytest.fixture
def messy(tmp_path: Path) -> Any:  # noqa: ANN401
    wh = tiny.load(tmp_path / "w.duckdb", messy_tables())
    yield wh
    wh.close()


def test_the_table_gives_the_raw_figures_on_a_messy_warehouse(messy: Warehouse) -> None:
    plan = tiny.plan(1)
    refresh_feature_uses(messy)
    _assert_same_as_raw(messy, plan, DAYS)
    # a department change on the roster: E02 moves to 行政部 (12), and counts there
    employees = tiny.frames()["employees"]
    messy.load("employees", employees.loc[employees["employee_id"] == "E02"].assign(department_id="12"), source="hr")
    _assert_same_as_raw(messy, plan, DAYS)
    # without a roster the members stand in for the people
    bare = Warehouse(messy.path.parent / "bare.duckdb")
    tables = messy_tables()
    tables.pop("employees")
    tables["members"] = tables["members"].assign(employee_id="")
    bare.load_many(tables, source="no roster")
    refresh_feature_uses(bare)
    _assert_same_as_raw(bare, plan, DAYS)
    bare.close()


def test_more_than_64_dates_and_every_day(messy: Warehouse) -> None:
    plan = tiny.plan(1)
    refresh_feature_uses(messy)
    every_day = [D("2026-01-01") + dt.timedelta(days=i) for i in range(70)]
    _assert_same_as_raw(messy, plan, every_day)


def test_some_figures_by_hand(messy: Warehouse) -> None:
    plan = tiny.plan(1)
    refresh_feature_uses(messy)
    out = _pen(messy, plan, "company", 90, [D("2026-02-13")]).set_index("feature")
    # 90 days to 02-13 (11-16 … 02-13): approval E03 (A1, A2), E02 (X2), E01 (X1 through u01b);
    # docs E12 (X3); customer E33 (X4, 11-20)
    assert out.loc["approval", "users"] == 3
    assert out.loc["docs", "users"] == 1 and out.loc["customer", "users"] == 1
    assert pd.isna(out.loc["attendance", "users"])  # no events at all: not measured


def _table(wh: Warehouse) -> pd.DataFrame:
    return wh.query("SELECT userid, feature, word, days FROM feature_uses ORDER BY userid, feature, word")


def test_an_incremental_refresh_equals_a_full_rebuild(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    tables = messy_tables()
    events = tables["feature_events"]
    later = events["ts"].str.slice(0, 10) >= "2026-02-26"
    tables["feature_events"] = events[~later]
    wh = tiny.load(tmp_path / "w.duckdb", tables)
    first = refresh_feature_uses(wh)
    assert first.refreshed_days is None
    wh.load("feature_events", events[later], source="the next pull")
    assert not feature_uses_fresh(wh)
    # an event replaced by an upsert (A3 moves from u01's 02-24 approval to a customer use on
    # 02-01), and events on earlier days (one on a day that already had a use)
    wh.load(
        "feature_events",
        pd.DataFrame(
            [
                _event("A3", "u01", "customer", "2026-02-01T10:00:00+08:00"),
                _event("Y1", "u02", "approval", "2026-02-10T18:00:00+08:00"),
                _event("Y2", "u34", "attendance", "2026-02-10T08:00:00+08:00"),
            ]
        ),
        source="a correction",
    )
    info = refresh_feature_uses(wh)
    assert info.fresh and info.refreshed_days is not None and 0 < info.refreshed_days < 10
    incremental = _table(wh)
    assert not ((incremental["userid"] == "u01") & (incremental["feature"] == "approval")).any()  # A3 moved
    refresh_feature_uses(wh, force=True)
    pd.testing.assert_frame_equal(incremental, _table(wh))
    _assert_same_as_raw(wh, plan, DAYS)
    wh.close()


def test_a_warehouse_without_the_table_falls_back_and_is_migrated_on_the_next_load(tmp_path: Path) -> None:
    """A warehouse written before the table existed (loads without it) reads the raw events,
    with the same figures, until the next load's refresh builds the table."""
    plan = tiny.plan(1)
    path = tmp_path / "w.duckdb"
    old = tiny.load(path, messy_tables())  # load_many alone: no feature uses, as before
    old.con.execute("DROP TABLE IF EXISTS _feature_events_changed")
    old.close()
    reader = Warehouse(path, read_only=True)
    assert feature_uses_info(reader) is None
    raw = {w: _pen(reader, plan, "department", w, DAYS) for w in WINDOWS}
    reader.close()
    writer = Warehouse(path)
    refresh_dependents(writer, plan)
    assert feature_uses_fresh(writer)
    writer.close()
    reader = Warehouse(path, read_only=True)
    for w, frame in raw.items():
        pd.testing.assert_frame_equal(_pen(reader, plan, "department", w, DAYS), frame)
    reader.close()


def test_a_stale_table_is_not_read_and_loading_other_tables_keeps_it_fresh(messy: Warehouse) -> None:
    plan = tiny.plan(1)
    refresh_feature_uses(messy)
    before = _pen(messy, plan, "company", 7, [D("2026-02-28")])
    messy.load("tickets", tiny.frames()["tickets"], source="support desk")
    assert feature_uses_fresh(messy)
    messy.load(
        "feature_events", pd.DataFrame([_event("Z1", "u03", "approval", "2026-02-27T10:00:00+08:00")]), source="x"
    )
    assert not feature_uses_fresh(messy)  # readers take the raw events meanwhile
    after = _pen(messy, plan, "company", 7, [D("2026-02-28")]).set_index("feature")
    assert after.loc["approval", "users"] == before.set_index("feature").loc["approval", "users"] + 1  # E03
    # another time zone is another day for some events: the table is stale there
    messy.con.execute("SET TimeZone = 'UTC'")
    refresh_feature_uses(messy)
    messy.con.execute("SET TimeZone = 'Asia/Shanghai'")
    assert not feature_uses_fresh(messy)


def _counting_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Warehouse, list[list[dt.date]]]:
    """A report's (read-only) warehouse on the messy data, and the list of the date sets
    penetration computes from it."""
    from wecom_eval.kpis import penetration_cells

    wh = tiny.load(tmp_path / "w.duckdb", messy_tables())
    refresh_feature_uses(wh)
    wh.close()
    asked: list[list[dt.date]] = []
    compute = penetration_cells._compute
    monkeypatch.setattr(
        penetration_cells, "_compute", lambda ctx, dates, *a: asked.append(dates) or compute(ctx, dates, *a)
    )
    return Warehouse(tmp_path / "w.duckdb", read_only=True), asked


def test_a_report_reads_each_as_of_date_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tiny.plan(1)
    reader, asked = _counting_reader(tmp_path, monkeypatch)
    ends = [D("2026-02-15"), D("2026-02-22")]
    first = _pen(reader, plan, "department", 7, ends)
    company = _pen(reader, plan, "company", 7, [*ends, D("2026-02-27")])
    assert asked == [ends, [D("2026-02-27")]]
    assert _pen(reader, plan, "department", 7, ends).equals(first)
    assert len(asked) == 2
    reader.close()
    writer = Warehouse(tmp_path / "w.duckdb")
    pd.testing.assert_frame_equal(_pen(writer, plan, "company", 7, [*ends, D("2026-02-27")]), company)
    writer.close()


def test_a_report_asking_for_its_day_first_gets_the_week_ends_from_the_same_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The targets ask for the report's day, then the forecast history and the alerts for every
    # rollout week end: one statement over the feature uses answers all of them.
    plan = tiny.plan(1)
    reader, asked = _counting_reader(tmp_path, monkeypatch)
    day, ends = D("2026-02-27"), [D("2026-02-15"), D("2026-02-22")]
    assert week_ends(plan, plan.start_date, day)[:-1] == ends
    _pen(reader, plan, "company", 7, [day])
    later = _pen(reader, plan, "department", 7, ends)
    assert asked == [[*ends, day]]
    reader.close()
    writer = Warehouse(tmp_path / "w.duckdb")  # not cached: computes what it is asked
    pd.testing.assert_frame_equal(_pen(writer, plan, "department", 7, ends), later)
    writer.close()
