"""Pull a date window from the WeCom API into raw landing and the warehouse, resumably.

``wecom-eval fetch --since DATE --until DATE`` (DESIGN §2, §5, §10):

1. **contacts** — department/list, then user/list for each department: the
   ``departments`` and ``members`` tables, and a ``member_status`` snapshot of the fetch's
   day (the raw pages land under the day they were taken). The API gives no activation
   time: the activation date is derived from the snapshots and the member's first activity
   (:func:`wecom_eval.store.activation.date_activations`), so identical fetches give
   identical tables; a time an export stated and the roster's ``employee_id`` are kept.
2. **approvals** — oa/getapprovalinfo per ≤31-day window (``new_cursor`` pages), then
   oa/getapprovaldetail per approval: ``process_records`` (turnaround from ``apply_time``
   to the last ``sptime``) and ``feature_events`` "approval" (the applicant, and each
   approver who acted).
3. **checkin** — checkin/getcheckindata per ≤30-day window and 100 members:
   ``feature_events`` "attendance", one per member and day with a punch ("未打卡" rows
   are missed punches, not uses). Location fields are dropped before landing
   (DESIGN §10: keep only what the KPIs need).
4. **customer** — externalcontact/get_follow_user_list, then get_user_behavior_data per
   member (one at a time: WeCom sums members given together) and ≤30-day window:
   ``feature_events`` "customer", one per member and day with messages, friend requests
   or new customers.
5. **oper_log** — security/member_oper_log/list per ≤7-day window: ``member_days``
   (active, minutes unknown, source ``api_oper_log``), never replacing a row another
   source (with minutes) already gave.
6. **active_stat** (not by default) — user/get_active_stat per day: raw landing only.

Every part ("unit") of the pull is checkpointed under ``data/fetch/`` after its pages
landed and its rows committed; a rerun skips finished parts, so a crash or a kill loses
at most the parts in flight, and the upserts by natural key never duplicate a row. A
rerun of a finished window makes no call at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from filelock import FileLock, Timeout

from wecom_eval.errors import InputError, LockBusy, Problem
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.store.raw import land_records
from wecom_eval.store.warehouse import Warehouse, open_writer
from wecom_eval.wecom.api import Page, WecomApi
from wecom_eval.wecom.client import ClientSettings, ClientStats, WecomClient
from wecom_eval.wecom.credentials import Credentials
from wecom_eval.wecom.redact import install_log_redaction, redact
from wecom_eval.wecom.windows import CST, Window, batched, day_of, split_days

log = logging.getLogger("wecom_eval.fetch")

RAW_SOURCE = "wecom-api"  # raw landing folder and the warehouse's load source
ACTIVITY_SOURCE = "api_oper_log"  # member_days.source for the operation-log signal
SNAPSHOT_SOURCE = "wecom_api"  # member_status.source of a fetch's contacts
SOURCES: dict[str, str] = {  # source → the app whose secret it needs
    "contacts": "CONTACTS",
    "approvals": "APPROVAL",
    "checkin": "CHECKIN",
    "customer": "CUSTOMER",
    "oper_log": "SECURITY",
    "active_stat": "CONTACTS",
}
DEFAULT_SOURCES: tuple[str, ...] = ("contacts", "approvals", "checkin", "customer", "oper_log")
# What a check-in row keeps: no location, Wi-Fi, device or notes (DESIGN §10).
CHECKIN_KEEP = (
    "userid",
    "groupname",
    "groupid",
    "checkin_type",
    "exception_type",
    "checkin_time",
    "sch_checkin_time",
    "schedule_id",
    "timeline_id",
)
MISSED_PUNCH = "未打卡"
APPROVAL_STATUS = {
    1: "pending",
    2: "approved",
    3: "rejected",
    4: "withdrawn",
    6: "withdrawn",
    7: "withdrawn",
    10: "approved",
}  # reference §8.2: 6 通过后撤销, 7 已删除, 10 已支付
LOCK_TIMEOUT = 5.0

ProgressFn = Callable[[int, int, str], None]  # (parts done, parts known, what just finished)


# ---- mapping API pages to canonical rows (pure functions) -------------------------------------
def _ts(seconds: Sequence[int | float]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(seconds), unit="s", utc=True)).dt.tz_convert("Asia/Shanghai")


def _events(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    """feature_events from (event_id, userid, feature, unix seconds, count) tuples."""
    frame = pd.DataFrame(rows, columns=["event_id", "userid", "feature", "ts", "count"])
    frame["ts"] = _ts(frame["ts"].tolist()) if len(frame) else pd.Series([], dtype="datetime64[s, Asia/Shanghai]")
    return frame


def department_paths(rows: Iterable[dict[str, Any]]) -> dict[int, str]:
    """Paths as the workbook writes them: the root by its name, below it ``总部/行政部``.

    Examples
    --------
    >>> department_paths([{"id": 1, "name": "示例集团", "parentid": 0}, {"id": 2, "name": "总部", "parentid": 1},
    ...                   {"id": 7, "name": "行政部", "parentid": 2}])
    {1: '示例集团', 2: '总部', 7: '总部/行政部'}
    """
    by_id = {int(r["id"]): r for r in rows}
    paths: dict[int, str] = {}

    def path(d: int, depth: int = 0) -> str:
        if d in paths:
            return paths[d]
        row = by_id[d]
        parent = int(row.get("parentid") or 0)
        if depth > len(by_id) or parent not in by_id or int(by_id[parent].get("parentid") or 0) not in by_id:
            paths[d] = str(row["name"])  # the root, or a child of the root
        else:
            paths[d] = f"{path(parent, depth + 1)}/{row['name']}"
        return paths[d]

    for d in by_id:
        path(d)
    return paths


def map_departments(rows: list[dict[str, Any]], plan: RolloutPlan) -> pd.DataFrame:
    """``departments`` from department/list rows; pilots and go-live dates from the plan."""
    paths = department_paths(rows)
    ids = set(paths)
    pilots = {r for r in plan.departments.pilot if isinstance(r, int) and r in ids}
    pilots |= {d for d, p in paths.items() if p in {r for r in plan.departments.pilot if isinstance(r, str)}}
    unmatched = [
        r
        for r in plan.departments.pilot
        if not ((isinstance(r, int) and r in ids) or (isinstance(r, str) and r in paths.values()))
    ]
    if unmatched:
        log.warning(
            "the plan's pilot departments %s match no WeCom department; check params/rollout.yaml (wecom-eval check)",
            unmatched,
        )
    out = []
    for r in rows:
        d = int(r["id"])
        parent = int(r.get("parentid") or 0)
        pilot = d in pilots
        out.append(
            {
                "department_id": d,
                "name": str(r["name"]),
                "parent_id": parent if parent in ids else None,
                "path": paths[d],
                "is_pilot": pilot,
                "go_live_date": plan.week_start(plan.go_live_week(paths[d], d, is_pilot=pilot)),
            }
        )
    frame = pd.DataFrame(out, columns=["department_id", "name", "parent_id", "path", "is_pilot", "go_live_date"])
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    return frame


def map_members(users: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """``members`` from user/list rows, one per userid (a member is listed in each department)."""
    seen: dict[str, dict[str, Any]] = {}
    for u in users:
        userid = str(u["userid"])
        if userid in seen:
            continue
        depts = u.get("department") or []
        dept = u.get("main_department") or (depts[0] if depts else None)
        seen[userid] = {
            "userid": userid,
            "employee_id": None,
            "department_id": int(dept) if dept else None,
            "status": int(u.get("status") or 4),
            "activated_at": pd.NaT,
        }
    frame = pd.DataFrame(
        list(seen.values()), columns=["userid", "employee_id", "department_id", "status", "activated_at"]
    )
    frame["activated_at"] = pd.to_datetime(frame["activated_at"]).dt.tz_localize("Asia/Shanghai")
    return frame


def decision_time(info: dict[str, Any]) -> int | None:
    """The last ``sptime`` of an approval (0 means not yet acted), or None."""
    times = [int(d.get("sptime") or 0) for node in info.get("sp_record") or [] for d in node.get("details") or []]
    times = [t for t in times if t > 0]
    return max(times) if times else None


def map_approvals(infos: Iterable[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``process_records`` and approval ``feature_events`` from getapprovaldetail ``info`` objects."""
    records, events = [], []
    for info in infos:
        sp_no = str(info["sp_no"])
        code = int(info.get("sp_status") or 1)
        applyer = info.get("applyer") or {}
        userid = str(applyer.get("userid") or "") or None
        apply_time = int(info["apply_time"])
        finished = decision_time(info) if code != 1 else None
        party = str(applyer.get("partyid") or "").strip()
        records.append(
            {
                "record_id": sp_no,
                "process": "approval",
                "department_id": int(party) if party.isdigit() else None,
                "userid": userid,
                "started_at": apply_time,
                "finished_at": finished,
                "status": APPROVAL_STATUS.get(code, "pending"),
                "system": "wecom",
            }
        )
        if userid:
            events.append((f"wecom-approval:{sp_no}:apply", userid, "approval", apply_time, 1))
        for n, node in enumerate(info.get("sp_record") or []):
            for d in node.get("details") or []:
                who = str((d.get("approver") or {}).get("userid") or "")
                if who and int(d.get("sptime") or 0) > 0:
                    events.append((f"wecom-approval:{sp_no}:{n}:{who}", who, "approval", int(d["sptime"]), 1))
    frame = pd.DataFrame(
        records,
        columns=["record_id", "process", "department_id", "userid", "started_at", "finished_at", "status", "system"],
    )
    frame["department_id"] = frame["department_id"].astype("Int64")
    frame["started_at"] = _ts(frame["started_at"].tolist())
    frame["finished_at"] = _ts(frame["finished_at"].astype(float).tolist())
    return frame, _events(events)


