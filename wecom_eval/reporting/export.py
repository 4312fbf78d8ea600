"""The executed notebook as a self-contained HTML report without code.

What a meeting reads: the narrative (markdown cells in the report's language), the tables
and the figures (PNG, embedded), nothing else. The page

* starts with a header: the report's title and period, its parameters, the data window
  and when it was made (and the working-calendar note when the calendar fell back);
* ends with the definitions of the KPIs it showed and the verdict rules;
* loads nothing from the network (no scripts, fonts or styles from elsewhere), and its
  Content-Security-Policy forbids any script, should one slip into the page.

Markdown cells tagged ``zh`` or ``en`` appear only in reports of that language (the
notebooks carry their narrative in both); untagged cells appear in both. The ``parameters``
and ``injected-parameters`` cells, code, prompts and warnings (stderr) are left out.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from wecom_eval import text
from wecom_eval.home import Home
from wecom_eval.reporting import registry, safe_text

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAME = "wecom_report"
LANGUAGE_TAGS = ("zh", "en")
DROP_TAGS = {"parameters", "injected-parameters", "remove-cell"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def _visible(cell: Any, language: str) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & DROP_TAGS:
        return False
    other = {t for t in LANGUAGE_TAGS if t != language}
    return not (tags & other)


def _params_rows(params: Mapping[str, Any]) -> str:
    return "".join(
        f"<tr><th>{safe_text.html(str(k))}</th><td>{safe_text.html(str(v))}</td></tr>" for k, v in params.items()
    )


def header_html(meta: Mapping[str, Any], *, generated: dt.datetime) -> str:
    """The block at the top of a report: title, period, parameters, data window."""
    lang = meta["language"]
    title = registry.title(meta["report"], lang)
    period = (meta.get("period") or {}).get("label", "")
    window = meta.get("data_window") or {}
    start, end = window.get("start") or "?", window.get("end") or "?"
    rows = [
        (text.t("period", lang), period),
        (text.t("data_window", lang), text.t("data_window_value", lang, start=start, end=end)),
        (text.t("as_of", lang), meta["as_of"]),
        (text.t("generated", lang), generated.strftime("%Y-%m-%d %H:%M")),
    ]
    facts = "".join(f"<tr><th>{safe_text.html(k)}</th><td>{safe_text.html(str(v))}</td></tr>" for k, v in rows if v)
    note = meta.get("calendar_note")
    extra = f"<p><small>{safe_text.html(text.t('calendar_fallback', lang, note=note))}</small></p>" if note else ""
    if meta.get("data_note"):
        extra += f'<p class="wecom-warning">{safe_text.html(meta["data_note"])}</p>'

    return (
        f'<div class="wecom-header" title="{safe_text.html(title)}">\n<table>{facts}</table>\n'
        f"<details><summary>{safe_text.html(text.t('parameters', lang))}</summary>"
        f"<table>{_params_rows(meta.get('params', {}))}</table></details>{extra}\n</div>"
    )


def coverage_html(meta: Mapping[str, Any]) -> str:
    """The data-coverage section: per source its date range, rows, working days missing, last load."""
    lang = meta["language"]

    def c(key: str) -> str:
        return safe_text.html(text.lookup("coverage", key, lang))

    rows = []
    for rec in meta.get("coverage", []):
        first, last, n = rec.get("first_day"), rec.get("last_day"), int(rec.get("rows") or 0)
        span = f"{first} – {last}" if first else text.lookup("coverage", "undated" if n else "none", lang)
        gaps = rec.get("missing_working_days")
        missing = (
            "—"
            if gaps is None
            else str(gaps)
            if not gaps
            else f"{gaps}（{rec.get('missing_days')}）"
            if lang == "zh"
            else f"{gaps} ({rec.get('missing_days')})"
        )
        loaded = str(rec.get("last_loaded") or "—").replace("T", " ")[:16]
        cls = ' class="wecom-warning"' if gaps else ""
        rows.append(
            f"<tr{cls}><td>{c(str(rec['source']))}</td><td>{safe_text.html(span)}</td><td>{n:,}</td>"
            f"<td>{safe_text.html(missing)}</td><td>{safe_text.html(loaded)}</td></tr>"
        )
    head = "".join(f"<th>{c(k)}</th>" for k in ("source", "range", "rows", "missing", "last_loaded"))
    return (
        f'<div class="wecom-coverage">\n<h2>{c("title")}</h2>\n<p>{c("intro")}</p>\n'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>\n</div>"
    )


def footer_html(meta: Mapping[str, Any], *, minutes: int, window_days: int) -> str:
    """The block at the end: KPI definitions for what the report showed, verdict rules."""
    lang = meta["language"]
    items = [text.definition(k, lang, minutes=minutes, days=window_days) for k in meta.get("definitions", [])]
    body = "\n".join(f"<li>{safe_text.inline_html(i)}</li>" for i in items)
    return (
        f'<div class="wecom-footer">\n<h2>{safe_text.html(text.t("kpi_definitions", lang))}</h2>\n'
        f"<ul>{body}</ul>\n<h3>{safe_text.html(text.t('verdict_rules', lang))}</h3>\n"
        f"<p>{safe_text.inline_html(text.t('verdict_rules_text', lang))}</p>\n</div>"
    )


def _html_cell(content: str) -> nbformat.NotebookNode:
    """A cell the page shows as HTML as it is (an output, never parsed as markdown)."""
    cell: nbformat.NotebookNode = nbformat.v4.new_code_cell(
        outputs=[nbformat.v4.new_output("display_data", {"text/html": content})]
    )
    return cell


def report_notebook(
    executed: nbformat.NotebookNode,
    meta: Mapping[str, Any],
    *,
    generated: dt.datetime,
    minutes: int = 30,
    window_days: int = 28,
) -> nbformat.NotebookNode:
    """A copy of the executed notebook as the report shows it (see the module docstring)."""
    lang = meta["language"]
    nb = copy.deepcopy(executed)
    cells = []
    for cell in nb.cells:
        if not _visible(cell, lang):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            if not cell.outputs:
                continue
        cells.append(cell)
    head = _html_cell(header_html(meta, generated=generated))
    foot = _html_cell(coverage_html(meta) + "\n" + footer_html(meta, minutes=minutes, window_days=window_days))
    # The header follows the notebook's title cell (a markdown cell starting with "# "), if any.
    first = cells[0] if cells else None
    if first is not None and first.cell_type == "markdown" and first.source.lstrip().startswith("# "):
        nb.cells = [first, head, *cells[1:], foot]
    else:
        nb.cells = [head, *cells, foot]
    nb.metadata["title"] = f"{registry.title(meta['report'], lang)} · {meta['as_of']}"
    return nb


def export_html(
    executed_path: str | Path,
    meta: Mapping[str, Any],
    out_path: str | Path,
    *,
    generated: dt.datetime | None = None,
    minutes: int = 30,
    window_days: int = 28,
) -> Path:
    """Write ``report.html`` for an executed notebook and what it recorded (``meta``)."""
    executed = nbformat.read(str(executed_path), as_version=4)
    nb = report_notebook(
        executed, meta, generated=generated or dt.datetime.now(), minutes=minutes, window_days=window_days
    )
    out = Path(out_path)
    out.write_text(render_html(nb, meta["language"]), encoding="utf-8")
    return out


class _ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter with its compiled templates kept in ``cache`` (:func:`template_cache`)."""

    def __init__(self, cache: Path | None, **kwargs: Any) -> None:
        self.cache = cache
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    def _create_environment(self) -> Any:
        environment = super()._create_environment()  # type: ignore[no-untyped-call]
        if self.cache is not None:
            from jinja2 import FileSystemBytecodeCache

            class KeptTemplates(FileSystemBytecodeCache):
                def dump_bytecode(self, bucket: Any) -> None:
                    with suppress(OSError):  # a cache that cannot be written is no error
                        super().dump_bytecode(bucket)

            environment.bytecode_cache = KeptTemplates(str(self.cache))
        return environment


