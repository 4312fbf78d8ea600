"""What each fake endpoint checks and answers: the real request rules and response shapes.

A handler takes the organisation and the request and returns the answer's payload (the
server adds ``errcode``/``errmsg``), or raises :class:`ApiError` with the errcode WeCom
gives for that mistake (reference §4–§9; where the reference marks a code unverified the
fake uses 40058 "invalid parameter", and says so in the message).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wecom_eval.fakeserver.convert import day_midnight, stable_int
from wecom_eval.fakeserver.org import FakeOrg
from wecom_eval.fakeserver.punches import CHECKIN_TYPES, OFF_DUTY, ON_DUTY, OUTSIDE, WORK_END, WORK_START
from wecom_eval.wecom.windows import DAY

ERRMSG: dict[int, str] = {  # WeCom's errmsg of each errcode the fake answers
    -1: "system busy",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid corpid",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "api freq out of limit",
    44001: "empty media data",
    40006: "invalid meida size",
    40004: "invalid media type",
    40007: "invalid media_id",
    48002: "api forbidden",
    48009: "api forbidden: contact sync assistant may not read contact details from a new ip",
    60020: "not allow to access from your ip",
    93000: "invalid webhook url",
    40008: "invalid message type",
}
MAX_USERS = 100
CHECKIN_MAX_SPAN = 30 * DAY  # "间隔少于一个月": the fake refuses anything longer than 30 days
DAYDATA_MAX_DAYS = 30
APPROVAL_MAX_SPAN = 31 * DAY
BEHAVIOR_MAX_DAYS = 30
BEHAVIOR_HISTORY_DAYS = 180
OPER_LOG_MAX_SPAN = 7 * DAY
OPER_LOG_HISTORY_DAYS = 180
ACTIVE_STAT_HISTORY_DAYS = 30


class ApiError(Exception):
    """A business error: HTTP 200 with this errcode and an English errmsg."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Request:
    method: str
    path: str  # under /cgi-bin/
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    ip: str = "127.0.0.1"


