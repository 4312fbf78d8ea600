"""What every alert row shares: its columns, its messages in both languages, how a group is named."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from wecom_eval import text
from wecom_eval.kpis._base import COMPANY

Language = Literal["zh", "en"]
COLUMNS = [
    "kind",
    "severity",
    "level",
    "department_id",
    "group",
    "kpi",
    "feature",
    "week",
    "value",
    "expected",
    "gap",
    "since_week",
    "since_date",
    "count",
    "message",
    "p_value",
    "p_adjusted",
]
MESSAGES = {
    "zh": {
        "behind_path": "{group}{what}为 {value:.1%}，低于目标路径 {expected:.1%}（差 {gap_pp:.1f} 个百分点），"
        "自第 {since_week} 周起落后",
        "registration_stragglers": "{group}有 {count} 名员工在上线 {grace} 天后仍未注册",
        "no_data": "{group}第 {week} 周没有任何活跃数据（{count} 名已注册成员）：请检查数据导出或接口拉取",
        "no_data_small": "{group}第 {week} 周没有任何活跃数据：请检查数据导出或接口拉取",
        "sudden_drop": "{group}日活跃率由上周的 {expected:.1%} 降至 {value:.1%}（下降 {gap_pp:.1f} 个百分点）",
        "data_drop": "全公司每日活跃数据行数由上周的 {expected:,.0f} 降至 {value:,.0f}：可能缺少数据来源",
        "data_quality": "成员活跃度数据缺少 {count} 个工作日（{days}）：请补导这些日期的导出",
    },
    "en": {
        "behind_path": "{group}: {what} is {value:.1%}, below its target path {expected:.1%} "
        "({gap_pp:.1f} points short), behind since week {since_week}",
        "registration_stragglers": "{group}: {count} employees not registered {grace} days after go-live",
        "no_data": "{group}: no activity data in week {week} ({count} registered members): check the export "
        "or the pull",
        "no_data_small": "{group}: no activity data in week {week}: check the export or the pull",
        "sudden_drop": "{group}: daily active rate fell from {expected:.1%} last week to {value:.1%} "
        "({gap_pp:.1f} points)",
        "data_drop": "company-wide member-day rows per day fell from {expected:,.0f} last week to {value:,.0f}: "
        "a source may be missing",
        "data_quality": "member activity data is missing {count} working day(s) ({days}): ingest the exports "
        "of those days",
    },
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
KIND_ORDER = {
    "no_data": 0,
    "data_quality": 1,
    "data_drop": 1,
    "behind_path": 2,
    "sudden_drop": 3,
    "registration_stragglers": 4,
}


def what(kpi: str, feature: str | None, language: str) -> str:
    """The KPI (and feature) as the reports name them: ``核心功能渗透率（文档协作）``.

    The names come from the reports' one string table (``wecom_eval/strings.yaml``:
    ``targets`` for the KPIs, ``features`` for the core features), so that an alert reads
    like the tables and figures beside it; a code the table does not hold shows as is.
    """
    name = text.lookup("targets", kpi, language)
    if not feature:
        return name
    label = text.lookup("features", feature, language)
    return f"{name}（{label}）" if language == "zh" else f"{name} ({label})"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as dicts with text keys."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def label(rec: dict[str, Any], level: str) -> tuple[Any, str]:
    """The department id (None for the company) and the name an alert gives its group."""
    if level == "department":
        return int(rec["department_id"]), str(rec["department"])
    return None, COMPANY


def alert(kind: str, severity: str, level: str, department_id: Any, group: str, **fields: Any) -> dict[str, Any]:
    """One alert row with every column of :data:`COLUMNS` (None where ``fields`` say nothing)."""
    row = dict.fromkeys(COLUMNS)
    row.update(kind=kind, severity=severity, level=level, department_id=department_id, group=group)
    row.update(fields)
    return row


__all__ = ["COLUMNS", "KIND_ORDER", "MESSAGES", "SEVERITY_ORDER", "Language", "alert", "label", "records", "what"]