def map_checkins(rows: Iterable[dict[str, Any]], window: Window) -> pd.DataFrame:
    """Attendance ``feature_events``: per member and day, the punches in ``window`` (not "未打卡")."""
    days: dict[tuple[str, dt.date], list[int]] = {}
    for r in rows:
        when = int(r.get("checkin_time") or 0)
        if MISSED_PUNCH in str(r.get("exception_type") or "").split(";") or not window.contains(when):
            continue
        days.setdefault((str(r["userid"]), day_of(when)), []).append(when)
    return _events(
        [
            (f"wecom-attendance:{u}:{d.isoformat()}", u, "attendance", min(t), len(t))
            for (u, d), t in sorted(days.items())
        ]
    )


def _behavior_uses(userid: str, rows: Iterable[dict[str, Any]], window: Window) -> list[tuple[str, str, str, int, int]]:
    out = []
    for r in rows:
        when = int(r.get("stat_time") or 0)
        uses = int(r.get("message_cnt") or 0) + int(r.get("new_apply_cnt") or 0) + int(r.get("new_contact_cnt") or 0)
        if uses > 0 and window.contains(when):
            out.append((f"wecom-customer:{userid}:{day_of(when).isoformat()}", userid, "customer", when, uses))
    return out


def map_behavior(userid: str, rows: Iterable[dict[str, Any]], window: Window) -> pd.DataFrame:
    """Customer ``feature_events``: a day with messages, friend requests or new customers."""
    return _events(_behavior_uses(userid, rows, window))


