"""The DuckDB warehouse: canonical tables, transactional idempotent loads, a writer lock.

Loads upsert by each table's natural key inside one transaction: loading the same rows
twice leaves the same rows; a load that fails (bad data, a crash, a kill) leaves the
warehouse as it was. Readers get small pandas frames; aggregation happens in SQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.lock import writer_lock
from wecom_eval.schema import LOAD_ORDER, TABLES, Table, table
from wecom_eval.validate import DEFAULT_TZ, ROW, check_staged, coerce_frame

MEMORY_ENV = "WECOM_EVAL_DUCKDB_MEMORY"  # e.g. "1GB"; DuckDB spills to disk beyond it
THREADS_ENV = "WECOM_EVAL_DUCKDB_THREADS"

DEFAULT_MEMORY_SHARE = 4  # DuckDB may use a quarter of the machine's memory …
DEFAULT_MEMORY_MAX = 1 << 30  # … but at most 1 GiB by default (beyond it, it spills to disk)
DEFAULT_MEMORY_MIN = 256 << 20
TEMP_FOLDER = ".duckdb-tmp"  # beside the warehouse, under the home


def _machine_memory() -> int | None:
    """The memory this process may use: the cgroup limit if one is set, else the physical memory."""
    sizes = []
    with suppress(AttributeError, ValueError, OSError):  # no sysconf on Windows
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            sizes.append(int(limit))
    except OSError:
        pass
    return min(sizes) if sizes else None


def duckdb_config(folder: Path) -> dict[str, Any]:
    """Settings for every DuckDB connection the workbook opens: bounded memory, spilling under ``folder``.

    ``memory_limit`` is ``$WECOM_EVAL_DUCKDB_MEMORY`` (e.g. ``2GB``) when set, else a quarter
    of the machine's memory (or of the cgroup's limit) between 256 MiB and 1 GiB; DuckDB
    spills to ``folder/.duckdb-tmp`` beyond it, so nothing is written outside the home.
    ``$WECOM_EVAL_DUCKDB_THREADS`` sets the number of threads.
    """
    memory = os.environ.get(MEMORY_ENV)
    if not memory:
        machine = _machine_memory()
        share = machine // DEFAULT_MEMORY_SHARE if machine else DEFAULT_MEMORY_MAX
        memory = f"{max(DEFAULT_MEMORY_MIN, min(DEFAULT_MEMORY_MAX, share)) >> 20}MiB"
    config: dict[str, Any] = {"memory_limit": memory, "temp_directory": str(folder / TEMP_FOLDER)}
    if os.environ.get(THREADS_ENV):
        config["threads"] = int(os.environ[THREADS_ENV])
    return config


Chunk: TypeAlias = pd.DataFrame | pa.Table
Rows: TypeAlias = Chunk | Iterable[Chunk]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoadResult:
    """What one load did to one table."""

    table: str
    source: str
    received: int
    inserted: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return (f"{self.table}: {self.received:,} rows from {self.source} — {self.inserted:,} new, "
                f"{self.updated:,} changed, {self.unchanged:,} unchanged")


class Warehouse:
    """A connection to the warehouse file. Use :func:`open_writer` / :func:`open_reader`."""

    def __init__(self, path: Path, *, read_only: bool = False, tz: str = DEFAULT_TZ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.tz = tz
        if read_only and not self.path.exists():
            raise InputError("warehouse", [Problem(str(self.path), None, "an existing warehouse",
                                                   "Load data first: `wecom-eval demo` or `wecom-eval ingest`.")])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path), read_only=read_only, config=duckdb_config(self.path.parent))
        self.con.execute(f"SET TimeZone = '{tz}'")
        if not read_only:
            self._create()

    # ---- schema --------------------------------------------------------------------
    def _create(self) -> None:
        existing = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        for name in LOAD_ORDER:
            self.con.execute(TABLES[name].ddl())
        if "members" in existing:
            self._migrate()
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _loads (loaded_at TIMESTAMPTZ DEFAULT now(), table_name VARCHAR,"
            " source VARCHAR, received BIGINT, inserted BIGINT, updated BIGINT, unchanged BIGINT)"
        )

    def _migrate(self) -> None:
        """Bring a warehouse written by an earlier version up to the schema (columns added since).

        Until activation dates were derived (``members.activation_basis``), a fetch stored the
        time it first saw a member activated in ``activated_at``. Such a time is a status
        snapshot, so it becomes one (source ``migrated``); times other loads stated stay
        ``export_time``.
        """
        added: set[tuple[str, str]] = set()
        for name in LOAD_ORDER:
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()}
            for c in TABLES[name].columns:
                if c.name not in have:
                    self.con.execute(f"ALTER TABLE {name} ADD COLUMN {c.name} {c.sql_type}")
                    added.add((name, c.name))
        if ("members", "activation_basis") not in added:
            return
        fetched = self.con.execute("SELECT count(*) FROM _loads WHERE table_name = 'members' AND source = "
                                   "'wecom-api'").fetchall()[0][0] if self._has_table("_loads") else 0
        self.con.execute("BEGIN TRANSACTION")
        if fetched:
            self.con.execute("INSERT INTO member_status SELECT userid, CAST(activated_at AS DATE), 'migrated', 1, "
                             "NULL FROM members WHERE activated_at IS NOT NULL AND status <> 4")
            self.con.execute("UPDATE members SET activation_basis = 'snapshot' WHERE activated_at IS NOT NULL "
                             "AND status <> 4")
        else:
            self.con.execute("UPDATE members SET activation_basis = 'export_time' WHERE activated_at IS NOT NULL")
        self.con.execute("COMMIT")

    def _has_table(self, name: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                     [name]).fetchall()[0][0])

    def close(self) -> None:
        self.con.close()

    # ---- reading -------------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL and return a pandas frame."""
        return self.con.execute(sql, params or []).df()

    def count(self, name: str) -> int:
        table(name)
        return int(self.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # type: ignore[index]

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in LOAD_ORDER}

    def frame(self, name: str) -> pd.DataFrame:
        """A whole table, ordered by its key (for small tables and tests)."""
        t = table(name)
        return self.query(f"SELECT * FROM {name} ORDER BY {', '.join(t.key)}")

    # ---- loading -------------------------------------------------------------------
    def load(self, name: str, rows: Rows, *, source: str, progress: Progress | None = None) -> LoadResult:
        """Validate ``rows`` and upsert them into table ``name`` in one transaction."""
        return self.load_many({name: rows}, source=source, progress=progress)[name]

    def load_many(self, tables: Mapping[str, Rows], *, source: str,
                  progress: Progress | None = None) -> dict[str, LoadResult]:
        """Load several tables in one transaction (parents before children).

        Each value is a pandas frame, a pyarrow table with the canonical column types, or
        an iterable of either (chunks). Any problem rolls everything back and raises
        :class:`InputError`.
        """
        if self.read_only:
            raise ValueError("this warehouse connection is read-only; use open_writer()")
        for name in tables:
            table(name)
        say = progress or (lambda _msg: None)
        results: dict[str, LoadResult] = {}
        self.con.execute("BEGIN TRANSACTION")
        try:
            for name in LOAD_ORDER:
                if name in tables:
                    results[name] = self._load_one(TABLES[name], tables[name], source, say)
            for r in results.values():
                self.con.execute("INSERT INTO _loads (table_name, source, received, inserted, updated, unchanged)"
                                 " VALUES (?, ?, ?, ?, ?, ?)",
                                 [r.table, r.source, r.received, r.inserted, r.updated, r.unchanged])
            say("committing")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return results

    def _stage(self, t: Table, rows: Rows, source: str, say: Progress, *, direct: bool = False) -> tuple[str, bool]:
        """Stage ``rows`` for checking; returns the stage's name and whether it is a direct stage.

        A direct stage (asked for when the target table is empty) appends Arrow chunks that
        carry no ``_row`` column straight into the target table, inside the load's
        transaction, and the stage is a view over it whose ``_row`` is the insertion
        position (DuckDB numbers a transaction's appended rows consecutively). It saves
        copying tens of millions of rows twice. At the first chunk that cannot go direct (a
        pandas frame, its own ``_row`` column, a null in a required column) the rows
        appended so far move into an ordinary stage, so checks and messages are the same.
        """
        stage = f"_stage_{t.name}"
        # The stage has the kinds' wide types: ranges are checked before a cast to a narrow storage type.
        cols = ", ".join(f"{c.name} {c.stage_type}" for c in t.columns)
        stage_select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in t.columns)
        select = ", ".join(f"CAST({c.name} AS {c.sql_type})" for c in t.columns)
        names = ", ".join(t.column_names)
        required = [c.name for c in t.columns if not c.nullable]

        def make_stage() -> None:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} ({cols}, {ROW} BIGINT)")

        def leave_direct() -> None:
            make_stage()
            if offset:
                self.con.execute(f"INSERT INTO {stage} SELECT {names}, rowid - (SELECT min(rowid) FROM {t.name}) + 1 "
                                 f"FROM {t.name} ORDER BY rowid")
                self.con.execute(f"DELETE FROM {t.name}")

        if not direct:
            make_stage()
        chunks: Iterable[Chunk] = [rows] if isinstance(rows, (pd.DataFrame, pa.Table)) else rows
        offset = 0
        for chunk in chunks:
            if isinstance(chunk, pa.Table):
                if direct and (ROW in chunk.column_names
                               or any(chunk.column(c).null_count for c in required if c in chunk.column_names)
                               or not _within_ranges(t, chunk)):
                    leave_direct()
                    direct = False
                data = chunk if ROW in chunk.column_names else chunk.append_column(
                    ROW, pa.array(np.arange(offset + 1, offset + chunk.num_rows + 1, dtype=np.int64)))
                for c in t.columns:
                    if c.omittable and c.name not in data.column_names:
                        data = data.append_column(c.name, pa.nulls(data.num_rows, pa.string() if c.kind == "str"
                                                                   else pa.int64()))
                missing = [c for c in t.column_names if c not in data.column_names]
                if missing:
                    raise InputError(f"{source} → {t.name}", [Problem(f"{source}: column {m}", None,
                                     f"a column {m!r}") for m in missing])
            else:
                if direct:
                    leave_direct()
                    direct = False
                data = coerce_frame(t, chunk, source=source, tz=self.tz, first_row=offset + 1)
            offset += len(data)
            # A relation, not register(): a registered object stays alive until the transaction ends.
            rel = self.con.from_arrow(data) if isinstance(data, pa.Table) else self.con.from_df(data)
            if direct:
                rel.select(select).insert_into(t.name)
            else:
                rel.select(f"{stage_select}, {ROW}").insert_into(stage)
            del rel
            say(f"{t.name}: staged {offset:,} rows")
        if direct:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {stage} AS SELECT {names}, "
                             f"rowid - (SELECT min(rowid) FROM {t.name}) + 1 AS {ROW} FROM {t.name}")
        return stage, direct

    def _has_rows(self, name: str) -> bool:
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchall()[0][0])

    def _load_one(self, t: Table, rows: Rows, source: str, say: Progress) -> LoadResult:
        stage, direct = self._stage(t, rows, source, say, direct=not self._has_rows(t.name))
        duplicated_keys = check_staged(self.con, t, stage, source=source, target_has_rows=self._has_rows)
        cols = ", ".join(t.column_names)
        if direct:
            # The rows are already in the (previously empty) table; exact duplicates collapse to
            # the first occurrence (conflicting ones were refused above).
            self.con.execute(f"DROP VIEW {stage}")
            if duplicated_keys:
                key = ", ".join(t.key)
                self.con.execute(
                    f"DELETE FROM {t.name} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "
                    f"(PARTITION BY {key} ORDER BY rowid) AS n FROM {t.name}) WHERE n > 1)")
            received = self.con.execute(f"SELECT count(*) FROM {t.name}").fetchall()[0][0]
            result = LoadResult(t.name, source, int(received), int(received), 0, 0)
            say(str(result))
            return result
        if duplicated_keys:
            # Exact duplicate rows in one input collapse to one (conflicting ones were refused above).
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_u AS SELECT DISTINCT {cols} FROM {stage}")
            self.con.execute(f"DROP TABLE {stage}")
            stage = f"{stage}_u"
        received = self.con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]  # type: ignore[index]
        key_match = " AND ".join(f"s.{k} = t.{k}" for k in t.key)
        kept = [c.name for c in t.columns if c.keep]
        if kept and self._has_rows(t.name):  # a null from this load keeps what is stored (filled in after loads)
            stage_key = " AND ".join(f"{stage}.{k} = t.{k}" for k in t.key)
            for c in kept:
                self.con.execute(f"UPDATE {stage} SET {c} = t.{c} FROM {t.name} t WHERE {stage_key} "
                                 f"AND {stage}.{c} IS NULL AND t.{c} IS NOT NULL")
        if self._has_rows(t.name):
            same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM t.{c}" for c in t.column_names if c not in t.key)
            matched, unchanged = self.con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {same or 'TRUE'}) FROM {stage} s "
                f"JOIN {t.name} t ON {key_match}").fetchone()  # type: ignore[misc]
            if matched:
                self.con.execute(f"DELETE FROM {t.name} t USING {stage} s WHERE {key_match}")
        else:
            matched = unchanged = 0
        self.con.execute(f"INSERT INTO {t.name} SELECT {cols} FROM {stage}")
        self.con.execute(f"DROP TABLE {stage}")
        result = LoadResult(t.name, source, int(received), int(received - matched),
                            int(matched - unchanged), int(unchanged))
        say(str(result))
        return result

    def load_log(self) -> pd.DataFrame:
        return self.query("SELECT * FROM _loads ORDER BY loaded_at")


