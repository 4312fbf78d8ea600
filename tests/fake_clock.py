"""A test clock for the WeCom client's rate limiter and backoff: time moves only when something sleeps."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it; ``sleeps`` records each wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
