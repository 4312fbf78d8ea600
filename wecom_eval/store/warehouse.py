"""The DuckDB warehouse: canonical tables, transactional idempotent loads, a writer lock.

Loads upsert by each table's natural key inside one transaction: loading the same rows
twice leaves the same rows; a load that fails (bad data, a crash, a kill) leaves the
warehouse as it was. Readers get small pandas frames; aggregation happens in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.lock import writer_lock
from wecom_eval.store.activation_pending import create_pending
from wecom_eval.store.engine import duckdb_config
from wecom_eval.store.member_days import (
    CHANGED_DAYS,
    MEMBER_DAYS_STORE,
    member_days_views,
    migrate_member_days,
    old_member_days,
)
from wecom_eval.store.schema import LOAD_ORDER, TABLES, table
from wecom_eval.store.upsert import LoadResult, Progress, Rows, TableLoad
from wecom_eval.store.validate import DEFAULT_TZ


class Warehouse:
    """A connection to the warehouse file. Use :func:`open_writer` / :func:`open_reader`."""

    def __init__(self, path: Path, *, read_only: bool = False, tz: str = DEFAULT_TZ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.tz = tz
        if read_only and not self.path.exists():
            raise InputError(
                "warehouse",
                [
                    Problem(
                        str(self.path),
                        None,
                        "an existing warehouse",
                        "Load data first: `wecom-eval demo` or `wecom-eval ingest`.",
                    )
                ],
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path), read_only=read_only, config=duckdb_config(self.path.parent))
        self.con.execute(f"SET TimeZone = '{tz}'")
        # no progress bar on a terminal during a long fold or migration (in Jupyter without
        # ipywidgets DuckDB refuses the setting, and draws no bar anyway)
        with suppress(duckdb.Error):
            self.con.execute("SET enable_progress_bar = false")
        if not read_only:
            self._create()
        elif old_member_days(self.con):
            member_days_views(self.con, temporary=True)  # read an unmigrated file as it is

    # ---- schema --------------------------------------------------------------------
    def _create(self) -> None:
        existing = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        old = old_member_days(self.con)
        for name in LOAD_ORDER:
            if name != "member_days":  # stored as member_activity (below)
                self.con.execute(TABLES[name].ddl())
        if "members" in existing:
            self._migrate()
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _loads (loaded_at TIMESTAMPTZ DEFAULT now(), table_name VARCHAR,"
            " source VARCHAR, received BIGINT, inserted BIGINT, updated BIGINT, unchanged BIGINT)"
        )
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {CHANGED_DAYS} (date DATE)")
        create_pending(self.con, existed="members" in existing)
        if old:
            migrate_member_days(self.con)
        else:
            member_days_views(self.con, temporary=False)

    def _migrate(self) -> None:
        """Bring a warehouse written by an earlier version up to the schema (columns added since).

        Until activation dates were derived (``members.activation_basis``), a fetch stored the
        time it first saw a member activated in ``activated_at``. Such a time is a status
        snapshot, so it becomes one (source ``migrated``); times other loads stated stay
        ``export_time``.
        """
        added: set[tuple[str, str]] = set()
        for name in LOAD_ORDER:
            have = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]
                ).fetchall()
            }
            for c in TABLES[name].columns:
                if c.name not in have:
                    self.con.execute(f"ALTER TABLE {name} ADD COLUMN {c.name} {c.sql_type}")
                    added.add((name, c.name))
        if ("members", "activation_basis") not in added:
            return
        fetched = (
            self.con.execute(
                "SELECT count(*) FROM _loads WHERE table_name = 'members' AND source = 'wecom-api'"
            ).fetchall()[0][0]
            if self._has_table("_loads")
            else 0
        )
        self.con.execute("BEGIN TRANSACTION")
        if fetched:
            self.con.execute(
                "INSERT INTO member_status SELECT userid, CAST(activated_at AS DATE), 'migrated', 1, "
                "NULL FROM members WHERE activated_at IS NOT NULL AND status <> 4"
            )
            self.con.execute(
                "UPDATE members SET activation_basis = 'snapshot' WHERE activated_at IS NOT NULL AND status <> 4"
            )
        else:
            self.con.execute("UPDATE members SET activation_basis = 'export_time' WHERE activated_at IS NOT NULL")
        self.con.execute("COMMIT")

    def _has_table(self, name: str) -> bool:
        return bool(
            self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[
                0
            ][0]
        )

    def close(self) -> None:
        self.con.close()

    # ---- reading -------------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL and return a pandas frame."""
        return self.con.execute(sql, params or []).df()

    def count(self, name: str) -> int:
        table(name)
        stored = MEMBER_DAYS_STORE if name == "member_days" else name  # the view would join every row
        # fetchall, not fetchone: DuckDB 2 refuses other work on a connection with a half-read result
        return int(self.con.execute(f"SELECT count(*) FROM {stored}").fetchall()[0][0])

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

    def load_many(
        self, tables: Mapping[str, Rows], *, source: str, progress: Progress | None = None
    ) -> dict[str, LoadResult]:
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
                    results[name] = TableLoad(self.con, TABLES[name], source=source, say=say, tz=self.tz).run(
                        tables[name]
                    )
            for r in results.values():
                self.con.execute(
                    "INSERT INTO _loads (table_name, source, received, inserted, updated, unchanged)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [r.table, r.source, r.received, r.inserted, r.updated, r.unchanged],
                )
            say("committing")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return results

    def load_log(self) -> pd.DataFrame:
        return self.query("SELECT * FROM _loads ORDER BY loaded_at")


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
