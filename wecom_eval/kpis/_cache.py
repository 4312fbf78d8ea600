"""Per-report memory of department figures by as-of date, for read-only warehouses.

A report opens its warehouse read-only and keeps it open: its data cannot change meanwhile.
The forecast history, the alerts (at three levels), progress, the leaderboard and the targets
ask for the same department figures at (largely) the same as-of dates; :func:`by_date` keeps
what was computed per connection and key, and computes only the dates not asked before.
:func:`memo` keeps any other result (the department list, whether the pre-folded tables are
fresh, a whole progress table) once per connection and key. A writable connection is never
cached (its data may change between two calls).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

import duckdb
import pandas as pd

from wecom_eval.store import feature_uses
from wecom_eval.store.sql import one
from wecom_eval.workcal import WorkCalendar

T = TypeVar("T")
_held: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[Hashable, pd.DataFrame]] = weakref.WeakKeyDictionary()
_memos: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[Hashable, tuple[tuple[Any, ...], Any]]] = (
    weakref.WeakKeyDictionary()
)
_modes: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, bool] = weakref.WeakKeyDictionary()


def read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` was opened read-only (fixed when it is opened, so asked once)."""
    mode = _modes.get(con)
    if mode is None:
        mode = _modes[con] = str(one(con, "SELECT current_setting('access_mode')")[0]).lower() == "read_only"
    return mode


def memo(
    con: duckdb.DuckDBPyConnection,
    key: Hashable,
    compute: Callable[[], T],
    *,
    owners: Sequence[Any] = (),
    cal: WorkCalendar | None = None,
) -> T:
    """``compute()`` once per read-only connection and ``key`` (every call on a writable one).

    ``owners`` are the objects the result depends on besides the data (the plan): compared by
    identity, kept alive with the result. ``cal``, the calendar the computation reads, is one
    more owner unless it is a plain :class:`WorkCalendar` of an owner that has not fallen back
    to Monday–Friday yet (those all answer alike, notes included); the years a computation
    falls back for are recorded and marked again on every calendar a kept result is handed
    to, as the computation would. A data frame is handed out as a copy, so that a caller
    changing it changes no later caller's."""
    if not read_only(con):
        return compute()
    plain = cal is None or (type(cal) is WorkCalendar and any(cal.plan is o for o in owners) and not cal.fallback_years)
    owned = (*owners, *(() if plain else (cal,)))
    held = _memos.setdefault(con, {})
    full = (key, *(id(o) for o in owned))
    hit = held.get(full)
    if hit is None or any(a is not b for a, b in zip(hit[0], owned, strict=True)):
        hit = held[full] = (owned, _recorded(compute, cal))
    value, fallback_years = hit[1]
    if cal is not None:
        cal.fallback_years.update(fallback_years)
    return cast(T, value.copy()) if isinstance(value, pd.DataFrame) else value


class _Recording(set[int]):
    """A calendar's fallback years that also note every year added while a result is computed."""

    def __init__(self, years: set[int]) -> None:
        super().__init__(years)
        self.added: set[int] = set()

    def add(self, year: int) -> None:
        self.added.add(year)
        super().add(year)


def _recorded(compute: Callable[[], T], cal: WorkCalendar | None) -> tuple[T, frozenset[int]]:
    """``compute()`` and the fallback years it marked on ``cal``."""
    if cal is None:
        return compute(), frozenset()
    years = cal.fallback_years
    cal.fallback_years = recording = _Recording(years)
    try:
        value = compute()
    finally:
        years.update(recording)
        cal.fallback_years = years
    return value, frozenset(recording.added)


def feature_uses_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """:func:`wecom_eval.store.feature_uses.feature_uses_fresh`, asked once per read-only connection."""
    return memo(con, "feature_uses_fresh", lambda: feature_uses.feature_uses_fresh(con))


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


__all__ = ["by_date", "feature_uses_fresh", "memo", "read_only"]
