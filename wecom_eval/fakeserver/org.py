"""The organisation a fake WeCom corp serves, indexed for the API's queries.

Built from the canonical tables (:mod:`wecom_eval.store.schema`) of any organisation — the demo
generator's or a hand-built one — so that what the fake serves can be compared with what
it was given:

================================  =====================================================
departments                       department/list, department/simplelist
members (+ employees for names)   user/list per department (``status``), user/list_id
process_records (wecom approval)  oa/getapprovalinfo (sp_no = record_id), getapprovaldetail
                                  (apply_time = started_at, last ``sptime`` = finished_at)
feature_events "attendance"       checkin/getcheckindata (one punch per use; a lone punch
                                  gets a "未打卡" row for the missing clock-out),
                                  checkin/getcheckin_daydata
feature_events "customer"         externalcontact/get_user_behavior_data (per member and
                                  day: chats = events, messages = their counts)
member_days (active)              security/member_oper_log/list (one record per active
                                  member-day), user/get_active_stat (active members a day)
================================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.fakeserver.approvals import STATUS_CODES, approval_info, template_of
from wecom_eval.fakeserver.convert import (
    Slices,
    as_frame,
    canonical_tables,
    cst_day,
    day_midnight,
    day_numbers,
    epoch_seconds,
    stable_int,
)
from wecom_eval.fakeserver.punches import Punches, build_punches, checkin_record

OPER_NEW_DEVICE_LOGIN = 4  # reference §6.2: 4 新设备登录


class FakeOrg:
    """Canonical tables indexed the way the WeCom endpoints query them.

    Parameters
    ----------
    org
        A mapping of canonical table name → frame (Arrow tables and iterables of chunks are
        fine), or an object with ``.tables`` such as the demo generator's ``DemoOrg``.
        Tables it lacks are served empty.
    now
        The server's "now" (Unix seconds). Default: 10:00 CST the day after the last day
        with data, so that the API's "last 30/180 days" rules accept the whole org.
    """

    def __init__(self, org: Any, *, now: int | None = None) -> None:
        tables = canonical_tables(org)
        self._last_data_day: int | None = None
        self._departments(as_frame(tables.get("departments", [])))
        self._members(as_frame(tables.get("members", [])), as_frame(tables.get("employees", [])))
        self._approvals(as_frame(tables.get("process_records", [])))
        events = as_frame(tables.get("feature_events", []))
        self._attendance(events)
        self._customer(events)
        self._activity(tables.get("member_days", []))
        if now is not None:
            self.now = int(now)
        elif self._last_data_day is not None:
            self.now = int(day_midnight(self._last_data_day + 1)) + 10 * 3600
        else:
            self.now = int(pd.Timestamp.now("UTC").timestamp())
        self._not_yet_activated()

    # ---- contacts ----------------------------------------------------------------------------
    def _departments(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            self.department_rows: list[dict[str, Any]] = []
            self.children: dict[int, list[int]] = {}
            return
        frame = frame.sort_values("department_id")
        rows: list[dict[str, Any]] = []
        for rank, rec in enumerate(frame.to_dict("records")):
            parent = rec.get("parent_id")
            parent = 0 if parent is None or pd.isna(parent) else int(parent)
            rows.append(
                {
                    "id": int(rec["department_id"]),
                    "name": str(rec["name"]),
                    "name_en": "",
                    "department_leader": [],
                    "parentid": parent,
                    "order": 100_000_000 - 1000 * rank,
                }
            )
        self.department_rows = rows
        self.children = {}
        for row in rows:
            self.children.setdefault(row["parentid"], []).append(row["id"])

    def _not_yet_activated(self) -> None:
        """A member activated after the server's "now" is served as not activated (status 4), as WeCom would."""
        later = {u for u, t in self._activated_at.items() if t > self.now and self.member_status.get(u) == 1}
        for userid in later:
            self.member_status[userid] = 4
        for users in self.users_by_department.values():
            for user in users:
                if user["userid"] in later:
                    user["status"] = 4

    def subtree(self, department_id: int | None) -> list[dict[str, Any]]:
        """The department and all its descendants (every department when None)."""
        if department_id is None:
            return list(self.department_rows)
        by_id = {r["id"]: r for r in self.department_rows}
        if department_id not in by_id:
            return []
        out, todo = [], [department_id]
        while todo:
            d = todo.pop(0)
            out.append(by_id[d])
            todo.extend(self.children.get(d, []))
        return out

    def _members(self, members: pd.DataFrame, employees: pd.DataFrame) -> None:
        self.users_by_department: dict[int, list[dict[str, Any]]] = {}
        self.member_status: dict[str, int] = {}
        self._activated_at: dict[str, int] = {}
        self.member_department: dict[str, int] = {}
        self.member_name: dict[str, str] = {}
        self.department_name = {r["id"]: r["name"] for r in self.department_rows}
        if members.empty:
            self.user_id_rows: list[dict[str, Any]] = []
            return
        names: dict[str, str] = {}
        roles: dict[str, str] = {}
        if not employees.empty:
            names = dict(zip(employees["employee_id"].astype(str), employees["name"].astype(str), strict=True))
            if "role" in employees:
                roles = {
                    k: str(v)
                    for k, v in zip(employees["employee_id"].astype(str), employees["role"], strict=True)
                    if v is not None and not pd.isna(v)
                }
        members = members.sort_values("userid")
        records = members.to_dict("records")
        picked: dict[int, tuple[str, bool]] = {}  # a department's leader: its first active manager
        for rec in records:
            emp = rec.get("employee_id")
            is_manager = roles.get("" if emp is None or pd.isna(emp) else str(emp)) == "经理"
            dept = int(rec["department_id"])
            if int(rec["status"]) == 1 and (dept not in picked or (is_manager and not picked[dept][1])):
                picked[dept] = (str(rec["userid"]), is_manager)
        leaders = {d: u for d, (u, _m) in picked.items()}
        for rec in records:
            userid, dept, status = str(rec["userid"]), int(rec["department_id"]), int(rec["status"])
            emp = rec.get("employee_id")
            emp = None if emp is None or pd.isna(emp) else str(emp)
            name = names.get(emp or "", userid)
            self.member_status[userid] = status
            activated = rec.get("activated_at")
            if activated is not None and not pd.isna(activated):
                self._activated_at[userid] = int(pd.Timestamp(activated).timestamp())
            self.member_department[userid] = dept
            self.member_name[userid] = name
            self.users_by_department.setdefault(dept, []).append(
                {
                    "userid": userid,
                    "name": name,
                    "department": [dept],
                    "order": [0],
                    "position": roles.get(emp or "", ""),
                    "is_leader_in_dept": [int(leaders.get(dept) == userid)],
                    "direct_leader": [leaders[dept]] if dept in leaders and leaders[dept] != userid else [],
                    "telephone": "",
                    "alias": "",
                    "status": status,
                    "main_department": dept,
                    "english_name": "",
                    "extattr": {"attrs": []},
                    "external_position": "",
                    "external_profile": {"external_attr": []},
                }
            )
        for row in self.department_rows:
            if row["id"] in leaders:
                row["department_leader"] = [leaders[row["id"]]]
        self.user_id_rows = [{"userid": u, "department": d} for u, d in sorted(self.member_department.items())]

    # ---- approvals ---------------------------------------------------------------------------
    def _approvals(self, frame: pd.DataFrame) -> None:
        if not frame.empty:
            frame = frame[(frame["system"] == "wecom") & (frame["process"] == "approval")]
        if frame.empty:
            self.approval_time = np.array([], dtype=np.int64)
            self.approval_no = np.array([], dtype=object)
            self._approval_rows: dict[str, dict[str, Any]] = {}
            return
        started = epoch_seconds(frame["started_at"]).astype(np.int64)
        finished = epoch_seconds(frame["finished_at"])
        order = np.lexsort((frame["record_id"].astype(str).to_numpy(), started))
        self.approval_time = started[order]
        self.approval_no = frame["record_id"].astype(str).to_numpy(dtype=object)[order]
        userids = frame["userid"].to_numpy(dtype=object)[order]
        depts = frame["department_id"].to_numpy()[order]
        statuses = frame["status"].astype(str).to_numpy(dtype=object)[order]
        fins = finished[order]
        self._approval_rows = {
            sp: {
                "apply": int(t),
                "finish": None if np.isnan(f) else int(f),
                "status": s,
                "userid": "" if pd.isna(u) else str(u),
                "department": int(d),
            }
            for sp, t, f, s, u, d in zip(
                self.approval_no, self.approval_time, fins, statuses, userids, depts, strict=True
            )
        }
        self._note_day(int(cst_day(self.approval_time.max())))
        # approvers: members of the applicant's department, else anyone active
        self._approvers = {
            d: sorted(u["userid"] for u in users if u["status"] == 1) for d, users in self.users_by_department.items()
        }
        self._anyone = sorted(u for u, s in self.member_status.items() if s == 1) or ["admin"]

    def approval_numbers(
        self,
        start: int,
        end: int,
        *,
        creators: set[str] | None = None,
        departments: set[int] | None = None,
        statuses: set[int] | None = None,
        templates: set[str] | None = None,
    ) -> list[str]:
        """sp_no of approvals submitted in [start, end], oldest first, filtered like the API."""
        lo = int(np.searchsorted(self.approval_time, start, side="left"))
        hi = int(np.searchsorted(self.approval_time, end, side="right"))
        out = []
        for sp in self.approval_no[lo:hi]:
            row = self._approval_rows[sp]
            if creators is not None and row["userid"] not in creators:
                continue
            if departments is not None and row["department"] not in departments:
                continue
            if statuses is not None and STATUS_CODES.get(row["status"], 0) not in statuses:
                continue
            if templates is not None and template_of(sp)[1] not in templates:
                continue
            out.append(str(sp))
        return out

    def approval_detail(self, sp_no: str) -> dict[str, Any] | None:
        """The ``info`` object of getapprovaldetail, or None for an unknown number."""
        row = self._approval_rows.get(sp_no)
        if row is None:
            return None
        pool = (
            [u for u in self._approvers.get(row["department"], []) if u != row["userid"]]
            or [u for u in self._anyone if u != row["userid"]]
            or ["admin"]
        )
        k = stable_int("approver", sp_no) % len(pool)
        first, second = pool[k], pool[(k + 1) % len(pool)]  # two different people when there are two
        return approval_info(sp_no, row, first, second)

    # ---- attendance ----------------------------------------------------------------------------
    def _attendance(self, events: pd.DataFrame) -> None:
        empty = np.array([], dtype=np.int64)
        self.punch_user = np.array([], dtype=object)
        self.punch_time = self.punch_kind = self.punch_sched = empty
        self.punch_missing = np.array([], dtype=bool)
        self._punches: Punches | None = None
        self._punch_slices = Slices({})
        if events.empty:
            return
        ev = events[events["feature"] == "attendance"]
        if ev.empty:
            return
        p = self._punches = build_punches(ev)
        self.punch_user, self.punch_time, self.punch_kind = p.user, p.time, p.kind
        self.punch_sched, self.punch_missing = p.sched, p.missing
        self._punch_slices = Slices.of(self.punch_user)
        self._note_day(p.last_day)

    def punches(self, userid: str, start: int, stop: int) -> range:
        """Row positions of ``userid``'s punches with ``start <= time < stop``."""
        a, b = self._punch_slices.index.get(userid, (0, 0))
        times = self.punch_time[a:b]
        return range(a + int(np.searchsorted(times, start)), a + int(np.searchsorted(times, stop)))

    def checkin_record(self, i: int) -> dict[str, Any]:
        """One ``checkindata`` row (reference §7.1 shape; location fields as a real punch has)."""
        if self._punches is None:
            raise IndexError(f"no punch {i}: the organisation has no attendance events")
        return checkin_record(self._punches, i)

    # ---- customer contact --------------------------------------------------------------------------
    def _customer(self, events: pd.DataFrame) -> None:
        self._behavior: dict[str, dict[int, tuple[int, int]]] = {}
        self.follow_users: list[str] = []
        if events.empty:
            return
        ev = events[events["feature"] == "customer"]
        if ev.empty:
            return
        frame = pd.DataFrame(
            {
                "userid": ev["userid"].astype(str).to_numpy(),
                "day": cst_day(epoch_seconds(ev["ts"]).astype(np.int64)),
                "count": ev["count"].to_numpy(dtype=np.int64),
            }
        )
        daily = frame.groupby(["userid", "day"], sort=True)["count"].agg(["size", "sum"])
        for (userid, day), chats, messages in zip(daily.index, daily["size"], daily["sum"], strict=True):
            self._behavior.setdefault(str(userid), {})[int(day)] = (int(chats), int(messages))
        self._note_day(int(frame["day"].max()))
        # 客户联系 is configured for whole departments: every member of a department where
        # somebody served customers has the feature.
        busy = {self.member_department.get(u) for u in self._behavior}
        self.follow_users = sorted(
            {u for u, d in self.member_department.items() if d in busy and self.member_status.get(u) in (1, 2)}
            | set(self._behavior)
        )

    def behavior_rows(self, userids: Iterable[str], first_day: int, last_day: int) -> list[dict[str, Any]]:
        """``behavior_data`` for the members together (WeCom sums them), one row a day."""
        rows = []
        for day in range(first_day, last_day + 1):
            chats = messages = 0
            for u in userids:
                c, m = self._behavior.get(u, {}).get(day, (0, 0))
                chats, messages = chats + c, messages + m
            row: dict[str, Any] = {"stat_time": int(day_midnight(day)), "chat_cnt": chats, "message_cnt": messages}
            if chats:  # present only when there were chats (reference §9.3)
                row["reply_percentage"] = 100.0 if messages >= chats else round(100.0 * messages / chats, 2)
                row["avg_reply_time"] = 3 + messages % 27
            row.update({"negative_feedback_cnt": 0, "new_apply_cnt": 0, "new_contact_cnt": 0})
            rows.append(row)
        return rows

    # ---- activity ----------------------------------------------------------------------------------
    def _activity(self, member_days: Any) -> None:
        users: list[np.ndarray] = []
        days: list[np.ndarray] = []
        chunks = [member_days] if isinstance(member_days, (pd.DataFrame, pa.Table)) else member_days
        for chunk in chunks:
            frame = as_frame(chunk)
            if frame.empty:
                continue
            frame = frame[frame["active"].astype(bool)]
            users.append(frame["userid"].astype(str).to_numpy(dtype=object))
            days.append(day_numbers(frame["date"]))
        u = np.concatenate(users) if users else np.array([], dtype=object)
        d = np.concatenate(days) if days else np.array([], dtype=np.int64)
        self.active_counts: dict[int, int] = {}
        if not len(u):
            self.oper_time = np.array([], dtype=np.int64)
            self.oper_user = u
            return
        # one operation a day per active member, at a stable time between 08:00 and 18:00
        uniq, inverse = np.unique(u, return_inverse=True)
        codes = np.array([stable_int("oper", x) % 36_000 for x in uniq], dtype=np.int64)
        t = day_midnight(d) + 8 * 3600 + (codes[inverse] + d * 7919) % 36_000
        order = np.lexsort((u.astype(str), t))
        self.oper_time = t[order].astype(np.int64)
        self.oper_user = u[order]
        first = int(d.min())
        self.active_counts = {first + i: int(c) for i, c in enumerate(np.bincount(d - first)) if c}
        self._note_day(int(d.max()))

    def oper_records(
        self, start: int, end: int, *, userid: str | None = None, oper_type: int | None = None
    ) -> np.ndarray:
        """Positions of operation records with ``start <= time <= end`` (filtered), oldest first."""
        lo = int(np.searchsorted(self.oper_time, start, side="left"))
        hi = int(np.searchsorted(self.oper_time, end, side="right"))
        pos = np.arange(lo, hi)
        if oper_type is not None and oper_type != OPER_NEW_DEVICE_LOGIN:
            return pos[:0]
        if userid:
            pos = pos[self.oper_user[lo:hi] == userid]
        return pos

    def oper_record(self, i: int) -> dict[str, Any]:
        user = str(self.oper_user[i])
        return {
            "time": int(self.oper_time[i]),
            "userid": user,
            "oper_type": OPER_NEW_DEVICE_LOGIN,
            "detail_info": "登录设备：iPhone" if stable_int("dev", user) % 2 else "登录设备：Android",
            "ip": f"10.{stable_int('ip', user) % 250}.{stable_int('ip2', user) % 250}.8",
        }

    # ---- bookkeeping -------------------------------------------------------------------------------
    def _note_day(self, day: int) -> None:
        self._last_data_day = day if self._last_data_day is None else max(self._last_data_day, day)

    @property
    def today(self) -> int:
        """The server's current CST day number."""
        return int(cst_day(np.array([self.now]))[0])

    def summary(self) -> dict[str, int]:
        return {
            "departments": len(self.department_rows),
            "members": len(self.member_status),
            "approvals": len(self.approval_no),
            "punches": int((~self.punch_missing).sum()),
            "customer_user_days": sum(len(v) for v in self._behavior.values()),
            "oper_records": len(self.oper_time),
        }


__all__ = ["FakeOrg"]
