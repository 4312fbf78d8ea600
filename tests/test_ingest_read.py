"""Reading exports: encodings, delimiters, workbooks, title rows, line numbers, broken files."""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pytest

from wecom_eval.errors import InputError
from wecom_eval.ingest.formats import detect_encoding, sniff_delimiter
from wecom_eval.ingest.read import find_header, read_table

HEADERS = {"日期", "账号", "是否活跃", "使用时长", "date", "userid"}


def score(row: list[object]) -> int:
    return sum(1 for c in row if isinstance(c, str) and c.strip().lower() in HEADERS)


TEXT = "成员活跃度统计 2026-11-01 至 2026-11-07\n日期,账号,是否活跃\n2026-11-01,张三,是\n"


@pytest.mark.parametrize(
    ("encoding", "data", "name"),
    [
        ("utf-8-sig", codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8 with BOM"),
        ("utf-8", TEXT.encode("utf-8"), "UTF-8"),
        ("utf-16", TEXT.encode("utf-16"), "UTF-16 with BOM"),
        ("utf-16-le", TEXT.encode("utf-16-le"), "UTF-16 LE without BOM"),
        ("utf-16-be", TEXT.encode("utf-16-be"), "UTF-16 BE without BOM"),
        ("gb18030", TEXT.encode("gb18030"), "GB18030"),
        ("gb18030", TEXT.encode("gbk"), "GBK"),
    ],
)
def test_encodings_are_recognised(encoding: str, data: bytes, name: str):
    assert detect_encoding(data) == encoding, name
    assert data.decode(encoding) == TEXT


def test_gb18030_is_not_mistaken_for_another_encoding():
    # These GB18030 bytes also decode "successfully" as Latin-1 or cp1252 (mojibake); strict
    # UTF-8 rejects them, and GB18030 is tried before anything that accepts every byte.
    data = "姓名,部门\n王㛃,总部/行政部\n".encode("gb18030")
    assert data.decode("latin-1")  # the trap
    assert detect_encoding(data) == "gb18030"


def test_bytes_that_are_no_text_encoding_are_refused(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x80\xff\xfe\x81" * 10)
    with pytest.raises(InputError) as err:
        read_table(path, score=score)
    assert "UTF-8, UTF-16 or GB18030" in str(err.value)


@pytest.mark.parametrize(("sep", "name"), [(",", "comma"), ("\t", "tab"), (";", "semicolon"), ("|", "bar")])
def test_the_delimiter_is_sniffed(sep: str, name: str, tmp_path: Path):
    lines = ["成员活跃度统计, 第1周", sep.join(["日期", "账号", "是否活跃"]), sep.join(["2026-11-01", "a,b", "是"])]
    if sep == ",":
        lines[2] = '2026-11-01,"a,b",是'
    assert sniff_delimiter([line + "\n" for line in lines]) == sep
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path, score=score)
    assert table.header == ["日期", "账号", "是否活跃"] and table.rows == [["2026-11-01", "a,b", "是"]]
    assert name in table.describe()


def test_an_excel_sep_hint_line_wins(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("sep=;\n日期;账号\n2026-11-01;a,b\n", encoding="utf-8")
    table = read_table(path, score=score)
    assert table.delimiter == ";" and table.rows == [["2026-11-01", "a,b"]] and table.lines == [3]


def test_title_and_note_rows_are_skipped_and_line_numbers_are_the_files(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text(
        '成员活跃度统计 2026-11-01 至 2026-11-07,,\n\n日期,账号,是否活跃\n2026-11-01,"多行\n备注",是\n'
        "\n2026-11-02,b,否\n合计,2,\n注：数据来自管理后台,,\n",
        encoding="utf-8",
    )
    table = read_table(path, score=score)
    assert table.header_line == 3
    assert table.lines == [4, 7]  # the quoted value spans lines 4–5; line 6 is blank
    assert table.rows[0][1] == "多行\n备注"
    assert table.skipped == [1, 8, 9]


def test_an_xlsx_with_merged_title_cells(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "成员活跃度统计"
    ws.merge_cells("A1:C1")
    ws["A2"] = "导出时间：2026-11-08"
    ws.merge_cells("A2:C2")
    ws.append(["日期", "账号", "是否活跃"])
    ws.append([46329, "=1+2", "是"])
    ws["B4"].data_type = "s"  # text, as an export would write it
    ws.append([])
    ws.append([46330, "b", "否"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    table = read_table(path, score=score)
    assert (table.header_line, table.lines, table.skipped) == (3, [4, 6], [1, 2])
    assert table.rows == [[46329, "=1+2", "是"], [46330, "b", "否"]]
    assert table.format == "xlsx" and "XLSX sheet 'Sheet'" in table.describe()


def test_a_named_sheet_and_a_missing_one(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.append(["说明"])
    second = wb.create_sheet("数据")
    second.append(["日期", "账号"])
    second.append(["2026-11-01", "a"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    assert read_table(path, score=score, sheet="数据").rows == [["2026-11-01", "a"]]
    with pytest.raises(InputError) as err:
        read_table(path, score=score, sheet="明细")
    assert "a sheet of this workbook: Sheet, 数据" in str(err.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "an empty file"),
        (b"\r\n\r\n", "only blank lines"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "old binary .xls"),
        (b"<html><table><tr><td>x</td></tr></table></html>", "HTML/XML page"),
        ("日期,账号\n".encode(), "no data rows below the header on line 1"),
        ("日期,账号\n2026-11-01,a,extra\n".encode(), "at most 2 cells"),
        (b'\xef\xbb\xbf"unclosed,quote\n', "no header row"),
    ],
)
def test_broken_files_are_refused_with_a_reason(content: bytes, fragment: str, tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_table(path, score=score)
    assert fragment in str(err.value)
    assert err.value.exit_code == 2


def test_a_missing_file(tmp_path: Path):
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "nope.csv", score=score)
    assert "an existing file" in str(err.value)


def test_a_truncated_workbook(tmp_path: Path):
    wb = openpyxl.Workbook()
    for i in range(200):
        wb.active.append(["2026-11-01", f"user{i}", "是"])
    whole = tmp_path / "whole.xlsx"
    wb.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[:-300])
    with pytest.raises(InputError) as err:
        read_table(cut, score=score)
    assert "XLSX" in str(err.value)


def test_the_header_is_the_row_with_most_known_names_else_the_first_wide_row():
    rows = [["报表"], ["日期", "x"], ["日期", "账号", "是否活跃"], ["1", "2", "3"]]
    assert find_header(rows, score) == 2
    assert find_header([["标题"], ["a", "b"], ["1", "2"]], lambda _r: 0) == 1
    assert find_header([["标题"], ["只有一列"]], lambda _r: 0) is None
