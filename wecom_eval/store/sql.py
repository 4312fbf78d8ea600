"""Small DuckDB helpers the store and the KPIs share: a warehouse or its connection, one-row
queries, and the ``kpi_calendar`` relation their SQL reads.

``kpi_calendar(date, is_working, week, week_start)`` has one row per day of a range: China's
working days (:class:`~wecom_eval.workcal.WorkCalendar`) and rollout weeks. Keeping week
numbers and working days in a relation, rather than in engine-specific date functions, keeps
the SQL portable (DESIGN §11).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeAlias

import duckdb
import numpy as np
import pandas as pd

from wecom_eval.store.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar

Source: TypeAlias = Warehouse | duckdb.DuckDBPyConnection


def connection(source: Source) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of a :class:`Warehouse` (or the connection itself)."""
    if isinstance(source, Warehouse):
        return source.con
    if isinstance(source, duckdb.DuckDBPyConnection):
        return source
    raise TypeError(f"expected a Warehouse or a DuckDB connection, got {type(source).__name__}")


def settle(con: duckdb.DuckDBPyConnection) -> None:
    """Finish a half-read result left on the connection (a caller's ``fetchone()``).

    DuckDB 2 refuses any other work on a connection while a result of ``execute()`` is not
    read to its end; the KPIs only ever read their own results fully.
    """
    complete = getattr(con, "complete", None)
    if complete is not None:
        complete()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...]:
    """The single row of a query, fully fetched (DuckDB 2 keeps a half-read result open)."""
    settle(con)
    rows = con.execute(sql, list(params or [])).fetchall()
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)} from: {sql}")
    return tuple(rows[0])


def calendar_frame(cal: WorkCalendar, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``kpi_calendar`` for ``start``..``end``: date, is_working, rollout week, week_start."""
    days = pd.date_range(start, end, freq="D")
    plan = cal.plan
    offset = (days - pd.Timestamp(plan.start_date)).days.to_numpy()
    week = offset // 7 + 1
    week_start = pd.Timestamp(plan.start_date) + pd.to_timedelta((week - 1) * 7, unit="D")
    return pd.DataFrame(
        {
            "date": days.date,
            "is_working": cal.working_day_mask(days.date),
            "week": week.astype(np.int32),
            "week_start": week_start.date,
        }
    )


__all__ = ["Source", "calendar_frame", "connection", "one", "settle"]
