"""The kinds of file ``wecom-eval ingest`` reads: their columns, tables, and how rows map.

Each :class:`KindSpec` names the canonical tables it fills, the fields it reads (required,
optional, at least one of a group), the example file under ``data/examples/`` and a
``build`` function that turns one parsed file into canonical rows. Field names are the keys
of the alias table (``aliases.yaml``); docs/ingest.md lists every alias.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from wecom_eval.errors import Problem
from wecom_eval.ingest import parse
from wecom_eval.ingest.columns import (
    Context,
    FieldSpec,
    Sheet,
    date_series,
    text_series,
    timestamp_series,
)
from wecom_eval.ingest.departments import DepartmentError
from wecom_eval.ingest.people import People, date_in_name, normalise_mobile

F = FieldSpec
Frames = dict[str, pd.DataFrame]
Build = Callable[[Sheet, dict[str, list[Any]], Context], Frames]

ACTIVITY_SOURCE = "admin_export"  # member_days.source when the file has no source column
DEFAULT_PROCESS = "approval"


@dataclass(frozen=True)
class KindSpec:
    """What one KIND reads and where it goes."""

    name: str
    summary: str
    tables: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    build: Build
    example: str
    one_of: tuple[tuple[str, ...], ...] = ()
    notes: str = ""
    streams: bool = True  # read in chunks; False when ``build`` needs the whole file at once

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


# ---- shared helpers ----------------------------------------------------------------------


def _department_ids(
    sheet: Sheet, values: dict[str, list[Any]], ctx: Context, *, create: bool, needed: bool
) -> list[int | None]:
    """Department ids per row from the 部门 (path or name) and/or 部门ID columns."""
    n = len(sheet.lines)
    texts = values.get("department", [None] * n)
    ids = values.get("department_id", [None] * n)
    parents = values.get("parent_id", [None] * n)
    header = sheet.header("department") if sheet.has("department") else sheet.header("department_id")
    out: list[int | None] = []
    cache: dict[tuple[Any, Any, Any], int | DepartmentError] = {}
    for i in range(n):
        key = (texts[i], ids[i], parents[i])
        if key not in cache:
            try:
                if create:
                    cache[key] = ctx.departments.ensure(texts[i], dept_id=ids[i], parent_id=parents[i])
                elif ids[i] is not None:
                    cache[key] = ids[i]
                elif texts[i] is not None:
                    cache[key] = ctx.departments.resolve(texts[i])
                elif needed:
                    cache[key] = DepartmentError(
                        "a department (a path like 总部/销售部, a name, or a 部门ID)", "Fill it in, or remove the row."
                    )
                else:
                    cache[key] = None  # type: ignore[assignment]
            except DepartmentError as exc:
                cache[key] = exc
        found = cache[key]
        if isinstance(found, DepartmentError):
            shown = texts[i] if texts[i] is not None else ids[i]
            ctx.log.cell(sheet.source, sheet.lines[i], header, shown, found.expected, found.fix)
            out.append(None)
        else:
            out.append(found)
    return out


def _ints(values: Sequence[int | None], index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="Int64"), index=index)


def _column(values: dict[str, list[Any]], name: str, n: int) -> list[Any]:
    return values.get(name, [None] * n)


def _stated(activated: pd.Series) -> pd.Series:
    """``activation_basis`` of members whose export states the activation time (else derived later)."""
    return pd.Series(["export_time" if pd.notna(t) else None for t in activated], index=activated.index, dtype=object)


# ---- roster ------------------------------------------------------------------------------


def build_roster(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = _department_ids(sheet, values, ctx, create=True, needed=True)
    branch_given = _column(values, "branch", n)
    branch = [
        b if b is not None else (ctx.departments.by_id[d].split("/")[0] if d is not None else None)
        for b, d in zip(branch_given, dept, strict=True)
    ]
    frames: Frames = {
        "employees": pd.DataFrame(
            {
                "employee_id": text_series(values["employee_id"], index),
                "name": text_series(values["name"], index),
                "department_id": _ints(dept, index),
                "hire_date": date_series(values["hire_date"], index),
                "leave_date": date_series(_column(values, "leave_date", n), index),
                "branch": text_series(branch, index),
                "role": text_series(_column(values, "role", n), index),
                "mobile": text_series([normalise_mobile(m) for m in _column(values, "mobile", n)], index),
            },
            index=index,
        )
    }
    if sheet.has("userid") and not (sheet.has("member_status") or sheet.has("activated_at")):
        sheet.notes.append(
            f"column {sheet.header('userid')} not used: members are loaded only with a "
            "激活状态 (account status) column beside it"
        )
    if sheet.has("member_status") or sheet.has("activated_at"):
        if not sheet.has("userid"):
            ctx.log.add(
                Problem(
                    f"{sheet.source}, header on line {sheet.raw.header_line}",
                    sheet.header("member_status"),
                    "a 账号 (userid) column beside the account status",
                    "Members are loaded only with their account; add the column or drop the status.",
                )
            )
            return frames
        userid = values["userid"]
        status = _column(values, "member_status", n)
        has = [u is not None for u in userid]
        if not sheet.has("member_status"):
            ctx.log.add(
                Problem(
                    f"{sheet.source}, header on line {sheet.raw.header_line}",
                    None,
                    "a 激活状态 column (已激活/未激活/已禁用/已退出) beside 账号",
                    "Members need their status; add the column.",
                )
            )
            return frames
        raw_status = sheet.cells("member_status")
        for i in range(n):
            if has[i] and parse.is_empty(raw_status[i]):
                ctx.log.cell(
                    sheet.source,
                    sheet.lines[i],
                    sheet.header("member_status"),
                    None,
                    "an account status for this 账号 (已激活, 未激活, 已禁用 or 已退出)",
                )
        activated = timestamp_series(_column(values, "activated_at", n), index, ctx.plan.timezone)
        members = pd.DataFrame(
            {
                "userid": text_series(userid, index),
                "employee_id": text_series(values["employee_id"], index),
                "department_id": _ints(dept, index),
                "status": _ints(status, index),
                "activated_at": activated,
                "activation_basis": _stated(activated),
            },
            index=index,
        )
        frames["members"] = members[has]
    return frames


# ---- activity ----------------------------------------------------------------------------


def build_activity(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    minutes = _column(values, "minutes", n)
    active = list(_column(values, "active", n))
    for i in range(n):
        if active[i] is None:
            if minutes[i] is not None:
                active[i] = minutes[i] > 0  # no yes/no column (or a blank one): active when used
            elif sheet.has("active"):
                ctx.log.cell(
                    sheet.source,
                    sheet.lines[i],
                    sheet.header("active"),
                    None,
                    "是 or 否 (or minutes of use)",
                    "Fill it in, or remove the row.",
                )
            else:
                ctx.log.cell(
                    sheet.source,
                    sheet.lines[i],
                    sheet.header("minutes"),
                    None,
                    "minutes of use (0 when not active)",
                    "Fill it in, or remove the row.",
                )
    source = [s if s is not None else ACTIVITY_SOURCE for s in _column(values, "source", n)]
    return {
        "member_days": pd.DataFrame(
            {
                "date": date_series(values["date"], index),
                "userid": text_series(values["userid"], index),
                "active": pd.Series(pd.array(active, dtype="boolean"), index=index),
                "minutes": _ints(minutes, index),
                "source": text_series(source, index),
            },
            index=index,
        )
    }


# ---- legacy approvals --------------------------------------------------------------------


def build_legacy(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = _department_ids(sheet, values, ctx, create=False, needed=True)
    process = [p if p is not None else DEFAULT_PROCESS for p in _column(values, "process", n)]
    tz = ctx.plan.timezone
    return {
        "process_records": pd.DataFrame(
            {
                "record_id": text_series(values["record_id"], index),
                "process": text_series(process, index),
                "department_id": _ints(dept, index),
                "userid": text_series(_column(values, "userid", n), index),
                "started_at": timestamp_series(values["started_at"], index, tz),
                "finished_at": timestamp_series(_column(values, "finished_at", n), index, tz),
                "status": text_series(values["approval_status"], index),
                "system": text_series(["legacy"] * n, index),
            },
            index=index,
        )
    }


# ---- training ----------------------------------------------------------------------------


def build_training(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    sessions = list(_column(values, "session_id", n))
    courses = _column(values, "course", n)
    for i in range(n):
        if sessions[i] is None:
            if courses[i] is not None and values["date"][i] is not None:
                sessions[i] = f"{courses[i]} {values['date'][i].isoformat()}"  # one session per course and day
            else:
                header = sheet.header("session_id") if sheet.has("session_id") else sheet.header("course")
                ctx.log.cell(
                    sheet.source,
                    sheet.lines[i],
                    header,
                    None,
                    "a session (场次) or a course name",
                    "Fill it in, or remove the row.",
                )
    return {
        "training_attendance": pd.DataFrame(
            {
                "session_id": text_series(sessions, index),
                "userid": text_series(values["userid"], index),
                "date": date_series(values["date"], index),
            },
            index=index,
        )
    }


# ---- tickets -----------------------------------------------------------------------------


def build_tickets(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    tz = ctx.plan.timezone
    created = timestamp_series(values["created_at"], index, tz)

    def moment(at: str, after: str) -> pd.Series:
        given = timestamp_series(_column(values, at, n), index, tz)
        if sheet.has(at) or not sheet.has(after):
            return given
        minutes = pd.to_numeric(pd.Series(values[after], index=index, dtype=object))
        return created + pd.to_timedelta(minutes, unit="min")

    return {
        "tickets": pd.DataFrame(
            {
                "ticket_id": text_series(values["ticket_id"], index),
                "created_at": created,
                "first_response_at": moment("first_response_at", "response_minutes"),
                "resolved_at": moment("resolved_at", "resolution_minutes"),
                "category": text_series(_column(values, "category", n), index),
            },
            index=index,
        )
    }


# ---- WeCom admin exports: members, approvals, check-ins, customer contacts ------------------

MEMBERS_SOURCE = "members_export"  # member_status.source
MISSED_PUNCH = ("未打卡", "缺卡", "旷工", "未签到", "missed", "absent", "no punch")
_MULTI_DEPARTMENT = re.compile(r"[;；,，]")


def _snapshot_day(sheet: Sheet, ctx: Context) -> dt.date | None:
    """The export date of a snapshot file: --as-of, else the date in the file name."""
    day = ctx.as_of or date_in_name(sheet.raw.path)
    if day is None:
        ctx.log.add(
            Problem(
                sheet.source,
                "no export date",
                "the day this contacts export was taken (each members export is a status snapshot of its day)",
                "Pass --as-of YYYY-MM-DD (the day it was exported), or keep the date in the file "
                "name, e.g. 通讯录_2026-03-15.xlsx.",
            )
        )
        return None
    latest = dt.date.today() + dt.timedelta(days=1)
    if day > latest:
        ctx.log.add(
            Problem(
                sheet.source if ctx.as_of is None else "--as-of",
                day.isoformat(),
                f"an export date on or before {latest} (an export cannot be from the future)",
                "Check the date.",
            )
        )
        return None
    return day


def build_members(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    day = _snapshot_day(sheet, ctx)
    if "department" in values:  # a member in several departments (a;b): the first is the main one
        values = {
            **values,
            "department": [
                None if d is None else _MULTI_DEPARTMENT.split(d)[0].strip() or None for d in values["department"]
            ],
        }
    dept = _department_ids(sheet, values, ctx, create=True, needed=True)
    userid, numbers = values["userid"], _column(values, "employee_id", n)
    mobiles, names = _column(values, "mobile", n), _column(values, "name", n)
    people: People = ctx.people or People()
    employee: list[str | None] = []
    how: dict[str, int] = {}
    unmatched: list[str] = []
    for i in range(n):
        found, way = people.employee_for(userid[i], numbers[i], mobiles[i]) if userid[i] else (None, "none")
        employee.append(found)
        how[way] = how.get(way, 0) + 1
        if found is None and userid[i] and people.employees:
            unmatched.append(f"{userid[i]} ({names[i]})" if names[i] else userid[i])
    if day is None:
        return {}
    if people.employees:
        joined = ", ".join(f"{k} {how[k]}" for k in ("account", "工号", "mobile") if how.get(k))
        sheet.notes.append(
            f"joined to the roster by {joined or 'nothing'}; not on the roster: {len(unmatched)}"
            + (f" — {', '.join(unmatched[:10])}{', …' if len(unmatched) > 10 else ''}" if unmatched else "")
        )
    else:
        sheet.notes.append(
            "no roster loaded: members are not joined to employees (ingest the roster, then this export again)"
        )
    activated = timestamp_series(_column(values, "activated_at", n), index, ctx.plan.timezone)
    status = _ints(values["member_status"], index)
    sheet.notes.append(f"status snapshot of {day}")
    return {
        "members": pd.DataFrame(
            {
                "userid": text_series(userid, index),
                "employee_id": text_series(employee, index),
                "department_id": _ints(dept, index),
                "status": status,
                "activated_at": activated,
                "activation_basis": _stated(activated),
            },
            index=index,
        ),
        "member_status": pd.DataFrame(
            {
                "userid": text_series(userid, index),
                "observed_on": date_series([day] * n, index),
                "source": text_series([MEMBERS_SOURCE] * n, index),
                "status": status,
                "activated_at": activated,
            },
            index=index,
        ),
    }


def _applicants(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> list[str | None]:
    """Each row's member: the 账号 column, else 申请人 as an account or a name on the roster once."""
    n = len(sheet.lines)
    if sheet.has("userid"):
        return list(values["userid"])
    people: People = ctx.people or People()
    out: list[str | None] = []
    for i, text in enumerate(_column(values, "applicant", n)):
        found = people.userid_for(text) if text is not None else None
        if found is None:
            ctx.log.cell(
                sheet.source,
                sheet.lines[i],
                sheet.header("applicant"),
                text,
                "an applicant's WeCom account, or a name that is on the roster once with one WeCom member",
                "Ingest the roster and the members export first, or add the applicant's 账号 column "
                "(a mapping file can name it: columns: {userid: [...]}).",
            )
        out.append(found)
    return out


