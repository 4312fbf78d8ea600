"""Check-ins: checkin/getcheckindata per ≤30-day window and 100 members: attendance
``feature_events`` (:func:`wecom_eval.fetch.mapping.map_checkins`). Location fields are
dropped before landing (DESIGN §10: keep only what the KPIs need)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from wecom_eval.fetch.contacts import needs_members
from wecom_eval.fetch.mapping import map_checkins, strip_checkin
from wecom_eval.fetch.parts import Pull, Unit, digest
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.windows import Window, batched, split_days


async def pull_checkin(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """Every member's punches in the pull's window, one part per window and 100 members."""
    needs_members(members, "checkin")
    limit = asyncio.Semaphore(pull.unit_concurrency)
    jobs: list[Coroutine[Any, Any, None]] = []
    for w in split_days(pull.window.first, pull.window.last, 30):
        group = f"checkin:{w}"
        if pull.checkpoint.done(group):
            pull.skipped(1)
            continue
        batches = {f"checkin:{w}:{digest(b)}": b for b in batched(members, 100)}
        for unit_id in pull.group(group, list(batches)):

            def work(users: list[str] = batches[unit_id], w: Window = w, unit_id: str = unit_id) -> Awaitable[Unit]:
                return _checkin_unit(api, users, w, unit_id)

            jobs.append(pull.run_unit(unit_id, work, limit))
    await asyncio.gather(*jobs)


async def _checkin_unit(api: WecomApi, users: list[str], w: Window, unit_id: str) -> Unit:
    page = await api.checkin_records(users, w)
    events = map_checkins(page.items("checkindata"), w)
    return Unit(
        unit_id,
        f"checkin {w}: {len(users)} members",
        f"checkin-{w.first}_{w.last}-{unit_id[-12:]}",
        [strip_checkin(page)],
        {"feature_events": events},
    )


__all__ = ["pull_checkin"]