def map_oper_log(records: Iterable[dict[str, Any]], window: Window) -> pd.DataFrame:
    """``member_days`` (active, minutes unknown) from member operation records."""
    keys = sorted(
        {
            (day_of(int(r["time"])), str(r["userid"]))
            for r in records
            if r.get("userid") and window.contains(int(r["time"]))
        }
    )
    frame = pd.DataFrame(keys, columns=["date", "userid"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["active"] = True
    frame["minutes"] = pd.array([None] * len(frame), dtype="Int64")
    frame["source"] = ACTIVITY_SOURCE
    return frame


def _strip_checkin(page: Page) -> Page:
    rows = [{k: r.get(k) for k in CHECKIN_KEEP if k in r} for r in page.items("checkindata")]
    return Page(page.endpoint, page.request, {**page.data, "checkindata": rows})


def _redacted(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with any credential masked (one pass over its JSON text; a copy only when needed)."""
    text = json.dumps(record, ensure_ascii=False)
    clean = redact(text)
    return record if clean == text else dict(json.loads(clean))


def _digest(items: Iterable[object]) -> str:
    return hashlib.sha256("\n".join(map(str, items)).encode("utf-8")).hexdigest()[:12]


# ---- checkpoint ----------------------------------------------------------------------------------
class Checkpoint:
    """Finished parts of pulls, in a JSON file written atomically (a kill never corrupts it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._done: dict[str, str] = {}
        if path.exists():
            try:
                self._done = dict(json.loads(path.read_text(encoding="utf-8")).get("done", {}))
            except (ValueError, AttributeError):
                raise InputError(
                    "fetch checkpoint",
                    [
                        Problem(
                            str(path),
                            "(unreadable)",
                            "the JSON this tool writes",
                            "Delete the file and run the fetch again (all is fetched again; nothing duplicates).",
                        )
                    ],
                ) from None

    def done(self, unit: str) -> bool:
        return unit in self._done

    def __len__(self) -> int:
        return len(self._done)

    def mark(self, units: Iterable[str]) -> None:
        stamp = dt.datetime.now(CST).isoformat(timespec="seconds")
        for unit in units:
            self._done.setdefault(unit, stamp)
        self._write()

    def clear(self) -> None:
        self._done = {}
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".checkpoint-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "done": self._done}, fh, ensure_ascii=False, indent=0, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


# ---- the pull -----------------------------------------------------------------------------------------
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


class _Fetcher:
    def __init__(
        self,
        *,
        home: Home,
        window: Window,
        sources: tuple[str, ...],
        credentials: Credentials,
        settings: ClientSettings,
        plan: RolloutPlan,
        progress: ProgressFn | None,
        restart: bool,
        transport: httpx.AsyncBaseTransport | None,
        checkpoint_seconds: float,
        approval_chunk: int,
        customer_chunk: int,
        unit_concurrency: int,
        observed_on: dt.date,
    ) -> None:
        self.home, self.window, self.sources = home, window, sources
        self.credentials, self.settings, self.plan = credentials, settings, plan
        self.progress = progress
        self.transport = transport
        self.checkpoint_seconds = checkpoint_seconds
        self.approval_chunk, self.customer_chunk = approval_chunk, customer_chunk
        self.unit_concurrency = unit_concurrency
        scope = hashlib.sha256(f"{credentials.base_url}|{credentials.corp_id}".encode()).hexdigest()[:16]
        self.folder = home.data / "fetch" / f"wecom-{scope}"
        self.checkpoint = Checkpoint(self.folder / "checkpoint.json")
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
        self.observed_on = observed_on  # the day the contacts' statuses are observed

    # ---- bookkeeping -------------------------------------------------------------------------
    def _say(self, label: str) -> None:
        done = self.report.parts_done + self.report.parts_skipped
        if self.progress is not None:
            self.progress(done, max(self.known, done), label)

    def _group(self, group: str, units: list[str]) -> list[str]:
        """Register a group of parts; return those still to do. An empty group is done at once."""
        self.groups[group] = set(units)
        todo = [u for u in units if not self.checkpoint.done(u)]
        self.known += len(units)
        self.report.parts_skipped += len(units) - len(todo)
        if not units:
            self.checkpoint.mark([group])
        return todo

    async def _run_unit(self, unit_id: str, work: Callable[[], Awaitable[Unit]], limit: asyncio.Semaphore) -> None:
        async with limit:
            unit = await work()
        unit.id = unit_id
        await asyncio.to_thread(self._land, unit)
        self.pending.append(unit)
        if time.monotonic() - self.last_flush >= self.checkpoint_seconds:
            await self._flush()

    def _land(self, unit: Unit) -> None:
        if not unit.pages:
            return
        records = [_redacted(p.record()) for p in unit.pages]
        with self.land_lock:
            land_records(self.home.raw, RAW_SOURCE, unit.name, records)

    async def _flush(self) -> None:
        async with self.flush_lock:
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            if batch:
                await asyncio.to_thread(self._load, batch)
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

    def _load(self, batch: list[Unit]) -> None:
        parts: dict[str, list[pd.DataFrame]] = {}
        for unit in batch:
            for name, frame in unit.frames.items():
                if len(frame):
                    parts.setdefault(name, []).append(frame)
        tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
        if not tables:
            return
        with open_writer(self.home, timeout=LOCK_TIMEOUT * 6) as wh:
            tables = self._reconcile(wh, tables)
            for name, result in wh.load_many(tables, source=RAW_SOURCE).items():
                self.report.rows[name] += result.received

    def _reconcile(self, wh: Warehouse, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Keep what the warehouse knows better than the API, and name every member events use."""
        members = tables.get("members")
        known = set(wh.query("SELECT userid FROM members")["userid"])
        if members is not None:
            old = wh.query("SELECT userid, employee_id FROM members").set_index("userid")
            members = members.drop_duplicates("userid").copy()
            members["employee_id"] = members["userid"].map(old["employee_id"]) if len(old) else None
            known |= set(members["userid"])
            # The API gives no activation time: the load keeps any stored one (activated_at is a
            # keep column) and the status is recorded as a snapshot of the fetch's day; the date
            # is derived from snapshots and first activity after the load (date_activations).
            tables["member_status"] = pd.DataFrame(
                {
                    "userid": members["userid"],
                    "observed_on": pd.Timestamp(self.observed_on),
                    "source": SNAPSHOT_SOURCE,
                    "status": members["status"],
                    "activated_at": members["activated_at"],
                }
            )
        departments = tables.get("departments")
        dept_ids = set(wh.query("SELECT department_id FROM departments")["department_id"].astype(int))
        if departments is not None:
            dept_ids |= set(departments["department_id"].astype(int))
        root = self._root(wh, departments)
        # events of userids contacts did not list: members who left (removed from contacts)
        used: set[str] = set()
        for name in ("feature_events", "member_days"):
            if name in tables:
                used |= set(tables[name]["userid"].dropna().astype(str))
        missing = sorted(used - known)
        if missing:
            self.report.stubs += len(missing)
            log.warning(
                "%d userids in events are not in WeCom contacts (members who left?); recorded as status 5", len(missing)
            )
            stubs = pd.DataFrame(
                {"userid": missing, "employee_id": None, "department_id": root, "status": 5, "activated_at": pd.NaT}
            )
            stubs["activated_at"] = pd.to_datetime(stubs["activated_at"]).dt.tz_localize("Asia/Shanghai")
            members = stubs if members is None else pd.concat([members, stubs], ignore_index=True)
        if members is not None:
            tables["members"] = members
        records = tables.get("process_records")
        if records is not None and dept_ids:
            unknown = ~records["department_id"].isin(dept_ids)
            if unknown.any():
                log.warning(
                    "%d approvals name a department WeCom contacts do not list; filed under the root department %s",
                    int(unknown.sum()),
                    root,
                )
                records = records.copy()
                records.loc[unknown, "department_id"] = root
                tables["process_records"] = records
        days = tables.get("member_days")
        if days is not None and len(days):
            richer = wh.query(
                "SELECT date, userid FROM member_days WHERE source <> ? AND date BETWEEN ? AND ?",
                [ACTIVITY_SOURCE, days["date"].min().date(), days["date"].max().date()],
            )
            if len(richer):
                richer["date"] = pd.to_datetime(richer["date"])
                keep = days.merge(richer.assign(_other=True), on=["date", "userid"], how="left")["_other"].isna()
                tables["member_days"] = days[keep.to_numpy()]
        return tables

    @staticmethod
    def _root(wh: Warehouse, departments: pd.DataFrame | None) -> int:
        if departments is not None and len(departments):
            roots = departments[departments["parent_id"].isna()]["department_id"]
            if len(roots):
                return int(roots.min())
        found = wh.query("SELECT min(department_id) AS d FROM departments WHERE parent_id IS NULL")["d"]
        return int(found.iloc[0]) if len(found) and pd.notna(found.iloc[0]) else 1

    # ---- sources ------------------------------------------------------------------------------------
    async def run(self) -> FetchReport:
        started = time.monotonic()
        async with WecomClient(self.credentials, settings=self.settings, transport=self.transport) as client:
            api = WecomApi(client)
            try:
                members = await self._contacts(api)
                await self._flush()
                jobs = [
                    job
                    for name, job in (
                        ("approvals", self._approvals),
                        ("checkin", self._checkin),
                        ("customer", self._customer),
                        ("oper_log", self._oper_log),
                        ("active_stat", self._active_stat),
                    )
                    if name in self.sources
                ]
                tasks = [asyncio.create_task(job(api, members)) for job in jobs]
                try:
                    await asyncio.gather(*tasks)
                except BaseException:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    raise
            finally:
                # keep every part that finished, even when another failed
                await asyncio.shield(self._flush())
                self._record_stats(client.stats, started)
        self._refresh_rollups()
        return self.report

    def _refresh_rollups(self) -> None:
        """Bring the KPI rollups up to date once the pull is complete (not after every batch)."""
        from wecom_eval.store.load import refresh_dependents

        with open_writer(self.home, timeout=LOCK_TIMEOUT * 6) as wh:
            refresh_dependents(wh, self.plan)

    def _record_stats(self, stats: ClientStats, started: float) -> None:
        self.report.calls = stats.total
        self.report.retries = stats.retries
        self.report.refreshes = stats.refreshes
        self.report.outcomes = dict(stats.outcomes)
        self.report.seconds = time.monotonic() - started

    def _members_file(self) -> Path:
        return self.folder / f"members-{self.window.first}_{self.window.last}.json"

    async def _contacts(self, api: WecomApi) -> list[str]:
        unit_id = f"contacts:{self.window}"
        if "contacts" not in self.sources or self.checkpoint.done(unit_id):
            if "contacts" in self.sources:
                self.known += 1
                self.report.parts_skipped += 1
            return self._known_members()
        self.known += 1
        listing = await api.departments()
        rows = listing.items("department")
        pages = [listing, *await asyncio.gather(*(api.users(int(r["id"])) for r in rows))]
        members = map_members(u for p in pages[1:] for u in p.items("userlist"))
        userids = sorted(members["userid"])
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._members_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(userids), encoding="utf-8")
        os.replace(tmp, self._members_file())
        unit = Unit(
            unit_id,
            f"contacts: {len(rows)} departments, {len(userids)} members",
            f"contacts-{self.snapshot_time:%Y%m%dT%H%M%S}",
            pages,
            {"departments": map_departments(rows, self.plan), "members": members},
        )
        await asyncio.to_thread(self._land, unit)
        self.pending.append(unit)
        return userids

    def _known_members(self) -> list[str]:
        path = self._members_file()
        if path.exists():
            return list(json.loads(path.read_text(encoding="utf-8")))
        if not self.home.warehouse.exists():
            return []
        from wecom_eval.store.warehouse import open_reader

        with open_reader(self.home) as wh:
            return sorted(wh.query("SELECT userid FROM members")["userid"])

    def _needs_members(self, members: list[str], source: str) -> None:
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

    async def _approvals(self, api: WecomApi, members: list[str]) -> None:
        limit = asyncio.Semaphore(self.unit_concurrency)

        async def window(w: Window) -> None:
            group = f"approvals:{w}"
            if self.checkpoint.done(group):
                self.report.parts_skipped += 1
                self.known += 1
                return
            listing = [page async for page in api.approval_numbers(w)]
            numbers = list(dict.fromkeys(n for p in listing for n in p.items("sp_no_list")))
            await asyncio.to_thread(
                self._land, Unit("", "", f"approvals-list-{w.first}_{w.last}-{_digest(numbers)}", listing)
            )
            chunks = list(batched(numbers, self.approval_chunk))
            ids = {f"approvals:{w}:{_digest(c)}": c for c in chunks}
            todo = self._group(group, list(ids))

            def work(chunk: list[str], unit_id: str) -> Callable[[], Awaitable[Unit]]:
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

            await asyncio.gather(*(self._run_unit(u, work(ids[u], u), limit) for u in todo))

        await asyncio.gather(*(window(w) for w in split_days(self.window.first, self.window.last, 31)))

    async def _checkin(self, api: WecomApi, members: list[str]) -> None:
        self._needs_members(members, "checkin")
        limit = asyncio.Semaphore(self.unit_concurrency)
        jobs = []
        for w in split_days(self.window.first, self.window.last, 30):
            group = f"checkin:{w}"
            if self.checkpoint.done(group):
                self.report.parts_skipped += 1
                self.known += 1
                continue
            batches = {f"checkin:{w}:{_digest(b)}": b for b in batched(members, 100)}
            for unit_id in self._group(group, list(batches)):

                def work(users: list[str] = batches[unit_id], w: Window = w, unit_id: str = unit_id) -> Awaitable[Unit]:
                    return self._checkin_unit(api, users, w, unit_id)

                jobs.append(self._run_unit(unit_id, work, limit))
        await asyncio.gather(*jobs)

    async def _checkin_unit(self, api: WecomApi, users: list[str], w: Window, unit_id: str) -> Unit:
        page = await api.checkin_records(users, w)
        events = map_checkins(page.items("checkindata"), w)
        return Unit(
            unit_id,
            f"checkin {w}: {len(users)} members",
            f"checkin-{w.first}_{w.last}-{unit_id[-12:]}",
            [_strip_checkin(page)],
            {"feature_events": events},
        )

    async def _customer(self, api: WecomApi, members: list[str]) -> None:
        windows = split_days(self.window.first, self.window.last, 30)
        open_windows = [w for w in windows if not self.checkpoint.done(f"customer:{w}")]
        self.report.parts_skipped += len(windows) - len(open_windows)
        self.known += len(windows) - len(open_windows)
        if not open_windows:
            return
        listing = await api.follow_users()
        followers = sorted(set(map(str, listing.items("follow_user"))))
        await asyncio.to_thread(self._land, Unit("", "", f"customer-follow-{_digest(followers)}", [listing]))
        limit = asyncio.Semaphore(self.unit_concurrency)
        jobs = []
        for w in open_windows:
            groups = {f"customer:{w}:{_digest(g)}": g for g in batched(followers, self.customer_chunk)}
            for unit_id in self._group(f"customer:{w}", list(groups)):

                def work(users: list[str] = groups[unit_id], w: Window = w, unit_id: str = unit_id) -> Awaitable[Unit]:
                    return self._customer_unit(api, users, w, unit_id)

                jobs.append(self._run_unit(unit_id, work, limit))
        await asyncio.gather(*jobs)

    async def _customer_unit(self, api: WecomApi, users: list[str], w: Window, unit_id: str) -> Unit:
        pages = list(await asyncio.gather(*(api.behavior(u, w) for u in users)))  # one member per call
        events = _events(
            [use for u, p in zip(users, pages, strict=True) for use in _behavior_uses(u, p.items("behavior_data"), w)]
        )
        return Unit(
            unit_id,
            f"customer {w}: {len(users)} members",
            f"customer-{w.first}_{w.last}-{unit_id[-12:]}",
            pages,
            {"feature_events": events},
        )

    async def _oper_log(self, api: WecomApi, members: list[str]) -> None:
        limit = asyncio.Semaphore(self.unit_concurrency)
        jobs = []
        for w in split_days(self.window.first, self.window.last, 7):
            unit_id = f"oper_log:{w}"
            for todo in self._group(unit_id, [unit_id]):

                async def work(w: Window = w, unit_id: str = todo) -> Unit:
                    pages = [page async for page in api.oper_log(w)]
                    days = map_oper_log((r for p in pages for r in p.items("record_list")), w)
                    return Unit(
                        unit_id, f"operation log {w}", f"oper_log-{w.first}_{w.last}", pages, {"member_days": days}
                    )

                jobs.append(self._run_unit(todo, work, limit))
        await asyncio.gather(*jobs)

    async def _active_stat(self, api: WecomApi, members: list[str]) -> None:
        limit = asyncio.Semaphore(self.unit_concurrency)
        jobs = []
        for w in split_days(self.window.first, self.window.last, 7):
            unit_id = f"active_stat:{w}"
            for todo in self._group(unit_id, [unit_id]):

                async def work(w: Window = w, unit_id: str = todo) -> Unit:
                    days = [w.first + dt.timedelta(days=k) for k in range(w.days)]
                    pages = list(await asyncio.gather(*(api.active_count(d) for d in days)))
                    return Unit(unit_id, f"active members {w}", f"active_stat-{w.first}_{w.last}", pages)

                jobs.append(self._run_unit(todo, work, limit))
        await asyncio.gather(*jobs)


def parse_sources(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Source names from ``"contacts,approvals"`` (or a list); ``None`` gives the defaults."""
    if text is None:
        return DEFAULT_SOURCES
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    bad = [n for n in names if n not in SOURCES]
    if bad or not names:
        raise InputError(
            "fetch --sources",
            [
                Problem(
                    "--sources",
                    ",".join(bad) or text,
                    f"names among {', '.join(SOURCES)}",
                    "Separate them with commas.",
                )
            ],
        )
    return tuple(dict.fromkeys(names))


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
        Which sources to pull (default :data:`DEFAULT_SOURCES`; ``active_stat`` on request).
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
    install_log_redaction()
    creds = credentials or Credentials.from_env(env_file=env_file if env_file is not None else home.root / ".env")
    creds.require(SOURCES[s] for s in names)
    plan = plan or load_plan(home.plan)
    lock_path = home.data / "fetch" / "wecom.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT)
    except Timeout:
        raise LockBusy(
            f"another wecom-eval fetch is running for {home.root} (lock {lock_path}); let it finish, "
            "then run this one again"
        ) from None
    try:
        fetcher = _Fetcher(
            home=home,
            window=Window(since, until),
            sources=names,
            credentials=creds,
            settings=settings or ClientSettings(),
            plan=plan,
            progress=progress,
            restart=restart,
            transport=transport,
            checkpoint_seconds=checkpoint_seconds,
            approval_chunk=approval_chunk,
            customer_chunk=customer_chunk,
            unit_concurrency=unit_concurrency,
            observed_on=today,
        )
        log.info("fetch %s..%s from %s (sources: %s)", since, until, redact(creds.base_url), ", ".join(names))
        return asyncio.run(fetcher.run())
    finally:
        lock.release()


__all__ = [
    "ACTIVITY_SOURCE",
    "Checkpoint",
    "DEFAULT_SOURCES",
    "FetchReport",
    "RAW_SOURCE",
    "SNAPSHOT_SOURCE",
    "SOURCES",
    "decision_time",
    "department_paths",
    "fetch",
    "map_approvals",
    "map_behavior",
    "map_checkins",
    "map_departments",
    "map_members",
    "map_oper_log",
    "parse_sources",
]
