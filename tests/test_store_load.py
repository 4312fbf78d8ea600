"""The one load path: land raw → validate → load in one transaction → refresh what depends on it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval.errors import InputError
from wecom_eval.store.load import Raw, RawFile, RawRecords, load, refresh_dependents
from wecom_eval.store.rollups import rollup_info
from wecom_eval.store.warehouse import Warehouse

DAY = dt.date(2026, 3, 2)


def _rollups(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """Both rollup tables, rows in a fixed order."""
    return {
        name: wh.query(f"SELECT * FROM {name} ORDER BY ALL") for name in ("kpi_department_days", "kpi_department_weeks")
    }


def test_a_load_lands_its_inputs_loads_every_table_and_refreshes_the_rollups(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    export = tmp_path / "roster.csv"
    export.write_text("工号,姓名\nE01,张三\n", encoding="utf-8")
    raw = Raw(tmp_path / "raw", "file-roster", [RawFile(export), RawRecords("pages", [{"page": 1}])], day=DAY)
    wh = Warehouse(tmp_path / "w.duckdb")
    done = load(wh, tiny.frames(), source="tiny fixture", plan=plan, raw=raw)
    assert [p.path.parent for p in done.landed] == [tmp_path / "raw" / "file-roster" / DAY.isoformat()] * 2
    assert done.landed[0].path.read_bytes() == export.read_bytes()
    assert json.loads(done.landed[1].path.read_text(encoding="utf-8")) == {"page": 1}
    assert done.results["member_days"].inserted == wh.count("member_days") > 0
    assert done.changed == sum(wh.counts().values())
    assert done.rollups is not None and done.rollups.fresh
    assert rollup_info(wh, plan) == done.rollups
    again = load(wh, tiny.frames(), source="tiny fixture", plan=plan, raw=raw)
    assert again.changed == 0 and not any(p.new for p in again.landed)
    wh.close()


def test_a_refused_load_changes_no_table_but_keeps_what_arrived(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    wh = Warehouse(tmp_path / "w.duckdb")
    load(wh, tiny.frames(), source="tiny fixture", plan=plan)
    before = wh.counts()
    bad = pd.DataFrame([{"date": "2026-02-12", "userid": "nobody", "active": "true", "minutes": "5", "source": "x"}])
    raw = Raw(tmp_path / "raw", "wecom-api", [RawRecords("days", [{"userid": "nobody"}])], day=DAY)
    with pytest.raises(InputError, match="nobody"):
        load(wh, {"departments": tiny.frames()["departments"], "member_days": bad}, source="x", plan=plan, raw=raw)
    assert wh.counts() == before
    assert list((tmp_path / "raw" / "wecom-api" / DAY.isoformat()).glob("*-days.jsonl"))
    wh.close()


def test_batches_refreshed_once_at_the_end_give_the_rollups_of_one_load(tmp_path: Path) -> None:
    plan = tiny.plan(1)
    tables = tiny.frames()
    whole = Warehouse(tmp_path / "whole.duckdb")
    load(whole, tables, source="tiny fixture", plan=plan)
    days = tables.pop("member_days")
    batches = [
        tables,
        *(  # the rest of the tables, then the member days a week at a time
            {"member_days": days[days["date"].between(lo, hi)]}
            for lo, hi in (("2026-02-09", "2026-02-15"), ("2026-02-16", "2026-02-22"), ("2026-02-23", "2026-03-01"))
        ),
    ]
    parts = Warehouse(tmp_path / "parts.duckdb")
    for batch in batches:
        assert load(parts, batch, source="tiny fixture", plan=plan, refresh=False).rollups is None
    assert rollup_info(parts, plan) is None  # nothing built yet: readers fold on the fly
    info = refresh_dependents(parts, plan)
    assert info.fresh and info.refreshed_days is None
    for name, frame in _rollups(whole).items():
        pd.testing.assert_frame_equal(_rollups(parts)[name], frame, obj=name)
    whole.close()
    parts.close()
