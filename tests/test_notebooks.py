"""The six report notebooks: committed clean, thin, and run end to end on a small demo organisation.

One module-scoped run builds a 300-person demo organisation and runs every report through
the real runner (worker processes, the project's kernel, papermill, nbconvert) with a
corp secret, a webhook key and the pseudonymisation salt in the environment; the tests then
read what the runs published.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import nbformat
import openpyxl
import pytest
from demo_home import demo_home
from pptx import Presentation

from wecom_eval import text
from wecom_eval.reporting import kpis_json, runner
from wecom_eval.reporting.floor import KEY_COLUMNS
from wecom_eval.reporting.params import parameters_cell
from wecom_eval.reporting.registry import names

REPORTS = names()  # every report of the registry

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SECRETS = {
    "WECOM_SECRET_APPROVAL": "corp-secret-3f9a1c77e2",
    "WECOM_WEBHOOK_KEY": "webhook-key-0b8d5e61aa",
    "WECOM_EVAL_SALT": "salt-for-pseudonyms-6c2e94d1",
}
AS_OF = "2026-05-25"
# Tables about no one (targets and their company forecasts, alerts that name groups at or above the floor,
# approval counts, simulated probabilities of a verdict).
ABOUT_NO_ONE = {"targets", "forecasts", "alerts", "efficiency_cells", "efficiency_methods", "power_met"}


def notebook(report: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{report}.ipynb", as_version=4)


# ---- the committed notebooks -----------------------------------------------------------------


@pytest.mark.parametrize("report", list(REPORTS))
def test_notebook_is_committed_without_outputs(report):
    for cell in notebook(report).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata


@pytest.mark.parametrize("report", list(REPORTS))
def test_one_parameters_cell_written_from_the_model(report):
    nb = notebook(report)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    assert cells[0].source == parameters_cell(report)
    assert nb.metadata["kernelspec"]["name"] == "wecom-eval"


@pytest.mark.parametrize("report", list(REPORTS))
def test_notebook_reads_like_a_report(report):
    nb = notebook(report)
    sections = {"zh": 0, "en": 0}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            for lang in ("zh", "en"):
                if lang in tags and cell.source.lstrip().startswith("#"):
                    sections[lang] += 1
        elif "parameters" not in tags:
            assert len(cell.source.splitlines()) <= 6, f"a long cell belongs in the package:\n{cell.source}"
    assert sections["zh"] == sections["en"] >= 4  # every heading in both languages


# ---- every report on a small demo organisation -------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A 300-person demo organisation with every report run on it (the monthly one in English)."""
    root = tmp_path_factory.mktemp("demo-home")
    (root / "params").mkdir()
    shutil.copy(REPO / "params" / "rollout.yaml", root / "params" / "rollout.yaml")
    (root / "params" / "launch-review.yaml").write_text("power_simulations: 60\n", encoding="utf-8")
    (root / "params" / "monthly.yaml").write_text("language: en\n", encoding="utf-8")
    with demo_home(root, SECRETS) as (home, plan):
        results = runner.run_all(home, as_of=AS_OF, overrides={"n_boot": 199}, cell_timeout=300, progress=None)
    return {"home": home, "plan": plan, "results": {r.report: r for r in results}}


def test_every_report_runs(demo):
    failed = {k: r.error for k, r in demo["results"].items() if not r.ok}
    assert not failed
    assert set(demo["results"]) == set(REPORTS)
    assert demo["results"]["launch-review"].as_of == dt.date(2026, 3, 16)  # made at its phase's end
    index = (demo["home"].reports / "index.html").read_text(encoding="utf-8")
    for r in demo["results"].values():
        assert f"{r.report}/{r.as_of}/report.html" in index


