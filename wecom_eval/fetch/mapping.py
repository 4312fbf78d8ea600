"""API pages to canonical tables: pure functions from WeCom's JSON rows to warehouse frames.

* contacts — ``departments`` (paths as the workbook writes them, pilots and go-live dates
  from the plan) and ``members`` (the API gives no activation time: the activation date is
  derived from the snapshots and the member's first activity,
  :func:`wecom_eval.store.activation.date_activations`, so identical fetches give identical
  tables);
* approvals — ``process_records`` (turnaround from ``apply_time`` to the last ``sptime``)
  and ``feature_events`` "approval" (the applicant, and each approver who acted);
* check-ins — ``feature_events`` "attendance", one per member and day with a punch
  ("未打卡" rows are missed punches, not uses);
* customer behaviour — ``feature_events`` "customer", one per member and day with
  messages, friend requests or new customers;
* the operation log — ``member_days`` (active, minutes unknown, source ``api_oper_log``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from wecom_eval.plan import RolloutPlan
from wecom_eval.wecom.api import Page
from wecom_eval.wecom.windows import Window, day_of

log = logging.getLogger("wecom_eval.fetch")

ACTIVITY_SOURCE = "api_oper_log"  # member_days.source for the operation-log signal
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


def _ts(seconds: Sequence[int | float]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(seconds), unit="s", utc=True)).dt.tz_convert("Asia/Shanghai")


def events_frame(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
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
    return frame, events_frame(events)


def map_checkins(rows: Iterable[dict[str, Any]], window: Window) -> pd.DataFrame:
    """Attendance ``feature_events``: per member and day, the punches in ``window`` (not "未打卡")."""
    days: dict[tuple[str, dt.date], list[int]] = {}
    for r in rows:
        when = int(r.get("checkin_time") or 0)
        if MISSED_PUNCH in str(r.get("exception_type") or "").split(";") or not window.contains(when):
            continue
        days.setdefault((str(r["userid"]), day_of(when)), []).append(when)
    return events_frame(
        [
            (f"wecom-attendance:{u}:{d.isoformat()}", u, "attendance", min(t), len(t))
            for (u, d), t in sorted(days.items())
        ]
    )


def behavior_uses(userid: str, rows: Iterable[dict[str, Any]], window: Window) -> list[tuple[str, str, str, int, int]]:
    """(event_id, userid, "customer", unix seconds, uses) of each day in ``window`` with uses."""
    out = []
    for r in rows:
        when = int(r.get("stat_time") or 0)
        uses = int(r.get("message_cnt") or 0) + int(r.get("new_apply_cnt") or 0) + int(r.get("new_contact_cnt") or 0)
        if uses > 0 and window.contains(when):
            out.append((f"wecom-customer:{userid}:{day_of(when).isoformat()}", userid, "customer", when, uses))
    return out


def map_behavior(userid: str, rows: Iterable[dict[str, Any]], window: Window) -> pd.DataFrame:
    """Customer ``feature_events``: a day with messages, friend requests or new customers."""
    return events_frame(behavior_uses(userid, rows, window))


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


def strip_checkin(page: Page) -> Page:
    """The page with each check-in row cut to :data:`CHECKIN_KEEP` (what lands raw)."""
    rows = [{k: r.get(k) for k in CHECKIN_KEEP if k in r} for r in page.items("checkindata")]
    return Page(page.endpoint, page.request, {**page.data, "checkindata": rows})


__all__ = [
    "ACTIVITY_SOURCE",
    "APPROVAL_STATUS",
    "CHECKIN_KEEP",
    "behavior_uses",
    "decision_time",
    "department_paths",
    "events_frame",
    "map_approvals",
    "map_behavior",
    "map_checkins",
    "map_departments",
    "map_members",
    "map_oper_log",
    "strip_checkin",
]
