"""Activity: security/member_oper_log/list per ≤7-day window gives ``member_days`` (active,
minutes unknown, source ``api_oper_log``); user/get_active_stat per day (not by default)
lands raw only."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from typing import Any

from wecom_eval.fetch.mapping import map_oper_log
from wecom_eval.fetch.parts import Pull, Unit
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.windows import Window, split_days


async def pull_oper_log(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """The members' operation records, one part per 7-day window."""
    limit = asyncio.Semaphore(pull.unit_concurrency)
    jobs: list[Coroutine[Any, Any, None]] = []
    for w in split_days(pull.window.first, pull.window.last, 7):
        unit_id = f"oper_log:{w}"
        for todo in pull.group(unit_id, [unit_id]):

            async def work(w: Window = w, unit_id: str = todo) -> Unit:
                pages = [page async for page in api.oper_log(w)]
                days = map_oper_log((r for p in pages for r in p.items("record_list")), w)
                return Unit(unit_id, f"operation log {w}", f"oper_log-{w.first}_{w.last}", pages, {"member_days": days})

            jobs.append(pull.run_unit(todo, work, limit))
    await asyncio.gather(*jobs)


async def pull_active_stat(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """The count of active members of each day, one part per 7-day window (raw landing only)."""
    limit = asyncio.Semaphore(pull.unit_concurrency)
    jobs: list[Coroutine[Any, Any, None]] = []
    for w in split_days(pull.window.first, pull.window.last, 7):
        unit_id = f"active_stat:{w}"
        for todo in pull.group(unit_id, [unit_id]):

            async def work(w: Window = w, unit_id: str = todo) -> Unit:
                days = [w.first + dt.timedelta(days=k) for k in range(w.days)]
                pages = list(await asyncio.gather(*(api.active_count(d) for d in days)))
                return Unit(unit_id, f"active members {w}", f"active_stat-{w.first}_{w.last}", pages)

            jobs.append(pull.run_unit(todo, work, limit))
    await asyncio.gather(*jobs)


__all__ = ["pull_active_stat", "pull_oper_log"]
