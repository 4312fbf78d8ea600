"""The HTML report: no code, one language, parameters and data window first, definitions last."""

from __future__ import annotations

import datetime as dt

import nbformat
from html_tree import content_security_policy
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from wecom_eval.reporting import export

META = {
    "report": "weekly",
    "language": "en",
    "as_of": "2026-05-25",
    "params": {"as_of": "2026-05-25", "language": "en"},
    "period": {"label": "rollout week 12"},
    "data_window": {"start": "2026-01-05", "end": "2026-05-24"},
    "calendar_note": "holidays for 2031 are not known <yet>",
    "definitions": ["registration", "pilot_efficiency"],
}


def executed() -> nbformat.NotebookNode:
    nb = new_notebook()
    title = new_markdown_cell("# Weekly")
    zh = new_markdown_cell("## 注册")
    zh.metadata["tags"] = ["zh"]
    en = new_markdown_cell("## Registration")
    en.metadata["tags"] = ["en"]
    params = new_code_cell('as_of: str = "2026-05-25"')
    params.metadata["tags"] = ["parameters"]
    code = new_code_cell("secret_code_line = 1")
    code.outputs = [
        new_output("stream", name="stderr", text="a warning"),
        new_output("display_data", data={"text/html": "<p>the table</p>"}),
    ]
    quiet = new_code_cell("x = 1")
    nb.cells = [title, params, zh, en, code, quiet]
    return nb


def test_report_notebook_keeps_one_language_and_no_code():
    nb = export.report_notebook(executed(), META, generated=dt.datetime(2026, 5, 25, 9, 0))
    sources = [c.source for c in nb.cells]
    assert sources[0] == "# Weekly" and "## Registration" in sources and "## 注册" not in sources

    def html_of(cell: nbformat.NotebookNode) -> str:
        return "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))

    # header and footer are HTML outputs (never parsed as markdown), with no code of their own
    assert "wecom-header" in html_of(nb.cells[1]) and "wecom-footer" in html_of(nb.cells[-1])
    assert nb.cells[1].source == "" and nb.cells[-1].source == ""
    code = [c for c in nb.cells[2:-1] if c.cell_type == "code"]
    assert len(code) == 1 and [o["output_type"] for o in code[0].outputs] == ["display_data"]


def test_html_is_self_contained_with_header_and_footer(tmp_path):
    path = tmp_path / "in.ipynb"
    nbformat.write(executed(), path)
    out = export.export_html(path, META, tmp_path / "report.html", generated=dt.datetime(2026, 5, 25, 9, 0))
    html = out.read_text(encoding="utf-8")
    assert "secret_code_line" not in html and "a warning" not in html and "<p>the table</p>" in html
    assert "<script" not in html and "http://" not in html.split("<body", 1)[1]
    assert html.index("Data window") < html.index("Registration") < html.index("KPI definitions")
    assert "2026-01-05 to 2026-05-24" in html and "rollout week 12" in html
    assert "&lt;yet&gt;" in html  # text is escaped
    assert "<strong>Registration rate</strong>" in html and "Pilot efficiency gain" in html
    assert '<html lang="en">' in html
    policy = content_security_policy(html) or ""  # scripts are forbidden, embedded images allowed
    assert policy.startswith("default-src 'none'; img-src data:;") and "script-src" not in policy


def _page_as_before(nb: nbformat.NotebookNode, language: str) -> str:
    """The page as it was made before exporters were kept: a new nbconvert exporter for each page."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=export.TEMPLATE_NAME, extra_template_basedirs=[str(export.TEMPLATE_DIR)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.language_code = export.HTML_LANG[language]
    resources = {
        "wecom_css": (export.TEMPLATE_DIR / export.TEMPLATE_NAME / "report.css").read_text(encoding="utf-8"),
        "wecom_csp": export.safe_text.CSP_META,
    }
    return str(exporter.from_notebook_node(nb, resources=resources)[0])


def test_a_kept_exporter_makes_the_same_pages_in_either_language_and_compiles_its_templates_once(home):
    nb = new_notebook(cells=[new_markdown_cell("# 周报\n\n正文", id="c1"), new_code_cell(outputs=[], id="c2")])
    nb.cells[1].outputs = [new_output("display_data", {"text/html": "<b>表</b>"})]
    export.warm_up()
    for language in ("zh", "en", "zh", "en"):  # nbconvert turns a second language_code after zh-CN into en
        page = export.render_html(nb, language)
        assert page == _page_as_before(nb, language)
        assert f'<html lang="{export.HTML_LANG[language]}">' in page
    cached = sorted(p.name for p in (home.data / ".cache" / "templates").iterdir())
    assert cached and all(name.startswith("__jinja2_") for name in cached)  # under the home, nowhere else
    (home.data / ".cache" / "templates" / cached[0]).write_bytes(b"not bytecode")  # a spoilt entry is compiled afresh
    export._EXPORTERS.clear()
    assert export.render_html(nb, "zh") == _page_as_before(nb, "zh")


def test_the_worker_prepares_the_page_while_the_notebook_runs(home):
    """What the first page compiles is compiled by the worker's loading thread, not after the last cell."""
    from wecom_eval.reporting import worker

    export._EXPORTERS.clear()
    worker._load_publishers()
    assert (export.HTML_LANG["zh"], export.template_cache()) in export._EXPORTERS
