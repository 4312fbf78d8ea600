"""Cell parsers: dates, times, durations, yes/no, Likert labels, status texts."""

from __future__ import annotations

import datetime as dt

import pytest

from wecom_eval.ingest.labels import parse_approval_status, parse_bool, parse_likert, parse_member_status
from wecom_eval.ingest.parse import (
    EXCEL_1904,
    CellError,
    as_text,
    is_empty,
    parse_cells,
    parse_date,
    parse_int,
    parse_minutes,
    parse_timestamp,
    split_choices,
)

D = dt.date(2026, 11, 3)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-03",
        "2026/11/3",
        "2026.11.03",
        "2026年11月3日",
        "2026 年 11 月 3 日",
        "20261103",
        "2026-11-03 09:30",
        "2026/11/3 9:30:15",
        "2026年11月3日 上午9:30",
        "2026-11-03T09:30:00+08:00",
        "３ Nov 2026".replace("３", "3"),
        "Nov 3, 2026",
        "3-Nov-2026",
        46329,
        46329.375,
        "46329",
        dt.datetime(2026, 11, 3, 9, 30),
        dt.date(2026, 11, 3),
    ],
)
def test_dates_in_every_export_style(value: object):
    # Excel serial 46329: days since 1899-12-30 (Excel's 1900 system), i.e. 2026-11-03.
    assert parse_date(value) == D


def test_full_width_digits_are_read():
    assert parse_date("２０２６年１１月３日") == D


def test_excel_1904_serials_use_their_epoch():
    # The same day in the 1904 system is 1462 days smaller (ECMA-376 Part 1, 18.17.4.1).
    assert parse_date(46329 - 1462, epoch=EXCEL_1904) == D


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("03/11/2026", "year first"),
        ("2026-02-30", "does not exist"),
        ("明天", "a date"),
        ("=TODAY()", "a date"),
        (True, "a date"),
        (0, "a date"),
        ("2026-11-03 25:00", "time of day"),
    ],
)
def test_bad_dates_say_what_is_expected(value: object, hint: str):
    with pytest.raises(CellError) as err:
        parse_date(value)
    assert hint in err.value.expected


def test_timestamps_are_local_unless_they_say_otherwise():
    shanghai = parse_timestamp("2026/3/2 下午2:05")
    assert (shanghai.hour, shanghai.minute, str(shanghai.tzinfo)) == (14, 5, "Asia/Shanghai")
    assert parse_timestamp("2026-03-02T06:05:00Z") == shanghai.replace(minute=5)
    assert parse_timestamp("2026-03-02 12:00 am").hour == 0
    assert parse_timestamp("2026年3月2日 9时5分7秒").second == 7
    assert parse_timestamp(46083.375).hour == 9  # 0.375 of a day
    assert parse_timestamp("2026-03-02").hour == 0


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("2小时30分", 150),
        ("2小时30分钟", 150),
        ("150分钟", 150),
        ("150分", 150),
        ("1:30", 90),
        ("01:30:30", 91),
        ("45", 45),
        (45, 45),
        (45.4, 45),
        ("2.5小时", 150),
        ("2h30m", 150),
        ("2 h 30 min", 150),
        ("90s", 2),
        ("30秒", 1),
        (dt.timedelta(minutes=75), 75),
        (dt.time(1, 15), 75),
        ("0", 0),
    ],
)
def test_durations_in_minutes(value: object, minutes: int):
    assert parse_minutes(value) == minutes


def test_a_header_unit_applies_to_bare_numbers_only():
    assert parse_minutes("2", unit="hours") == 120
    assert parse_minutes("30分钟", unit="hours") == 30
    assert parse_minutes("90", unit="seconds") == 2  # 1.5 min rounds half up


@pytest.mark.parametrize("value", ["两小时", "-5", "1:75", "=A1*60", True])
def test_bad_durations(value: object):
    with pytest.raises(CellError):
        parse_minutes(value)


def test_yes_no_words():
    assert [parse_bool(v) for v in ("是", "否", "活跃", "不活跃", "Y", "n", "TRUE", "0", "√", "×", True)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
    ]
    assert parse_bool("登录过", extra={"登录过": True})
    with pytest.raises(CellError):
        parse_bool("也许")


def test_likert_labels_and_scores():
    labels = ["非常满意", "满意", "一般", "不满意", "非常不满意", "非常同意", "同意", "不同意", "非常不同意"]
    assert [parse_likert(v) for v in labels] == [5, 4, 3, 2, 1, 5, 4, 2, 1]
    assert [parse_likert(v) for v in ("Very satisfied", "strongly disagree", "Neutral")] == [5, 1, 3]
    assert [parse_likert(v) for v in ("5", 4, 3.0, "2分", "★★★", "A. 非常满意", "4-满意")] == [5, 4, 3, 2, 3, 5, 4]
    assert parse_likert("6") == 6  # the range is the caller's rule, so the message can say "1–5"
    assert parse_likert("十分满意", extra={"十分满意": 5}) == 5
    for bad in ("很好", "4.5", True):
        with pytest.raises(CellError):
            parse_likert(bad)


def test_member_status_texts_map_to_wecom_codes():
    # WeCom user status: 1 activated, 2 disabled, 4 not activated, 5 left (reference/wecom-api.md).
    assert [parse_member_status(v) for v in ("已激活", "已禁用", "未激活", "已退出", "4")] == [1, 2, 4, 5, 4]
    with pytest.raises(CellError) as err:
        parse_member_status("已冻结")
    assert "已激活, 未激活, 已禁用 or 已退出" in err.value.expected
    assert parse_member_status("冻结", extra={"冻结": 2}) == 2


def test_approval_status_texts():
    assert [parse_approval_status(v) for v in ("已通过", "同意", "已驳回", "审批中", "已撤回", "Approved")] == [
        "approved",
        "approved",
        "rejected",
        "pending",
        "withdrawn",
        "approved",
    ]


def test_whole_numbers():
    assert [parse_int(v) for v in (1001, 1001.0, "1001", "1,001", "1001.0")] == [1001] * 5
    for bad in ("10.5", "D001", True):
        with pytest.raises(CellError):
            parse_int(bad)


def test_formula_looking_text_stays_text_and_empty_markers_are_blank():
    for text in ("=1+2", "+86 hotline", "-cmd", "@SUM(A1)"):
        assert as_text(text) == text
    assert as_text(1001.0) == "1001" and as_text(" x ") == "x" and as_text("") is None
    assert all(is_empty(v) for v in (None, "", " ", "-", "—", "N/A", "无", float("nan")))
    assert not any(is_empty(v) for v in (0, "0", "否"))


def test_parse_cells_parses_each_distinct_value_once_and_keeps_positions():
    calls: list[object] = []

    def parser(value: object) -> int:
        calls.append(value)
        if value == "bad":
            raise CellError("a number")
        return int(value)  # type: ignore[call-overload]

    values, errors = parse_cells(["1", "2", "1", "", "bad", "1", 1, True, "-"], parser)
    assert values == [1, 2, 1, None, None, 1, 1, 1, None]
    assert list(errors) == [4]
    assert calls == ["1", "2", "bad", 1, True]  # 1 and True are different cells


def test_multi_select_answers_split_on_every_separator():
    assert split_choices("审批┋文档协作┋考勤打卡") == ["审批", "文档协作", "考勤打卡"]
    assert split_choices("审批、文档，客户管理;考勤；日程|审批") == ["审批", "文档", "客户管理", "考勤", "日程"]
    assert split_choices("  ") == []
