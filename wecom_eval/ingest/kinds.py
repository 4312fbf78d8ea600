"""The six kinds of file ``wecom-eval ingest`` reads: their columns, tables, and how rows map.

Each :class:`KindSpec` names the canonical tables it fills, the fields it reads (required,
optional, at least one of a group), the example file under ``data/examples/`` and a
``build`` function that turns one parsed file into canonical rows. Field names are the keys
of the alias table (``aliases.yaml``); docs/ingest.md lists every alias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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

def _department_ids(sheet: Sheet, values: dict[str, list[Any]], ctx: Context, *, create: bool,
                    needed: bool) -> list[int | None]:
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
                    cache[key] = DepartmentError("a department (a path like 总部/销售部, a name, or a 部门ID)",
                                                 "Fill it in, or remove the row.")
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


# ---- roster ------------------------------------------------------------------------------

def build_roster(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = _department_ids(sheet, values, ctx, create=True, needed=True)
    branch_given = _column(values, "branch", n)
    branch = [b if b is not None else (ctx.departments.by_id[d].split("/")[0] if d is not None else None)
              for b, d in zip(branch_given, dept, strict=True)]
    frames: Frames = {"employees": pd.DataFrame({
        "employee_id": text_series(values["employee_id"], index),
        "name": text_series(values["name"], index),
        "department_id": _ints(dept, index),
        "hire_date": date_series(values["hire_date"], index),
        "leave_date": date_series(_column(values, "leave_date", n), index),
        "branch": text_series(branch, index),
        "role": text_series(_column(values, "role", n), index),
    }, index=index)}
    if sheet.has("userid") and not (sheet.has("member_status") or sheet.has("activated_at")):
        sheet.notes.append(f"column {sheet.header('userid')} not used: members are loaded only with a "
                           "激活状态 (account status) column beside it")
    if sheet.has("member_status") or sheet.has("activated_at"):
        if not sheet.has("userid"):
            ctx.log.add(Problem(f"{sheet.source}, header on line {sheet.raw.header_line}",
                                sheet.header("member_status"), "a 账号 (userid) column beside the account status",
                                "Members are loaded only with their account; add the column or drop the status."))
            return frames
        userid = values["userid"]
        status = _column(values, "member_status", n)
        has = [u is not None for u in userid]
        if not sheet.has("member_status"):
            ctx.log.add(Problem(f"{sheet.source}, header on line {sheet.raw.header_line}", None,
                                "a 激活状态 column (已激活/未激活/已禁用/已退出) beside 账号",
                                "Members need their status; add the column."))
            return frames
        raw_status = sheet.cells("member_status")
        for i in range(n):
            if has[i] and parse.is_empty(raw_status[i]):
                ctx.log.cell(sheet.source, sheet.lines[i], sheet.header("member_status"), None,
                             "an account status for this 账号 (已激活, 未激活, 已禁用 or 已退出)")
        members = pd.DataFrame({
            "userid": text_series(userid, index),
            "employee_id": text_series(values["employee_id"], index),
            "department_id": _ints(dept, index),
            "status": _ints(status, index),
            "activated_at": timestamp_series(_column(values, "activated_at", n), index, ctx.plan.timezone),
        }, index=index)
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
                ctx.log.cell(sheet.source, sheet.lines[i], sheet.header("active"), None,
                             "是 or 否 (or minutes of use)", "Fill it in, or remove the row.")
            else:
                ctx.log.cell(sheet.source, sheet.lines[i], sheet.header("minutes"), None,
                             "minutes of use (0 when not active)", "Fill it in, or remove the row.")
    source = [s if s is not None else ACTIVITY_SOURCE for s in _column(values, "source", n)]
    return {"member_days": pd.DataFrame({
        "date": date_series(values["date"], index),
        "userid": text_series(values["userid"], index),
        "active": pd.Series(pd.array(active, dtype="boolean"), index=index),
        "minutes": _ints(minutes, index),
        "source": text_series(source, index),
    }, index=index)}


# ---- legacy approvals --------------------------------------------------------------------

def build_legacy(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = _department_ids(sheet, values, ctx, create=False, needed=True)
    process = [p if p is not None else DEFAULT_PROCESS for p in _column(values, "process", n)]
    tz = ctx.plan.timezone
    return {"process_records": pd.DataFrame({
        "record_id": text_series(values["record_id"], index),
        "process": text_series(process, index),
        "department_id": _ints(dept, index),
        "userid": text_series(_column(values, "userid", n), index),
        "started_at": timestamp_series(values["started_at"], index, tz),
        "finished_at": timestamp_series(_column(values, "finished_at", n), index, tz),
        "status": text_series(values["approval_status"], index),
        "system": text_series(["legacy"] * n, index),
    }, index=index)}


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
                ctx.log.cell(sheet.source, sheet.lines[i], header, None, "a session (场次) or a course name",
                             "Fill it in, or remove the row.")
    return {"training_attendance": pd.DataFrame({
        "session_id": text_series(sessions, index),
        "userid": text_series(values["userid"], index),
        "date": date_series(values["date"], index),
    }, index=index)}


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

    return {"tickets": pd.DataFrame({
        "ticket_id": text_series(values["ticket_id"], index),
        "created_at": created,
        "first_response_at": moment("first_response_at", "response_minutes"),
        "resolved_at": moment("resolved_at", "resolution_minutes"),
        "category": text_series(_column(values, "category", n), index),
    }, index=index)}


# ---- the specs ---------------------------------------------------------------------------

def _survey_build(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    from wecom_eval.ingest.survey import build_survey  # survey questions need the whole sheet

    return build_survey(sheet, values, ctx, department_ids=_department_ids)


KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    KindSpec(
        "roster", "HR roster (花名册): the headcount every rate divides by",
        ("employees", "departments", "members"),
        (F("employee_id", "text", required=True, needed=True, help="工号"),
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
         F("activated_at", "timestamp", window="event", help="激活时间")),
        build_roster, "data/examples/roster.csv", one_of=(("department", "department_id"),),
        notes="Departments missing from the warehouse are created from the path (docs/ingest.md). "
              "With 账号 and 激活状态 columns the file also loads members (status 1/2/4/5)."),
    KindSpec(
        "activity", "admin-console member activity export (成员活跃度): one row per member and day",
        ("member_days",),
        (F("date", "date", required=True, needed=True, window="event", help="日期"),
         F("userid", "text", required=True, needed=True, help="账号"),
         F("active", "bool", help="是否活跃: 是/否"),
         F("minutes", "minutes", help="使用时长: 45, 150分钟, 2小时30分, 1:30"),
         F("source", "text", help=f"数据来源; default {ACTIVITY_SOURCE}")),
        build_activity, "data/examples/activity.csv", one_of=(("active", "minutes"),),
        notes="Without a 是否活跃 column a member is active on a day with more than 0 minutes."),
    KindSpec(
        "survey", "survey export (问卷): one row per respondent, one column per question",
        ("survey_responses", "survey_items", "survey_choices", "survey_text"),
        (F("respondent", "text", required=True, needed=True, help="答卷编号/序号/账号 (pseudonymised)"),
         F("wave", "text", help="批次; or --wave"),
         F("department", "text", help="部门 (path or unique name)"),
         F("department_id", "int", help="部门ID"),
         F("submitted_on", "date", window="event", help="提交时间")),
        _survey_build, "data/examples/survey.csv", streams=False,  # a question's type depends on all its answers
        notes="Every other column is a question: Likert (1–5 or 非常满意…非常不满意) → survey_items; "
              "multi-select (header marked 多选, or named in a mapping file) → survey_choices; "
              "anything else → survey_text. Respondent ids are replaced by a keyed hash "
              "(salt from the environment variable the plan names, privacy.salt_env)."),
    KindSpec(
        "legacy-approvals", "the legacy OA system's approval export: turnaround before WeCom",
        ("process_records",),
        (F("record_id", "text", required=True, needed=True, help="审批编号"),
         F("process", "text", help=f"流程类别; default {DEFAULT_PROCESS}"),
         F("department", "text", help="申请部门 (path or unique name)"),
         F("department_id", "int", help="部门ID"),
         F("userid", "text", help="申请人账号 (optional)"),
         F("started_at", "timestamp", required=True, needed=True, window="event", help="提交时间"),
         F("finished_at", "timestamp", window="event", help="完成时间 (blank while pending)"),
         F("approval_status", "approval_status", required=True, needed=True,
           help="审批状态: 已通过/已驳回/审批中/已撤回")),
        build_legacy, "data/examples/legacy-approvals.csv", one_of=(("department", "department_id"),),
        notes="Rows are stored with system = legacy. Departments must exist (ingest the roster first)."),
    KindSpec(
        "training", "training sign-in sheet (培训签到表)",
        ("training_attendance",),
        (F("session_id", "text", help="场次 (session id)"),
         F("course", "text", help="课程名称; with the date it names the session when there is no 场次"),
         F("userid", "text", required=True, needed=True, help="账号"),
         F("date", "date", required=True, needed=True, window="event", help="培训日期")),
        build_training, "data/examples/training.csv", one_of=(("session_id", "course"),)),
    KindSpec(
        "tickets", "IT support-desk export (工单)",
        ("tickets",),
        (F("ticket_id", "text", required=True, needed=True, help="工单号"),
         F("created_at", "timestamp", required=True, needed=True, window="event", help="创建时间"),
         F("first_response_at", "timestamp", window="event", help="首次响应时间"),
         F("resolved_at", "timestamp", window="event", help="解决时间"),
         F("response_minutes", "minutes", help="响应时长, when there is no 首次响应时间"),
         F("resolution_minutes", "minutes", help="解决时长 from creation, when there is no 解决时间"),
         F("category", "text", help="分类")),
        build_tickets, "data/examples/tickets.csv"),
)}


def kind(name: str) -> KindSpec:
    """The spec of KIND ``name``; a clear error lists the kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; kinds are {', '.join(KINDS)}") from None
