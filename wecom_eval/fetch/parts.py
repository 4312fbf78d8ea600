"""The plan of a pull's resumable parts: what is done, what is left, landing and committing each.

A pull is cut into parts ("units"): one listing, one window of one batch of members, one
chunk of approval details. Parts that belong together (every batch of a window) form a
group, marked done once all its parts are; a rerun skips every part and group the
:class:`~wecom_eval.fetch.checkpoint.Checkpoint` holds. A part's pages land raw as soon as
it is fetched; its rows are committed with others at least every ``checkpoint_seconds``
through the one load path (:func:`wecom_eval.store.load.load`, one transaction a batch),
and only then is it checkpointed, so a crash loses at most the parts in flight. What
depends on the tables (activation dates, the rollups) is refreshed once, by the last
commit of a pull that finished.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from wecom_eval.fetch.checkpoint import Checkpoint
from wecom_eval.fetch.reconcile import reconcile
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.load import load
from wecom_eval.store.raw import land_records
from wecom_eval.store.warehouse import open_writer
from wecom_eval.wecom.api import Page
from wecom_eval.wecom.redact import redact
from wecom_eval.wecom.windows import Window, split_days

RAW_SOURCE = "wecom-api"  # raw landing folder and the warehouse's load source
LOCK_TIMEOUT = 5.0

ProgressFn = Callable[[int, int, str], None]  # (parts done, parts known, what just finished)


@dataclass
class Unit:
    """One checkpointed part of a pull: its pages (for raw landing) and its rows."""

    id: str
    label: str
    name: str  # raw landing file name
    pages: list[Page]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.frames.values())


@dataclass
class FetchReport:
    """What a fetch did."""

    since: dt.date
    until: dt.date
    sources: tuple[str, ...]
    parts_done: int = 0
    parts_skipped: int = 0
    rows: Counter[str] = field(default_factory=Counter)  # rows loaded by table
    stubs: int = 0  # members added because events named a userid contacts did not list
    calls: int = 0
    retries: int = 0
    refreshes: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        window = f"{self.since}..{self.until}"
        if not self.parts_done and not self.parts_skipped:
            return f"fetch {window}: nothing to fetch — WeCom has no records for {', '.join(self.sources)} in it"
        if not self.parts_done:
            return (
                f"fetch {window}: nothing to do — every part was fetched before ({self.parts_skipped} parts; "
                "use --restart to fetch again)"
            )
        rows = ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows.items())) or "no rows"
        text = (
            f"fetch {window}: {self.parts_done} parts fetched ({self.parts_skipped} done before) in "
            f"{self.seconds:.1f} s; {self.calls:,} calls, {self.retries} retries, {self.refreshes} token "
            f"refreshes; loaded {rows}"
        )
        if self.stubs:
            text += (
                f"; {self.stubs} userids in events were not in contacts and were recorded as members who "
                "left (status 5)"
            )
        return text


class Pull:
    """The parts of one pull: which are done, which are pending, and committing them.

    Parameters
    ----------
    home, window, sources, plan
        Where to land and load, the days, the sources asked for, the rollout plan.
    folder
        This pull's own folder under ``data/fetch/`` (its checkpoint, its member list).
    progress
        Called with (parts done, parts known, label) after each part is committed.
    restart
        Forget the checkpoint first.
    checkpoint_seconds
        Commit finished parts at least this often.
    approval_chunk, customer_chunk, unit_concurrency
        Approval details and customer members per part; parts in flight per source.
    observed_on
        The day the contacts' statuses are observed (the members' snapshot).
    """

    def __init__(
        self,
        *,
        home: Home,
        window: Window,
        sources: tuple[str, ...],
        plan: RolloutPlan,
        folder: Path,
        progress: ProgressFn | None = None,
        restart: bool = False,
        checkpoint_seconds: float = 2.0,
        approval_chunk: int = 100,
        customer_chunk: int = 50,
        unit_concurrency: int = 4,
        observed_on: dt.date,
    ) -> None:
        self.home, self.window, self.sources, self.plan = home, window, sources, plan
        self.folder = folder
        self.progress = progress
        self.checkpoint_seconds = checkpoint_seconds
        self.approval_chunk, self.customer_chunk = approval_chunk, customer_chunk
        self.unit_concurrency = unit_concurrency
        self.checkpoint = Checkpoint(folder / "checkpoint.json")
        if restart:
            self.checkpoint.clear()
        self.report = FetchReport(window.first, window.last, sources)
        self.pending: list[Unit] = []
        self.groups: dict[str, set[str]] = {}
        self.known = 0  # parts known so far (grows as listings arrive)
        self.last_flush = time.monotonic()
        self.flush_lock = asyncio.Lock()
        self.land_lock = threading.Lock()
        self.snapshot_time = pd.Timestamp.now(tz="Asia/Shanghai").floor("s")
        self.observed_on = observed_on

    # ---- bookkeeping -------------------------------------------------------------------------
    def skipped(self, count: int) -> None:
        """Count ``count`` parts done by an earlier run."""
        self.report.parts_skipped += count
        self.known += count

    def group(self, group: str, units: list[str]) -> list[str]:
        """Register a group of parts; return those still to do. An empty group is done at once."""
        self.groups[group] = set(units)
        todo = [u for u in units if not self.checkpoint.done(u)]
        self.known += len(units)
        self.report.parts_skipped += len(units) - len(todo)
        if not units:
            self.checkpoint.mark([group])
        return todo

    async def windows(self, source: str, span_days: int, part: Callable[[Window, str], Awaitable[Unit]]) -> None:
        """One part per ``span_days``-day window of the pull, each made by ``part(window, unit id)``."""
        limit = asyncio.Semaphore(self.unit_concurrency)
        jobs = []
        for w in split_days(self.window.first, self.window.last, span_days):
            unit_id = f"{source}:{w}"
            for todo in self.group(unit_id, [unit_id]):
                jobs.append(self.run_unit(todo, functools.partial(part, w, todo), limit))
        await asyncio.gather(*jobs)

    def _say(self, label: str) -> None:
        done = self.report.parts_done + self.report.parts_skipped
        if self.progress is not None:
            self.progress(done, max(self.known, done), label)

    # ---- landing and committing ------------------------------------------------------------------
    async def run_unit(self, unit_id: str, work: Callable[[], Awaitable[Unit]], limit: asyncio.Semaphore) -> None:
        """Fetch one part (at most ``limit`` at once), land its pages, and queue its rows."""
        async with limit:
            unit = await work()
        unit.id = unit_id
        await self.land(unit)
        self.pending.append(unit)
        if time.monotonic() - self.last_flush >= self.checkpoint_seconds:
            await self.flush()

    async def land(self, unit: Unit) -> None:
        """Keep the part's pages as they arrived (credentials masked) under ``data/raw/wecom-api/``."""
        await asyncio.to_thread(self._land, unit)

    def _land(self, unit: Unit) -> None:
        if not unit.pages:
            return
        records = [_redacted(p.record()) for p in unit.pages]
        with self.land_lock:
            land_records(self.home.raw, RAW_SOURCE, unit.name, records)

    async def flush(self, *, refresh: bool = False) -> None:
        """Commit the pending parts' rows, then checkpoint them and every group they complete.

        ``refresh`` (the last flush of a pull that finished) also brings what depends on the
        tables up to date, with the same writer.
        """
        async with self.flush_lock:
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            if batch or refresh:
                await asyncio.to_thread(self._commit, batch, refresh)
            now_done = {b.id for b in batch}
            finished = [
                g
                for g, units in self.groups.items()
                if not self.checkpoint.done(g) and all(u in now_done or self.checkpoint.done(u) for u in units)
            ]
            if batch or finished:
                self.checkpoint.mark([u.id for u in batch] + finished)
            for unit in batch:
                self.report.parts_done += 1
                self._say(f"{unit.label}: {unit.rows:,} rows")

    def _commit(self, batch: list[Unit], refresh: bool) -> None:
        """Load the batch's rows through the one load path (their pages landed as they arrived)."""
        parts: dict[str, list[pd.DataFrame]] = {}
        for unit in batch:
            for name, frame in unit.frames.items():
                if len(frame):
                    parts.setdefault(name, []).append(frame)
        tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
        if not tables and not refresh:
            return
        with open_writer(self.home, timeout=LOCK_TIMEOUT * 6) as wh:
            if tables:
                tables, stubs = reconcile(wh, tables, observed_on=self.observed_on)
                self.report.stubs += stubs
            done = load(wh, tables, source=RAW_SOURCE, plan=self.plan, refresh=refresh)
        for name, result in done.results.items():
            self.report.rows[name] += result.received


def _redacted(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with any credential masked (one pass over its JSON text; a copy only when needed)."""
    text = json.dumps(record, ensure_ascii=False)
    clean = redact(text)
    return record if clean == text else dict(json.loads(clean))


def digest(items: Iterable[object]) -> str:
    """A short stable id of a list of items (a batch of members, a page of approval numbers)."""
    return hashlib.sha256("\n".join(map(str, items)).encode("utf-8")).hexdigest()[:12]


__all__ = ["LOCK_TIMEOUT", "RAW_SOURCE", "FetchReport", "ProgressFn", "Pull", "Unit", "digest"]
