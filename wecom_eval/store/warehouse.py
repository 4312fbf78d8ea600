"""The DuckDB warehouse: canonical tables, transactional idempotent loads, a writer lock.

Loads upsert by each table's natural key inside one transaction: loading the same rows
twice leaves the same rows; a load that fails (bad data, a crash, a kill) leaves the
warehouse as it was. Readers get small pandas frames; aggregation happens in SQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.lock import writer_lock
from wecom_eval.store.schema import LOAD_ORDER, TABLES, Table, table
from wecom_eval.store.validate import DEFAULT_TZ, ROW, check_staged, coerce_frame

MEMORY_ENV = "WECOM_EVAL_DUCKDB_MEMORY"  # e.g. "1GB"; DuckDB spills to disk beyond it
THREADS_ENV = "WECOM_EVAL_DUCKDB_THREADS"
# member_days is stored with integer member keys: the fold over tens of millions of
# member-days joins on integers instead of text. ``member_days`` itself is a view with the
# canonical columns; loads go through :meth:`Warehouse.load` as for every table.
MEMBER_DAYS_STORE = "member_activity"
MEMBER_KEYS = "member_keys"  # userid <-> member_key (1, 2, 3, … in order of first load)
CHANGED_DAYS = "_member_days_changed"  # days whose member-day rows changed since the rollups were refreshed

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
        return (
            f"{self.table}: {self.received:,} rows from {self.source} — {self.inserted:,} new, "
            f"{self.updated:,} changed, {self.unchanged:,} unchanged"
        )


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
        elif _old_member_days(self.con):
            _member_days_views(self.con, temporary=True)  # read an unmigrated file as it is

    # ---- schema --------------------------------------------------------------------
    def _create(self) -> None:
        existing = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        old = _old_member_days(self.con)
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
        if old:
            migrate_member_days(self.con)
        else:
            _member_days_views(self.con, temporary=False)

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
        return int(self.con.execute(f"SELECT count(*) FROM {stored}").fetchone()[0])  # type: ignore[index]

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
                    results[name] = self._load_one(TABLES[name], tables[name], source, say)
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

        keyed = t.name == "member_days"
        target = MEMBER_DAYS_STORE if keyed else t.name
        # the rows of a direct stage in load order, with the canonical columns
        direct_rows = (
            f"SELECT {names.replace('userid', 'k.userid')}, a.rowid - (SELECT min(rowid) FROM {target}) + 1 "
            f"AS {ROW} FROM {target} a JOIN {MEMBER_KEYS} k ON k.member_key = a.member_key"
            if keyed
            else f"SELECT {names}, rowid - (SELECT min(rowid) FROM {t.name}) + 1 AS {ROW} FROM {t.name}"
        )
        keys = _MemberKeys(self.con) if keyed and direct else None

        def leave_direct() -> None:
            make_stage()
            if offset:
                self.con.execute(f"INSERT INTO {stage} SELECT * FROM ({direct_rows}) ORDER BY {ROW}")
                self.con.execute(f"DELETE FROM {target}")

        if not direct:
            make_stage()
        chunks: Iterable[Chunk] = [rows] if isinstance(rows, (pd.DataFrame, pa.Table)) else rows
        offset = 0
        for chunk in chunks:
            if isinstance(chunk, pa.Table):
                if direct and (
                    ROW in chunk.column_names
                    or any(chunk.column(c).null_count for c in required if c in chunk.column_names)
                    or not _within_ranges(t, chunk)
                ):
                    leave_direct()
                    direct = False
                data = (
                    chunk
                    if ROW in chunk.column_names
                    else chunk.append_column(
                        ROW, pa.array(np.arange(offset + 1, offset + chunk.num_rows + 1, dtype=np.int64))
                    )
                )
                for c in t.columns:
                    if c.omittable and c.name not in data.column_names:
                        data = data.append_column(
                            c.name, pa.nulls(data.num_rows, pa.string() if c.kind == "str" else pa.int64())
                        )
                missing = [c for c in t.column_names if c not in data.column_names]
                if missing:
                    raise InputError(
                        f"{source} → {t.name}",
                        [Problem(f"{source}: column {m}", None, f"a column {m!r}") for m in missing],
                    )
            else:
                if direct:
                    leave_direct()
                    direct = False
                data = coerce_frame(t, chunk, source=source, tz=self.tz, first_row=offset + 1)
            offset += len(data)
            # A relation, not register(): a registered object stays alive until the transaction ends.
            rel = self.con.from_arrow(data) if isinstance(data, pa.Table) else self.con.from_df(data)
            if direct:
                if keys is not None:
                    del rel
                    rel = self.con.from_arrow(keys.encode(data))
                    rel.select(select.replace("CAST(userid AS VARCHAR)", "member_key")).insert_into(target)
                else:
                    rel.select(select).insert_into(t.name)
            else:
                rel.select(f"{stage_select}, {ROW}").insert_into(stage)
            del rel
            say(f"{t.name}: staged {offset:,} rows")
        if direct:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {stage} AS {direct_rows}")
        return stage, direct

    def _has_rows(self, name: str) -> bool:
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchall()[0][0])

    def _load_one(self, t: Table, rows: Rows, source: str, say: Progress) -> LoadResult:
        stage, direct = self._stage(t, rows, source, say, direct=not self._has_rows(t.name))
        keyed = t.name == "member_days"
        if keyed and direct:
            duplicated_keys = self._check_keyed(t, stage, source)
        else:
            duplicated_keys = check_staged(self.con, t, stage, source=source, target_has_rows=self._has_rows)
        target = MEMBER_DAYS_STORE if keyed else t.name
        cols = ", ".join(t.column_names)
        key_cols = [("member_key" if k == "userid" else k) for k in t.key] if keyed else list(t.key)
        if direct:
            # The rows are already in the (previously empty) table; exact duplicates collapse to
            # the first occurrence (conflicting ones were refused above).
            self.con.execute(f"DROP VIEW {stage}")
            if duplicated_keys:
                key = ", ".join(key_cols)
                self.con.execute(
                    f"DELETE FROM {target} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "
                    f"(PARTITION BY {key} ORDER BY rowid) AS n FROM {target}) WHERE n > 1)"
                )
            received = self.con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            if keyed:
                self.con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {target}")
            result = LoadResult(t.name, source, int(received), int(received), 0, 0)
            say(str(result))
            return result
        if duplicated_keys:
            # Exact duplicate rows in one input collapse to one (conflicting ones were refused above).
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_u AS SELECT DISTINCT {cols} FROM {stage}")
            self.con.execute(f"DROP TABLE {stage}")
            stage = f"{stage}_u"
        if keyed:
            # new userids get the next keys; then the stage speaks in keys like the stored table
            self.con.execute(
                f"INSERT INTO {MEMBER_KEYS} SELECT (SELECT COALESCE(max(member_key), 0) FROM {MEMBER_KEYS}) "
                f"+ row_number() OVER (ORDER BY userid), userid FROM (SELECT DISTINCT userid FROM {stage} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {MEMBER_KEYS} k WHERE k.userid = s.userid))"
            )
            store_cols = cols.replace("userid", "member_key")
            keyed_cols = cols.replace("userid", "k.member_key")
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {stage}_k AS SELECT {keyed_cols} "
                f"FROM {stage} s JOIN {MEMBER_KEYS} k ON k.userid = s.userid"
            )
            self.con.execute(f"DROP TABLE {stage}")
            stage, cols = f"{stage}_k", store_cols
            self.con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {stage}")
        received = self.con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]  # type: ignore[index]
        key_match = " AND ".join(f"s.{k} = t.{k}" for k in key_cols)
        if keyed:
            # member days are stored in date order: a literal range of the stage's days lets
            # DuckDB skip the blocks of every other day when it looks for rows to replace
            lo, hi = self.con.execute(f"SELECT min(date), max(date) FROM {stage}").fetchone()  # type: ignore[misc]
            if lo is not None:
                key_match += f" AND t.date BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}'"
        kept = [c.name for c in t.columns if c.keep]
        if kept and self._has_rows(target):  # a null from this load keeps what is stored (filled in after loads)
            stage_key = " AND ".join(f"{stage}.{k} = t.{k}" for k in key_cols)
            for c in kept:
                self.con.execute(
                    f"UPDATE {stage} SET {c} = t.{c} FROM {target} t WHERE {stage_key} "
                    f"AND {stage}.{c} IS NULL AND t.{c} IS NOT NULL"
                )
        if self._has_rows(target):
            same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM t.{c}" for c in cols.split(", ") if c not in key_cols)
            matched, unchanged = self.con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {same or 'TRUE'}) FROM {stage} s "
                f"JOIN {target} t ON {key_match}"
            ).fetchone()  # type: ignore[misc]
            if matched:
                self.con.execute(f"DELETE FROM {target} t USING {stage} s WHERE {key_match}")
        else:
            matched = unchanged = 0
        self.con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage}")
        self.con.execute(f"DROP TABLE {stage}")
        result = LoadResult(
            t.name, source, int(received), int(received - matched), int(matched - unchanged), int(unchanged)
        )
        say(str(result))
        return result

    def _check_keyed(self, t: Table, stage: str, source: str) -> int:
        """:func:`check_staged` for member days appended straight to the stored table.

        The checks run on the member keys, without joining tens of millions of rows back to
        their userids: the keys stand one-to-one for the userids (so duplicate keys are the
        same), and a key is known to ``members`` when its userid is. Only when a check fails
        do they run again on the userids, for messages that name them.
        """
        keys_stage, members_by_key = f"{stage}_keys", "_members_by_key"
        cols = ", ".join("member_key AS userid" if c == "userid" else c for c in t.column_names)
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {keys_stage} AS SELECT {cols}, rowid - "
            f"(SELECT min(rowid) FROM {MEMBER_DAYS_STORE}) + 1 AS {ROW} FROM {MEMBER_DAYS_STORE}"
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {members_by_key} AS SELECT k.member_key FROM {MEMBER_KEYS} k "
            "WHERE EXISTS (SELECT 1 FROM members m WHERE m.userid = k.userid)"
        )
        by_key = replace(
            t, references=tuple(replace(r, target=members_by_key, target_columns=("member_key",)) for r in t.references)
        )
        # duplicate (date, member_key) pairs: per day, rows beyond the distinct keys (a bitmap of
        # the keys, not a hash table of tens of millions of pairs)
        top = self.con.execute(f"SELECT COALESCE(max(member_key), 1) FROM {MEMBER_KEYS}").fetchall()[0][0]
        colliding = self.con.execute(
            f"SELECT COALESCE(sum(n) - sum(bit_count(b)), 0) FROM (SELECT count(*) AS n, "
            f"bitstring_agg(member_key, 1, {int(top)}) AS b FROM {MEMBER_DAYS_STORE} "
            "GROUP BY date)"
        ).fetchall()[0][0]
        try:
            return check_staged(
                self.con,
                by_key,
                keys_stage,
                source=source,
                colliding=int(colliding),
                target_has_rows=lambda name: (
                    self._has_rows("members") if name == members_by_key else self._has_rows(name)
                ),
            )
        except InputError:
            check_staged(self.con, t, stage, source=source, target_has_rows=self._has_rows)
            raise
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {keys_stage}")
            self.con.execute(f"DROP VIEW IF EXISTS {members_by_key}")

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


# ---- member_days with integer keys ------------------------------------------------------------


def _store_ddl(name: str) -> str:
    """member_days' columns with ``member_key INTEGER`` in place of the userid."""
    cols = ", ".join(
        f"{'member_key INTEGER' if c.name == 'userid' else c.name + ' ' + c.sql_type}"
        f"{'' if c.nullable else ' NOT NULL'}"
        for c in TABLES["member_days"].columns
    )
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