def _within_ranges(t: Table, chunk: pa.Table) -> bool:
    """Whether every numeric column with a range keeps to it (else the chunk is staged and checked)."""
    import pyarrow.compute as pc

    for c in t.columns:
        if (c.min is None and c.max is None) or c.name not in chunk.column_names or not chunk.num_rows:
            continue
        low, high = pc.min_max(chunk.column(c.name)).values()
        if not low.is_valid:
            continue
        if (c.min is not None and low.as_py() < c.min) or (c.max is not None and high.as_py() > c.max):
            return False
    return True


@contextmanager
def open_writer(home: Home | None = None, *, timeout: float | None = None) -> Iterator[Warehouse]:
    """The warehouse for writing, holding the writer lock until the block ends."""
    home = home or Home.from_env()
    with writer_lock(home.lock, timeout=timeout):
        wh = Warehouse(home.warehouse)
        try:
            yield wh
        finally:
            wh.close()


@contextmanager
def open_reader(home: Home | None = None) -> Iterator[Warehouse]:
    """The warehouse for reading only."""
    home = home or Home.from_env()
    wh = Warehouse(home.warehouse, read_only=True)
    try:
        yield wh
    finally:
        wh.close()


__all__ = ["LoadResult", "Warehouse", "open_reader", "open_writer"]
