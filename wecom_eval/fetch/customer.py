"""Customer management: externalcontact/get_follow_user_list, then get_user_behavior_data
per member (one at a time: WeCom sums members given together) and ≤30-day window:
customer ``feature_events`` (:func:`wecom_eval.fetch.mapping.behavior_uses`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from wecom_eval.fetch.mapping import behavior_uses, events_frame
from wecom_eval.fetch.parts import Pull, Unit, digest
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.windows import Window, batched, split_days


async def pull_customer(pull: Pull, api: WecomApi, members: list[str]) -> None:
    """Every follower's customer activity in the pull's windows not done before."""
    windows = split_days(pull.window.first, pull.window.last, 30)
    open_windows = [w for w in windows if not pull.checkpoint.done(f"customer:{w}")]
    pull.skipped(len(windows) - len(open_windows))
    if not open_windows:
        return
    listing = await api.follow_users()
    followers = sorted(set(map(str, listing.items("follow_user"))))
    await pull.land(Unit("", "", f"customer-follow-{digest(followers)}", [listing]))
    limit = asyncio.Semaphore(pull.unit_concurrency)
    jobs: list[Coroutine[Any, Any, None]] = []
    for w in open_windows:
        groups = {f"customer:{w}:{digest(g)}": g for g in batched(followers, pull.customer_chunk)}
        for unit_id in pull.group(f"customer:{w}", list(groups)):

            def work(users: list[str] = groups[unit_id], w: Window = w, unit_id: str = unit_id) -> Awaitable[Unit]:
                return _customer_unit(api, users, w, unit_id)

            jobs.append(pull.run_unit(unit_id, work, limit))
    await asyncio.gather(*jobs)


async def _customer_unit(api: WecomApi, users: list[str], w: Window, unit_id: str) -> Unit:
    pages = list(await asyncio.gather(*(api.behavior(u, w) for u in users)))  # one member per call
    events = events_frame(
        [use for u, p in zip(users, pages, strict=True) for use in behavior_uses(u, p.items("behavior_data"), w)]
    )
    return Unit(
        unit_id,
        f"customer {w}: {len(users)} members",
        f"customer-{w.first}_{w.last}-{unit_id[-12:]}",
        pages,
        {"feature_events": events},
    )


__all__ = ["pull_customer"]
