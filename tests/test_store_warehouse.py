"""The warehouse: validated, idempotent, transactional loads under a writer lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from wecom_eval.errors import InputError, LockBusy
from wecom_eval.lock import writer_lock
from wecom_eval.store.schema import LOAD_ORDER, TABLES
from wecom_eval.store.warehouse import Warehouse, open_reader, open_writer


def departments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "department_id": [1, 2, 3],
            "name": ["示例集团", "总部", "行政部"],
            "parent_id": [None, 1, 2],
            "path": ["示例集团", "总部", "总部/行政部"],
            "is_pilot": [False, False, True],
            "go_live_date": [None, "2026-03-16", "2026-03-02"],
        }
    )


def employees() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": ["E1", "E2", "E3"],
            "name": ["张三", "李四", "王五"],
            "department_id": [3, 3, 2],
            "hire_date": ["2020-01-06", "2024-05-01", "2026-03-10"],
            "leave_date": [None, "2026-04-30", None],
            "branch": ["总部"] * 3,
            "role": ["专员", None, "经理"],
        }
    )


def snapshot(wh: Warehouse) -> dict[str, list]:
    return {name: wh.frame(name).astype(str).values.tolist() for name in LOAD_ORDER}


def test_every_table_is_created_with_its_key_columns(home):
    with open_writer(home) as wh:
        for name, t in TABLES.items():
            cols = wh.query(f"DESCRIBE {name}")["column_name"].tolist()
            assert cols == t.column_names
            assert set(t.key) <= set(cols)


def test_loading_twice_leaves_the_same_rows(home):
    with open_writer(home) as wh:
        first = wh.load_many({"departments": departments(), "employees": employees()}, source="t")
        before = snapshot(wh)
        second = wh.load_many({"departments": departments(), "employees": employees()}, source="t")
        assert snapshot(wh) == before
    assert (first["employees"].inserted, first["employees"].unchanged) == (3, 0)
    assert (second["employees"].inserted, second["employees"].updated, second["employees"].unchanged) == (0, 0, 3)


def test_a_newer_export_supersedes_by_key_and_counts_changes(home):
    with open_writer(home) as wh:
        wh.load_many({"departments": departments(), "employees": employees()}, source="t")
        newer = employees()
        newer.loc[2, "role"] = "总监"
        newer = pd.concat(
            [
                newer,
                pd.DataFrame(
                    [
                        {
                            "employee_id": "E4",
                            "name": "赵六",
                            "department_id": 2,
                            "hire_date": "2026-04-01",
                            "leave_date": None,
                            "branch": "总部",
                            "role": None,
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
        result = wh.load("employees", newer, source="roster-2.csv")
        assert (result.inserted, result.updated, result.unchanged) == (1, 1, 2)
        got = wh.frame("employees")
    assert got.set_index("employee_id").loc["E3", "role"] == "总监"
    assert len(got) == 4


def test_timestamps_are_stored_in_shanghai_time(home):
    rec = pd.DataFrame(
        {
            "ticket_id": ["T1"],
            "created_at": ["2026-03-02 09:00"],
            "first_response_at": ["2026-03-02T01:30:00Z"],
            "resolved_at": [None],
            "category": [None],
        }
    )
    with open_writer(home) as wh:
        wh.load("tickets", rec, source="t")
        row = wh.query("SELECT epoch(created_at) AS c, epoch(first_response_at) AS f FROM tickets").iloc[0]
    # 09:00 in Shanghai is 01:00 UTC; the second value was given in UTC.
    assert row["c"] == pd.Timestamp("2026-03-02 01:00", tz="UTC").timestamp()
    assert row["f"] - row["c"] == 30 * 60


def test_a_bad_row_is_named_and_nothing_changes(home):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
        before = snapshot(wh)
        bad = employees()
        bad.loc[1, "leave_date"] = "2019-01-01"  # leaves before being hired
        bad.loc[2, "department_id"] = 99  # no such department
        with pytest.raises(InputError) as info:
            wh.load_many({"departments": departments().assign(name="改名"), "employees": bad}, source="roster.csv")
        assert snapshot(wh) == before  # the departments in the same transaction were rolled back
    message = str(info.value)
    assert "roster.csv, row 2, column leave_date" in message and "not before hire_date" in message


def test_unknown_reference_is_refused(home):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
        bad = employees()
        bad.loc[2, "department_id"] = 99
        with pytest.raises(InputError) as info:
            wh.load("employees", bad, source="roster.csv")
        assert wh.count("employees") == 0
    assert "row 3, column department_id: got '99'" in str(info.value)
    assert "departments.department_id" in str(info.value)


def test_conflicting_duplicate_keys_are_refused_but_exact_duplicates_collapse(home):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
        doubled = pd.concat([employees(), employees().iloc[[0]]], ignore_index=True)
        assert wh.load("employees", doubled, source="t").received == 3
        conflicting = doubled.copy()
        conflicting.loc[3, "name"] = "张三丰"
        with pytest.raises(InputError, match=r"rows 1, 4: got 'employee_id=E1'"):
            wh.load("employees", conflicting, source="t")


def test_chunks_are_one_load(home):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
        chunks = [employees().iloc[:2], employees().iloc[2:].assign(hire_date="not a date")]
        with pytest.raises(InputError, match="row 3, column hire_date"):
            wh.load("employees", iter(chunks), source="t")
        assert wh.count("employees") == 0


def test_reader_is_read_only_and_needs_a_warehouse(home):
    with pytest.raises(InputError, match="wecom-eval demo"), open_reader(home):
        pass
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
    with open_reader(home) as wh:
        assert wh.count("departments") == 3
        with pytest.raises(ValueError, match="read-only"):
            wh.load("departments", departments(), source="t")


def test_lock_makes_a_second_writer_exit_5(home):
    with writer_lock(home.lock), pytest.raises(LockBusy) as info, open_writer(home, timeout=0.2):
        pass
    assert info.value.exit_code == 5
    assert f"pid {os.getpid()}" in str(info.value)
    with open_writer(home, timeout=0.2) as wh:  # free again
        assert wh.count("departments") == 0


KILLED_LOAD = textwrap.dedent("""
    import sys
    import numpy as np, pyarrow as pa
    from wecom_eval.home import Home
    from wecom_eval.store.warehouse import open_writer

    def chunks():
        for week in range(1000):
            n = 50_000
            yield pa.table({
                "date": pa.array(np.full(n, 20_000 + week, dtype="int32"), type=pa.date32()),
                "userid": pa.array([f"u{i}" for i in range(n)]),
                "active": pa.array(np.ones(n, dtype=bool)),
                "minutes": pa.array(np.full(n, 30, dtype="int16")),
                "source": pa.array(["t"] * n),
            })
            if week == 3:
                print("staged-some", flush=True)

    with open_writer(Home.from_env()) as wh:
        wh.load("member_days", chunks(), source="killed")