@pytest.mark.parametrize("report", list(REPORTS))
def test_html_has_sections_figures_and_no_code(demo, report):
    html = (demo["results"][report].folder / "report.html").read_text(encoding="utf-8")
    for cell in notebook(report).cells:
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            for line in cell.source.splitlines():
                if len(line.strip()) > 12:
                    assert line.strip() not in html, line
    assert "hl-ipython3" not in html and "<script" not in html
    assert "Traceback" not in html and "Warning" not in html
    assert "data:image/png;base64," in html
    if report != "monthly":  # the monthly review runs in English here
        assert "指标定义" in html and "数据范围" in html and "五项目标" in html


def test_a_report_in_english_is_in_english(demo):
    html = (demo["results"]["monthly"].folder / "report.html").read_text(encoding="utf-8")
    for words in (
        "The five targets",
        "KPI definitions",
        "Data window",
        "Best department",
        "Month over month",
        "Alerts",
        "Verdicts",
    ):
        assert words in html
    for words in ("五项目标", "指标定义", "数据范围", "预警（", "最佳部门", "判定规则"):
        assert words not in html
    # the best department: score and lower bound side by side, and why the bound ranks
    assert "The ranking reads the lower bound, not the score" in html
    assert '<html lang="en">' in html
    wb = openpyxl.load_workbook(demo["results"]["monthly"].folder / "tables.xlsx")
    assert wb.sheetnames[0] == "Contents"


def test_the_index_lists_every_run_newest_first(demo):
    reports = demo["home"].reports
    index = (reports / "index.html").read_text(encoding="utf-8")
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in reports.glob("*/*/manifest.json")]
    newest_first = sorted(manifests, key=lambda m: (m["started"], m["finished"], m["as_of"], m["report"]), reverse=True)
    positions = [index.index(f"{m['report']}/{m['as_of']}/report.html") for m in newest_first]
    assert positions == sorted(positions) and len(positions) == len(REPORTS)


@pytest.mark.parametrize("report", list(REPORTS))
def test_kpis_json_has_the_five_targets_and_follows_the_schema(demo, report):
    document = json.loads((demo["results"][report].folder / "kpis.json").read_text(encoding="utf-8"))
    assert kpis_json.problems(document) == []
    assert list(document["targets"]) == [
        "registration",
        "daily_active",
        "feature_penetration",
        "satisfaction",
        "pilot_efficiency",
    ]
    for target in document["targets"].values():
        assert target["verdict"] in ("met", "not_yet_shown", "missed", "not_measured")
        assert target["target"] is not None
        if target["verdict"] != "not_measured" and target["id"] != "registration":
            assert target["ci_low"] <= target["estimate"] <= target["ci_high"]
    # every verdict says what it rests on; the adoption targets are read every week
    basis = {t: document["targets"][t]["verdict_basis"] for t in document["targets"]}
    assert basis["registration"] in ("census", "none")
    for t in ("daily_active", "feature_penetration"):
        assert basis[t] == (
            "none" if document["targets"][t]["verdict"] == "not_measured" else "confidence_sequence:spending"
        )
    # the efficiency verdict spends alpha over the weekly looks in every report but the one read once
    inference = basis["pilot_efficiency"].removesuffix("+spent_alpha")
    assert inference in ("randomization:size_standardised", "randomization", "wild_bootstrap", "none")
    spends = basis["pilot_efficiency"].endswith("+spent_alpha")
    assert spends == (report != "deepening-review" and inference != "none")


def test_no_secret_leaves_a_trace_in_any_output(demo):
    files = [p for p in demo["home"].reports.rglob("*") if p.is_file()]
    assert len(files) > 30
    from wecom_eval.reporting.secrecy import scan

    assert scan(files, SECRETS) == []


def _cells(ws, header_row: int):
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    return list(rows[0]), rows[1:]