def _old_member_days(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds member_days as a plain table (the layout before integer keys)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name = 'member_days' AND table_type = 'BASE TABLE'"
        ).fetchall()[0][0]
    )


def _member_days_views(con: duckdb.DuckDBPyConnection, *, temporary: bool) -> None:
    """The stored table, the key dictionary and the canonical view (or, for a read-only file
    in the old layout, temporary views with the new names over the old table)."""
    if temporary:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {MEMBER_KEYS} AS SELECT CAST(row_number() OVER (ORDER BY userid) "
            "AS INTEGER) AS member_key, userid FROM (SELECT DISTINCT userid FROM main.member_days)"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {MEMBER_DAYS_STORE} AS SELECT d.date, k.member_key, d.active, "
            f"d.minutes, d.source FROM main.member_days d JOIN {MEMBER_KEYS} k ON k.userid = d.userid"
        )
        return
    con.execute(f"CREATE TABLE IF NOT EXISTS {MEMBER_KEYS} (member_key INTEGER NOT NULL, userid VARCHAR NOT NULL)")
    con.execute(_store_ddl(MEMBER_DAYS_STORE))
    con.execute(
        f"CREATE VIEW IF NOT EXISTS member_days AS SELECT a.date, k.userid, a.active, a.minutes, a.source "
        f"FROM {MEMBER_DAYS_STORE} a JOIN {MEMBER_KEYS} k ON k.member_key = a.member_key"
    )


