"""Pre-folded feature uses: which days each member used each feature, 64 days to a word.

Feature penetration asks, for a person, a feature and an as-of date, whether one use falls in
the trailing window. Over the raw events (113 million rows for a year of 1,000,000 employees)
that is a join of every event with the dates whose window holds it. The store folds the
events once, after each load, into

``feature_uses``
    ``userid, feature, word, days`` — ``word`` is the absolute day number (days since
    1970-01-01, the day of ``ts`` in the warehouse's time zone) divided by 64, rounded down,
    and ``days`` a ``UBIGINT`` with bit *i* set when the member used the feature on day
    ``64 · word + i``. At most members × features × 6 rows for a year, whatever the number
    of events per day;
``feature_uses_meta``
    what the table was built from: a fingerprint of the feature events' loads and of the
    time zone (:func:`fingerprint`), and the one of the time zone alone (what an incremental
    refresh keeps).

Every load of feature events records the days it touched, both of the new rows and of the
rows they replace (``_feature_events_changed``; a load into an empty table records "all").
When only those days changed, :func:`refresh_feature_uses` clears their bits and sets them
again from the events of those days alone; otherwise it rebuilds the table a word at a time.
Both give the same table (``tests/test_store_feature_uses.py``).

Readers use the table only when its fingerprint matches (:func:`feature_uses_fresh`) and
otherwise read the raw events with the same definition (:mod:`wecom_eval.kpis.penetration`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb

from wecom_eval.store.feature_changes import CHANGED
from wecom_eval.store.sql import Source, connection, one

TABLE = "feature_uses"
META_TABLE = "feature_uses_meta"
VERSION = 1  # bump when the table's meaning changes
EPOCH = dt.date(1970, 1, 1)
WORD_DAYS = 64

# The day number of an event (days since 1970-01-01 in the session's time zone), its word and bit.
_DAY = f"(CAST(ts AS DATE) - DATE '{EPOCH.isoformat()}')"
_WORD = f"CAST(floor({_DAY} / {WORD_DAYS}) AS INTEGER)"
_BIT = f"(CAST(1 AS UBIGINT) << CAST({_DAY} - {WORD_DAYS} * {_WORD} AS INTEGER))"
FOLD = f"""
SELECT userid, feature, {_WORD} AS word, BIT_OR({_BIT}) AS days
FROM feature_events
WHERE ts >= CAST($day_from AS TIMESTAMPTZ) AND ts < CAST($day_to AS TIMESTAMPTZ) {{only}}
GROUP BY userid, feature, word
"""


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (the numbering of ``word``)."""
    return (day - EPOCH).days


def word_first_day(word: int) -> dt.date:
    return EPOCH + dt.timedelta(days=WORD_DAYS * word)


@dataclass(frozen=True)
class FeatureUsesInfo:
    """What :func:`refresh_feature_uses` built (or found)."""

    fingerprint: str
    rows: int
    fresh: bool
    refreshed_days: int | None = None  # days recomputed by an incremental refresh (None: a full build)


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(one(con, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [name])[0])


