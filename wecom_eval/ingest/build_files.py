"""Canonical rows from the company's own files: HR roster, activity exports, legacy approvals,
training sign-in sheets and support tickets (one ``build_*`` per kind, used by its
:class:`~wecom_eval.ingest.kinds.KindSpec`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from wecom_eval.errors import Problem
from wecom_eval.ingest import parse
from wecom_eval.ingest.columns import (
    Context,
    Frames,
    Sheet,
    column_values,
    date_series,
    department_ids,
    int_series,
    stated_basis,
    text_series,
    timestamp_series,
)
from wecom_eval.ingest.people import normalise_mobile

ACTIVITY_SOURCE = "admin_export"  # member_days.source when the file has no source column
DEFAULT_PROCESS = "approval"


def build_roster(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = department_ids(sheet, values, ctx, create=True, needed=True)
    branch_given = column_values(values, "branch", n)
    branch = [
        b if b is not None else (ctx.departments.by_id[d].split("/")[0] if d is not None else None)
        for b, d in zip(branch_given, dept, strict=True)
    ]
    frames: Frames = {
        "employees": pd.DataFrame(
            {
                "employee_id": text_series(values["employee_id"], index),
                "name": text_series(values["name"], index),
                "department_id": int_series(dept, index),
                "hire_date": date_series(values["hire_date"], index),
                "leave_date": date_series(column_values(values, "leave_date", n), index),
                "branch": text_series(branch, index),
                "role": text_series(column_values(values, "role", n), index),
                "mobile": text_series([normalise_mobile(m) for m in column_values(values, "mobile", n)], index),
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
        status = column_values(values, "member_status", n)
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
        activated = timestamp_series(column_values(values, "activated_at", n), index, ctx.plan.timezone)
        members = pd.DataFrame(
            {
                "userid": text_series(userid, index),
                "employee_id": text_series(values["employee_id"], index),
                "department_id": int_series(dept, index),
                "status": int_series(status, index),
                "activated_at": activated,
                "activation_basis": stated_basis(activated),
            },
            index=index,
        )
        frames["members"] = members[has]
    return frames


# ---- activity ----------------------------------------------------------------------------


def build_activity(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    minutes = column_values(values, "minutes", n)
    active = list(column_values(values, "active", n))
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
    source = [s if s is not None else ACTIVITY_SOURCE for s in column_values(values, "source", n)]
    return {
        "member_days": pd.DataFrame(
            {
                "date": date_series(values["date"], index),
                "userid": text_series(values["userid"], index),
                "active": pd.Series(pd.array(active, dtype="boolean"), index=index),
                "minutes": int_series(minutes, index),
                "source": text_series(source, index),
            },
            index=index,
        )
    }


# ---- legacy approvals --------------------------------------------------------------------


def build_legacy(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    dept = department_ids(sheet, values, ctx, create=False, needed=True)
    process = [p if p is not None else DEFAULT_PROCESS for p in column_values(values, "process", n)]
    tz = ctx.plan.timezone
    return {
        "process_records": pd.DataFrame(
            {
                "record_id": text_series(values["record_id"], index),
                "process": text_series(process, index),
                "department_id": int_series(dept, index),
                "userid": text_series(column_values(values, "userid", n), index),
                "started_at": timestamp_series(values["started_at"], index, tz),
                "finished_at": timestamp_series(column_values(values, "finished_at", n), index, tz),
                "status": text_series(values["approval_status"], index),
                "system": text_series(["legacy"] * n, index),
            },
            index=index,
        )
    }


# ---- training ----------------------------------------------------------------------------


def build_training(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    n, index = len(sheet.lines), sheet.index()
    sessions = list(column_values(values, "session_id", n))
    courses = column_values(values, "course", n)
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
        given = timestamp_series(column_values(values, at, n), index, tz)
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
                "category": text_series(column_values(values, "category", n), index),
            },
            index=index,
        )
    }
