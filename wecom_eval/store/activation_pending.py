"""What the loads since the last activation dating touched: the members whose dates may change.

:func:`~wecom_eval.store.activation.date_activations` redates only these members when it can
(a load of one day's activity touches that day's members, not the year's). Each load of a
table the dating reads writes, in its own transaction, to ``_activation_pending``:

- for the activity tables (member days, feature events, WeCom process records), each member's
  earliest activity day among the rows it adds (``first_on``): activity added can only move
  a first activity earlier;
- the members whose activity it replaced by other activity (an active day made inactive, an
  event moved to another member or day): ``recheck``, their dates are worked out anew;
- ``all``: a load of ``members`` or ``member_status``, or a first load into an empty activity
  table: everyone is redated (the full path).

A warehouse written before this table existed gets an ``all`` row when the table is created,
so that the first dating after the upgrade is a full one, unless its last refresh (the rollups'
build time) came after its last load of these tables: then its dates are current.
"""

from __future__ import annotations

import duckdb

PENDING = "_activation_pending"

# The activity each table records: (the member, the day, which rows count). The same
# definitions as the dating's own (wecom_eval.store.activation.ACTIVATION_BOUNDS).
ACTIVITY = {
    "member_days": ("userid", "date", "active"),
    "feature_events": ("userid", "CAST(ts AS DATE)", "TRUE"),
    "process_records": ("userid", "CAST(started_at AS DATE)", "system = 'wecom'"),
}
# Tables whose loads change whom the dating looks at, or how: everyone is redated.
REDATE_ALL = ("members", "member_status")


def create_pending(con: duckdb.DuckDBPyConnection, *, existed: bool) -> None:
    """The table, in a warehouse just opened for writing; ``existed``: the warehouse had tables."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [PENDING]
    ).fetchall()[0][0]
    if found:
        return
    con.execute(f"CREATE TABLE {PENDING} (userid VARCHAR, first_on DATE, kind VARCHAR NOT NULL)")
    if existed and not _dated_since_last_load(con):
        redate_all(con)


def _dated_since_last_load(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a warehouse written before the table existed was refreshed after its last load.

    The refresh dates activations, then builds the rollups (``kpi_rollup_meta.built_at``); a
    load after it (a fetch interrupted between its batches and its refresh) may be undated.
    """
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"_loads", "kpi_rollup_meta"} <= tables:
        return False
    dated = con.execute(
        "SELECT (SELECT max(built_at) FROM kpi_rollup_meta) >= (SELECT max(loaded_at) FROM _loads WHERE table_name IN "
        f"({', '.join(repr(t) for t in (*ACTIVITY, *REDATE_ALL))}))"
    ).fetchall()[0][0]
    return bool(dated)


def redate_all(con: duckdb.DuckDBPyConnection) -> None:
    """Everyone is redated at the next dating."""
    con.execute(f"INSERT INTO {PENDING} VALUES (NULL, NULL, 'all')")


def note_first_load(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A first load into an empty table the dating reads (the demo's year, a new warehouse): everyone."""
    if table in ACTIVITY or table in REDATE_ALL:
        redate_all(con)


def _activity(table: str, rows: str, *, keyed: bool) -> str:
    """``userid, day`` of the activity among ``rows`` (member days in member keys when ``keyed``)."""
    who, day, counts = ACTIVITY[table]
    if keyed:
        return (
            f"SELECT k.userid, r.{day} AS day FROM {rows} r "
            f"JOIN member_keys k ON k.member_key = r.member_key WHERE r.{counts}"
        )
    return f"SELECT {who} AS userid, {day} AS day FROM {rows} WHERE {counts} AND {who} IS NOT NULL"


def _everyone_pending(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {PENDING} WHERE kind = 'all')").fetchall()[0][0])


def note_replaced(
    con: duckdb.DuckDBPyConnection, table: str, stage: str, target: str, key_match: str, *, keyed: bool
) -> None:
    """Before the rows of ``target`` matching ``stage`` (``key_match`` on ``s`` and ``t``) are replaced:
    the members with activity among them that the new rows do not repeat are rechecked."""
    if table not in ACTIVITY or _everyone_pending(con):
        return
    old = f"(SELECT t.* FROM {target} t JOIN {stage} s ON {key_match})"
    con.execute(
        f"INSERT INTO {PENDING} SELECT DISTINCT userid, NULL, 'recheck' FROM "
        f"({_activity(table, old, keyed=keyed)} EXCEPT {_activity(table, stage, keyed=keyed)})"
    )


def note_added(con: duckdb.DuckDBPyConnection, table: str, stage: str, *, keyed: bool) -> None:
    """After the rows of ``stage`` were added: each member's earliest activity among them."""
    if table in REDATE_ALL:
        redate_all(con)
    elif table in ACTIVITY and not _everyone_pending(con):  # (everyone: nothing to add)
        con.execute(
            f"INSERT INTO {PENDING} SELECT userid, MIN(day), 'added' FROM "
            f"({_activity(table, stage, keyed=keyed)}) GROUP BY userid"
        )


__all__ = [
    "ACTIVITY",
    "PENDING",
    "REDATE_ALL",
    "create_pending",
    "note_added",
    "note_first_load",
    "note_replaced",
    "redate_all",
]