@pytest.mark.parametrize("report", list(REPORTS))
def test_no_table_describes_fewer_people_than_the_floor(demo, report):
    folder = demo["results"][report].folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    floor = demo["plan"].privacy.min_group_size
    wb = openpyxl.load_workbook(folder / "tables.xlsx")
    language = manifest["parameters"]["language"]
    titles = sheets_by_table(wb, manifest, language)
    assert manifest["tables"], "a report with no table"
    for table in manifest["tables"]:
        people = table["people"]
        assert table["floor"] == floor
        if people is None:
            assert table["name"] in ABOUT_NO_ONE, f"{table['name']} says it describes no one"
            continue
        if isinstance(people, int):
            assert people >= floor, table
            continue
        ws = titles[table["name"]]
        header, rows = _cells(ws, 3)  # title, note, headings (tables.write_workbook's layout)
        keys = {text.column_label(k, language) for k in set(KEY_COLUMNS) | set(table["keys"]) | set(table["within"])}
        column = header.index(text.column_label(people, language))
        for row in rows:
            count = row[column]
            if count == "—" or count is None:
                described = [v for h, v in zip(header, row, strict=True) if h not in keys and v not in ("—", None)]
                assert not described, (table["name"], row)
            else:
                assert (
                    count == 0
                    and all(v in ("—", None) for h, v in zip(header, row, strict=True) if h not in keys)
                    or count >= floor
                ), (table["name"], row)


def sheets_by_table(wb, manifest, language):
    """Each table's worksheet: sheets are named in the report's language (``tables.sheet_label``)."""
    from wecom_eval.reporting.tables import sheet_label, sheet_names

    sheets = sheet_names([sheet_label(t["name"], t["title"], language) for t in manifest["tables"]])
    return {t["name"]: wb[sheet] for t, sheet in zip(manifest["tables"], sheets, strict=True)}


@pytest.mark.parametrize("report", list(REPORTS))
def test_no_hidden_cell_can_be_worked_out_by_subtraction(demo, report):
    """The attack: the rows of a table (or of one part of it, ``within``) add up to a published total,
    so the total minus the shown rows is what the hidden rows hold together. One hidden row alone
    would be recovered exactly; every set of siblings must hide none or at least two."""
    folder = demo["results"][report].folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    language = manifest["parameters"]["language"]
    wb = openpyxl.load_workbook(folder / "tables.xlsx")
    tried = 0
    for table in manifest["tables"]:
        if not isinstance(table["people"], str):
            continue
        header, rows = _cells(sheets_by_table(wb, manifest, language)[table["name"]], 3)
        column = header.index(text.column_label(table["people"], language))
        parts = [header.index(text.column_label(w, language)) for w in table["within"]]
        siblings: dict[tuple, list[tuple]] = {}
        for row in rows:
            siblings.setdefault(tuple(row[i] for i in parts), []).append(row)
        for part, members in siblings.items():
            hidden = [r for r in members if r[column] in ("—", None)]
            shown = sum(r[column] for r in members if r[column] not in ("—", None))
            tried += 1
            assert len(hidden) != 1, (
                f"{table['name']} {part}: {hidden[0][0]} = published total − {shown} (the shown rows)"
            )
    assert tried or report == "deepening-review"  # its tables describe the pilot cells by their own counts


def test_deepening_review_agrees_with_the_generators_truth(demo):
    truth = json.loads((demo["home"].demo / "truth.json").read_text(encoding="utf-8"))
    realised = truth["efficiency"]["realised"]["launch_did"]["log_effect"]
    document = json.loads((demo["results"]["deepening-review"].folder / "kpis.json").read_text(encoding="utf-8"))
    effect = document["targets"]["pilot_efficiency"]
    # The DiD of log turnaround without fixed effects is the difference of the four cell means the
    # generator records, so the estimate equals 1 - exp(log_effect) exactly.
    assert effect["estimate"] == pytest.approx(1 - math.exp(realised), rel=1e-9)
    assert effect["ci_low"] < effect["estimate"] < effect["ci_high"]
    html = (demo["results"]["deepening-review"].folder / "report.html").read_text(encoding="utf-8")
    assert f"{effect['estimate']:.0%}" in html
    assert "判定用一次性的单侧 0.05 水平" in html or "one-off one-sided 0.05 level" in html  # says which level
    satisfaction = document["targets"]["satisfaction"]
    wave = max(
        (w for w, v in truth["satisfaction"].items() if v["kind"] == "satisfaction"),
        key=lambda w: truth["satisfaction"][w]["closes"],
    )
    assert satisfaction["estimate"] == pytest.approx(truth["satisfaction"][wave]["mean_overall"], rel=1e-12)