""")


def test_a_load_killed_half_way_leaves_the_warehouse_as_it_was(home, tmp_path: Path):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="t")
        before = snapshot(wh)
    script = tmp_path / "killed_load.py"
    script.write_text(KILLED_LOAD, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "WECOM_EVAL_HOME": str(home.root)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "staged-some"  # the load is under way
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with open_writer(home, timeout=5) as wh:  # the lock died with the process
        assert snapshot(wh) == before
        assert wh.count("member_days") == 0
        log = wh.load_log()
    assert "killed" not in set(log["source"])


def test_load_log_records_each_load(home):
    with open_writer(home) as wh:
        wh.load("departments", departments(), source="roster.csv")
        log = wh.load_log()
    assert json.loads(log[["table_name", "source", "inserted"]].to_json(orient="records")) == [
        {"table_name": "departments", "source": "roster.csv", "inserted": 3}
    ]


def test_a_warehouse_file_of_the_old_layout_is_read_as_it_is_and_migrated_by_the_first_writer(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # member_days as a plain table with text userids, as files were written
    con.execute(TABLES["member_days"].ddl())
    con.execute(
        "INSERT INTO member_days VALUES ('2026-03-02', 'zhang', true, 45, 'admin_export'), "
        "('2026-03-02', 'li', false, NULL, 'admin_export'), ('2026-03-03', 'zhang', true, 5, 'api')"
    )
    con.close()
    rows = "SELECT date, userid, active, minutes, source FROM member_days ORDER BY date, userid"
    old = duckdb.connect(str(path), read_only=True).execute(rows).fetchall()

    reader = Warehouse(path, read_only=True)  # no write: temporary views under the new names
    assert reader.con.execute(rows).fetchall() == old
    assert reader.query("SELECT count(*) AS n FROM member_activity")["n"].iloc[0] == 3
    reader.close()

    wh = Warehouse(path)
    kinds = dict(wh.con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["member_days"] == "VIEW" and kinds["member_activity"] == "BASE TABLE"
    assert wh.con.execute(rows).fetchall() == old
    # keys in userid order (li 1, zhang 2); a new member gets the next key
    assert wh.con.execute("SELECT userid, member_key FROM member_keys ORDER BY member_key").fetchall() == [
        ("li", 1),
        ("zhang", 2),
    ]
    result = wh.load(
        "member_days",
        pd.DataFrame(
            {
                "date": ["2026-03-03", "2026-03-04"],
                "userid": ["zhang", "wang"],
                "active": [True, True],
                "minutes": [50, 30],
                "source": ["api"] * 2,
            }
        ),
        source="more",
    )
    assert (result.inserted, result.updated) == (1, 1)  # zhang on 03-03 corrected, wang new
    assert wh.con.execute("SELECT member_key FROM member_keys WHERE userid = 'wang'").fetchall() == [(3,)]
    assert wh.count("member_days") == 4
    wh.close()
    again = Warehouse(path)  # already migrated: opens as it is
    assert again.con.execute(rows).fetchall()[-1][1:] == ("wang", True, 30, "api")
    again.close()


def test_counting_rows_leaves_the_connection_free_for_other_work(tmp_path):
    # DuckDB 2 refuses any statement on a connection holding a half-read result (a fetchone()).
    from wecom_eval.store.warehouse import Warehouse

    wh = Warehouse(tmp_path / "w.duckdb")
    try:
        assert wh.count("members") == 0
        assert wh.con.sql("SELECT 42").fetchall() == [(42,)]
    finally:
        wh.close()
