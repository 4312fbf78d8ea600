"""One table's rows staged, checked and upserted by natural key, inside a load's transaction.

:meth:`~wecom_eval.store.warehouse.Warehouse.load_many` opens the transaction and runs a
:class:`TableLoad` per table, parents first. Rows are staged with the wide types of their
kinds, checked with :func:`~wecom_eval.store.validate.check_staged`, and then replace the
stored rows with the same key (exact duplicates in one input collapse to one; a null in a
``keep`` column keeps what is stored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.store.activation_pending import note_added, note_first_load, note_replaced
from wecom_eval.store.feature_changes import note_changed_days
from wecom_eval.store.member_days import CHANGED_DAYS, MEMBER_DAYS_STORE, MEMBER_KEYS, MemberKeys
from wecom_eval.store.schema import Table
from wecom_eval.store.validate import ROW, check_staged, coerce_frame

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


class TableLoad:
    """The rows of one table in one load: staged, checked, then upserted (call :meth:`run`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, t: Table, *, source: str, say: Progress, tz: str) -> None:
        self.con, self.t, self.source, self.say, self.tz = con, t, source, say, tz
        self.stage = f"_stage_{t.name}"
        self.keyed = t.name == "member_days"  # stored with integer member keys
        self.target = MEMBER_DAYS_STORE if self.keyed else t.name
        self.key_cols = [("member_key" if k == "userid" else k) for k in t.key] if self.keyed else list(t.key)
        # The stage has the kinds' wide types: ranges are checked before a cast to a narrow storage type.
        self.stage_cols = ", ".join(f"{c.name} {c.stage_type}" for c in t.columns)
        self.stage_select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in t.columns)
        self.select = ", ".join(f"CAST({c.name} AS {c.sql_type})" for c in t.columns)

    def has_rows(self, name: str) -> bool:
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchall()[0][0])

    def run(self, rows: Rows) -> LoadResult:
        """Stage, check and upsert ``rows``; raises :class:`InputError` on any problem."""
        direct = self._stage_rows(rows, direct=not self.has_rows(self.t.name))
        if self.keyed and direct:
            duplicated_keys = self._check_keyed()
        else:
            duplicated_keys = check_staged(
                self.con, self.t, self.stage, source=self.source, target_has_rows=self.has_rows
            )
        result = self._keep_direct(duplicated_keys) if direct else self._upsert(duplicated_keys)
        self.say(str(result))
        return result

    # ---- staging ---------------------------------------------------------------------
    def _stage_rows(self, rows: Rows, *, direct: bool) -> bool:
        """Stage ``rows`` for checking; returns whether the stage is a direct one.

        A direct stage (asked for when the target table is empty) appends Arrow chunks that
        carry no ``_row`` column straight into the target table, inside the load's
        transaction, and the stage is a view over it whose ``_row`` is the insertion
        position (DuckDB numbers a transaction's appended rows consecutively). It saves
        copying tens of millions of rows twice. At the first chunk that cannot go direct (a
        pandas frame, its own ``_row`` column, a null in a required column) the rows
        appended so far move into an ordinary stage, so checks and messages are the same.
        """
        keys = MemberKeys(self.con) if self.keyed and direct else None
        if not direct:
            self._make_stage()
        chunks: Iterable[Chunk] = [rows] if isinstance(rows, (pd.DataFrame, pa.Table)) else rows
        offset = 0
        for chunk in chunks:
            if direct and not self._may_go_direct(chunk):
                self._leave_direct(offset)
                direct = False
            data = self._typed(chunk, offset)
            offset += len(data)
            # A relation, not register(): a registered object stays alive until the transaction ends.
            if direct and keys is not None and isinstance(data, pa.Table):
                rel = self.con.from_arrow(keys.encode(data))
                rel.select(self.select.replace("CAST(userid AS VARCHAR)", "member_key")).insert_into(self.target)
            else:
                rel = self.con.from_arrow(data) if isinstance(data, pa.Table) else self.con.from_df(data)
                if direct:
                    rel.select(self.select).insert_into(self.t.name)
                else:
                    rel.select(f"{self.stage_select}, {ROW}").insert_into(self.stage)
            del rel
            self.say(f"{self.t.name}: staged {offset:,} rows")
        if direct:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.stage} AS {self._direct_rows()}")
        return direct

    def _make_stage(self) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.stage} ({self.stage_cols}, {ROW} BIGINT)")

    def _direct_rows(self) -> str:
        """The rows of a direct stage in load order, with the canonical columns."""
        names = ", ".join(self.t.column_names)
        if self.keyed:
            return (
                f"SELECT {names.replace('userid', 'k.userid')}, a.rowid - (SELECT min(rowid) FROM {self.target}) + 1 "
                f"AS {ROW} FROM {self.target} a JOIN {MEMBER_KEYS} k ON k.member_key = a.member_key"
            )
        return f"SELECT {names}, rowid - (SELECT min(rowid) FROM {self.t.name}) + 1 AS {ROW} FROM {self.t.name}"

    def _leave_direct(self, offset: int) -> None:
        """Move the rows appended so far (``offset`` of them) into an ordinary stage."""
        self._make_stage()
        if offset:
            self.con.execute(f"INSERT INTO {self.stage} SELECT * FROM ({self._direct_rows()}) ORDER BY {ROW}")
            self.con.execute(f"DELETE FROM {self.target}")

    def _may_go_direct(self, chunk: Chunk) -> bool:
        if not isinstance(chunk, pa.Table):
            return False
        required = [c.name for c in self.t.columns if not c.nullable]
        return not (
            ROW in chunk.column_names
            or any(chunk.column(c).null_count for c in required if c in chunk.column_names)
            or not _within_ranges(self.t, chunk)
        )

    def _typed(self, chunk: Chunk, offset: int) -> Chunk:
        """``chunk`` with the table's columns and the ``_row`` numbers (after the ``offset`` rows before it)."""
        if not isinstance(chunk, pa.Table):
            return coerce_frame(self.t, chunk, source=self.source, tz=self.tz, first_row=offset + 1)
        data = (
            chunk
            if ROW in chunk.column_names
            else chunk.append_column(ROW, pa.array(np.arange(offset + 1, offset + chunk.num_rows + 1, dtype=np.int64)))
        )
        for c in self.t.columns:
            if c.omittable and c.name not in data.column_names:
                data = data.append_column(
                    c.name, pa.nulls(data.num_rows, pa.string() if c.kind == "str" else pa.int64())
                )
        missing = [c for c in self.t.column_names if c not in data.column_names]
        if missing:
            raise InputError(
                f"{self.source} → {self.t.name}",
                [Problem(f"{self.source}: column {m}", None, f"a column {m!r}") for m in missing],
            )
        return data

    # ---- checking --------------------------------------------------------------------
    def _check_keyed(self) -> int:
        """:func:`check_staged` for member days appended straight to the stored table.

        The checks run on the member keys, without joining tens of millions of rows back to
        their userids: the keys stand one-to-one for the userids (so duplicate keys are the
        same), and a key is known to ``members`` when its userid is. Only when a check fails
        do they run again on the userids, for messages that name them.
        """
        keys_stage, members_by_key = f"{self.stage}_keys", "_members_by_key"
        cols = ", ".join("member_key AS userid" if c == "userid" else c for c in self.t.column_names)
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {keys_stage} AS SELECT {cols}, rowid - "
            f"(SELECT min(rowid) FROM {MEMBER_DAYS_STORE}) + 1 AS {ROW} FROM {MEMBER_DAYS_STORE}"
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {members_by_key} AS SELECT k.member_key FROM {MEMBER_KEYS} k "
            "WHERE EXISTS (SELECT 1 FROM members m WHERE m.userid = k.userid)"
        )
        refs = tuple(replace(r, target=members_by_key, target_columns=("member_key",)) for r in self.t.references)
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
                replace(self.t, references=refs),
                keys_stage,
                source=self.source,
                colliding=int(colliding),
                target_has_rows=lambda name: self.has_rows("members" if name == members_by_key else name),
            )
        except InputError:
            check_staged(self.con, self.t, self.stage, source=self.source, target_has_rows=self.has_rows)
            raise
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {keys_stage}")
            self.con.execute(f"DROP VIEW IF EXISTS {members_by_key}")

    # ---- upserting -------------------------------------------------------------------
    def _keep_direct(self, duplicated_keys: int) -> LoadResult:
        """The rows are already in the (previously empty) table; exact duplicates collapse to
        the first occurrence (conflicting ones were refused by the checks)."""
        self.con.execute(f"DROP VIEW {self.stage}")
        target = self.target
        if duplicated_keys:
            key = ", ".join(self.key_cols)
            self.con.execute(
                f"DELETE FROM {target} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "
                f"(PARTITION BY {key} ORDER BY rowid) AS n FROM {target}) WHERE n > 1)"
            )
        received = int(self.con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0])
        if self.t.name == "feature_events":
            note_changed_days(self.con, None)  # a first load: the feature uses are built whole
        if self.keyed:
            self.con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {target}")
        note_first_load(self.con, self.t.name)  # activation dates are then worked out for everyone
        return LoadResult(self.t.name, self.source, received, received, 0, 0)

    def _final_stage(self, duplicated_keys: int) -> tuple[str, list[str]]:
        """The stage to upsert from and its columns: duplicates collapsed, member days in keys."""
        stage, cols = self.stage, list(self.t.column_names)
        listed = ", ".join(cols)
        if duplicated_keys:
            # Exact duplicate rows in one input collapse to one (conflicting ones were refused above).
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_u AS SELECT DISTINCT {listed} FROM {stage}")
            self.con.execute(f"DROP TABLE {stage}")
            stage = f"{stage}_u"
        if not self.keyed:
            return stage, cols
        # new userids get the next keys; then the stage speaks in keys like the stored table
        self.con.execute(
            f"INSERT INTO {MEMBER_KEYS} SELECT (SELECT COALESCE(max(member_key), 0) FROM {MEMBER_KEYS}) "
            f"+ row_number() OVER (ORDER BY userid), userid FROM (SELECT DISTINCT userid FROM {stage} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {MEMBER_KEYS} k WHERE k.userid = s.userid))"
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage}_k AS SELECT {listed.replace('userid', 'k.member_key')} "
            f"FROM {stage} s JOIN {MEMBER_KEYS} k ON k.userid = s.userid"
        )
        self.con.execute(f"DROP TABLE {stage}")
        stage = f"{stage}_k"
        self.con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {stage}")
        return stage, [("member_key" if c == "userid" else c) for c in cols]

    def _upsert(self, duplicated_keys: int) -> LoadResult:
        """Replace the stored rows whose key the stage holds, and add the new ones."""
        stage, cols = self._final_stage(duplicated_keys)
        target, key_cols = self.target, self.key_cols
        received = int(self.con.execute(f"SELECT count(*) FROM {stage}").fetchall()[0][0])
        key_match = " AND ".join(f"s.{k} = t.{k}" for k in key_cols)
        if self.keyed:
            # member days are stored in date order: a literal range of the stage's days lets
            # DuckDB skip the blocks of every other day when it looks for rows to replace
            lo, hi = self.con.execute(f"SELECT min(date), max(date) FROM {stage}").fetchall()[0]
            if lo is not None:
                key_match += f" AND t.date BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}'"
        kept = [c.name for c in self.t.columns if c.keep]
        if kept and self.has_rows(target):  # a null from this load keeps what is stored (filled in after loads)
            stage_key = " AND ".join(f"{stage}.{k} = t.{k}" for k in key_cols)
            for c in kept:
                self.con.execute(
                    f"UPDATE {stage} SET {c} = t.{c} FROM {target} t WHERE {stage_key} "
                    f"AND {stage}.{c} IS NULL AND t.{c} IS NOT NULL"
                )
        matched = unchanged = 0
        if self.has_rows(target):
            same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM t.{c}" for c in cols if c not in key_cols)
            matched, unchanged = self.con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {same or 'TRUE'}) FROM {stage} s "
                f"JOIN {target} t ON {key_match}"
            ).fetchall()[0]
            if matched:
                note_replaced(self.con, self.t.name, stage, target, key_match, keyed=self.keyed)
                if self.t.name == "feature_events" and matched > unchanged:
                    note_changed_days(self.con, stage, replaced=True)  # the days of the rows replaced
                self.con.execute(f"DELETE FROM {target} t USING {stage} s WHERE {key_match}")
        if self.t.name == "feature_events":  # the feature uses are refreshed for these days only
            note_changed_days(self.con, stage)
        listed = ", ".join(cols)
        self.con.execute(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {stage}")
        note_added(self.con, self.t.name, stage, keyed=self.keyed)
        self.con.execute(f"DROP TABLE {stage}")
        return LoadResult(
            self.t.name, self.source, received, received - matched, int(matched - unchanged), int(unchanged)
        )


__all__ = ["Chunk", "LoadResult", "Progress", "Rows", "TableLoad"]