Handler = Callable[[FakeOrg, Request], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    apps: frozenset[str]
    handler: Handler
    cursor_field: str | None = None  # a request carrying this field asks for a later page


# ---- request helpers ------------------------------------------------------------------------
def _int(value: Any, code: int, message: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApiError(code, message) from None
    return number


def _userids(body: dict[str, Any], name: str, code: int) -> list[str]:
    users = body.get(name)
    if not isinstance(users, list) or not users or len(users) > MAX_USERS:
        raise ApiError(code, f"{name} is empty or over limit({MAX_USERS})")
    return [str(u) for u in users]


def _encode_cursor(kind: str, offset: int, signature: int) -> str:
    raw = json.dumps([kind, offset, signature % 2**32]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: Any, kind: str, signature: int, code: int) -> int:
    if cursor in (None, "", 0, "0"):
        return 0
    try:
        text = str(cursor)
        got_kind, offset, sig = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        raise ApiError(code, "invalid cursor") from None
    if got_kind != kind or sig != signature % 2**32 or not isinstance(offset, int) or offset < 0:
        raise ApiError(code, "invalid cursor: it belongs to another query")
    return offset


def _page_length(size: int, signature: int, offset: int) -> int:
    """Pages are sometimes short (visible-range filtering): keep paging on the cursor."""
    return size if stable_int("short", signature, offset) % 5 else max(1, size - 11)


# ---- contacts --------------------------------------------------------------------------------
def department_list(org: FakeOrg, req: Request) -> dict[str, Any]:
    raw = req.query.get("id")
    dept = None if raw in (None, "") else _int(raw, 60123, "invalid party id")
    rows = org.subtree(dept)
    if dept is not None and not rows:
        raise ApiError(60123, "invalid party id")
    return {"department": rows}


def department_simplelist(org: FakeOrg, req: Request) -> dict[str, Any]:
    rows = department_list(org, req)["department"]
    return {"department_id": [{"id": r["id"], "parentid": r["parentid"], "order": r["order"]} for r in rows]}


def user_list(org: FakeOrg, req: Request) -> dict[str, Any]:
    dept = _int(req.query.get("department_id"), 60123, "invalid party id")
    if not org.subtree(dept):
        raise ApiError(60123, "invalid party id")
    depts = [r["id"] for r in org.subtree(dept)] if req.query.get("fetch_child") == "1" else [dept]
    return {"userlist": [u for d in depts for u in org.users_by_department.get(d, [])]}


def user_list_id(org: FakeOrg, req: Request) -> dict[str, Any]:
    limit = _int(req.body.get("limit", 10_000), 40058, "limit must be an integer")
    if not 1 <= limit <= 10_000:
        raise ApiError(40058, "limit must be 1-10000")
    offset = _decode_cursor(req.body.get("cursor"), "list_id", limit, 50100)
    rows = org.user_id_rows[offset : offset + limit]
    end = offset + len(rows)
    return {
        "next_cursor": _encode_cursor("list_id", end, limit) if end < len(org.user_id_rows) else "",
        "dept_user": rows,
    }


def active_stat(org: FakeOrg, req: Request) -> dict[str, Any]:
    try:
        day = dt.date.fromisoformat(str(req.body.get("date")))
    except ValueError:
        raise ApiError(40058, "date must be YYYY-MM-DD") from None
    number = (day - dt.date(1970, 1, 1)).days
    if not org.today - ACTIVE_STAT_HISTORY_DAYS <= number < org.today:
        raise ApiError(
            40058, f"date must be within the last {ACTIVE_STAT_HISTORY_DAYS} days (the exact errcode is unverified)"
        )
    return {"active_cnt": org.active_counts.get(number, 0)}


# ---- attendance -------------------------------------------------------------------------------
def checkin_data(org: FakeOrg, req: Request) -> dict[str, Any]:
    kind = _int(req.body.get("opencheckindatatype"), 40058, "opencheckindatatype must be 1, 2 or 3")
    if kind not in (1, 2, 3):
        raise ApiError(40058, "opencheckindatatype must be 1, 2 or 3")
    start = _int(req.body.get("starttime"), 301024, "invalid starttime")
    end = _int(req.body.get("endtime"), 301024, "invalid endtime")
    users = _userids(req.body, "useridlist", 301023)
    if start <= 0 or end <= start or end - start > CHECKIN_MAX_SPAN:
        raise ApiError(
            301024, "starttime and endtime must be positive, endtime after starttime, and the span less than a month"
        )
    # the API answers with whole days (reference §7.1, a reported quirk)
    lo = int(day_midnight((start + 8 * 3600) // DAY))
    hi = int(day_midnight((end + 8 * 3600) // DAY + 1))
    wanted = {1: (ON_DUTY, OFF_DUTY), 2: (OUTSIDE,), 3: (ON_DUTY, OFF_DUTY, OUTSIDE)}[kind]
    rows = []
    for userid in users:
        for i in org.punches(userid, lo, hi):
            if org.punch_kind[i] in wanted:
                rows.append(org.checkin_record(i))
    return {"checkindata": rows}


def checkin_day_data(org: FakeOrg, req: Request) -> dict[str, Any]:
    start = _int(req.body.get("starttime"), 301024, "invalid starttime")
    end = _int(req.body.get("endtime"), 301024, "invalid endtime")
    users = _userids(req.body, "useridlist", 301023)
    first, last = (start + 8 * 3600) // DAY, (end + 8 * 3600) // DAY
    if start <= 0 or last < first or last - first + 1 > DAYDATA_MAX_DAYS:
        raise ApiError(301024, f"invalid time span: at most {DAYDATA_MAX_DAYS} days, endtime not before starttime")
    datas = []
    for userid in users:
        if userid not in org.member_status:
            continue
        for day in range(first, min(last, org.today - 1) + 1):  # today's report is not ready
            midnight = int(day_midnight(day))
            idx = [i for i in org.punches(userid, midnight, midnight + DAY) if not org.punch_missing[i]]
            missing = [i for i in org.punches(userid, midnight, midnight + DAY) if org.punch_missing[i]]
            times = [int(org.punch_time[i]) - midnight for i in idx]
            weekday = dt.date(1970, 1, 1) + dt.timedelta(days=day)
            exceptions = []
            if times and times[0] > WORK_START:
                exceptions.append({"exception": 1, "count": 1, "duration": times[0] - WORK_START})
            if missing:
                exceptions.append({"exception": 3, "count": len(missing), "duration": 0})
            datas.append(
                {
                    "base_info": {
                        "date": midnight,
                        "record_type": 1,
                        "name": org.member_name.get(userid, userid),
                        "name_ex": "",
                        "departs_name": org.department_name.get(org.member_department.get(userid, -1), ""),
                        "acctid": userid,
                        "rule_info": {
                            "groupid": 1,
                            "groupname": "标准考勤",
                            "scheduleid": 0,
                            "schedulename": "",
                            "checkintime": [{"work_sec": WORK_START, "off_work_sec": WORK_END}],
                        },
                        "day_type": 1 if weekday.weekday() >= 5 else 0,
                    },
                    "summary_info": {
                        "checkin_count": len(times),
                        "regular_work_sec": (times[-1] - times[0]) if len(times) > 1 else 0,
                        "standard_work_sec": WORK_END - WORK_START,
                        "earliest_time": times[0] if times else 0,
                        "lastest_time": times[-1] if times else 0,
                    },
                    "holiday_infos": [],
                    "exception_infos": exceptions,
                    "ot_info": {"ot_status": 0, "ot_duration": 0, "exception_duration": []},
                    "sp_items": [],
                }
            )
    return {"datas": datas}


# ---- approvals ----------------------------------------------------------------------------------
def _filters(body: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    filters = body.get("filters") or []
    if not isinstance(filters, list):
        raise ApiError(301025, "get approval param error:invalid filters")
    for f in filters:
        if not isinstance(f, dict) or "key" not in f or "value" not in f:
            raise ApiError(301025, "get approval param error:invalid filters")
        found.setdefault(str(f["key"]), set()).add(str(f["value"]))
    return found


def approval_info(org: FakeOrg, req: Request) -> dict[str, Any]:
    bad = "get approval param error:invalid starttime or endtime"
    start = _int(req.body.get("starttime"), 301025, bad)
    end = _int(req.body.get("endtime"), 301025, bad)
    if start <= 0 or end <= start or end - start > APPROVAL_MAX_SPAN:
        raise ApiError(301025, bad)
    size = _int(req.body.get("size", 100), 301025, "get approval param error:invalid size")
    size = 100 if size < 1 or size > 100 else size  # capped at 100
    filters = _filters(req.body)
    numbers = org.approval_numbers(
        start,
        end,
        creators=filters.get("creator"),
        departments={_int(d, 301025, "invalid department") for d in filters["department"]}
        if "department" in filters
        else None,
        statuses={_int(s, 301025, "invalid sp_status") for s in filters["sp_status"]}
        if "sp_status" in filters
        else None,
        templates=filters.get("template_id"),
    )
    signature = stable_int("approvals", start, end, sorted((k, sorted(v)) for k, v in filters.items()))
    offset = _decode_cursor(req.body.get("new_cursor"), "approvals", signature, 301025)
    stop = offset + _page_length(size, signature, offset)
    page: dict[str, Any] = {"sp_no_list": numbers[offset:stop]}
    if stop < len(numbers):  # the last page has no new_next_cursor
        page["new_next_cursor"] = _encode_cursor("approvals", stop, signature)
    return page


def approval_detail(org: FakeOrg, req: Request) -> dict[str, Any]:
    sp_no = str(req.body.get("sp_no") or "").strip()
    if not sp_no:
        raise ApiError(301025, "get approval param error:sp_no is empty")
    info = org.approval_detail(sp_no)
    if info is None:
        raise ApiError(301025, "get approval param error:sp_no not found")
    return {"info": info}


# ---- customer contact -----------------------------------------------------------------------------
def follow_users(org: FakeOrg, req: Request) -> dict[str, Any]:
    return {"follow_user": list(org.follow_users)}


def behavior_data(org: FakeOrg, req: Request) -> dict[str, Any]:
    users = req.body.get("userid") or []
    parties = req.body.get("partyid") or []
    if not isinstance(users, list) or not isinstance(parties, list) or (not users and not parties):
        raise ApiError(40058, "userid and partyid can not be both empty")
    if len(users) > MAX_USERS or len(parties) > MAX_USERS:
        raise ApiError(40058, f"userid or partyid over limit({MAX_USERS}) (the exact errcode is unverified)")
    for u in users:
        if str(u) not in org.member_status:
            raise ApiError(60111, f"userid not found: {u}")
    start = _int(req.body.get("start_time"), 40058, "invalid start_time")
    end = _int(req.body.get("end_time"), 40058, "invalid end_time")
    first, last = (start + 8 * 3600) // DAY, (end + 8 * 3600) // DAY
    if start <= 0 or last < first or last - first + 1 > BEHAVIOR_MAX_DAYS:
        raise ApiError(40058, f"invalid time range: at most {BEHAVIOR_MAX_DAYS} days (the exact errcode is unverified)")
    if first < org.today - BEHAVIOR_HISTORY_DAYS:
        raise ApiError(
            40058,
            f"start_time too early: only the last {BEHAVIOR_HISTORY_DAYS} days are kept "
            "(the exact errcode is unverified)",
        )
    members = [str(u) for u in users]
    for p in parties:
        members += [u["userid"] for u in org.users_by_department.get(_int(p, 40058, "invalid partyid"), [])]
    return {"behavior_data": org.behavior_rows(sorted(set(members)), first, min(last, org.today - 1))}


# ---- activity ----------------------------------------------------------------------------------------
def oper_log(org: FakeOrg, req: Request) -> dict[str, Any]:
    start = _int(req.body.get("start_time"), 40058, "invalid start_time")
    end = _int(req.body.get("end_time"), 40058, "invalid end_time")
    if start <= 0 or end <= start or end - start > OPER_LOG_MAX_SPAN or end > org.now:
        raise ApiError(
            40058,
            "invalid time range: end_time after start_time, before now, at most 7 days "
            "(the exact errcode is unverified)",
        )
    if start < org.now - OPER_LOG_HISTORY_DAYS * DAY:
        raise ApiError(
            40058, f"start_time too early: only the last {OPER_LOG_HISTORY_DAYS} days (the exact errcode is unverified)"
        )
    limit = _int(req.body.get("limit", 400), 40058, "invalid limit")
    if not 1 <= limit <= 400:
        raise ApiError(40058, "limit must be 1-400")
    userid = req.body.get("userid") or None
    oper_type = req.body.get("oper_type")
    oper_type = None if oper_type in (None, "") else _int(oper_type, 40058, "invalid oper_type")
    positions = org.oper_records(start, end, userid=userid, oper_type=oper_type)
    signature = stable_int("oper_log", start, end, userid, oper_type, limit)
    offset = _decode_cursor(req.body.get("cursor"), "oper_log", signature, 40058)
    stop = offset + _page_length(limit, signature, offset)
    more = stop < len(positions)
    return {
        "has_more": more,
        "next_cursor": _encode_cursor("oper_log", stop, signature) if more else "",
        "record_list": [org.oper_record(int(i)) for i in positions[offset:stop]],
    }


ROUTES: dict[str, Route] = {
    r.path: r
    for r in (
        Route("department/list", "GET", frozenset({"CONTACTS"}), department_list),
        Route("department/simplelist", "GET", frozenset({"CONTACTS"}), department_simplelist),
        Route("user/list", "GET", frozenset({"CONTACTS"}), user_list),
        Route("user/list_id", "POST", frozenset({"CONTACTS"}), user_list_id, cursor_field="cursor"),
        Route("user/get_active_stat", "POST", frozenset({"CONTACTS"}), active_stat),
        Route("checkin/getcheckindata", "POST", frozenset({"CHECKIN"}), checkin_data),
        Route("checkin/getcheckin_daydata", "POST", frozenset({"CHECKIN"}), checkin_day_data),
        Route("oa/getapprovalinfo", "POST", frozenset({"APPROVAL"}), approval_info, cursor_field="new_cursor"),
        Route("oa/getapprovaldetail", "POST", frozenset({"APPROVAL"}), approval_detail),
        Route("externalcontact/get_follow_user_list", "GET", frozenset({"CUSTOMER"}), follow_users),
        Route("externalcontact/get_user_behavior_data", "POST", frozenset({"CUSTOMER"}), behavior_data),
        Route("security/member_oper_log/list", "POST", frozenset({"SECURITY"}), oper_log, cursor_field="cursor"),
    )
}

__all__ = ["ApiError", "CHECKIN_TYPES", "ROUTES", "Request", "Route"]
