"""Per-report memory of department figures by as-of date, for read-only warehouses.

A report opens its warehouse read-only and keeps it open: its data cannot change meanwhile.
The forecast history, the alerts (at three levels), progress, the leaderboard and the targets
ask for the same department figures at (largely) the same as-of dates; :func:`by_date` keeps
what was computed per connection and key, and computes only the dates not asked before. A
writable connection is never cached (its data may change between two calls).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Hashable, Sequence

import duckdb
import pandas as pd

from wecom_eval.store.sql import one

_held: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[Hashable, pd.DataFrame]] = weakref.WeakKeyDictionary()


def read_only(con: duckdb.DuckDBPyConnection) -> bool:
    return str(one(con, "SELECT current_setting('access_mode')")[0]).lower() == "read_only"


def by_date(
    con: duckdb.DuckDBPyConnection,
    key: Hashable,
    dates: Sequence[dt.date],
    compute: Callable[[list[dt.date]], pd.DataFrame],
    *,
    column: str = "data_through",
    along: Callable[[], Sequence[dt.date]] | None = None,
) -> pd.DataFrame:
    """The rows of ``dates`` (by ``column``): ``compute(missing dates)`` for those not kept yet.

    When some are missing, the dates ``along()`` names that are not kept yet are computed with
    them (dates a report is expected to ask for next, when one computation answers many dates
    for about the cost of one); ``along`` is called only then."""
    wanted = sorted(set(dates))
    if not read_only(con):
        return compute(wanted)
    held = _held.setdefault(con, {})
    known = held.get(key)
    have: set[dt.date] = set() if known is None else set(known.attrs["dates"])
    missing = [d for d in wanted if d not in have]
    if missing:
        if along is not None:
            missing = sorted(set(missing) | {d for d in along() if d not in have})
        fresh = compute(missing)
        known = fresh if known is None else pd.concat([known, fresh], ignore_index=True)
        known.attrs["dates"] = sorted(have | set(missing))
        held[key] = known
    assert known is not None
    return known.loc[known[column].isin(set(wanted))].reset_index(drop=True)


__all__ = ["by_date", "read_only"]