def migrate_member_days(con: duckdb.DuckDBPyConnection) -> None:
    """Move a member_days table of the old layout (text userids) to integer member keys, in one
    transaction: the same rows, read through the ``member_days`` view."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE TABLE {MEMBER_KEYS} AS SELECT CAST(row_number() OVER (ORDER BY userid) AS INTEGER) "
            "AS member_key, userid FROM (SELECT DISTINCT userid FROM member_days)"
        )
        con.execute(_store_ddl(MEMBER_DAYS_STORE))
        con.execute(
            f"INSERT INTO {MEMBER_DAYS_STORE} SELECT d.date, k.member_key, d.active, d.minutes, d.source "
            f"FROM member_days d JOIN {MEMBER_KEYS} k ON k.userid = d.userid"
        )
        con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {MEMBER_DAYS_STORE}")
        con.execute("DROP TABLE member_days")
        _member_days_views(con, temporary=False)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


class _MemberKeys:
    """The userid -> member_key dictionary during one load (new userids are added as met)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.known = con.sql(f"SELECT userid FROM {MEMBER_KEYS} ORDER BY member_key").to_arrow_table()["userid"]
        self.known = self.known.combine_chunks().cast(pa.string())

    def encode(self, chunk: pa.Table) -> pa.Table:
        """``chunk`` with its userid column replaced by member_key (key = position in the dictionary + 1)."""
        import pyarrow.compute as pc

        userids = chunk.column("userid").combine_chunks()
        if pa.types.is_dictionary(userids.type):
            userids = userids.dictionary_decode()
        userids = userids.cast(pa.string())
        index = pc.index_in(userids, value_set=self.known)
        if index.null_count:
            new = pc.unique(userids.filter(pc.is_null(index)))
            first = len(self.known) + 1
            self.con.from_arrow(
                pa.table({"member_key": pa.array(np.arange(first, first + len(new), dtype=np.int32)), "userid": new})
            ).insert_into(MEMBER_KEYS)
            self.known = pa.concat_arrays([self.known, new])
            index = pc.index_in(userids, value_set=self.known)
        keys = pc.add(index.cast(pa.int32()), pa.scalar(1, pa.int32()))
        return chunk.set_column(chunk.column_names.index("userid"), "member_key", keys)


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
