"""Tables as shown and as written to tables.xlsx: labels, formats, and no formula injection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd

from wecom_eval.reporting import tables as T


def test_workbook_is_safe_and_keeps_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "department": ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "总部/销售部"],
            "employees": [40, 12, np.nan],
            "registration_rate": [0.9, 0.75, np.nan],
            "date": [dt.date(2026, 5, 1), dt.date(2026, 5, 2), None],
        }
    )
    presented = T.present(frame, "zh")
    path = T.write_workbook(
        tmp_path / "tables.xlsx",
        [T.SheetTable("registration", "注册率", presented, "=note")],
        language="zh",
        heading="@heading",
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["目录", "注册率"]  # no "sheets" entry: the sheet takes the table's title
    ws = wb["注册率"]
    assert ws["A1"].value == "注册率" and ws["A2"].value == "=note" and ws["A2"].quotePrefix  # title, then the note
    header = [c.value for c in ws[3]]
    assert header == ["部门", "员工数", "注册率", "日期"]
    # openpyxl reports formulas as data_type "f"; no cell anywhere is a formula
    for sheet in wb:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    # text that starts like a formula is a typed string with Excel's (invisible) quote prefix
    assert ws["A4"].value == '=HYPERLINK("http://evil","x")' and ws["A4"].data_type == "s"
    assert ws["A4"].quotePrefix and ws["A5"].value.startswith("+cmd") and ws["A5"].quotePrefix
    assert not ws["A6"].quotePrefix
    assert ws["B4"].value == 40 and ws["C4"].value == 0.9 and ws["C4"].number_format == "0.0%"
    assert ws["B6"].value == "—"  # hidden cells show a dash, not an empty cell a reader could misread
    assert ws["D4"].is_date
    assert wb["目录"]["A1"].value == "@heading" and wb["目录"]["A1"].quotePrefix


def test_present_translates_codes_and_headings():
    frame = pd.DataFrame(
        {"feature": ["approval", "docs"], "verdict": ["met", "not_yet_shown"], "penetration": [0.8, 0.5]}
    )
    zh = T.present(frame, "zh").frame
    en = T.present(frame, "en").frame
    assert list(zh.columns) == ["功能", "判定", "渗透率"]
    assert zh["功能"].tolist() == ["审批", "文档协作"] and zh["判定"].tolist() == ["达成", "尚未证实"]
    assert list(en.columns) == ["Feature", "Verdict", "Penetration"]
    assert frame["feature"].tolist() == ["approval", "docs"]  # the input is not changed


def test_styled_formats_percentages_and_hidden_cells():
    frame = pd.DataFrame({"department": ["A", "B"], "registration_rate": [0.912, np.nan]})
    html = T.styled(T.present(frame, "en"), caption="Registration").to_html()
    assert "91.2%" in html and "—" in html and "Registration" in html


def test_sheet_names_are_valid_and_unique():
    names = T.sheet_names(["a" * 40, "a" * 40, "x/y:z", "Contents"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4
    assert "/" not in names[2] and ":" not in names[2]


def test_kpi_values_format_by_unit():
    assert T.format_kpi_value(0.5, "share") == "50.0%"
    assert T.format_kpi_value(4.1234, "score") == "4.12"
    assert T.format_interval(0.1, None, "share") == "—"
    assert T.format_interval(0.1, 0.2, "share") == "10.0% – 20.0%"


def test_a_verdict_has_one_colour_in_the_html_the_workbook_and_the_charts(tmp_path):
    from wecom_eval.reporting import figures

    frame = pd.DataFrame(
        {"kpi": ["registration", "daily_active"], "estimate": [0.9, 0.5], "verdict": ["missed", "not_yet_shown"]}
    )
    presented = T.present(frame, "zh", formats={"estimate": "pct"})
    html = T.styled(presented).to_html()
    assert "background-color: #c62828" in html and "background-color: #f2a900" in html
    path = T.write_workbook(tmp_path / "t.xlsx", [T.SheetTable("targets", "五项目标", presented)], language="zh")
    ws = openpyxl.load_workbook(path)["五项目标"]  # sheets carry the report language's name
    fills = {ws.cell(row=r, column=3).value: ws.cell(row=r, column=3).fill.fgColor.rgb for r in (4, 5)}
    assert fills == {"未达成": "FFC62828", "尚未证实": "FFF2A900"}
    assert isinstance(ws.cell(row=4, column=2).value, float) and ws.cell(row=4, column=2).number_format == "0.0%"
    assert figures.VERDICT_COLOURS is T.VERDICT_COLOURS


def test_rows_mixing_shares_and_scores_are_numbers_with_each_rows_format(tmp_path):
    # A targets-like table: one row a share (97.3 %), one a 1–5 score (4.21); the format
    # travels in its own column, which is not shown.
    df = pd.DataFrame(
        {
            "kpi": ["registration", "satisfaction"],
            "target": [1.0, 4.0],
            "estimate": [0.973, 4.213],
            "value_format": ["pct", "num2"],
        }
    )
    presented = T.present(df, "zh", row_formats={"target": "value_format", "estimate": "value_format"})
    assert len(presented.frame.columns) == 3  # the format column is not shown
    path = T.write_workbook(tmp_path / "t.xlsx", [T.SheetTable("targets", "目标", presented)], language="zh")
    ws = openpyxl.load_workbook(path).worksheets[1]
    cells = [[ws.cell(row=r, column=c) for c in (2, 3)] for r in (4, 5)]  # rows below the headings
    assert [[c.value for c in row] for row in cells] == [[1.0, 0.973], [4.0, 4.213]]
    assert all(c.data_type == "n" for row in cells for c in row)
    assert [[c.number_format for c in row] for row in cells] == [["0.0%", "0.0%"], ["0.00", "0.00"]]
    html = T.styled(presented).to_html()
    assert "97.3%" in html and "100.0%" in html and "4.21" in html and "4.00" in html
    assert "421.3%" not in html and "0.97<" not in html


def test_a_change_of_a_share_is_shown_in_percentage_points_everywhere(tmp_path):
    # 0.612 → 0.853 is a rise of 24.1 percentage points (a relative rise of 39 %): "+24.1%" would
    # be read as the relative one.
    assert T.format_kpi_value(0.853 - 0.612, "share", signed=True) == "+24.1 pp"
    assert T.format_kpi_value(-0.0004, "share", signed=True) == "0.0 pp"  # no "-0.0"
    assert T.CHANGE_FORMATS["share"] == "pp_signed" and T.CHANGE_FORMATS["score"] == "num2_signed"
    frame = pd.DataFrame({"department": ["A", "B"], "gap_to_path": [-0.153, 0.02]})
    presented = T.present(frame, "zh")
    html = T.styled(presented).to_html()
    assert "-15.3 pp" in html and "+2.0 pp" in html and "%" not in html.split("<tbody>")[1]
    path = T.write_workbook(tmp_path / "t.xlsx", [T.SheetTable("gaps", "差距", presented)], language="zh")
    ws = openpyxl.load_workbook(path).worksheets[1]
    cell = ws.cell(row=4, column=2)  # numeric, in points, with the unit in its number format
    assert cell.data_type == "n" and abs(cell.value - (-15.3)) < 1e-9 and '" pp"' in cell.number_format
