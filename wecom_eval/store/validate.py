"""Validation of rows bound for a canonical table.

Two steps, so that each rule lives in one place and runs fast at any size:

1. :func:`coerce_frame` turns a pandas frame into the table's column kinds and names every
   value that does not convert (and any missing or unknown column).
2. :func:`check_staged` runs the value rules in SQL on rows staged in DuckDB: required
   values, allowed sets, ranges, time orderings, duplicated keys with conflicting values,
   and references to other tables.

Both raise one :class:`InputError` listing every problem as "source, row N, column C: got
V; expected E". Row N is the frame's index when the caller set it (file readers set the
line number in the file), else the 1-based position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from wecom_eval.errors import InputError, Problem
from wecom_eval.store.schema import Column, Table

DEFAULT_TZ = "Asia/Shanghai"
EXAMPLES_PER_RULE = 5  # enough examples to fix a whole column without drowning the user
ROW = "_row"  # the row number users see, carried through staging


def row_numbers(frame: pd.DataFrame, *, first: int = 1) -> np.ndarray:
    """The row numbers users see: the index if the caller set one (a file's line numbers),
    else consecutive numbers from ``first`` (the position in the whole input)."""
    if isinstance(frame.index, pd.RangeIndex):
        return np.arange(first, first + len(frame), dtype=np.int64)
    return np.asarray(frame.index, dtype=np.int64)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _coerce(column: Column, values: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """The column converted to its kind, and a mask of present values that did not convert."""
    no_bad = pd.Series(False, index=values.index)
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        stripped = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        values = stripped.where(stripped.notna() & stripped.ne(""), None)
    present = values.notna()
    kind = column.kind
    if kind == "str":
        return values.astype("string"), no_bad
    if kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean"), no_bad
        words = {"1": True, "0": False, "true": True, "false": False}
        out = values.map(lambda v: words.get(str(v).lower(), pd.NA) if v is not None else pd.NA)
        return out.astype("boolean"), present & out.isna()
    if kind in ("int", "float"):
        num = pd.to_numeric(values, errors="coerce")
        bad = present & num.isna()
        if kind == "int":
            bad |= num.notna() & (num != np.floor(num.fillna(0)))
            return num.where(~bad).astype("Int64"), bad
        return num.astype("Float64"), bad
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(values):
            dates = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
            return dates.dt.normalize(), no_bad
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        return parsed.dt.normalize(), present & parsed.isna()
    # timestamp: stored timezone-aware; naive values are read in the plan's zone
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:  # a value with an offset ("…+08:00", "…Z") makes the whole column go through UTC
        has_offset = bool(values.map(lambda v: isinstance(v, str) and ("+" in v[10:] or v.endswith("Z"))).any())
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=has_offset)
    bad = present & parsed.isna()
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    else:
        parsed = parsed.dt.tz_convert(tz)
    return parsed, bad


def coerce_frame(
    table: Table, frame: pd.DataFrame, *, source: str, tz: str = DEFAULT_TZ, first_row: int = 1
) -> pd.DataFrame:
    """``frame`` with the table's columns converted to their kinds, plus the ``_row`` column.

    Raises
    ------
    InputError
        For a missing or unknown column, and for every value that is not of its column's
        kind (a date that is not a date, a number that is not a number). Nothing is changed.
    """
    problems: list[Problem] = []
    found = ", ".join(map(str, frame.columns)) or "none"
    omitted = [c.name for c in table.columns if c.omittable and c.name not in frame.columns]
    if omitted:  # columns a load may leave out (added to the schema later): null
        frame = frame.assign(**dict.fromkeys(omitted))
    for name in table.column_names:
        if name not in frame.columns:
            problems.append(
                Problem(
                    f"{source}: column {name}",
                    None,
                    f"a column {name!r} for table {table.name}",
                    f"Columns found: {found}.",
                )
            )
    for name in frame.columns:
        if name not in table.column_names and name != ROW:
            problems.append(
                Problem(
                    f"{source}: column {name}",
                    None,
                    f"only the columns of {table.name}: {', '.join(table.column_names)}",
                    "Remove or rename it.",
                )
            )
    if problems:
        raise InputError(f"{source} → {table.name}", problems)
    rows = frame[ROW].to_numpy() if ROW in frame.columns else row_numbers(frame, first=first_row)
    out: dict[str, object] = {}
    for column in table.columns:
        raw = frame[column.name]
        values, bad = _coerce(column, raw, tz)
        if bad.any():
            positions = np.flatnonzero(bad.to_numpy())
            for p in positions[:EXAMPLES_PER_RULE]:
                problems.append(
                    Problem(
                        f"{source}, row {rows[p]}, column {column.name}", _plain(raw.iloc[p]), f"a {column.kind} value"
                    )
                )
            if len(positions) > EXAMPLES_PER_RULE:
                problems.append(
                    Problem(
                        f"{source}, column {column.name}",
                        f"{len(positions) - EXAMPLES_PER_RULE} more such rows",
                        f"a {column.kind} value",
                    )
                )
        out[column.name] = values.to_numpy() if column.kind in ("date",) else values.array
    if problems:
        raise InputError(f"{source} → {table.name}", problems)
    result = pd.DataFrame(out)
    result[ROW] = rows
    return result


# ---- SQL checks on staged rows -------------------------------------------------------


def _sql_examples(con: duckdb.DuckDBPyConnection, sql: str, limit: int = EXAMPLES_PER_RULE) -> list[tuple[Any, ...]]:
    return con.execute(f"{sql} LIMIT {limit + 1}").fetchall()


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def check_staged(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    stage: str,
    *,
    source: str,
    target_has_rows: Callable[[str], bool],
    colliding: int | None = None,
) -> int:
    """Check rows staged in ``stage`` (the table's columns plus ``_row``) against the rules.

    ``target_has_rows(name)`` says whether a referenced table holds rows; a reference to an
    empty table is not checked (an API pull may come before the roster).

    Returns the number of keys that occur more than once (all of them exact duplicates,
    since conflicting ones are refused), so that the caller can skip de-duplication when
    there are none. ``colliding``, when the caller knows it more cheaply, is the number of
    rows whose key an earlier row already has (0: no duplicate keys).

    Notes
    -----
    Each rule is first counted in one pass over the stage (all rules together); only a
    rule that fails runs its query for examples. Duplicate keys: one pass counts distinct
    64-bit hashes of the key; only when two rows share a hash are the colliding candidates
    grouped by the key itself. That is much cheaper than grouping tens of millions of
    composite keys when, as usual, there are no duplicates.
    """
    problems = _broken_rules(con, table, stage, source)
    if problems:
        raise InputError(f"{source} → {table.name}", problems)
    n_dup, problems = _duplicate_keys(con, table, stage, source, colliding)
    if problems:
        raise InputError(f"{source} → {table.name}", problems)
    problems = _missing_references(con, table, stage, source, target_has_rows)
    if problems:
        raise InputError(f"{source} → {table.name}", problems)
    return n_dup


def _examples(rows: list[tuple[Any, ...]], *, source: str, column: str, expected: str, fix: str = "") -> list[Problem]:
    """Problems for the example rows of one broken rule (``(row, value)`` pairs), and a line for the rest."""
    problems = [
        Problem(f"{source}, row {row_no}, column {column}", _plain(value), expected, fix)
        for row_no, value in rows[:EXAMPLES_PER_RULE]
    ]
    if len(rows) > EXAMPLES_PER_RULE:
        problems.append(Problem(f"{source}, column {column}", "more such rows", expected, fix))
    return problems


def _value_rules(table: Table, stage: str) -> list[tuple[str, str, str, str, str]]:
    """(condition that marks a bad row, example query, column, expected, fix) per value rule."""
    rules: list[tuple[str, str, str, str, str]] = []

    def rule(cond: str, shown: str, column: str, expected: str, fix: str = "") -> None:
        rules.append((cond, f"SELECT {ROW}, {shown} FROM {stage} WHERE {cond} ORDER BY {ROW}", column, expected, fix))

    for c in table.columns:
        if not c.nullable:
            rule(f"{c.name} IS NULL", "NULL", c.name, "a value (this column is required)")
        if c.allowed is not None:
            allowed = ", ".join(_quote(a) if isinstance(a, str) else str(a) for a in c.allowed)
            rule(
                f"{c.name} IS NOT NULL AND {c.name} NOT IN ({allowed})",
                c.name,
                c.name,
                f"one of {', '.join(map(str, c.allowed))}",
            )
        if c.min is not None or c.max is not None:
            conds = [f"{c.name} < {c.min}"] if c.min is not None else []
            conds += [f"{c.name} > {c.max}"] if c.max is not None else []
            rule(" OR ".join(conds), c.name, c.name, f"a value from {c.min} to {c.max}")
    for o in table.orderings:
        rule(
            f"{o.later} < {o.earlier}",
            f"CAST({o.later} AS VARCHAR)",
            o.later,
            f"a time not before {o.earlier}",
            "Check that the two columns are not swapped.",
        )
    return rules


def _broken_rules(con: duckdb.DuckDBPyConnection, table: Table, stage: str, source: str) -> list[Problem]:
    """Every value rule counted in one pass; examples of the rules that fail."""
    rules = _value_rules(table, stage)
    if not rules:
        return []
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {r[0]})" for r in rules) + f" FROM {stage}"
    ).fetchall()[0]
    problems: list[Problem] = []
    for (_cond, example, column, expected, fix), failed in zip(rules, counts, strict=True):
        if failed:
            problems += _examples(_sql_examples(con, example), source=source, column=column, expected=expected, fix=fix)
    return problems


def _duplicate_keys(
    con: duckdb.DuckDBPyConnection, table: Table, stage: str, source: str, colliding: int | None
) -> tuple[int, list[Problem]]:
    """The number of keys staged more than once, and the keys among them with conflicting values."""
    key = ", ".join(table.key)
    dupkeys = f"{stage}_dupkeys"
    # No two rows share a key hash (the usual case, one cheap pass): no key is duplicated.
    if colliding is None:
        # grouped rather than count(DISTINCT …): a grouped aggregate spills to disk beyond the
        # memory limit (tens of millions of keys at a million employees)
        colliding = int(
            con.execute(
                f"SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {stage} GROUP BY hash({key}))"
            ).fetchall()[0][0]
        )
    if not colliding:
        return 0, []
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {dupkeys} AS "
        f"WITH h AS (SELECT hash({key}) AS h FROM {stage} GROUP BY 1 HAVING count(*) > 1) "
        f"SELECT {key} FROM {stage} WHERE hash({key}) IN (SELECT h FROM h) GROUP BY {key} HAVING count(*) > 1"
    )
    n_dup = int(con.execute(f"SELECT count(*) FROM {dupkeys}").fetchall()[0][0])
    problems = []
    if n_dup:
        others = [c for c in table.column_names if c not in table.key]
        distinct = f"count(DISTINCT ({', '.join(others)}))" if others else "1"
        conflicts = _sql_examples(
            con,
            f"SELECT {key}, list({ROW} ORDER BY {ROW}) FROM {stage} SEMI JOIN {dupkeys} USING ({key}) "
            f"GROUP BY {key} HAVING count(*) > 1 AND {distinct} > 1 ORDER BY min({ROW})",
        )
        for found in conflicts[:EXAMPLES_PER_RULE]:
            *key_values, rows = found
            shown = ", ".join(f"{k}={_plain(v)}" for k, v in zip(table.key, key_values, strict=True))
            problems.append(
                Problem(
                    f"{source}, rows {', '.join(map(str, rows[:5]))}",
                    shown,
                    f"one set of values per key ({key})",
                    "Keep one of the conflicting rows, or export the file again.",
                )
            )
    con.execute(f"DROP TABLE {dupkeys}")
    return n_dup, problems


def _missing_references(
    con: duckdb.DuckDBPyConnection, table: Table, stage: str, source: str, target_has_rows: Callable[[str], bool]
) -> list[Problem]:
    """Values that refer to rows the referenced (non-empty) table does not hold."""
    problems: list[Problem] = []
    for ref in table.references:
        if not target_has_rows(ref.target):
            continue
        cols = ref.columns
        join = " AND ".join(f"s.{a} = t.{b}" for a, b in zip(cols, ref.target_columns, strict=True))
        present = " AND ".join(f"s.{a} IS NOT NULL" for a in cols)
        # a cheap pass over the distinct values first; examples only when something is missing
        missing = con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(cols)} FROM {stage}) s "
            f"WHERE {present} AND NOT EXISTS (SELECT 1 FROM {ref.target} t WHERE {join})"
        ).fetchall()[0]
        if not missing[0]:
            continue
        shown = " || '/' || ".join(f"CAST(s.{a} AS VARCHAR)" for a in cols)
        rows = _sql_examples(
            con,
            f"SELECT min(s.{ROW}), {shown} AS v FROM {stage} s "
            f"WHERE {present} AND NOT EXISTS (SELECT 1 FROM {ref.target} t WHERE {join}) "
            f"GROUP BY v ORDER BY 1",
        )
        problems += _examples(
            rows,
            source=source,
            column="/".join(cols),
            expected=f"a value that exists in {ref.target}.{'/'.join(ref.target_columns)}",
            fix=f"Load {ref.target} first, or correct the value.",
        )
    return problems
