"""Approvals: oa/getapprovalinfo per ≤31-day window (``new_cursor`` pages), then
oa/getapprovaldetail per approval, in chunks: ``process_records`` and approval
``feature_events`` (:func:`wecom_eval.fetch.mapping.map_approvals`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from wecom_eval.fetch.mapping import map_approvals
from wecom_eval.fetch.parts import Pull, Unit, digest
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.windows import Window, batched, split_days


async def pull_approvals(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """Every approval of the pull's window, one group of detail chunks per 31-day window."""
    limit = asyncio.Semaphore(pull.unit_concurrency)

    async def window(w: Window) -> None:
        group = f"approvals:{w}"
        if pull.checkpoint.done(group):
            pull.skipped(1)
            return
        listing = [page async for page in api.approval_numbers(w)]
        numbers = list(dict.fromkeys(n for p in listing for n in p.items("sp_no_list")))
        await pull.land(Unit("", "", f"approvals-list-{w.first}_{w.last}-{digest(numbers)}", listing))
        ids = {f"approvals:{w}:{digest(c)}": c for c in batched(numbers, pull.approval_chunk)}
        todo = pull.group(group, list(ids))
        await asyncio.gather(*(pull.run_unit(u, _details(api, w, ids[u], u), limit) for u in todo))

    await asyncio.gather(*(window(w) for w in split_days(pull.window.first, pull.window.last, 31)))


def _details(api: WecomApi, w: Window, chunk: list[str], unit_id: str) -> Callable[[], Awaitable[Unit]]:
    async def go() -> Unit:
        pages = list(await asyncio.gather(*(api.approval_detail(sp) for sp in chunk)))
        records, events = map_approvals(p.data.get("info") or {} for p in pages)
        return Unit(
            unit_id,
            f"approvals {w}: {len(chunk)} details",
            f"approvals-{w.first}_{w.last}-{unit_id[-12:]}",
            pages,
            {"process_records": records, "feature_events": events},
        )

    return go


__all__ = ["pull_approvals"]
