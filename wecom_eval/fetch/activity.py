"""Activity: security/member_oper_log/list per ≤7-day window gives ``member_days`` (active,
minutes unknown, source ``api_oper_log``); user/get_active_stat per day (not by default)
lands raw only."""

from __future__ import annotations

import asyncio
import datetime as dt

from wecom_eval.fetch.mapping import map_oper_log
from wecom_eval.fetch.parts import Pull, Unit
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.windows import Window


async def pull_oper_log(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """The members' operation records, one part per 7-day window."""

    async def part(w: Window, unit_id: str) -> Unit:
        pages = [page async for page in api.oper_log(w)]
        days = map_oper_log((r for p in pages for r in p.items("record_list")), w)
        return Unit(unit_id, f"operation log {w}", f"oper_log-{w.first}_{w.last}", pages, {"member_days": days})

    await pull.windows("oper_log", 7, part)


async def pull_active_stat(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """The count of active members of each day, one part per 7-day window (raw landing only)."""

    async def part(w: Window, unit_id: str) -> Unit:
        days = [w.first + dt.timedelta(days=k) for k in range(w.days)]
        pages = list(await asyncio.gather(*(api.active_count(d) for d in days)))
        return Unit(unit_id, f"active members {w}", f"active_stat-{w.first}_{w.last}", pages)

    await pull.windows("active_stat", 7, part)


__all__ = ["pull_active_stat", "pull_oper_log"]