def test_quarterly_deck_has_the_scorecard_with_traffic_lights(demo):
    folder = demo["results"]["quarterly"].folder
    document = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    deck = Presentation(str(folder / "deck.pptx"))
    slides = list(deck.slides)
    assert len(slides) >= 5
    scorecard = slides[1]
    table = next(s for s in scorecard.shapes if s.has_table).table
    assert len(table.rows) == 6
    lights = [s for s in scorecard.shapes if s.shape_type == 1 and s.width == s.height]
    colours = {"met": "2E7D32", "not_yet_shown": "F2A900", "missed": "C62828", "not_measured": "9E9E9E"}
    expected = [colours[t["verdict"]] for t in document["targets"].values()]
    assert [str(s.fill.fore_color.rgb) for s in lights] == expected
    pictures = [s for slide in slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) >= 3  # survey results and trend charts
    # The scorecard table keeps to the margins the title rule sets (it once ran half an inch past them).
    table_shape = next(s for s in scorecard.shapes if s.has_table)
    rule = next(s for s in scorecard.shapes if s.shape_type == 1 and s.height < s.width / 50)
    assert table_shape.left + sum(c.width for c in table_shape.table.columns) <= rule.left + rule.width
    for slide in slides:
        for shape in slide.shapes:
            assert shape.left + shape.width <= deck.slide_width and shape.top + shape.height <= deck.slide_height


@pytest.mark.parametrize("report", ["weekly", "monthly", "promotion-review"])
def test_every_figure_an_alert_or_a_sentence_quotes_equals_its_table(demo, report):
    """An alert about the company quotes the scorecard's figure; one about a department, the department
    table's; the forecast sentence quotes kpis.json's forecast (one period, one source)."""
    import re

    from wecom_eval.reporting.tables import format_kpi_value

    folder = demo["results"][report].folder
    document = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    lang, targets = document["language"], document["targets"]
    quoted = re.compile(r"(?:为|is) ([\d.]+%)")
    departments = {}
    if report == "weekly":
        ws = openpyxl.load_workbook(folder / "tables.xlsx")["各部门注册率"]
        heads = [c.value for c in ws[3]]
        departments = {row[0]: row[heads.index("当前值")] for row in ws.iter_rows(min_row=4, values_only=True)}
    checked = 0
    for alert in document["alerts"]:
        if alert["kind"] != "behind_path":
            continue
        for tid in ("registration", "daily_active"):
            label = text.lookup("targets", tid, lang)
            found = quoted.search(alert["message"].split(label, 1)[1]) if label in alert["message"] else None
            if found is None:
                continue
            if "/" not in alert["subject"]:  # the company: the scorecard's figure
                assert found.group(1) == format_kpi_value(targets[tid]["estimate"], "share"), alert["message"]
                checked += 1
            elif tid == "registration" and alert["subject"] in departments:
                assert found.group(1) == f"{departments[alert['subject']]:.1%}", alert["message"]
                checked += 1
    assert checked > 0 or not document["alerts"]
    forecast = targets["feature_penetration"].get("forecast")
    if report == "weekly" and forecast:
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert f"达到 {format_kpi_value(forecast['at_deadline'], 'share')}" in html
        assert (
            f"{format_kpi_value(forecast['pi_low'], 'share')} – {format_kpi_value(forecast['pi_high'], 'share')}"
            in html
        )