def build_wecom_approvals(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    userid = _applicants(sheet, values, ctx)
    dept = _department_ids(sheet, values, ctx, create=False, needed=False)
    people: People = ctx.people or People()
    for i in range(n):
        who = userid[i]
        if dept[i] is None and who is not None:
            dept[i] = people.member_department.get(who)  # the applicant's WeCom department
        if dept[i] is None and who is not None and not (sheet.has("department") and values["department"][i]):
            ctx.log.cell(
                sheet.source,
                sheet.lines[i],
                sheet.header("department"),
                None,
                "the applicant's department (申请人部门), or an applicant already loaded as a member",
                "Fill it in, or ingest the members export first.",
            )
    tz = ctx.plan.timezone
    started = timestamp_series(values["started_at"], index, tz)
    records = pd.DataFrame(
        {
            "record_id": text_series(values["record_id"], index),
            "process": text_series([DEFAULT_PROCESS] * n, index),
            "department_id": _ints(dept, index),
            "userid": text_series(userid, index),
            "started_at": started,
            "finished_at": timestamp_series(_column(values, "finished_at", n), index, tz),
            "status": text_series(values["approval_status"], index),
            "system": text_series(["wecom"] * n, index),
        },
        index=index,
    )
    used = records["userid"].notna() & records["record_id"].notna()
    # The same event ids as a fetch (wecom_eval.fetch.mapping.map_approvals): export and API never double count.
    events = pd.DataFrame(
        {
            "event_id": "wecom-approval:" + records["record_id"].astype(str) + ":apply",
            "userid": records["userid"],
            "feature": "approval",
            "ts": started,
            "count": _ints([1] * n, index),
        },
        index=index,
    )[used]
    return {"process_records": records, "feature_events": events}


def _daily_events(
    feature: str,
    userid: Sequence[str | None],
    day: Sequence[dt.date | None],
    moment: pd.Series,
    uses: Sequence[int | None],
    index: pd.Index,
) -> Frames:
    """One feature event per member and day with uses: ``wecom-<feature>:<userid>:<day>`` (a fetch's ids).

    Rows of the same member and day are added up; the event's time is the day's first moment.
    """
    rows = pd.DataFrame(
        {
            "userid": list(userid),
            "day": list(day),
            "ts": moment.to_numpy(),
            "uses": pd.array(list(uses), dtype="Int64"),
            "line": index.to_numpy(),
        }
    )
    rows = rows[rows["userid"].notna() & rows["day"].notna() & (rows["uses"].fillna(0) > 0)]
    grouped = (
        rows.groupby(["userid", "day"], sort=True)
        .agg(ts=("ts", "min"), count=("uses", "sum"), line=("line", "min"))
        .reset_index()
    )
    events = pd.DataFrame(
        {
            "event_id": [
                f"wecom-{feature}:{u}:{d.isoformat()}" for u, d in zip(grouped["userid"], grouped["day"], strict=True)
            ],
            "userid": grouped["userid"].astype(object),
            "feature": feature,
            "ts": grouped["ts"],
            "count": grouped["count"].astype("Int64"),
        }
    )
    events.index = pd.Index(grouped["line"].astype("int64"))
    return {"feature_events": events}


MAX_DAILY_COUNT = 100_000  # uses of a feature by one member in one day: more is a broken export


def _day_counts(sheet: Sheet, values: dict[str, list[Any]], name: str, ctx: Context) -> list[int | None]:
    """A count column (blank: None), each from 0 to MAX_DAILY_COUNT; other values are problems."""
    out = list(_column(values, name, len(sheet.lines)))
    for i, value in enumerate(out):
        if value is not None and not 0 <= value <= MAX_DAILY_COUNT:
            ctx.log.cell(
                sheet.source,
                sheet.lines[i],
                sheet.header(name),
                value,
                f"a count from 0 to {MAX_DAILY_COUNT:,} for one member and day",
                "Check the export.",
            )
            out[i] = None
    return out


def build_checkins(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    tz = ctx.plan.timezone
    days = list(_column(values, "date", n))
    times = _column(values, "checkin_time", n)
    moments: list[dt.datetime | None] = []
    for i in range(n):
        moment = None
        if times[i] is not None:
            text = times[i] if days[i] is None or re.match(r"^\d{4}", times[i]) else f"{days[i]} {times[i]}"
            try:
                moment = parse.parse_timestamp(text, tz=tz, epoch=sheet.raw.epoch)
            except parse.CellError as exc:
                ctx.log.cell(
                    sheet.source,
                    sheet.lines[i],
                    sheet.header("checkin_time"),
                    times[i],
                    f"a punch time (08:59, or a date and time: {parse.DATE_FORMATS})",
                    exc.fix,
                )
        if days[i] is None and moment is not None:
            days[i] = moment.date()
        if days[i] is None and moment is None and times[i] is None:
            header = sheet.header("date") if sheet.has("date") else sheet.header("checkin_time")
            ctx.log.cell(
                sheet.source, sheet.lines[i], header, None, "the day of the punch", "Fill it in, or remove the row."
            )
        if moment is None and days[i] is not None:
            moment = dt.datetime.combine(days[i], dt.time(), tzinfo=ZoneInfo(tz))
        moments.append(moment)
    results = _column(values, "checkin_result", n)
    counts = _day_counts(sheet, values, "checkin_count", ctx)
    missed = [r is not None and any(word in parse.fold(r) for word in MISSED_PUNCH) for r in results]
    uses = [0 if missed[i] else (counts[i] if counts[i] is not None else 1) for i in range(n)]
    dropped = sum(missed)
    if dropped:
        sheet.notes.append(f"{dropped} rows are missed punches (未打卡/缺卡), not uses")
    return _daily_events("attendance", values["userid"], days, timestamp_series(moments, index, tz), uses, index)


def build_customer_contacts(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    parts = [_day_counts(sheet, values, f, ctx) for f in ("message_count", "apply_count", "new_customer_count")]
    uses = [sum(p[i] or 0 for p in parts) for i in range(n)]
    days = values["date"]
    zone = ZoneInfo(ctx.plan.timezone)
    midnight = [None if d is None else dt.datetime.combine(d, dt.time(), tzinfo=zone) for d in days]
    return _daily_events(
        "customer", values["userid"], days, timestamp_series(midnight, index, ctx.plan.timezone), uses, index
    )


# ---- the specs ---------------------------------------------------------------------------


def _survey_build(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    from wecom_eval.ingest.survey import build_survey  # survey questions need the whole sheet

    return build_survey(sheet, values, ctx, department_ids=_department_ids)


# Fields both approval exports (the legacy OA's and WeCom's) read alike.
RECORD_ID = F("record_id", "text", required=True, needed=True, help="审批编号")
STARTED_AT = F("started_at", "timestamp", required=True, needed=True, window="event", help="提交时间")
APPROVAL_STATUS = F(
    "approval_status", "approval_status", required=True, needed=True, help="审批状态: 已通过/已驳回/审批中/已撤回"
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "roster",
            "HR roster (花名册): the headcount every rate divides by",
            ("employees", "departments", "members"),
            (
                F("employee_id", "text", required=True, needed=True, help="工号"),
                F("name", "text", required=True, needed=True, help="姓名"),
                F("department", "text", help="部门: a path like 总部/销售部 (or a unique name)"),
                F("department_id", "int", help="部门ID, if the HR system has WeCom's ids"),
                F("parent_id", "int", help="上级部门ID, the id of the department's parent"),
                F("branch", "text", help="分公司; default: the first level of the department path"),
                F("role", "text", help="职务"),
                F("hire_date", "date", required=True, needed=True, window="hire", help="入职日期"),
                F("leave_date", "date", window="hire", help="离职日期"),
                F("userid", "text", help="账号: with 激活状态, also loads WeCom members"),
                F("member_status", "member_status", help="激活状态: 已激活/未激活/已禁用/已退出"),
                F("activated_at", "timestamp", window="event", help="激活时间"),
                F("mobile", "text", help="手机: lets a members export without 账号/工号 find the employee"),
            ),
            build_roster,
            "data/examples/roster.csv",
            one_of=(("department", "department_id"),),
            notes="Departments missing from the warehouse are created from the path (docs/ingest.md). "
            "With 账号 and 激活状态 columns the file also loads members (status 1/2/4/5).",
        ),
        KindSpec(
            "activity",
            "admin-console member activity export (成员活跃度): one row per member and day",
            ("member_days",),
            (
                F("date", "date", required=True, needed=True, window="event", help="日期"),
                F("userid", "text", required=True, needed=True, help="账号"),
                F("active", "bool", help="是否活跃: 是/否"),
                F("minutes", "minutes", help="使用时长: 45, 150分钟, 2小时30分, 1:30"),
                F("source", "text", help=f"数据来源; default {ACTIVITY_SOURCE}"),
            ),
            build_activity,
            "data/examples/activity.csv",
            one_of=(("active", "minutes"),),
            notes="Without a 是否活跃 column a member is active on a day with more than 0 minutes.",
        ),
        KindSpec(
            "survey",
            "survey export (问卷): one row per respondent, one column per question",
            ("survey_responses", "survey_items", "survey_choices", "survey_text"),
            (
                F("respondent", "text", required=True, needed=True, help="答卷编号/序号/账号 (pseudonymised)"),
                F("wave", "text", help="批次; or --wave"),
                F("department", "text", help="部门 (path or unique name)"),
                F("department_id", "int", help="部门ID"),
                F("submitted_on", "date", window="event", help="提交时间"),
            ),
            _survey_build,
            "data/examples/survey.csv",
            streams=False,  # a question's type depends on all its answers
            notes="Every other column is a question: Likert (1–5 or 非常满意…非常不满意) → survey_items; "
            "multi-select (header marked 多选, or named in a mapping file) → survey_choices; "
            "anything else → survey_text. Respondent ids are replaced by a keyed hash "
            "(salt from the environment variable the plan names, privacy.salt_env).",
        ),
        KindSpec(
            "legacy-approvals",
            "the legacy OA system's approval export: turnaround before WeCom",
            ("process_records",),
            (
                RECORD_ID,
                F("process", "text", help=f"流程类别; default {DEFAULT_PROCESS}"),
                F("department", "text", help="申请部门 (path or unique name)"),
                F("department_id", "int", help="部门ID"),
                F("userid", "text", help="申请人账号 (optional)"),
                STARTED_AT,
                F("finished_at", "timestamp", window="event", help="完成时间 (blank while pending)"),
                APPROVAL_STATUS,
            ),
            build_legacy,
            "data/examples/legacy-approvals.csv",
            one_of=(("department", "department_id"),),
            notes="Rows are stored with system = legacy. Departments must exist (ingest the roster first).",
        ),
        KindSpec(
            "training",
            "training sign-in sheet (培训签到表)",
            ("training_attendance",),
            (
                F("session_id", "text", help="场次 (session id)"),
                F("course", "text", help="课程名称; with the date it names the session when there is no 场次"),
                F("userid", "text", required=True, needed=True, help="账号"),
                F("date", "date", required=True, needed=True, window="event", help="培训日期"),
            ),
            build_training,
            "data/examples/training.csv",
            one_of=(("session_id", "course"),),
        ),
        KindSpec(
            "tickets",
            "IT support-desk export (工单)",
            ("tickets",),
            (
                F("ticket_id", "text", required=True, needed=True, help="工单号"),
                F("created_at", "timestamp", required=True, needed=True, window="event", help="创建时间"),
                F("first_response_at", "timestamp", window="event", help="首次响应时间"),
                F("resolved_at", "timestamp", window="event", help="解决时间"),
                F("response_minutes", "minutes", help="响应时长, when there is no 首次响应时间"),
                F("resolution_minutes", "minutes", help="解决时长 from creation, when there is no 解决时间"),
                F("category", "text", help="分类"),
            ),
            build_tickets,
            "data/examples/tickets.csv",
        ),
        KindSpec(
            "members",
            "WeCom contacts export (通讯录/成员): a dated status snapshot of every member",
            ("members", "member_status", "departments"),
            (
                F("userid", "text", required=True, needed=True, help="账号/帐号 (the WeCom userid)"),
                F("name", "text", help="姓名 (shown for members not on the roster)"),
                F("department", "text", help="部门: a path like 总部/销售部 (or a unique name); a;b → the first"),
                F("department_id", "int", help="部门ID"),
                F(
                    "member_status",
                    "member_status",
                    required=True,
                    needed=True,
                    help="激活状态/账号状态: 已激活/未激活/已禁用/已退出",
                ),
                F("activated_at", "timestamp", window="event", help="激活时间, when the export has it"),
                F("employee_id", "text", help="工号: joins to the roster when the account is not an employee id"),
                F("mobile", "text", help="手机: joins to the roster's 手机 when neither account nor 工号 does"),
            ),
            build_members,
            "data/examples/members_2026-03-20.csv",
            one_of=(("department", "department_id"),),
            streams=False,  # its notes count the whole file's joins
            notes="Each file is a snapshot of its export date: --as-of DATE, else a date in the file name, else "
            "refused. Members are joined to the roster by account, else 工号, else 手机; the unmatched are "
            "listed. Activation dates come from 激活时间, else the first snapshot showing the member "
            "activated or the member's first activity, whichever is earlier.",
        ),
        KindSpec(
            "approvals",
            "WeCom approval export (审批数据导出): approvals in WeCom and the approval feature's use",
            ("process_records", "feature_events"),
            (
                RECORD_ID,
                F("template", "text", help="模板/审批类型 (read, not stored: every row is process approval)"),
                F("userid", "text", help="申请人账号; without it 申请人 is matched by account or name"),
                F("applicant", "text", help="申请人 (an account, or a name on the roster once)"),
                F(
                    "department",
                    "text",
                    help="申请人部门 (path or unique name); default the applicant's WeCom department",
                ),
                F("department_id", "int", help="部门ID"),
                STARTED_AT,
                F("finished_at", "timestamp", window="event", help="完成时间/最后审批时间 (blank while pending)"),
                APPROVAL_STATUS,
            ),
            build_wecom_approvals,
            "data/examples/approvals.csv",
            one_of=(("userid", "applicant"),),
            notes="Rows are stored with system = wecom (the counterpart of legacy-approvals); each applicant's "
            "submission is an 'approval' feature event with the same id a fetch gives it.",
        ),
        KindSpec(
            "checkins",
            "WeCom attendance export (打卡记录): the attendance feature's use, per member and day",
            ("feature_events",),
            (
                F("userid", "text", required=True, needed=True, help="账号"),
                F("date", "date", window="event", help="日期/打卡日期"),
                F("checkin_time", "text", help="打卡时间: 08:59, or a date and time"),
                F("checkin_result", "text", help="打卡结果: 未打卡/缺卡 rows are not uses"),
                F("checkin_count", "int", help="打卡次数 (default 1 per row)"),
            ),
            build_checkins,
            "data/examples/checkins.csv",
            one_of=(("date", "checkin_time"),),
            streams=False,  # a member's day is summed over rows that may lie in different chunks
            notes="One 'attendance' event per member and day with a punch. Location, Wi-Fi, device, photo and "
            "note columns are left out and not kept in raw landing (DESIGN §10).",
        ),
        KindSpec(
            "customer-contacts",
            "WeCom customer contact statistics (联系客户统计), per member and day",
            ("feature_events",),
            (
                F("userid", "text", required=True, needed=True, help="账号"),
                F("date", "date", required=True, needed=True, window="event", help="日期"),
                F("message_count", "int", help="聊天总数/发送消息数"),
                F("apply_count", "int", help="发起申请数"),
                F("new_customer_count", "int", help="新增客户数"),
            ),
            build_customer_contacts,
            "data/examples/customer-contacts.csv",
            one_of=(("message_count", "apply_count", "new_customer_count"),),
            streams=False,  # a member's day is summed over rows that may lie in different chunks
            notes="One 'customer' event per member and day with messages, friend requests or new customers "
            "(the same rule and event id as a fetch).",
        ),
    )
}


def kind(name: str) -> KindSpec:
    """The spec of KIND ``name``; a clear error lists the kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; kinds are {', '.join(KINDS)}") from None
