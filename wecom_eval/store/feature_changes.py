"""The days each load of feature events touches, for the incremental refresh of the feature uses.

A module of its own below the warehouse: the upsert of a load records the days
(:func:`note_changed_days`) and :mod:`wecom_eval.store.feature_uses` reads and clears them.
"""

from __future__ import annotations

import duckdb

CHANGED = "_feature_events_changed"  # days of feature events loaded or replaced since the last refresh


def note_changed_days(con: duckdb.DuckDBPyConnection, stage: str | None, *, replaced: bool = False) -> None:
    """Record the days a load of feature events touches, inside the load's transaction: the
    days of the staged rows, or (``replaced``) of the stored rows they replace; ``stage=None``:
    every day (a first load, the table is then built whole)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHANGED} (date DATE)")
    if stage is None:
        con.execute(f"INSERT INTO {CHANGED} VALUES (NULL)")
    elif replaced:
        con.execute(
            f"INSERT INTO {CHANGED} SELECT DISTINCT CAST(t.ts AS DATE) FROM feature_events t "
            f"WHERE t.event_id IN (SELECT event_id FROM {stage})"
        )
    else:
        con.execute(f"INSERT INTO {CHANGED} SELECT DISTINCT CAST(ts AS DATE) FROM {stage}")


__all__ = ["CHANGED", "note_changed_days"]
