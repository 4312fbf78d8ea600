"""Nothing from the data runs: hostile text through every free-text path into every output.

A small demo organisation gets, through ``wecom-eval ingest`` of real-shaped files, thirteen
departments named after the hostile strings of :mod:`hostile` (five employees each, whose
names are hostile too), a survey wave whose free-text answers, multi-select choices and
departments are hostile (one free-text question named by a mapping file's header value),
and support tickets with hostile categories. The weekly, monthly and quarterly reports are
run, the robot's markdown is composed, and each output is read by its own parser: the HTML
pages' element trees, the workbook's cells (openpyxl), the deck's shapes (python-pptx) and
the markdown's tags, mentions and links.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from demo_home import demo_home
from hostile import CORPUS, MARKERS, department
from html_tree import content_security_policy, parse
from pptx import Presentation

from wecom_eval.commands import notify
from wecom_eval.reporting import runner, safe_text, tables

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 5, 25)  # the day after the demo's data ends
REPORTS = ("weekly", "monthly", "quarterly")
SALT = {"WECOM_EVAL_SALT": "hostile-test-salt-0123456789"}
QUESTION = "<script>alert('HX14')</script>您的建议"  # a free-text question named in a mapping file
PER_DEPARTMENT = 5


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _ingest(home: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wecom_eval.cli", "ingest", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-home")
    (root / "params" / "mappings").mkdir(parents=True)
    shutil.copy(REPO / "params" / "rollout.yaml", root / "params" / "rollout.yaml")
    (root / "params" / "mappings" / "survey-tool.yaml").write_text(
        f'kinds: [survey]\nsurvey:\n  text: ["{QUESTION}"]\n', encoding="utf-8"
    )
    files = root / "exports"
    files.mkdir()
    depts = {m: "总部/" + department(s) for m, s in CORPUS.items()}
    roster = [
        [f"E9{k:02d}{i:03d}", CORPUS[m], depts[m], "2024-01-08", f"hx{k:02d}_{i}", "已激活", "2026-03-02 09:00"]
        for k, m in enumerate(MARKERS)
        for i in range(PER_DEPARTMENT)
    ]
    _write_csv(files / "roster.csv", ["工号", "姓名", "部门", "入职日期", "账号", "激活状态", "激活时间"], roster)
    survey = [
        [
            f"hx-{k}-{i}",
            "2026-Q2",
            "2026-05-20 10:00",
            depts[m],
            "4",
            "4",
            "4",
            "4",
            "4",
            CORPUS[m] if i == 0 else "",
            CORPUS[m],
        ]
        for k, m in enumerate(MARKERS)
        for i in range(PER_DEPARTMENT)
    ]
    _write_csv(
        files / "survey.csv",
        [
            "答卷编号",
            "批次",
            "提交时间",
            "部门",
            "overall",
            "ease_1",
            "ease_2",
            "ease_3",
            "ease_4",
            QUESTION,
            "最希望优化的流程（多选）",
        ],
        survey,
    )
    tickets = [
        [f"HX-{k:03d}", "2026-05-11 09:00", "2026-05-11 09:20", "2026-05-11 11:00", CORPUS[m]]
        for k, m in enumerate(MARKERS)
    ]
    _write_csv(files / "tickets.csv", ["工单号", "创建时间", "首次响应时间", "解决时间", "分类"], tickets)
    with demo_home(root, SALT) as (home, _plan):
        env = dict(os.environ)
        _ingest(root, env, "roster", str(files / "roster.csv"))
        _ingest(root, env, "survey", str(files / "survey.csv"))
        _ingest(root, env, "tickets", str(files / "tickets.csv"))
        results = runner.run_all(
            home, as_of=AS_OF, reports=list(REPORTS), overrides={"n_boot": 199}, cell_timeout=300, progress=None
        )
    failed = {r.report: r.error for r in results if not r.ok}
    assert not failed
    return {"home": home, "results": {r.report: r for r in results}}


# ---- HTML --------------------------------------------------------------------------------------


def _check_html(page: str, *, links_allowed: bool = False) -> str:
    """Every element of ``page`` is the page's own; returns the page's text."""
    elements, text = parse(page)
    policy = content_security_policy(page) or ""
    assert policy.startswith("default-src 'none'") and "script-src" not in policy and "img-src data:" in policy
    for e in elements:
        assert e.tag not in ("script", "iframe", "object", "embed", "font", "form", "base"), e
        assert e.tag != "a" or links_allowed or (e.attr("href") or "").startswith("#"), e  # heading anchors
        for name, value in e.attrs:
            assert not name.startswith("on"), e
            assert "javascript:" not in value.lower(), e
            if not value.startswith("data:image/png;base64,"):  # base64 may spell a marker by chance
                assert not any(m in value for m in (*MARKERS, "HX14")), e
        if e.tag == "img":
            assert (e.attr("src") or "").startswith("data:image/png;base64,"), e
    return text


@pytest.mark.parametrize("report", REPORTS)
def test_report_pages_show_hostile_text_only_as_text(hostile_home, report):
    page = (hostile_home["results"][report].folder / "report.html").read_text(encoding="utf-8")
    text = _check_html(page)
    # the hostile departments are listed (by name, as text) in every one of these reports
    shown = [m for m in MARKERS if m in text]
    assert len(shown) >= 10, shown


def test_quarterly_shows_hostile_comments_and_question_as_text(hostile_home):
    folder = hostile_home["results"]["quarterly"].folder
    text = _check_html((folder / "report.html").read_text(encoding="utf-8"))
    comments = openpyxl.load_workbook(folder / "tables.xlsx")[tables.sheet_label("comments", "", "zh")]
    shown = list(comments.iter_rows(min_row=4, values_only=True))
    assert len(shown) == 8  # satisfaction.comments' limit, in an order of its own (the demo's own comments too)
    hostile = [(q, a) for q, a in shown if q == safe_text.clean(QUESTION)]
    assert len(hostile) >= 2 and safe_text.clean(QUESTION) in text
    for _question, answer in hostile:
        marker = "HX" + answer.split("HX", 1)[1][:2]
        assert answer == safe_text.clean(CORPUS[marker], max_chars=safe_text.XLSX_MAX_CHARS)
        assert safe_text.clean(CORPUS[marker])[:200] in text  # shown, as text, in the page
    assert "\u202e" not in text and "\u200b" not in text


def test_index_is_inert(hostile_home):
    _check_html((hostile_home["home"].reports / "index.html").read_text(encoding="utf-8"), links_allowed=True)


# ---- xlsx ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("report", REPORTS)
def test_workbook_cells_are_never_formulas(hostile_home, report):
    wb = openpyxl.load_workbook(hostile_home["results"][report].folder / "tables.xlsx")
    hostile_cells = 0
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not re.search(r"[\x00-\x1f\u202a-\u202e\u2066-\u2069\u200b]", cell.value), cell.value
                    assert not cell.value.startswith(safe_text.FORMULA_PREFIXES) or cell.quotePrefix, cell.coordinate
                    assert not cell.value.startswith("'"), cell.coordinate  # no visible apostrophe
                    hostile_cells += any(m in cell.value for m in MARKERS)
    assert hostile_cells >= 10


# ---- pptx -------------------------------------------------------------------------------------------


def test_deck_has_no_link_and_no_hidden_characters(hostile_home):
    deck = Presentation(str(hostile_home["results"]["quarterly"].folder / "deck.pptx"))
    runs = 0
    for slide in deck.slides:
        for shape in slide.shapes:
            assert shape.click_action.hyperlink.address is None
            frames = [shape.text_frame] if shape.has_text_frame else []
            if shape.has_table:
                frames += [c.text_frame for r in shape.table.rows for c in r.cells]
            for frame in frames:
                for para in frame.paragraphs:
                    for run in para.runs:
                        runs += 1
                        assert run.hyperlink.address is None
                        assert not re.search(r"[\x00-\x08\x0b-\x1f\u202a-\u202e\u2066-\u2069\u200b]", run.text)
    assert runs > 20


# ---- the robot's markdown ------------------------------------------------------------------------


@pytest.mark.parametrize("report", REPORTS)
def test_robot_markdown_has_no_injected_mention_link_or_tag(hostile_home, report):
    result = notify.build_messages(hostile_home["results"][report].folder, link_base="https://bi.example.com/r/")
    md = result.markdown
    tags = re.findall(r"<[^>]*>", md)
    assert set(tags) <= {'<font color="info">', '<font color="comment">', '<font color="warning">', "</font>"}, tags
    links = re.findall(r"\[([^\]]*)\]\(([^)]*)\)", md)
    assert links == [(f"{report}/{AS_OF}/report.html", f"https://bi.example.com/r/{report}/{AS_OF}/report.html")]
    assert "<@" not in md and not re.search(r"(?i)javascript\s*:", md) and "`" not in md
    for line in md.split("\n"):
        assert not line.startswith("#") or line == md.split("\n")[0]  # only the title is a heading
    if report == "weekly":  # the hostile departments behind their path are among the alerts listed
        assert any(m in md for m in MARKERS), md
