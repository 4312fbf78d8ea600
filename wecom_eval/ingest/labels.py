"""Cell parsers for words: yes/no, Likert answers and status texts, with their vocabularies.

Like every parser of :mod:`~wecom_eval.ingest.parse`, each takes one cell as it came out of
a file and returns the canonical value or raises :class:`~wecom_eval.ingest.parse.CellError`
saying what was expected; a mapping file can add words (``extra``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from wecom_eval.ingest.parse import CellError, as_text, fold

T = TypeVar("T")

BOOL_WORDS: dict[str, bool] = {
    **dict.fromkeys(["是", "活跃", "已活跃", "有", "y", "yes", "true", "t", "1", "√", "✓", "✔", "active"], True),
    **dict.fromkeys(
        ["否", "不活跃", "未活跃", "非活跃", "没有", "n", "no", "false", "f", "0", "×", "✗", "✘", "x", "inactive"],
        False,
    ),
}

LIKERT_LABELS: dict[str, int] = {
    # satisfaction
    "非常满意": 5,
    "很满意": 5,
    "满意": 4,
    "比较满意": 4,
    "较满意": 4,
    "一般": 3,
    "中立": 3,
    "还行": 3,
    "不满意": 2,
    "比较不满意": 2,
    "较不满意": 2,
    "非常不满意": 1,
    "很不满意": 1,
    # agreement
    "非常同意": 5,
    "完全同意": 5,
    "同意": 4,
    "比较同意": 4,
    "不确定": 3,
    "说不清": 3,
    "不同意": 2,
    "比较不同意": 2,
    "非常不同意": 1,
    "完全不同意": 1,
    # English
    "very satisfied": 5,
    "satisfied": 4,
    "neutral": 3,
    "neither satisfied nor dissatisfied": 3,
    "dissatisfied": 2,
    "very dissatisfied": 1,
    "strongly agree": 5,
    "agree": 4,
    "neither agree nor disagree": 3,
    "disagree": 2,
    "strongly disagree": 1,
}
LIKERT_EXPECTED = "a score 1–5 or a label (非常满意/满意/一般/不满意/非常不满意, 非常同意…非常不同意, very satisfied…)"

MEMBER_STATUS_TEXTS: dict[str, int] = {
    # WeCom codes: 1 activated, 2 disabled, 4 not activated, 5 left (reference/wecom-api.md).
    "已激活": 1,
    "激活": 1,
    "activated": 1,
    "1": 1,
    "已禁用": 2,
    "禁用": 2,
    "disabled": 2,
    "2": 2,
    "未激活": 4,
    "not activated": 4,
    "inactive": 4,
    "4": 4,
    "已退出": 5,
    "退出企业": 5,
    "已退出企业": 5,
    "已离职": 5,
    "离职": 5,
    "left": 5,
    "5": 5,
}

APPROVAL_STATUS_TEXTS: dict[str, str] = {
    **dict.fromkeys(
        [
            "已通过",
            "通过",
            "同意",
            "已同意",
            "审批通过",
            "已批准",
            "批准",
            "已完成",
            "approved",
            "approve",
            "agreed",
            "passed",
        ],
        "approved",
    ),
    **dict.fromkeys(
        ["已驳回", "驳回", "拒绝", "已拒绝", "不同意", "审批不通过", "不通过", "rejected", "declined", "denied"],
        "rejected",
    ),
    **dict.fromkeys(
        ["审批中", "进行中", "待审批", "处理中", "未完成", "审核中", "pending", "in progress", "processing"], "pending"
    ),
    **dict.fromkeys(
        ["已撤回", "撤回", "已撤销", "撤销", "已取消", "取消", "withdrawn", "cancelled", "canceled", "revoked"],
        "withdrawn",
    ),
}


def _lookup(
    vocabulary: Mapping[str, T], extra: Mapping[str, T] | None, value: object, expected: str, fix: str = ""
) -> T:
    key = fold(as_text(value) or "")
    if extra and key in extra:
        return extra[key]
    if key in vocabulary:
        return vocabulary[key]
    raise CellError(expected, fix)


_ADD_VALUES = "If this text is right, add it under `values:` in a mapping file (params/mappings/README.md)."


def parse_bool(value: object, *, extra: Mapping[str, bool] | None = None) -> bool:
    """Yes or no: 是/否, 活跃/不活跃, Y/N, yes/no, true/false, 1/0, √/×."""
    if isinstance(value, bool):
        return value
    return _lookup(BOOL_WORDS, extra, value, "yes or no (是/否, 活跃/不活跃, Y/N, 1/0, √/×)", _ADD_VALUES)


def parse_member_status(value: object, *, extra: Mapping[str, int] | None = None) -> int:
    """WeCom member status code from 已激活 (1), 已禁用 (2), 未激活 (4), 已退出 (5) or the code itself."""
    return _lookup(
        MEMBER_STATUS_TEXTS,
        extra,
        value,
        "an account status: 已激活, 未激活, 已禁用 or 已退出 (or the code 1, 4, 2, 5)",
        _ADD_VALUES,
    )


def parse_approval_status(value: object, *, extra: Mapping[str, str] | None = None) -> str:
    """approved / rejected / pending / withdrawn from 已通过, 已驳回, 审批中, 已撤回 and their synonyms."""
    return _lookup(
        APPROVAL_STATUS_TEXTS,
        extra,
        value,
        "an approval status: 已通过, 已驳回, 审批中 or 已撤回 (approved, rejected, pending, withdrawn)",
        _ADD_VALUES,
    )


_OPTION_PREFIX = re.compile(r"^(?:[a-e]|\d)\s*[.、．:)）-]\s*(?=\D)")
_SCORE = re.compile(r"^(?P<n>\d+)(?:\.0+)?\s*(?:分|星|points?)?$")


def parse_likert(value: object, *, extra: Mapping[str, int] | None = None) -> int:
    """A Likert score from a number or a label; the range (1–5) is checked by the caller.

    Examples
    --------
    >>> [parse_likert(v) for v in ("非常满意", "比较不同意", "Agree", "4", 3.0, "5分", "★★★★", "B. 满意")]
    [5, 2, 4, 4, 3, 5, 4, 4]
    """
    if isinstance(value, bool):
        raise CellError(LIKERT_EXPECTED)
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return int(value)
        raise CellError(LIKERT_EXPECTED)
    key = fold(str(value))
    if extra and key in extra:
        return extra[key]
    if key in LIKERT_LABELS:
        return LIKERT_LABELS[key]
    score = _SCORE.match(key)
    if score:
        return int(score.group("n"))
    if key and set(key) <= {"★", "☆"} and "★" in key:
        return key.count("★")
    stripped = _OPTION_PREFIX.sub("", key)
    if stripped != key and stripped in LIKERT_LABELS:
        return LIKERT_LABELS[stripped]
    raise CellError(LIKERT_EXPECTED, _ADD_VALUES)
