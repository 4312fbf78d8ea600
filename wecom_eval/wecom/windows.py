"""Date windows and batches that respect WeCom's span and list limits.

WeCom's days are China Standard Time days: "0点时间戳" is midnight UTC+8 (reference §1).
A :class:`Window` is a run of whole days; its ``start`` is the first day's midnight and its
``end`` the last day's 23:59:59, both in Unix seconds. Windows never share a day, so a
record that belongs to a day is fetched by exactly one window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")
DAY = 86_400
_CST_OFFSET = 8 * 3600  # China has no daylight saving time

T = TypeVar("T")


def midnight(day: dt.date) -> int:
    """Unix seconds of 00:00 China Standard Time on ``day``.

    Examples
    --------
    >>> midnight(dt.date(2019, 4, 3))  # the reference's example: Wed Apr 3 00:00:00 CST 2019
    1554220800
    """
    return (day - dt.date(1970, 1, 1)).days * DAY - _CST_OFFSET


def day_of(ts: int | float) -> dt.date:
    """The China Standard Time day of a Unix timestamp.

    Examples
    --------
    >>> day_of(1554296400)  # Wed Apr 3 21:00:00 CST 2019
    datetime.date(2019, 4, 3)
    """
    return dt.date(1970, 1, 1) + dt.timedelta(days=(int(ts) + _CST_OFFSET) // DAY)


def to_datetime(ts: int | float) -> dt.datetime:
    """A Unix timestamp as an aware datetime in Asia/Shanghai."""
    return dt.datetime.fromtimestamp(ts, CST)


@dataclass(frozen=True)
class Window:
    """Whole days ``first``..``last`` (both included)."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"window ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> int:
        """Midnight (CST) of the first day."""
        return midnight(self.first)

    @property
    def end(self) -> int:
        """23:59:59 (CST) of the last day."""
        return midnight(self.last) + DAY - 1

    @property
    def last_midnight(self) -> int:
        """Midnight (CST) of the last day (day-granular APIs take this as their end)."""
        return midnight(self.last)

    def contains(self, ts: int | float) -> bool:
        return self.start <= ts <= self.end

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def split_days(since: dt.date, until: dt.date, max_days: int | None) -> list[Window]:
    """``since``..``until`` cut into consecutive windows of at most ``max_days`` days.

    Examples
    --------
    >>> [str(w) for w in split_days(dt.date(2026, 3, 1), dt.date(2026, 3, 20), 7)]
    ['2026-03-01..2026-03-07', '2026-03-08..2026-03-14', '2026-03-15..2026-03-20']
    """
    if until < since:
        raise ValueError(f"the window ends ({until}) before it starts ({since})")
    if max_days is None:
        return [Window(since, until)]
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, got {max_days}")
    out = []
    first = since
    while first <= until:
        last = min(until, first + dt.timedelta(days=max_days - 1))
        out.append(Window(first, last))
        first = last + dt.timedelta(days=1)
    return out


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (user lists are batched to 100).

    Examples
    --------
    >>> [len(b) for b in batched(list(range(250)), 100)]
    [100, 100, 50]
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


__all__ = ["CST", "DAY", "Window", "batched", "day_of", "midnight", "split_days", "to_datetime"]
