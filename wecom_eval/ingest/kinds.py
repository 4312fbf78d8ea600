"""The kinds of file ``wecom-eval ingest`` reads: their columns, tables, and how rows map.

Each :class:`KindSpec` names the canonical tables it fills, the fields it reads (required,
optional, at least one of a group), the example file under ``data/examples/`` and a
``build`` function that turns one parsed file into canonical rows (the company's own files
in :mod:`~wecom_eval.ingest.build_files`, WeCom's admin exports in
:mod:`~wecom_eval.ingest.build_wecom`, surveys in :mod:`~wecom_eval.ingest.survey`). Field
names are the keys of the alias table (``aliases.yaml``); docs/ingest.md lists every alias.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wecom_eval.ingest.build_files import (
    ACTIVITY_SOURCE,
    DEFAULT_PROCESS,
    build_activity,
    build_legacy,
    build_roster,
    build_tickets,
    build_training,
)
from wecom_eval.ingest.build_wecom import build_checkins, build_customer_contacts, build_members, build_wecom_approvals
from wecom_eval.ingest.columns import (
    Context,
    FieldSpec,
    Frames,
    Sheet,
)
from wecom_eval.ingest.survey import build_survey

F = FieldSpec
Build = Callable[[Sheet, dict[str, list[Any]], Context], Frames]


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


# ---- the specs ---------------------------------------------------------------------------


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
            build_survey,
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
