"""``deck.pptx`` for the quarterly meeting, from what the report recorded.

Slides (16:9):

1. the title, the period and the date;
2. the scorecard: the five targets with estimate, interval, deadline and a traffic light
   (green met, amber not yet shown, red missed, grey not measured — the verdict colours of
   every chart, :data:`wecom_eval.reporting.figures.VERDICT_COLOURS`);
3. the pilot's efficiency result as one large number with its interval and verdict;
4. the alerts (most urgent first) and the next steps (what each unmet target still needs);
5. one slide per figure the notebook marked for the deck (trend charts with their target
   paths, survey results), each with its note.

Every slide's title is in its title placeholder (outline view, screen readers and slide
sorters find it), and the speaker notes hold the definitions of the KPIs the slide shows.
Every text goes through :func:`.safe_text.pptx` (one line each; no characters that hide or
reorder text); python-pptx escapes the XML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from wecom_eval import text
from wecom_eval.reporting import safe_text
from wecom_eval.reporting.collect import COLLECTED
from wecom_eval.reporting.figures import VERDICT_COLOURS
from wecom_eval.reporting.records import TARGET_IDS
from wecom_eval.reporting.tables import format_interval
from wecom_eval.reporting.tables import format_kpi_value as fmt_value

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
BLUE = RGBColor(0x1F, 0x5F, 0xA8)
GREY = RGBColor(0x55, 0x55, 0x55)
LIGHTS: dict[str | None, RGBColor] = {
    k: RGBColor.from_string(v.lstrip("#").upper()) for k, v in VERDICT_COLOURS.items()
}
LIGHTS[None] = LIGHTS["not_measured"]
TITLE_ONLY, TITLE_SLIDE = 5, 0  # layouts of the default template
MAX_ALERTS = 6
FONT = "Microsoft YaHei"  # present on the Windows and macOS machines meetings use; viewers substitute


def _text(
    slide: Any,
    left: int,
    top: int,
    width: int,
    height: int,
    content: str,
    *,
    size: int = 18,
    bold: bool = False,
    colour: RGBColor = GREY,
    align: PP_ALIGN = PP_ALIGN.LEFT,
) -> Any:
    box = slide.shapes.add_textbox(left, top, width, height)
    _fill(box, content, size=size, bold=bold, colour=colour, align=align)
    return box


def _fill(
    shape: Any, content: str, *, size: int, bold: bool = False, colour: RGBColor = GREY, align: PP_ALIGN = PP_ALIGN.LEFT
) -> None:
    frame = shape.text_frame
    frame.clear()
    frame.word_wrap = True
    for i, line in enumerate(content.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        run = para.add_run()
        run.text = safe_text.pptx(line)
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = FONT
        run.font.color.rgb = colour


def _place(shape: Any, left: int, top: int, width: int, height: int) -> None:
    shape.left, shape.top, shape.width, shape.height = left, top, width, height


def _slide(prs: Any, title: str, notes: str = "") -> Any:
    """A "Title Only" slide with ``title`` in its title placeholder, a rule under it, and ``notes``."""
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, title)
    if notes:
        slide.notes_slide.notes_text_frame.text = "\n".join(safe_text.pptx(line) for line in notes.split("\n"))
    return slide


def _definitions(meta: Mapping[str, Any], kpis: tuple[str, ...]) -> str:
    """The definitions of ``kpis`` as plain text for the speaker notes."""
    lang = meta["language"]
    fields = meta.get("definition_fields") or {"minutes": 30, "days": 28}
    known = set(text.definition_keys())
    return "\n".join(text.definition(k, lang, **fields).replace("**", "") for k in kpis if k in known)


def _title(slide: Any, title: str) -> None:
    placeholder = slide.shapes.title
    _place(placeholder, Inches(0.6), Inches(0.35), Inches(12.1), Inches(0.9))
    _fill(placeholder, title, size=28, bold=True, colour=BLUE)
    placeholder.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(0.6), Inches(1.15), Inches(12.1), Emu(38100))
    bar.fill.solid()
    bar.fill.fore_color.rgb = BLUE
    bar.line.fill.background()


def _level(meta: Mapping[str, Any]) -> str:
    levels = {k.get("confidence") for k in meta.get("targets", {}).values() if k.get("confidence")}
    return f"{levels.pop():.0%}" if len(levels) == 1 else ""


def _interval(k: Mapping[str, Any]) -> str:
    return format_interval(k.get("ci_low"), k.get("ci_high"), k.get("unit", "share"))


def _scorecard(prs: Any, meta: Mapping[str, Any]) -> None:
    lang = meta["language"]
    slide = _slide(prs, text.t("deck_scorecard", lang), _definitions(meta, TARGET_IDS))
    heads = [
        "",
        text.t("target", lang) + " · KPI",
        text.t("target", lang),
        text.t("deadline", lang),
        text.t("estimate", lang),
        text.t("interval", lang, p=_level(meta)),
        text.t("verdict", lang),
    ]
    widths = [0.7, 3.4, 1.2, 1.6, 1.4, 2.1, 1.7]  # inches; they add up to the 12.1-inch content width
    rows = len(TARGET_IDS) + 1
    row_h = Inches(0.78)
    top = Inches(1.55)
    table = slide.shapes.add_table(rows, len(heads), Inches(0.6), top, Inches(sum(widths)), row_h * rows).table
    for j, w in enumerate(widths):
        table.columns[j].width = Inches(w)
    for i in range(rows):
        table.rows[i].height = row_h
    for j, head in enumerate(heads):
        cell = table.cell(0, j)
        cell.text = safe_text.pptx(head)
        _style_cell(cell, size=15, bold=True, colour=RGBColor(0xFF, 0xFF, 0xFF))
    for i, kpi in enumerate(TARGET_IDS, start=1):
        k = meta["targets"].get(kpi, {})
        unit = k.get("unit", "share")
        values = [
            "",
            text.lookup("targets", kpi, lang),
            fmt_value(k.get("target"), unit),
            k.get("deadline") or "—",
            fmt_value(k.get("estimate"), unit),
            _interval(k),
            text.verdict_label(k.get("verdict"), lang) or "—",
        ]
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.text = safe_text.pptx(value)
            _style_cell(cell, size=15, bold=j == 6)
        light = slide.shapes.add_shape(
            MSO_SHAPE.OVAL, Inches(0.6 + 0.17), top + row_h * i + Inches(0.2), Inches(0.38), Inches(0.38)
        )
        light.fill.solid()
        light.fill.fore_color.rgb = LIGHTS.get(k.get("verdict"), LIGHTS[None])
        light.line.fill.background()
    _text(
        slide,
        Inches(0.6),
        Inches(6.45),
        Inches(12.1),
        Inches(0.8),
        text.t("verdict_rules_text", lang).replace("**", ""),
        size=11,
    )


def _style_cell(cell: Any, *, size: int, bold: bool = False, colour: RGBColor | None = None) -> None:
    for para in cell.text_frame.paragraphs:
        for run in para.runs:
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.name = FONT
            if colour is not None:
                run.font.color.rgb = colour


def _efficiency(prs: Any, meta: Mapping[str, Any]) -> None:
    lang = meta["language"]
    k = meta["targets"].get("pilot_efficiency")
    if not k:
        return
    slide = _slide(prs, text.t("deck_efficiency", lang), _definitions(meta, ("pilot_efficiency",)))
    colour = LIGHTS.get(k.get("verdict"), LIGHTS[None])
    big = fmt_value(k.get("estimate"), "share") if k.get("estimate") is not None else text.t("no_data", lang)
    _text(slide, Inches(0.6), Inches(1.7), Inches(6), Inches(1.8), big, size=88, bold=True, colour=colour)
    lines = [
        f"{text.lookup('targets', 'pilot_efficiency', lang)}",
        f"{text.t('interval', lang, p=_level(meta))}: {_interval(k)}",
        f"{text.t('target', lang)}: {fmt_value(k.get('target'), 'share')}",
        f"{text.t('verdict', lang)}: {text.verdict_label(k.get('verdict'), lang) or '—'}",
    ]
    _text(slide, Inches(0.6), Inches(3.7), Inches(6), Inches(2.4), "\n".join(lines), size=20)
    detail = "\n".join(x for x in (k.get("method"), k.get("note")) if x)
    if detail:
        _text(slide, Inches(7.0), Inches(1.8), Inches(5.7), Inches(4.6), detail, size=15)


def _figure(prs: Any, run_dir: Path, fig: Mapping[str, Any]) -> None:
    title = fig.get("title") or fig["name"]
    slide = _slide(prs, title, "\n".join(x for x in (title, fig.get("note") or "") if x))
    path = Path(run_dir) / COLLECTED / fig["file"]
    note = fig.get("note") or ""
    top, max_h = Inches(1.45), Inches(5.9 if not note else 5.2)
    picture = slide.shapes.add_picture(str(path), Inches(0.6), top)
    scale = min(Inches(12.1) / picture.width, max_h / picture.height)
    picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
    picture.left = int((WIDTH - picture.width) / 2)
    if note:
        _text(slide, Inches(0.6), Inches(6.75), Inches(12.1), Inches(0.6), note, size=14)


def next_steps(meta: Mapping[str, Any]) -> list[str]:
    """What each unmet adoption target still needs (from its forecast where there is one), then
    the departments the alerts name. One line each, in the report's language."""
    lang = meta["language"]
    steps = []
    for kpi in ("registration", "daily_active", "feature_penetration"):
        k = meta.get("targets", {}).get(kpi) or {}
        if not k or k.get("verdict") in ("met", None):
            continue
        label = text.lookup("targets", kpi, lang)
        forecast = k.get("forecast") or {}
        need = forecast.get("needed_per_week")
        if need and kpi == "registration" and k.get("n"):
            what = text.t("deck_need_people", lang, n=-(-int(round(need * k["n"] * 1000)) // 1000))
        elif need:
            what = text.t("deck_need_points", lang, x=f"{need * 100:.1f}")
        elif k.get("estimate") is not None and k.get("target") is not None:
            what = text.t("deck_gap", lang, x=f"{max(k['target'] - k['estimate'], 0.0) * 100:.1f}")
        else:
            what = text.verdict_label(k.get("verdict"), lang)
        steps.append(f"{label}：{what}" if lang == "zh" else f"{label}: {what}")
    subjects = list(dict.fromkeys(a["subject"] for a in meta.get("alerts", []) if a.get("subject")))[:5]
    if subjects:
        steps.append(text.t("deck_follow_up", lang, names=("、" if lang == "zh" else ", ").join(subjects)))
    return steps or [text.t("deck_keep_going", lang)]


def _alerts(prs: Any, meta: Mapping[str, Any]) -> None:
    lang = meta["language"]
    slide = _slide(prs, text.t("deck_alerts", lang), _definitions(meta, ("alerts",)))
    alerts = [str(a.get("message") or "") for a in meta.get("alerts", [])]
    shown = alerts[:MAX_ALERTS]
    more = len(alerts) - len(shown)
    lines = [f"• {a}" for a in shown] or [text.t("deck_no_alerts", lang)]
    if more > 0:
        lines.append(text.t("deck_more_alerts", lang, n=more))
    _text(
        slide,
        Inches(0.6),
        Inches(1.45),
        Inches(7.2),
        Inches(0.5),
        text.t("deck_alerts_head", lang),
        size=18,
        bold=True,
        colour=BLUE,
    )
    _text(slide, Inches(0.6), Inches(1.95), Inches(7.2), Inches(5.2), "\n".join(lines), size=14)
    _text(
        slide,
        Inches(8.2),
        Inches(1.45),
        Inches(4.5),
        Inches(0.5),
        text.t("deck_next_head", lang),
        size=18,
        bold=True,
        colour=BLUE,
    )
    _text(
        slide,
        Inches(8.2),
        Inches(1.95),
        Inches(4.5),
        Inches(5.2),
        "\n".join(f"{i}. {s}" for i, s in enumerate(next_steps(meta), 1)),
        size=14,
    )


def write_deck(
    run_dir: Path, meta: Mapping[str, Any], out_path: Path, *, minutes: int = 30, window_days: int = 28
) -> Path:
    """Write the quarterly meeting's slide deck (see the module docstring); ``minutes`` and
    ``window_days`` fill the KPI definitions in the speaker notes."""
    meta = {**meta, "definition_fields": {"minutes": minutes, "days": window_days}}
    lang = meta["language"]
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_SLIDE])
    _place(slide.shapes.title, Inches(0.9), Inches(2.2), Inches(11.5), Inches(1.4))
    _fill(slide.shapes.title, text.t("deck_title", lang), size=40, bold=True, colour=BLUE)
    period = (meta.get("period") or {}).get("label", "")
    subtitle = slide.placeholders[1]
    _place(subtitle, Inches(0.9), Inches(3.7), Inches(11.5), Inches(1.2))
    _fill(subtitle, f"{period}\n{text.t('as_of', lang)}: {meta['as_of']}", size=20)
    _scorecard(prs, meta)
    _efficiency(prs, meta)
    _alerts(prs, meta)
    for fig in meta.get("figures", []):
        if fig.get("deck"):
            _figure(prs, run_dir, fig)
    prs.core_properties.title = text.t("deck_title", lang)
    prs.core_properties.created = dt.datetime.now()
    prs.save(str(out_path))
    return Path(out_path)


__all__ = ["next_steps", "write_deck"]
