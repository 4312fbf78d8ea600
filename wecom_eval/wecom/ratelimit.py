"""A client-side rate limiter that keeps a WeCom per-minute limit, provably.

WeCom counts calls per API per minute (reference §2). :class:`SlidingWindowLimiter` grants
at most ``limit`` calls in any window of ``period`` seconds *as the server sees them*: a
slot is freed only ``period`` seconds after its call **finished**, and slots are freed in
the order they were granted.

Why that is enough: suppose the server saw ``limit + 1`` calls arrive within one window.
Order them by grant; the last, ``s``, was granted only after the slot granted ``limit``
places before it was freed, and every earlier-granted slot was freed before that one. At
least one of the other ``limit`` calls, ``e``, was granted at or before that place, so it
had finished (hence arrived) at least ``period`` before ``s`` was even sent. Then ``e`` and
``s`` are ``period`` apart and cannot share the window — a contradiction. Network delay
only makes the count more conservative.

The clock and the sleep function are injectable, so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Slot:
    started: float
    finished: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class SlidingWindowLimiter:
    """At most ``limit`` calls in any ``period`` seconds (see the module notes).

    Parameters
    ----------
    limit
        Calls allowed per window (e.g. 600 for ``oa/getapprovaldetail``).
    period
        Window length in seconds; 60 for WeCom's per-minute limits.
    clock, sleep
        Monotonic clock and async sleep (``time.monotonic`` and ``asyncio.sleep``).
    """

    def __init__(
        self, limit: int, period: float = 60.0, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 call per window, got {limit}")
        if period <= 0:
            raise ValueError(f"period must be positive seconds, got {period}")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[_Slot] = deque()
        self._lock = asyncio.Lock()  # waiters are served first come, first served
        self.waited = 0.0  # seconds callers spent waiting for the window to move
        self.granted = 0

    async def _acquire(self) -> _Slot:
        async with self._lock:
            while len(self._slots) >= self.limit:
                head = self._slots[0]
                if head.finished is None:
                    started = self._clock()
                    await head.done.wait()
                    self.waited += self._clock() - started
                    continue
                wait = head.finished + self.period - self._clock()
                if wait > 0:
                    self.waited += wait
                    await self._sleep(wait)
                    continue
                self._slots.popleft()
            slot = _Slot(self._clock())
            self._slots.append(slot)
            self.granted += 1
            return slot

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one call's place in the window while the call runs."""
        slot = await self._acquire()
        try:
            yield
        finally:
            slot.finished = self._clock()
            slot.done.set()

    def in_window(self) -> int:
        """Calls counted in the window that ends now (finished within ``period``, or running)."""
        now = self._clock()
        return sum(1 for s in self._slots if s.finished is None or s.finished + self.period > now)


def min_duration(calls: int, limit: int, period: float = 60.0) -> float:
    """The least time ``calls`` calls take under ``limit`` per ``period`` (sliding window).

    The first ``limit`` calls may go at once; each further block of ``limit`` must wait a
    full ``period`` after the block before it.

    Examples
    --------
    >>> min_duration(600, 600)
    0.0
    >>> min_duration(601, 600)
    60.0
    >>> min_duration(150, 100, 60.0)
    60.0
    """
    if calls <= 0:
        return 0.0
    return ((calls - 1) // limit) * period


__all__ = ["Clock", "SlidingWindowLimiter", "Sleep", "min_duration"]
