"""Each output format's escaping, fed the hostile corpus and read back with that format's parser.

The end-to-end version (real ingest, real report runs) is tests/test_hostile_text.py (slow).
"""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest
from hostile import CORPUS, MARKERS
from html_tree import content_security_policy, parse

from wecom_eval.reporting import figures, index, safe_text, tables

INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200b-\u200d\ufeff]")


def test_clean_removes_controls_and_invisible_characters_and_cuts_long_text():
    assert safe_text.clean("\tHX10\ttab\r\nnew line") == "HX10 tab new line"
    assert safe_text.clean("a\u202eb\u200bc\u2066d\u2069") == "abcd"
    long = safe_text.clean(CORPUS["HX11"])
    assert len(long) == safe_text.MAX_CHARS and long.endswith("…")
    for value in CORPUS.values():
        assert not INVISIBLE.search(safe_text.clean(value))


def test_a_table_shows_hostile_cells_headings_and_caption_as_text():
    frame = pd.DataFrame(
        {
            "department": list(CORPUS.values()),
            "employees": range(20, 20 + len(CORPUS)),
            CORPUS["HX02"]: list(CORPUS.values()),
        }
    )
    page = tables.styled(tables.present(frame, "zh"), caption=CORPUS["HX01"]).to_html()
    elements, text = parse(page)
    assert {e.tag for e in elements} <= {"style", "table", "caption", "thead", "tbody", "tr", "th", "td"}
    for e in elements:
        assert not any(name.startswith("on") or any(m in value for m in MARKERS) for name, value in e.attrs), e
    for marker, value in CORPUS.items():
        assert safe_text.clean(value) in text, marker  # every hostile text is there, as text


@pytest.mark.parametrize("marker", MARKERS)
def test_a_note_with_hostile_text_keeps_only_its_own_markup(marker):
    field = safe_text.note_field(CORPUS[marker])  # as views.v places text from data into a note
    note = f"**{0.61:.0%}** 的部门已达标；落后最多的是 {field}。\n- 第一条\n- {field}"
    elements, text = parse(safe_text.notes_html(note, small=True))
    assert [(e.tag, e.attrs) for e in elements] == [(t, ()) for t in ("small", "p", "strong", "ul", "li", "li")]
    assert marker in text and "61%" in text


def test_the_workbook_holds_hostile_text_as_typed_strings(tmp_path):
    frame = pd.DataFrame({"department": list(CORPUS.values()), "employees": range(20, 20 + len(CORPUS))})
    sheet = tables.SheetTable("hostile", CORPUS["HX06"], tables.present(frame, "zh"), note=CORPUS["HX09"])
    path = tables.write_workbook(tmp_path / "tables.xlsx", [sheet], language="zh", heading=CORPUS["HX07"])
    wb = openpyxl.load_workbook(path)
    values = []
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    values.append(cell.value)
                    assert not INVISIBLE.search(cell.value)
                    assert cell.quotePrefix == cell.value.startswith(("=", "+", "-", "@")), cell.value
    for value in CORPUS.values():  # whole (a cell holds 32,767 characters), only controls and invisibles gone
        assert safe_text.clean(value, max_chars=safe_text.XLSX_MAX_CHARS) in values
    table_sheet = wb.worksheets[1]  # after the contents sheet; named from the (hostile) title
    assert table_sheet["A1"].value == CORPUS["HX06"] and table_sheet["A1"].quotePrefix


@pytest.mark.parametrize("marker", MARKERS)
def test_robot_markdown_cannot_mention_link_or_format(marker):
    line = safe_text.robot_markdown(CORPUS[marker])
    assert not set(line) & set("<>[]*_`#~\\")
    assert "://" not in line and not re.search(r"(?i)javascript\s*:", line)
    assert "\n" not in line and not INVISIBLE.search(line) and marker in line


def test_figure_labels_from_data_render_without_mathtext():
    figures.use_theme()
    data = pd.DataFrame(
        {
            "label": [CORPUS["HX13"], "$\\frac{x$ 部", CORPUS["HX12"]],
            "estimate": [0.5, 0.6, 0.7],
            "low": [0.4, 0.5, 0.6],
            "high": [0.6, 0.7, 0.8],
        }
    )
    fig = figures.estimate_chart(data, label="label", estimate="estimate", low="low", high="high")
    assert figures.png_bytes(fig).startswith(b"\x89PNG")  # unbalanced $ would make mathtext raise
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert all(len(s) <= safe_text.LABEL_CHARS and "\u202e" not in s for s in shown)
    assert all(re.sub(r"\\\$", "", s).count("$") == 0 for s in shown)


def test_the_index_forbids_scripts_and_shows_manifest_text_as_text(tmp_path):
    folder = tmp_path / "weekly" / "2026-05-25"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "report": CORPUS["HX02"],
                "as_of": CORPUS["HX01"],
                "status": CORPUS["HX04"],
                "started": "2026-05-25T08:00",
                "duration_seconds": 3.0,
                "notebook": "weekly.ipynb",
            }
        ),
        encoding="utf-8",
    )
    page = index.render(tmp_path)
    assert (content_security_policy(page) or "").startswith("default-src 'none'")
    elements, text = parse(page)
    assert not {e.tag for e in elements} & {"script", "img"}
    for e in elements:
        for name, value in e.attrs:
            assert not name.startswith("on") and "javascript:" not in value, e
    assert "HX01" in text and "HX02" in text
