"""The facts the command line checks before a run, read without pandas: the warehouse's own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from kpis_tiny_fixture import tiny

from wecom_eval.store.facts import read_facts
from wecom_eval.store.schema import LOAD_ORDER, TABLES
from wecom_eval.store.warehouse import Warehouse


def _as_the_warehouse_reads_them(path: Path) -> tuple[dict[str, int], list[tuple[int, str]], object]:
    wh = Warehouse(path, read_only=True)
    try:
        departments = list(wh.con.execute("SELECT department_id, path FROM departments").fetchall())
        last = wh.con.execute("SELECT max(date) FROM member_days").fetchall()[0][0]
        return wh.counts(), departments, last
    finally:
        wh.close()


def test_the_facts_are_the_warehouses_figures(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    tiny.load(path).close()
    facts = read_facts(path)
    counts, departments, last = _as_the_warehouse_reads_them(path)
    assert facts.exists and facts.counts == counts and list(facts.counts) == list(LOAD_ORDER)
    assert sorted(facts.departments) == sorted(departments) and facts.departments
    assert facts.last_activity == last and last is not None
    assert counts["member_days"] > 0


def test_a_file_of_the_old_layout_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    rows = [("2026-03-02", "zhang", True, 45, "admin_export"), ("2026-03-05", "li", False, None, "admin_export")]
    with duckdb.connect(str(path)) as con:  # member_days as a plain table with text userids, as files were written
        con.execute(TABLES["member_days"].ddl())
        con.executemany("INSERT INTO member_days VALUES (?, ?, ?, ?, ?)", rows)
    facts = read_facts(path)  # the tables that file lacks count 0; the file is not changed
    assert facts.counts["member_days"] == 2 and facts.counts["members"] == 0 and facts.departments == ()
    assert str(facts.last_activity) == "2026-03-05"
    assert duckdb.connect(str(path), read_only=True).execute("SHOW TABLES").fetchall() == [("member_days",)]
    missing = read_facts(tmp_path / "none.duckdb")
    assert not missing.exists and missing.counts == {} and missing.last_activity is None
    assert not (tmp_path / "none.duckdb").exists()


def test_the_checks_of_a_run_load_neither_pandas_nor_numpy(tmp_path: Path) -> None:
    """``wecom-eval run`` checks the plan, its parameters and the data before the worker starts:
    DuckDB alone, so that the report's worker starts sooner."""
    tiny.load(tmp_path / "data" / "warehouse.duckdb").close()
    probe = (
        "import sys; from wecom_eval.checks import check; from wecom_eval.asof import check_as_of; "
        "from wecom_eval.home import Home; import datetime as dt; from pathlib import Path; "
        f"home = Home(Path({str(tmp_path)!r})); c = check(home, reports=['weekly']); "
        "check_as_of(home, dt.date(2026, 3, 9), allow_stale=True, plan=c.plan, facts=c.facts); "
        "print(c.facts.counts['member_days'] > 0, [m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["True", "[]"], done.stdout + done.stderr
