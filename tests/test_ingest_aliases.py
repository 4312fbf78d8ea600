"""The alias table: headers matched by name (never by position), folded, with units and hints."""

from __future__ import annotations

import pytest

from wecom_eval.ingest.aliases import (
    closest_aliases,
    fold_header,
    header_unit,
    match_headers,
    packaged_aliases,
    score_row,
)
from wecom_eval.ingest.kinds import KINDS


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_header_means_two_fields_of_one_kind(kind: str):
    table = packaged_aliases()
    seen: dict[str, str] = {}
    for spec in KINDS[kind].fields:
        assert table.aliases(spec.name), f"{spec.name} has no aliases"
        for alias in table.aliases(spec.name):
            folded = fold_header(alias)
            assert seen.setdefault(folded, spec.name) == spec.name, f"{alias!r}: {seen[folded]} and {spec.name}"


def test_ignored_survey_headers_are_no_field_of_the_survey():
    table = packaged_aliases()
    fields = {fold_header(a) for f in KINDS["survey"].fields for a in table.aliases(f.name)}
    assert not fields & {fold_header(h) for h in table.ignore["survey"]}


def test_the_issue_s_examples_are_aliases():
    table = packaged_aliases()
    expected = {
        "name": ["姓名", "Name"],
        "userid": ["账号", "帐号", "UserID", "userid"],
        "department": ["部门", "所属部门", "Department"],
        "date": ["日期", "Date"],
        "active": ["是否活跃", "活跃"],
        "minutes": ["使用时长(分钟)", "在线时长"],
        "member_status": ["激活状态", "账号状态"],
    }
    for name, headers in expected.items():
        for header in headers:
            match = match_headers([header], [name], table, kind="roster")
            assert match.columns.get(name) == 0, (name, header)


def test_headers_are_matched_by_name_whatever_their_order_or_spelling():
    table = packaged_aliases()
    match = match_headers(
        ["是否活跃", "  User_ID ", "备注", "使用时长（小时）", "DATE"],
        ["date", "userid", "active", "minutes"],
        table,
        kind="activity",
    )
    assert match.columns == {"active": 0, "userid": 1, "minutes": 3, "date": 4}
    assert match.units == {"minutes": "hours"}
    assert match.unmatched == [(2, "备注")]


def test_two_columns_for_one_field_are_ambiguous_and_an_exact_match_beats_a_bracketed_one():
    table = packaged_aliases()
    match = match_headers(["账号", "帐号"], ["userid"], table, kind="activity")
    assert match.ambiguous == {"userid": ["账号", "帐号"]}
    match = match_headers(["使用时长(分钟)", "使用时长"], ["minutes"], table, kind="activity")
    assert match.columns == {"minutes": 1} and not match.ambiguous


def test_units_and_folding():
    assert header_unit("使用时长(分钟)") == "minutes"
    assert header_unit("在线时长（h）") == "hours"
    assert header_unit("时长[秒]") == "seconds"
    assert header_unit("使用时长") is None
    assert fold_header("Ａｃｔｉｖｅ　Minutes*") == "activeminutes"


def test_rows_are_scored_for_header_detection_and_misses_get_close_aliases():
    table = packaged_aliases()
    assert score_row(["成员活跃度统计", None], ["date", "userid"], table) == 0
    assert score_row(["日期", "账号", "姓名"], ["date", "userid"], table) == 2
    assert closest_aliases("userid", ["成员", "日期"], table)[0] in ("成员账号", "成员帐号")


def test_docs_list_every_alias():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "ingest.md").read_text(encoding="utf-8").lower()
    table = packaged_aliases()
    missing = [(f, a) for f, aliases in table.fields.items() for a in aliases if a.lower() not in docs]
    missing += [("ignore", a) for a in table.ignore["survey"] if a.lower() not in docs]
    assert not missing, missing