def _digest(parts: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def base_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the table depends on besides the events: its version and the session's time zone."""
    return _digest({"version": VERSION, "timezone": str(one(con, "SELECT current_setting('TimeZone')")[0])})


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of the feature events' row count, their loads and :func:`base_fingerprint`."""
    parts: dict[str, object] = {"base": base_fingerprint(con)}
    parts["rows"] = int(one(con, "SELECT COUNT(*) FROM feature_events")[0])
    if _exists(con, "_loads"):
        n, last = one(
            con, "SELECT COUNT(*), CAST(MAX(loaded_at) AS VARCHAR) FROM _loads WHERE table_name = 'feature_events'"
        )
        parts["loads"] = [int(n), last]
    return _digest(parts)


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[str, str, int] | None:
    if not _exists(con, META_TABLE) or not _exists(con, TABLE):
        return None
    rows = con.execute(f"SELECT fingerprint, base_fingerprint, rows FROM {META_TABLE}").fetchall()
    return (str(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if len(rows) == 1 else None


def feature_uses_info(source: Source) -> FeatureUsesInfo | None:
    """The table in the warehouse and whether it is fresh, or None when there is none."""
    con = connection(source)
    stored = _stored(con)
    if stored is None:
        return None
    return FeatureUsesInfo(stored[0], stored[2], fresh=stored[0] == fingerprint(con))


def feature_uses_fresh(source: Source) -> bool:
    """Whether readers may use ``feature_uses`` (it exists and matches the loaded events)."""
    info = feature_uses_info(source)
    return info is not None and info.fresh


def _changed_days(con: duckdb.DuckDBPyConnection) -> list[dt.date] | None:
    """The days recorded since the last refresh, or None when a load recorded "all"."""
    if not _exists(con, CHANGED):
        return []
    rows = con.execute(f"SELECT DISTINCT date FROM {CHANGED}").fetchall()
    if any(r[0] is None for r in rows):
        return None
    return sorted(r[0] for r in rows)


def refresh_feature_uses(source: Source, *, force: bool = False) -> FeatureUsesInfo:
    """Build ``feature_uses`` from the loaded feature events, or bring it up to date.

    Needs a writable warehouse. Does nothing when the table is fresh, unless ``force``.
    When only feature events were loaded since the last refresh and their days were
    recorded, only those days' bits are recomputed; otherwise the table is rebuilt. Either
    way in one transaction.
    """
    con = connection(source)
    stored = None if force else _stored(con)
    fp, base = fingerprint(con), base_fingerprint(con)
    if stored is not None and stored[0] == fp:
        return FeatureUsesInfo(fp, stored[2], fresh=True)
    days = _changed_days(con) if stored is not None and stored[1] == base else None
    con.execute("BEGIN TRANSACTION")
    try:
        if days is None:
            _build(con)
        elif days:
            _refresh_days(con, days)
        rows = int(one(con, f"SELECT COUNT(*) FROM {TABLE}")[0])
        con.execute(
            f"CREATE OR REPLACE TABLE {META_TABLE} (fingerprint VARCHAR, base_fingerprint VARCHAR, rows BIGINT, "
            "built_at TIMESTAMPTZ)"
        )
        con.execute(f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, now())", [fp, base, rows])
        con.execute(f"CREATE TABLE IF NOT EXISTS {CHANGED} (date DATE)")
        con.execute(f"DELETE FROM {CHANGED}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return FeatureUsesInfo(fp, rows, fresh=True, refreshed_days=None if days is None else len(days))


def _build(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the table by a fold of every event, one word (64 days) of events at a time, so
    that the fold's groups stay those of one word (events are stored roughly in time order)."""
    con.execute(f"DROP TABLE IF EXISTS {TABLE}")
    con.execute(
        f"CREATE TABLE {TABLE} (userid VARCHAR NOT NULL, feature VARCHAR NOT NULL, word INTEGER NOT NULL, "
        "days UBIGINT NOT NULL)"
    )
    first, last = one(con, "SELECT MIN(CAST(ts AS DATE)), MAX(CAST(ts AS DATE)) FROM feature_events")
    if first is None:
        return
    sql = f"INSERT INTO {TABLE} SELECT * FROM ({FOLD.format(only='')}) x ORDER BY userid, feature"
    for word in range(day_number(first) // WORD_DAYS, day_number(last) // WORD_DAYS + 1):
        con.execute(sql, {"day_from": word_first_day(word), "day_to": word_first_day(word + 1)})


def _refresh_days(con: duckdb.DuckDBPyConnection, days: list[dt.date]) -> None:
    """Clear the bits of ``days`` and set them again from the events of those days alone."""
    clear: dict[int, int] = {}
    for day in days:
        n = day_number(day)
        clear[n // WORD_DAYS] = clear.get(n // WORD_DAYS, 0) | (1 << (n % WORD_DAYS))
    con.execute("CREATE OR REPLACE TEMP TABLE _fu_days (date DATE)")
    con.executemany("INSERT INTO _fu_days VALUES (?)", [[d] for d in days])
    con.execute("CREATE OR REPLACE TEMP TABLE _fu_clear (word INTEGER, clear UBIGINT)")
    con.executemany("INSERT INTO _fu_clear VALUES (?, ?)", [[w, m] for w, m in sorted(clear.items())])
    try:
        fold = FOLD.format(only="AND CAST(ts AS DATE) IN (SELECT date FROM _fu_days)")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _fu_new AS {fold}",
            {"day_from": days[0], "day_to": days[-1] + dt.timedelta(days=1)},
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _fu_merged AS "
            "SELECT COALESCE(o.userid, n.userid) AS userid, COALESCE(o.feature, n.feature) AS feature, "
            "COALESCE(o.word, n.word) AS word, (COALESCE(o.days, 0) & ~c.clear) | COALESCE(n.days, 0) AS days "
            # the stored rows with a bit on a changed day or a use on one now
            f"FROM (SELECT u.* FROM {TABLE} u JOIN _fu_clear c ON c.word = u.word LEFT JOIN _fu_new n "
            "ON n.userid = u.userid AND n.feature = u.feature AND n.word = u.word "
            "WHERE u.days & c.clear <> 0 OR n.userid IS NOT NULL) o "
            "FULL JOIN _fu_new n ON n.userid = o.userid AND n.feature = o.feature AND n.word = o.word "
            "JOIN _fu_clear c ON c.word = COALESCE(o.word, n.word)"
        )
        con.execute(
            f"DELETE FROM {TABLE} u USING _fu_merged m "
            "WHERE u.userid = m.userid AND u.feature = m.feature AND u.word = m.word"
        )
        con.execute(f"INSERT INTO {TABLE} SELECT userid, feature, word, days FROM _fu_merged WHERE days <> 0")
    finally:
        for name in ("_fu_days", "_fu_clear", "_fu_new", "_fu_merged"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def feature_ranges(source: Source) -> dict[str, tuple[dt.date, dt.date]]:
    """Each feature with uses: its first and last day, read from the table (it must be fresh)."""
    con = connection(source)
    rows = con.execute(
        f"SELECT u.feature, u.word, BIT_OR(u.days) FROM {TABLE} u JOIN (SELECT feature, MIN(word) AS lo, "
        f"MAX(word) AS hi FROM {TABLE} GROUP BY feature) e ON e.feature = u.feature AND u.word IN (e.lo, e.hi) "
        "GROUP BY u.feature, u.word"
    ).fetchall()
    out: dict[str, tuple[dt.date, dt.date]] = {}
    for feature, word, days in sorted(rows):
        first = word_first_day(int(word))
        lo = first + dt.timedelta(days=(int(days) & -int(days)).bit_length() - 1)
        hi = first + dt.timedelta(days=int(days).bit_length() - 1)
        a, b = out.get(str(feature), (lo, hi))
        out[str(feature)] = (min(a, lo), max(b, hi))
    return out


def first_use_day(source: Source, userids_sql: str, params: dict[str, object]) -> dt.date | None:
    """The first day any of the members ``userids_sql`` selects used a feature (None: never);
    the table must be fresh."""
    con = connection(source)
    lowest = "(bit_count(xor(days, days - CAST(1 AS UBIGINT))) - 1)"  # the lowest set bit (days is never 0)
    used = {k: v for k, v in params.items() if f"${k}" in userids_sql}
    sql = f"SELECT MIN({WORD_DAYS} * CAST(word AS BIGINT) + {lowest}) FROM {TABLE} WHERE userid IN ({userids_sql})"
    row = con.execute(sql, used).fetchall()[0]
    return None if row[0] is None else EPOCH + dt.timedelta(days=int(row[0]))


def drop_feature_uses(source: Source) -> None:
    """Remove the table (readers then read the raw events)."""
    con = connection(source)
    for name in (TABLE, META_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {name}")


__all__ = [
    "FeatureUsesInfo",
    "drop_feature_uses",
    "feature_ranges",
    "feature_uses_fresh",
    "feature_uses_info",
    "fingerprint",
    "first_use_day",
    "refresh_feature_uses",
]
