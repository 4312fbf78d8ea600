"""The pre-folded activity rollups give exactly the figures folded on the fly, and go stale safely."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis
from wecom_eval.store.rollups import drop_rollups, refresh_rollups, rollup_info
from wecom_eval.store.warehouse import Warehouse

D = dt.date.fromisoformat
START, END = D("2026-02-09"), D("2026-02-28")  # the member days of the fixture


def test_rollups_equal_the_figures_folded_on_the_fly(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = tiny.load(tmp_path / "w.duckdb")
    assert rollup_info(wh, plan) is None
    inline = {by: kpis.weekly_activity(wh, plan, start=START, end=END, by=by) for by in ("department", "company")}
    daily = kpis.daily_activity(wh, plan, start=START, end=END)
    info = refresh_rollups(wh, plan)
    assert info.fresh and (info.first_day, info.last_day) == (START, END)
    assert info.department_days == 4 * 20  # 4 departments with registered members × 20 days
    for by, frame in inline.items():
        rolled = kpis.weekly_activity(wh, plan, start=START, end=END, by=by)
        assert rolled.attrs["from_rollups"] and not frame.attrs["from_rollups"]
        pd.testing.assert_frame_equal(rolled, frame)
    pd.testing.assert_frame_equal(kpis.daily_activity(wh, plan, start=START, end=END), daily)
    assert refresh_rollups(wh, plan) == info  # fresh: nothing to do
    wh.close()
    reader = Warehouse(tmp_path / "w.duckdb", read_only=True)
    assert kpis.weekly_activity(reader, plan, start=START, end=END).attrs["from_rollups"]
    reader.close()


def test_a_new_load_makes_them_stale_and_readers_fold_on_the_fly(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = tiny.load(tmp_path / "w.duckdb")
    refresh_rollups(wh, plan)
    before = kpis.weekly_activity(wh, plan, start=START, end=END, by="company")
    more = pd.DataFrame(
        [{"date": "2026-02-12", "userid": "u04", "active": "true", "minutes": "40", "source": "admin_export"}]
    )  # u04 was inactive on 02-12 (registered 02-11)
    wh.load("member_days", more, source="correction")
    assert not rollup_info(wh, plan).fresh  # type: ignore[union-attr]
    after = kpis.weekly_activity(wh, plan, start=START, end=END, by="company")
    assert not after.attrs["from_rollups"]
    # 02-12 company: 3/9 active before, 4/9 after; the weekly mean over 6 days moves by 1/54
    week1 = after.set_index("week").loc[1, "active_rate"] - before.set_index("week").loc[1, "active_rate"]
    assert week1 == pytest.approx(1 / 54)
    # a plan with another minimum of minutes needs other rollups too
    refresh_rollups(wh, plan)
    stricter = plan.model_copy(
        update={
            "targets": plan.targets.model_copy(
                update={"daily_active": plan.targets.daily_active.model_copy(update={"min_daily_minutes": 40})}
            )
        }
    )
    assert not rollup_info(wh, stricter).fresh  # type: ignore[union-attr]
    drop_rollups(wh)
    assert rollup_info(wh, plan) is None
    wh.close()


def test_ranges_the_rollups_do_not_cover_are_folded_on_the_fly(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = tiny.load(tmp_path / "w.duckdb")
    refresh_rollups(wh, plan)
    beyond = kpis.weekly_activity(wh, plan, start=START, end=D("2026-03-01"), by="company")
    assert not beyond.attrs["from_rollups"]
    inside = kpis.weekly_activity(wh, plan, start=START, end=END, by="company")
    # 03-01 is a Sunday without rows: the same figures either way
    pd.testing.assert_frame_equal(beyond.drop(columns=["week_end"]), inside.drop(columns=["week_end"]), check_like=True)
    wh.close()


def test_loading_unrelated_tables_keeps_them_fresh(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    tables = tiny.frames()
    tickets = tables.pop("tickets")
    wh = tiny.load(tmp_path / "w.duckdb", tables)
    refresh_rollups(wh, plan)
    wh.load("tickets", tickets, source="support desk")
    assert rollup_info(wh, plan).fresh  # type: ignore[union-attr]
    wh.close()


def _rollup_tables(wh: Warehouse) -> dict[str, pd.DataFrame]:
    return {
        "days": wh.query("SELECT * FROM kpi_department_days ORDER BY department_id, date"),
        "weeks": wh.query("SELECT * FROM kpi_department_weeks ORDER BY department_id, week_start"),
    }


def test_loading_more_days_refreshes_only_their_rows_and_equals_a_full_rebuild(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    tables = tiny.frames()
    days = tables["member_days"]
    later = days["date"].astype(str) >= "2026-02-26"  # the last three days come in a second load
    tables["member_days"] = days[~later]
    wh = tiny.load(tmp_path / "w.duckdb", tables)
    first = refresh_rollups(wh, plan)
    assert first.refreshed_days is None and first.last_day == D("2026-02-25")
    wh.load("member_days", days[later], source="the next export")
    # and a correction of an earlier day: u04 was inactive on 02-12
    wh.load(
        "member_days",
        pd.DataFrame(
            [{"date": "2026-02-12", "userid": "u04", "active": "true", "minutes": "40", "source": "admin_export"}]
        ),
        source="correction",
    )
    info = refresh_rollups(wh, plan)
    assert info.fresh and info.last_day == END
    assert info.refreshed_days == 4  # 02-12, 02-26, 02-27, 02-28: not the other 16 days
    incremental = _rollup_tables(wh)
    weekly = kpis.weekly_activity(wh, plan, start=START, end=END, by="department")
    assert weekly.attrs["from_rollups"]
    rebuilt = refresh_rollups(wh, plan, force=True)
    assert rebuilt.refreshed_days is None
    assert (rebuilt.department_days, rebuilt.department_weeks) == (info.department_days, info.department_weeks)
    for name, frame in _rollup_tables(wh).items():
        pd.testing.assert_frame_equal(incremental[name], frame, obj=name)
    pd.testing.assert_frame_equal(kpis.weekly_activity(wh, plan, start=START, end=END, by="department"), weekly)
    # a change to the members rebuilds everything
    wh.load("members", tables["members"].head(1).assign(status="2"), source="status change")
    assert refresh_rollups(wh, plan).refreshed_days is None
    wh.close()
