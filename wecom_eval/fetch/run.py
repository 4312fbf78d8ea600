"""``fetch``: one pull of a date window, from the checks to the last committed part.

Contacts come first (the member list the other sources ask about); then approvals,
check-ins, customer behaviour, the operation log (and, on request, active counts) run
concurrently, each cut into resumable parts (:mod:`wecom_eval.fetch.parts`). A failure
in one source cancels the others, but every part that finished is committed first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock, Timeout

from wecom_eval.errors import InputError, LockBusy, Problem
from wecom_eval.fetch.activity import pull_active_stat, pull_oper_log
from wecom_eval.fetch.approvals import pull_approvals
from wecom_eval.fetch.checkin import pull_checkin
from wecom_eval.fetch.contacts import pull_contacts
from wecom_eval.fetch.customer import pull_customer
from wecom_eval.fetch.options import SOURCES, parse_sources
from wecom_eval.fetch.parts import LOCK_TIMEOUT, FetchReport, ProgressFn, Pull
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.wecom.api import WecomApi
from wecom_eval.wecom.client import WecomClient
from wecom_eval.wecom.credentials import Credentials
from wecom_eval.wecom.redact import install_log_redaction, redact
from wecom_eval.wecom.settings import ClientSettings, ClientStats
from wecom_eval.wecom.windows import CST, Window

log = logging.getLogger("wecom_eval.fetch")

SourceJob = Callable[[Pull, WecomApi, list[str]], Coroutine[Any, Any, None]]
# The sources that follow contacts, in the order they start.
JOBS: dict[str, SourceJob] = {
    "approvals": pull_approvals,
    "checkin": pull_checkin,
    "customer": pull_customer,
    "oper_log": pull_oper_log,
    "active_stat": pull_active_stat,
}


def fetch(
    *,
    since: dt.date,
    until: dt.date,
    home: Home | None = None,
    sources: Sequence[str] | None = None,
    credentials: Credentials | None = None,
    env_file: Path | None = None,
    settings: ClientSettings | None = None,
    plan: RolloutPlan | None = None,
    progress: ProgressFn | None = None,
    restart: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    checkpoint_seconds: float = 2.0,
    approval_chunk: int = 100,
    customer_chunk: int = 50,
    unit_concurrency: int = 4,
    today: dt.date | None = None,
) -> FetchReport:
    """Pull ``since``..``until`` (whole CST days, both included) into raw landing and the warehouse.

    Parameters
    ----------
    since, until
        The window; ``until`` must be before today (today's statistics are not final).
    home
        The workbook home (default: ``$WECOM_EVAL_HOME``).
    sources
        Which sources to pull (default :data:`~wecom_eval.fetch.options.DEFAULT_SOURCES`;
        ``active_stat`` on request).
    credentials, env_file
        Corp id, secrets and base URL; default: the environment over ``<home>/.env``.
    settings
        Client settings (retries, timeouts, concurrency, limits).
    plan
        The rollout plan for departments' pilot flags and go-live dates (default: the home's).
    progress
        Called with (parts done, parts known, label) after each part is committed.
    restart
        Forget earlier progress and fetch everything again.
    checkpoint_seconds
        Commit finished parts at least this often.
    approval_chunk, customer_chunk, unit_concurrency
        Approval details and customer members per part; parts in flight per source.
    transport
        An httpx transport for the client (tests); default: the network.
    today
        The day of the fetch (default: today in CST): the window must end before it, and the
        members' statuses are recorded as a snapshot of it.

    Returns
    -------
    FetchReport
        Parts fetched and skipped, rows loaded by table, calls, retries, refreshes, time.

    Raises
    ------
    InputError
        Bad window, unknown source or missing secret (exit 2).
    SourceError
        WeCom refused or could not be reached after the retries (exit 3).
    LockBusy
        Another fetch of the same home is running (exit 5).
    """
    home = home or Home.from_env()
    names = parse_sources(sources if sources is None or isinstance(sources, str) else list(sources))
    today = today or dt.datetime.now(CST).date()
    _check_window(since, until, today)
    install_log_redaction()
    creds = credentials or Credentials.from_env(env_file=env_file if env_file is not None else home.root / ".env")
    creds.require(SOURCES[s] for s in names)
    plan = plan or load_plan(home.plan)
    scope = hashlib.sha256(f"{creds.base_url}|{creds.corp_id}".encode()).hexdigest()[:16]
    with _fetch_lock(home):
        pull = Pull(
            home=home,
            window=Window(since, until),
            sources=names,
            plan=plan,
            folder=home.data / "fetch" / f"wecom-{scope}",
            progress=progress,
            restart=restart,
            checkpoint_seconds=checkpoint_seconds,
            approval_chunk=approval_chunk,
            customer_chunk=customer_chunk,
            unit_concurrency=unit_concurrency,
            observed_on=today,
        )
        log.info("fetch %s..%s from %s (sources: %s)", since, until, redact(creds.base_url), ", ".join(names))
        return asyncio.run(run_pull(pull, creds, settings or ClientSettings(), transport))


def _check_window(since: dt.date, until: dt.date, today: dt.date) -> None:
    problems = []
    if until < since:
        problems.append(Problem("--until", until.isoformat(), f"a day on or after --since ({since})"))
    if until >= today:
        problems.append(
            Problem(
                "--until",
                until.isoformat(),
                f"a day before today ({today})",
                "WeCom's statistics for today are not final; fetch up to yesterday.",
            )
        )
    if problems:
        raise InputError("fetch window", problems)


@contextmanager
def _fetch_lock(home: Home) -> Iterator[None]:
    """One fetch per home at a time (exit 5 for a second one)."""
    path = home.data / "fetch" / "wecom.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT)
    except Timeout:
        raise LockBusy(
            f"another wecom-eval fetch is running for {home.root} (lock {path}); let it finish, then run this one again"
        ) from None
    try:
        yield
    finally:
        lock.release()


async def run_pull(
    pull: Pull, credentials: Credentials, settings: ClientSettings, transport: httpx.AsyncBaseTransport | None
) -> FetchReport:
    """Contacts, then the other sources at once; every finished part committed, even on failure."""
    started = time.monotonic()
    async with WecomClient(credentials, settings=settings, transport=transport) as client:
        api = WecomApi(client)
        finished = False
        try:
            members = await pull_contacts(pull, api)
            await pull.flush()
            tasks = [asyncio.create_task(job(pull, api, members)) for name, job in JOBS.items() if name in pull.sources]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            finished = True
        finally:
            # keep every part that finished, even when another failed; a complete pull also
            # refreshes what depends on the tables, once, with the same writer
            await asyncio.shield(pull.flush(refresh=finished))
            _record_stats(pull.report, client.stats, started)
    return pull.report


def _record_stats(report: FetchReport, stats: ClientStats, started: float) -> None:
    report.calls = stats.total
    report.retries = stats.retries
    report.refreshes = stats.refreshes
    report.outcomes = dict(stats.outcomes)
    report.seconds = time.monotonic() - started


__all__ = ["JOBS", "fetch", "run_pull"]
