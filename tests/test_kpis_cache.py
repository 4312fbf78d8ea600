"""The per-report memory: computed once on a read-only warehouse, never kept on a writable one,
and the figures it hands out are those of a fresh computation."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from wecom_eval.kpis import _cache
from wecom_eval.kpis._base import Context
from wecom_eval.kpis.activity import weekly_activity_raw
from wecom_eval.kpis.penetration import penetration_raw
from wecom_eval.kpis.registration import registration_raw
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse

progress = importlib.import_module("wecom_eval.kpis.progress")


@pytest.fixture
def paths(tmp_path: Path) -> Path:
    from kpis_tiny_fixture import tiny

    tiny.load(tmp_path / "w.duckdb").close()
    return tmp_path / "w.duckdb"


def test_memo_computes_once_on_a_read_only_connection_and_always_on_a_writable_one(paths: Path) -> None:
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    with duckdb.connect(str(paths), read_only=True) as reader:
        first = _cache.memo(reader, "k", compute)
        first.loc[0, "x"] = 99  # a caller changing its copy changes no later caller's
        assert _cache.memo(reader, "k", compute)["x"].tolist() == [1, 2]
        owner = object()
        _cache.memo(reader, "k", compute, owners=(owner,))
        _cache.memo(reader, "k", compute, owners=(owner,))
        _cache.memo(reader, "k", compute, owners=(object(),))  # another owner: computed anew
        assert len(calls) == 3
    with duckdb.connect(str(paths)) as writer:
        _cache.memo(writer, "k", compute)
        _cache.memo(writer, "k", compute)
    assert len(calls) == 5


def test_kept_figures_equal_fresh_ones(paths: Path, plan: RolloutPlan) -> None:
    day = plan.start_date + dt.timedelta(days=20)
    writable = Warehouse(paths)
    fresh = {by: progress.progress(writable, plan, data_through=day, by=by) for by in ("company", "department")}
    act = weekly_activity_raw(Context.of(writable, plan), start=plan.start_date, end=day, by="department")
    days = [day - dt.timedelta(days=7), day]
    raw = {
        f: f(Context.of(writable, plan), data_through=days, by="branch") for f in (registration_raw, penetration_raw)
    }
    writable.close()
    reader = Warehouse(paths, read_only=True)
    try:
        ctx = Context.of(reader, plan)
        for _ in range(2):  # the first call computes, the second reads what was kept
            for by, want in fresh.items():
                got = progress.progress(reader, plan, data_through=day, by=by, cal=ctx.cal)
                pd.testing.assert_frame_equal(got, want, check_exact=True)
                assert got.attrs == want.attrs
            kept = weekly_activity_raw(ctx, start=plan.start_date, end=day, by="department")
            pd.testing.assert_frame_equal(kept, act, check_exact=True)
            assert kept.attrs == act.attrs
            for f, want in raw.items():  # the days in another order and twice: the same figures
                got = f(ctx, data_through=[day, day - dt.timedelta(days=7), day], by="branch")
                pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert ctx.departments() is not ctx.departments()  # copies, equal
        pd.testing.assert_frame_equal(ctx.departments(), ctx.departments())
    finally:
        reader.close()


def test_a_kept_result_marks_the_calendars_fallback_years_as_computing_it_would(paths: Path, plan: RolloutPlan) -> None:
    from wecom_eval.workcal import WorkCalendar

    def compute(cal: WorkCalendar) -> int:
        cal.is_working_day(dt.date(2999, 1, 4))  # a year no official calendar covers: Monday–Friday
        return 1

    with duckdb.connect(str(paths), read_only=True) as reader:
        first, second, used = WorkCalendar(plan), WorkCalendar(plan), WorkCalendar(plan)
        assert _cache.memo(reader, "y", lambda: compute(first), owners=(plan,), cal=first) == 1
        assert _cache.memo(reader, "y", lambda: pytest.fail("kept"), owners=(plan,), cal=second) == 1
        assert first.fallback_years == second.fallback_years == {2999}
        assert second.fallback_note is not None
        used.fallback_years.add(2998)  # a calendar with a history gives its own notes: computed for it
        calls: list[int] = []
        _cache.memo(reader, "y", lambda: calls.append(compute(used)) or 2, owners=(plan,), cal=used)
        assert calls == [1] and used.fallback_years == {2998, 2999}
