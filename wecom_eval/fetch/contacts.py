"""Contacts: department/list, then user/list for each department (DESIGN §5).

The ``departments`` and ``members`` tables, and a ``member_status`` snapshot of the fetch's
day (:mod:`wecom_eval.fetch.reconcile`). The member list is kept beside the checkpoint, so
that a rerun that skips contacts still knows whom to ask about.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.fetch.mapping import map_departments, map_members
from wecom_eval.fetch.parts import Pull, Unit
from wecom_eval.store.warehouse import open_reader
from wecom_eval.wecom.api import WecomApi


def members_file(pull: Pull) -> Path:
    return pull.folder / f"members-{pull.window.first}_{pull.window.last}.json"


async def pull_contacts(pull: Pull, api: WecomApi) -> list[str]:
    """Fetch departments and members (unless done before); return the members' userids."""
    unit_id = f"contacts:{pull.window}"
    if "contacts" not in pull.sources or pull.checkpoint.done(unit_id):
        if "contacts" in pull.sources:
            pull.skipped(1)
        return known_members(pull)
    pull.known += 1
    listing = await api.departments()
    rows = listing.items("department")
    pages = [listing, *await asyncio.gather(*(api.users(int(r["id"])) for r in rows))]
    members = map_members(u for p in pages[1:] for u in p.items("userlist"))
    userids = sorted(members["userid"])
    pull.folder.mkdir(parents=True, exist_ok=True)
    tmp = members_file(pull).with_suffix(".tmp")
    tmp.write_text(json.dumps(userids), encoding="utf-8")
    os.replace(tmp, members_file(pull))
    unit = Unit(
        unit_id,
        f"contacts: {len(rows)} departments, {len(userids)} members",
        f"contacts-{pull.snapshot_time:%Y%m%dT%H%M%S}",
        pages,
        {"departments": map_departments(rows, pull.plan), "members": members},
    )
    await pull.land(unit)
    pull.pending.append(unit)
    return userids


def known_members(pull: Pull) -> list[str]:
    """The userids an earlier contacts fetch of this window listed, else the warehouse's members."""
    path = members_file(pull)
    if path.exists():
        return list(json.loads(path.read_text(encoding="utf-8")))
    if not pull.home.warehouse.exists():
        return []
    with open_reader(pull.home) as wh:
        return sorted(wh.query("SELECT userid FROM members")["userid"])


def needs_members(members: list[str], source: str) -> None:
    """Refuse (exit 2) a source that asks per member when there are none to ask about."""
    if not members:
        raise InputError(
            f"fetch {source}",
            [
                Problem(
                    "members",
                    "none",
                    "the members to ask about",
                    "Fetch contacts in the same run (add 'contacts' to --sources) or load members first.",
                )
            ],
        )


__all__ = ["known_members", "needs_members", "pull_contacts"]
