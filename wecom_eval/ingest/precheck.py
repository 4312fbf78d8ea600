"""Every file of an ingest checked with the warehouse's own rules before anything is written.

The canonical rows of each file are staged in a scratch DuckDB holding the keys they refer
to (the warehouse's plus this ingest's) and checked with
:func:`~wecom_eval.store.validate.check_staged`, so references, ranges, orderings and
conflicting duplicate keys are reported per file and line; keys repeated across the files
with different values are reported too.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.ingest.readfile import FileReport, Parts, translate
from wecom_eval.store.engine import duckdb_config
from wecom_eval.store.schema import LOAD_ORDER, TABLES, Table
from wecom_eval.store.sql import settle
from wecom_eval.store.validate import ROW, check_staged
from wecom_eval.store.warehouse import Warehouse


class _Scratch:
    """A DuckDB of its own holding the keys references point at: the warehouse's plus this ingest's.

    Each file's rows are staged here whole (spilling to disk beyond the memory limit) to be
    checked with the warehouse's rules, then dropped.
    """

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.con = duckdb.connect(config=duckdb_config(wh.path.parent))
        self.con.execute(f"SET TimeZone = '{wh.tz}'")
        self._targets: set[str] = set()

    def _insert(self, target: str, parts: Sequence[pa.Table], select: str) -> None:
        for part in parts:
            rel = self.con.from_arrow(part)
            rel.select(select).insert_into(target)
            del rel

    def prepare(self, files: Sequence[Parts]) -> None:
        targets = {ref.target for name in {n for f in files for n in f} for ref in TABLES[name].references}
        for target in targets:
            cols = sorted(
                {
                    c
                    for name in TABLES
                    for ref in TABLES[name].references
                    if ref.target == target
                    for c in ref.target_columns
                }
            )
            t = TABLES[target]
            select = ", ".join(cols)
            settle(self.wh.con)  # a count's fetchone() may have left its result open
            existing = self.wh.con.sql(f"SELECT {select} FROM {target}").to_arrow_table()
            self.con.register("_existing", existing)
            typed = ", ".join(f"CAST({c} AS {t.column(c).sql_type}) AS {c}" for c in cols)
            self.con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed} FROM _existing")
            self.con.unregister("_existing")
            for f in files:
                self._insert(target, f.get(target, []), typed)
            self._targets.add(target)

    def has_rows(self, name: str) -> bool:
        if name not in self._targets:
            return False
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0])  # type: ignore[index]

    def _stage(self, table: Table, stage: str, parts: Sequence[pa.Table], extra: str = "") -> None:
        # Wide stage types: a range is checked before anything is cast to a narrow storage type.
        cols = ", ".join(f"{c.name} {c.stage_type}" for c in table.columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} ({cols}, {ROW} BIGINT{extra})")
        select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in table.columns)
        self._insert(stage, parts, f"{select}, {ROW}")

    def check(self, table: Table, parts: Sequence[pa.Table], source: str) -> None:
        """The warehouse's rules on one file's rows (raises :class:`InputError`)."""
        stage = f"_stage_{table.name}"
        self._stage(table, stage, parts)
        try:
            check_staged(self.con, table, stage, source=source, target_has_rows=self.has_rows)
        finally:
            self.con.execute(f"DROP TABLE {stage}")

    def cross_file_conflicts(self, table: Table, files: Sequence[tuple[str, Sequence[pa.Table]]]) -> list[Problem]:
        """Keys that two files give different values for."""
        if len(files) < 2:
            return []
        key = ", ".join(table.key)
        cols = ", ".join(f"{c.name} {c.stage_type}" for c in table.columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _all ({cols}, {ROW} BIGINT, _source VARCHAR)")
        select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in table.columns)
        for source, parts in files:
            self._insert("_all", parts, f"{select}, {ROW}, {_quote(source)}")
        others = [c for c in table.column_names if c not in table.key]
        distinct = f"count(DISTINCT ({', '.join(others)}))" if others else "1"
        rows = self.con.execute(
            f"SELECT {key}, list(DISTINCT _source || ' row ' || CAST({ROW} AS VARCHAR)) FROM _all GROUP BY {key} "
            f"HAVING count(DISTINCT _source) > 1 AND {distinct} > 1 LIMIT 6"
        ).fetchall()
        self.con.execute("DROP TABLE _all")
        problems = []
        for *values, where in rows[:5]:
            shown = ", ".join(f"{k}={v}" for k, v in zip(table.key, values, strict=True))
            problems.append(
                Problem(
                    "; ".join(sorted(where)[:4]),
                    shown,
                    f"one set of values per key ({key}) across the files",
                    "Ingest the files one at a time (the later one wins), or keep one of them.",
                )
            )
        return problems

    def close(self) -> None:
        self.con.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_all(wh: Warehouse, per_file: list[tuple[FileReport, Parts]], *, references: bool) -> list[Problem]:
    """The warehouse's rules on every file that parsed cleanly, then across the files.

    With ``references=False`` (some other file was refused) reference problems are left
    out: the rows they miss may be in the refused file.
    """
    scratch = _Scratch(wh)
    try:
        scratch.prepare([parts for _r, parts in per_file])
        problems: list[Problem] = []
        for report, parts in per_file:
            for name in LOAD_ORDER:
                if name not in parts:
                    continue
                try:
                    scratch.check(TABLES[name], parts[name], str(report.path))
                except InputError as exc:
                    problems += translate(exc.problems, report.columns)
        if not problems:
            for name in LOAD_ORDER:
                files = [(str(r.path), parts[name]) for r, parts in per_file if name in parts]
                problems += scratch.cross_file_conflicts(TABLES[name], files)
    finally:
        scratch.close()
    if not references:
        problems = [p for p in problems if not p.expected.startswith("a value that exists in")]
    return problems


__all__ = ["check_all"]