def template_cache() -> Path | None:
    """``data/.cache/templates`` under the home: the report template compiled by Jinja, once.

    Jinja keeps each template's checksum beside its code and compiles a template afresh when
    its source changed, so an edited template is never rendered from stale code. None when
    the folder cannot be made (a read-only home): templates are then compiled in memory.
    """
    folder = Home.from_env().data / ".cache" / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


# by page language and template cache: each exporter compiles its templates once a process
_EXPORTERS: dict[tuple[str, Path | None], HTMLExporter] = {}
_EXPORTING = threading.Lock()  # an exporter is not shared by two renders at once


def render_html(nb: nbformat.NotebookNode, language: str) -> str:
    """A report notebook (:func:`report_notebook`) as the HTML page, through the report's template."""
    resources = {
        "wecom_css": (TEMPLATE_DIR / TEMPLATE_NAME / "report.css").read_text(encoding="utf-8"),
        "wecom_csp": safe_text.CSP_META,
    }
    key = (HTML_LANG.get(language, "zh-CN"), template_cache())
    with _EXPORTING:
        if key not in _EXPORTERS:
            exporter = _ReportExporter(key[1], template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)])
            exporter.exclude_input = True
            exporter.exclude_input_prompt = True
            exporter.exclude_output_prompt = True
            exporter.embed_images = True
            # set once, on a new exporter: nbconvert checks a new language_code by the one it
            # replaces, and after "zh-CN" (no ISO 639-1 code) the next would be turned into "en"
            exporter.language_code = key[0]
            _EXPORTERS[key] = exporter
        body, _ = _EXPORTERS[key].from_notebook_node(nb, resources=resources)
    return str(body)


def warm_up() -> None:
    """Render a small page of every kind of cell a report holds, and throw it away.

    The worker calls this while the kernel runs the notebook, so that what the first page
    compiles (the templates, nbconvert's regular expressions and CSS selectors, the notebook
    validator) is ready when the real page is made: the same page, sooner.
    """
    v4 = nbformat.v4
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    outputs = [
        v4.new_output("display_data", {"text/html": "<table><tr><th>a</th><td>1</td></tr></table>"}),
        v4.new_output("display_data", {"image/png": png, "text/plain": "<Figure>"}),
        v4.new_output("stream", name="stdout", text="-"),
    ]
    cells = [
        v4.new_markdown_cell("# -\n\n**-** *-* `-` [-](#-)\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
        v4.new_code_cell(outputs=outputs),
    ]
    render_html(v4.new_notebook(cells=cells, metadata={"title": "-"}), LANGUAGE_TAGS[0])


__all__ = [
    "coverage_html",
    "export_html",
    "footer_html",
    "header_html",
    "render_html",
    "report_notebook",
    "template_cache",
    "warm_up",
]
