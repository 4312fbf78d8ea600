"""Canonical rows from the WeCom admin console's exports: members (a dated status snapshot),
approvals, check-ins and customer contacts (one ``build_*`` per kind, used by its
:class:`~wecom_eval.ingest.kinds.KindSpec`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from wecom_eval.errors import Problem
from wecom_eval.ingest import parse
from wecom_eval.ingest.build_files import DEFAULT_PROCESS
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
from wecom_eval.ingest.people import People, date_in_name

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
    dept = department_ids(sheet, values, ctx, create=True, needed=True)
    userid, numbers = values["userid"], column_values(values, "employee_id", n)
    mobiles, names = column_values(values, "mobile", n), column_values(values, "name", n)
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
    activated = timestamp_series(column_values(values, "activated_at", n), index, ctx.plan.timezone)
    status = int_series(values["member_status"], index)
    sheet.notes.append(f"status snapshot of {day}")
    return {
        "members": pd.DataFrame(
            {
                "userid": text_series(userid, index),
                "employee_id": text_series(employee, index),
                "department_id": int_series(dept, index),
                "status": status,
                "activated_at": activated,
                "activation_basis": stated_basis(activated),
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
    for i, text in enumerate(column_values(values, "applicant", n)):
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
    dept = department_ids(sheet, values, ctx, create=False, needed=False)
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
            "department_id": int_series(dept, index),
            "userid": text_series(userid, index),
            "started_at": started,
            "finished_at": timestamp_series(column_values(values, "finished_at", n), index, tz),
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
            "count": int_series([1] * n, index),
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
    out = list(column_values(values, name, len(sheet.lines)))
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
    days = list(column_values(values, "date", n))
    times = column_values(values, "checkin_time", n)
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
    results = column_values(values, "checkin_result", n)
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
