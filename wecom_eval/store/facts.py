"""What the command line checks in the warehouse before a run, read in one short connection.

``wecom-eval check`` and ``wecom-eval run`` need three facts of the loaded data: how many rows
each table holds, the departments (to find the plan's pilots) and the last day of activity (to
bound ``--as-of``). :func:`read_facts` reads them with DuckDB alone, without pandas, NumPy or
the load path, so that a run reaches its worker sooner; the figures are those of
:class:`~wecom_eval.store.warehouse.Warehouse` (``tests/test_store_facts.py``), for files of
the layout before integer member keys too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from wecom_eval.store.schema import LOAD_ORDER


@dataclass(frozen=True)
class WarehouseFacts:
    """Row counts by table (``LOAD_ORDER``), ``(department_id, path)`` pairs, the last day of activity.

    ``exists`` is False (and everything empty) when there is no warehouse file.
    """

    exists: bool
    counts: dict[str, int] = field(default_factory=dict)
    departments: tuple[tuple[int, str], ...] = ()
    last_activity: dt.date | None = None


def read_facts(path: Path) -> WarehouseFacts:
    """The :class:`WarehouseFacts` of the warehouse file at ``path`` (opened read-only)."""
    if not path.exists():
        return WarehouseFacts(exists=False)
    import duckdb

    from wecom_eval.store.engine import duckdb_config
    from wecom_eval.store.member_days import MEMBER_DAYS_STORE, old_member_days

    con = duckdb.connect(str(path), read_only=True, config=duckdb_config(path.parent))
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
        }
        # member_days is a view over member_activity, except in a file of the old layout
        days = "member_days" if old_member_days(con) else MEMBER_DAYS_STORE
        stored = {name: days if name == "member_days" else name for name in LOAD_ORDER}
        counts = {
            name: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) if table in tables else 0
            for name, table in stored.items()
        }
        departments = (
            tuple(con.execute("SELECT department_id, path FROM departments").fetchall())
            if "departments" in tables
            else ()
        )
        last = con.execute(f"SELECT max(date) FROM {days}").fetchall()[0][0] if days in tables else None
    finally:
        con.close()
    return WarehouseFacts(True, counts, departments, last)


__all__ = ["WarehouseFacts", "read_facts"]
