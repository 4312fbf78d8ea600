"""Activation dating after a load redates only the members the load touched, and gives the same
dates (and rollups) as dating everyone from scratch: on a hand-made messy warehouse, step by
step, and on the demo company with one more day of activity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval.demo import DemoConfig, build_demo
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.activation import date_activations
from wecom_eval.store.activation_pending import PENDING
from wecom_eval.store.load import load
from wecom_eval.store.rollups import refresh_rollups
from wecom_eval.store.warehouse import Warehouse

ROLLUPS = ("kpi_department_days", "kpi_department_weeks")


def _members(wh: Warehouse) -> pd.DataFrame:
    return wh.query("SELECT userid, status, activated_at, activation_basis FROM members ORDER BY userid")


def _rollups(wh: Warehouse) -> dict[str, pd.DataFrame]:
    return {name: wh.query(f"SELECT * FROM {name} ORDER BY ALL") for name in ROLLUPS}


def _pending(wh: Warehouse) -> set[str]:
    return {r[0] for r in wh.con.execute(f"SELECT DISTINCT kind FROM {PENDING}").fetchall()}


def _assert_as_if_dated_from_scratch(wh: Warehouse, plan: RolloutPlan) -> None:
    """The members and rollups as they are equal those of a full dating and a full rollup build."""
    members, rollups = _members(wh), _rollups(wh)
    assert date_activations(wh, full=True) == 0
    pd.testing.assert_frame_equal(_members(wh), members)
    refresh_rollups(wh, plan, force=True)
    for name, frame in _rollups(wh).items():
        pd.testing.assert_frame_equal(frame, rollups[name], obj=name)


def _load(wh: Warehouse, plan: RolloutPlan, tables: dict[str, pd.DataFrame], *, path: set[str]) -> None:
    """Load ``tables`` and date: ``path`` the kinds of pending work the load left (``all``: everyone)."""
    load(wh, tables, source="test", plan=plan, refresh=False)
    assert _pending(wh) == path
    load(wh, {}, source="test", plan=plan)  # the refresh every load ends with
    assert _pending(wh) == set()
    _assert_as_if_dated_from_scratch(wh, plan)


def _frame(columns: str, *rows: str) -> pd.DataFrame:
    return pd.DataFrame([r.split(",") for r in rows], columns=columns.split(",")).replace("", None)


DAYS = "date,userid,active,minutes,source"
EVENTS = "event_id,userid,feature,ts,count"
RECORDS = "record_id,process,department_id,userid,started_at,finished_at,status,system"
STATUS = "userid,observed_on,source,status,activated_at"


def _messy() -> dict[str, pd.DataFrame]:
    """The tiny company with activation dates to derive: snapshots before and after activity, a
    member not activated in its last snapshot, a second member for one person (E13), a member
    without activity or snapshot, activity before the rollout starts, a leaver."""
    tables = tiny.frames()
    members = tables["members"]
    stated = members["userid"].isin(["u01", "u31"])  # these keep the time their export stated
    members.loc[~stated, "activated_at"] = ""
    members = pd.concat([members, _frame("userid,employee_id,department_id,status,activated_at", "u13x,E13,12,1,")])
    tables["members"] = members
    tables["member_status"] = _frame(
        STATUS,
        "u02,2026-02-20,members_export,1,",  # seen after the first activity
        "u03,2026-02-05,members_export,1,",  # seen before any activity
        "u04,2026-02-12,wecom_api,4,",  # not activated, later activated
        "u04,2026-02-18,wecom_api,1,",
        "u05,2026-02-15,wecom_api,4,",  # not activated at the last snapshot
        "u11,2026-02-16,members_export,1,2026-02-09T10:00:00+08:00",  # its export states the time
    )
    tables["member_days"] = pd.concat(
        [tables["member_days"], _frame(DAYS, "2026-02-01,u13x,true,20,admin_export")]  # before the rollout
    )
    tables["process_records"] = _frame(
        RECORDS,
        "P1,approval,11,u06,2026-02-26T09:00:00+08:00,2026-02-26T12:00:00+08:00,approved,wecom",
        "P2,approval,11,u12,2026-02-10T09:00:00+08:00,2026-02-11T09:00:00+08:00,approved,legacy",
    )
    return tables


def test_each_kind_of_load_dates_as_a_full_dating_would(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = Warehouse(tmp_path / "w.duckdb")
    load(wh, _messy(), source="test", plan=plan)
    _assert_as_if_dated_from_scratch(wh, plan)
    first = _members(wh).set_index("userid")
    assert first.loc["u03", "activation_basis"] == "snapshot" and first.loc["u02", "activation_basis"] == (
        "first_activity"
    )
    assert first.loc["u05", "status"] == 4 and pd.isna(first.loc["u05", "activated_at"])

    # one more day, added only: u05 (not activated at its snapshot) and u12 (no date) become active
    day = _frame(DAYS, "2026-03-02,u05,true,40,admin_export", "2026-03-02,u12,true,35,admin_export")
    day = pd.concat([day, _frame(DAYS, "2026-03-02,u01,false,0,admin_export")])
    day = pd.concat([day, _frame(DAYS, "2026-02-05,u03,true,10,admin_export")])  # on its snapshot's day
    _load(wh, plan, {"member_days": day}, path={"added"})
    now = _members(wh).set_index("userid")
    assert now.loc["u05", "status"] == 1 and now.loc["u05", "activation_basis"] == "first_activity"

    # an upsert moves u02's first activity later, and removes u13x's only activity
    first_days = wh.query(
        "SELECT userid, min(date) AS date FROM member_days WHERE active AND userid IN ('u02', 'u13x') GROUP BY userid"
    )
    redo = first_days.assign(active="false", minutes="0", source="admin_export").astype(str)
    _load(wh, plan, {"member_days": redo}, path={"recheck"})
    now = _members(wh).set_index("userid")
    assert pd.isna(now.loc["u13x", "activated_at"]) and now.loc["u13x", "activation_basis"] == "unknown"
    assert now.loc["u02", "activated_at"] > first.loc["u02", "activated_at"]

    # a feature event moves to another member and an earlier day; a WeCom record becomes a legacy one
    events = wh.query("SELECT event_id FROM feature_events ORDER BY event_id LIMIT 1")["event_id"][0]
    moved = _frame(EVENTS, f"{events},u34,approval,2026-02-09T08:00:00+08:00,1")
    legacy = _messy()["process_records"].iloc[[0]].assign(system="legacy")
    _load(wh, plan, {"feature_events": moved, "process_records": legacy}, path={"recheck", "added"})

    # a new snapshot (u12 not activated), a department change: everyone is redated
    _load(wh, plan, {"member_status": _frame(STATUS, "u12,2026-03-03,wecom_api,4,")}, path={"all"})
    members = wh.query("SELECT userid, employee_id, department_id, status, activated_at FROM members")
    members.loc[members["userid"] == "u12", "department_id"] = 21
    _load(wh, plan, {"members": members.astype(str).replace({"NaT": None, "None": None, "<NA>": None})}, path={"all"})
    wh.close()


def test_a_warehouse_written_before_the_pending_table_is_redated_whole_if_a_load_was_not(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = Warehouse(tmp_path / "w.duckdb")
    load(wh, _messy(), source="test", plan=plan)
    wh.con.execute(f"DROP TABLE {PENDING}")  # as a warehouse written before the table existed
    wh.close()
    wh = Warehouse(tmp_path / "w.duckdb")
    assert _pending(wh) == set()  # refreshed after its last load: its dates are current
    day = _frame(DAYS, "2026-03-02,u05,true,40,admin_export")
    load(wh, {"member_days": day}, source="test", plan=plan, refresh=False)  # a fetch cut short
    wh.con.execute(f"DROP TABLE {PENDING}")
    wh.close()
    wh = Warehouse(tmp_path / "w.duckdb")
    assert _pending(wh) == {"all"}
    load(wh, {}, source="test", plan=plan)
    assert _pending(wh) == set()
    assert _members(wh).set_index("userid").loc["u05", "status"] == 1
    _assert_as_if_dated_from_scratch(wh, plan)
    wh.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, plan: RolloutPlan) -> tuple[Warehouse, RolloutPlan]:
    home = Home.from_env(tmp_path_factory.mktemp("demo"))
    build_demo(home, DemoConfig(employees=300, baseline_weeks=1, rollout_weeks=3), plan)
    wh = Warehouse(home.warehouse)
    yield wh, plan
    wh.close()


def test_one_more_day_of_the_demo_dates_as_a_full_dating_would(demo: tuple[Warehouse, RolloutPlan]) -> None:
    wh, plan = demo
    _assert_as_if_dated_from_scratch(wh, plan)
    last = wh.query("SELECT max(date) AS d FROM member_days")["d"][0]
    day = (pd.Timestamp(last) + pd.Timedelta(days=1)).date()
    members = wh.query("SELECT userid FROM members ORDER BY userid")["userid"]
    rows = [
        f"{day},{u},{'true' if i % 3 else 'false'},{i % 90 if i % 3 else 0},admin_export" for i, u in enumerate(members)
    ]
    before = _members(wh)
    _load(wh, plan, {"member_days": _frame(DAYS, *rows)}, path={"added"})
    assert not _members(wh).equals(before)  # members not activated before, active now, were dated
    # and the day before redone with everyone inactive: first activities move later
    redo = [f"{last},{u},false,0,admin_export" for u in members]
    _load(wh, plan, {"member_days": _frame(DAYS, *redo)}, path={"recheck"})
