"""member_days stored with integer member keys, behind a view with the canonical columns.

The fold over tens of millions of member-days joins on integers instead of text: the rows are
stored in ``member_activity`` with a ``member_key``; ``member_keys`` maps userids to keys (1,
2, 3, … in order of first load); the view ``member_days`` shows the canonical columns. Loads go
through :meth:`~wecom_eval.store.warehouse.Warehouse.load` as for every table. A warehouse
written before the keys existed is migrated in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from wecom_eval.store.schema import TABLES

if TYPE_CHECKING:
    import pyarrow as pa

MEMBER_DAYS_STORE = "member_activity"
MEMBER_KEYS = "member_keys"  # userid <-> member_key (1, 2, 3, … in order of first load)
CHANGED_DAYS = "_member_days_changed"  # days whose member-day rows changed since the rollups were refreshed


def store_ddl(name: str) -> str:
    """member_days' columns with ``member_key INTEGER`` in place of the userid."""
    cols = ", ".join(
        f"{'member_key INTEGER' if c.name == 'userid' else c.name + ' ' + c.sql_type}"
        f"{'' if c.nullable else ' NOT NULL'}"
        for c in TABLES["member_days"].columns
    )
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


def old_member_days(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds member_days as a plain table (the layout before integer keys)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name = 'member_days' AND table_type = 'BASE TABLE'"
        ).fetchall()[0][0]
    )


def member_days_views(con: duckdb.DuckDBPyConnection, *, temporary: bool) -> None:
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
    con.execute(store_ddl(MEMBER_DAYS_STORE))
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
        con.execute(store_ddl(MEMBER_DAYS_STORE))
        con.execute(
            f"INSERT INTO {MEMBER_DAYS_STORE} SELECT d.date, k.member_key, d.active, d.minutes, d.source "
            f"FROM member_days d JOIN {MEMBER_KEYS} k ON k.userid = d.userid"
        )
        con.execute(f"INSERT INTO {CHANGED_DAYS} SELECT DISTINCT date FROM {MEMBER_DAYS_STORE}")
        con.execute("DROP TABLE member_days")
        member_days_views(con, temporary=False)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


class MemberKeys:
    """The userid -> member_key dictionary during one load (new userids are added as met)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa  # here, not at the top: the command line's checks read the layout without it

        self.con = con
        self.known = con.sql(f"SELECT userid FROM {MEMBER_KEYS} ORDER BY member_key").to_arrow_table()["userid"]
        self.known = self.known.combine_chunks().cast(pa.string())

    def encode(self, chunk: pa.Table) -> pa.Table:
        """``chunk`` with its userid column replaced by member_key (key = position in the dictionary + 1)."""
        import numpy as np
        import pyarrow as pa
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


__all__ = [
    "CHANGED_DAYS",
    "MEMBER_DAYS_STORE",
    "MEMBER_KEYS",
    "MemberKeys",
    "member_days_views",
    "migrate_member_days",
    "old_member_days",
]
