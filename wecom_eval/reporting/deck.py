"""``deck.pptx`` for the quarterly meeting, from what the report recorded.

Slides (16:9):

1. the title, the period and the date;
2. the scorecard: the five targets with estimate, interval, deadline and a traffic light
   (green met, amber not yet shown, red missed, grey not measured);
3. the pilot's efficiency result as one large number with its interval and verdict;
4. one slide per figure the notebook marked for the deck (trend charts with their target
   paths, survey results), each with its note.

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
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from wecom_eval.reporting import safe_text, text
from wecom_eval.reporting.collect import COLLECTED, TARGET_IDS
from wecom_eval.reporting.tables import format_interval
from wecom_eval.reporting.tables import format_kpi_value as fmt_value

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
BLUE = RGBColor(0x1F, 0x5F, 0xA8)
GREY = RGBColor(0x55, 0x55, 0x55)
LIGHTS: dict[str | None, RGBColor] = {
    "met": RGBColor(0x2E, 0x7D, 0x32), "not_yet_shown": RGBColor(0xF2, 0xA9, 0x00),
    "missed": RGBColor(0xC6, 0x28, 0x28), "not_measured": RGBColor(0x9E, 0x9E, 0x9E), None: RGBColor(0x9E, 0x9E, 0x9E),
}
FONT = "Microsoft YaHei"  # present on the Windows and macOS machines meetings use; viewers substitute


def _text(slide: Any, left: int, top: int, width: int, height: int, content: str, *, size: int = 18,
          bold: bool = False, colour: RGBColor = GREY, align: PP_ALIGN = PP_ALIGN.LEFT) -> Any:
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
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
    return box


def _title(slide: Any, title: str) -> None:
    _text(slide, Inches(0.6), Inches(0.35), Inches(12.1), Inches(0.9), title, size=28, bold=True, colour=BLUE)
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
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title(slide, text.t("deck_scorecard", lang))
    heads = ["", text.t("target", lang) + " · KPI", text.t("target", lang), text.t("deadline", lang),
             text.t("estimate", lang), text.t("interval", lang, p=_level(meta)), text.t("verdict", lang)]
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
        values = ["", text.lookup("targets", kpi, lang), fmt_value(k.get("target"), unit), k.get("deadline") or "—",
                  fmt_value(k.get("estimate"), unit), _interval(k), text.verdict_label(k.get("verdict"), lang) or "—"]
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.text = safe_text.pptx(value)
            _style_cell(cell, size=15, bold=j == 6)
        light = slide.shapes.add_shape(MSO_SHAPE.OVAL, Inches(0.6 + 0.17), top + row_h * i + Inches(0.2),
                                       Inches(0.38), Inches(0.38))
        light.fill.solid()
        light.fill.fore_color.rgb = LIGHTS.get(k.get("verdict"), LIGHTS[None])
        light.line.fill.background()
    _text(slide, Inches(0.6), Inches(6.45), Inches(12.1), Inches(0.8),
          text.t("verdict_rules_text", lang).replace("**", ""), size=11)


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
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title(slide, text.t("deck_efficiency", lang))
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
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title(slide, fig.get("title") or fig["name"])
    path = Path(run_dir) / COLLECTED / fig["file"]
    note = fig.get("note") or ""
    top, max_h = Inches(1.45), Inches(5.9 if not note else 5.2)
    picture = slide.shapes.add_picture(str(path), Inches(0.6), top)
    scale = min(Inches(12.1) / picture.width, max_h / picture.height)
    picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
    picture.left = int((WIDTH - picture.width) / 2)
    if note:
        _text(slide, Inches(0.6), Inches(6.75), Inches(12.1), Inches(0.6), note, size=14)


def write_deck(run_dir: Path, meta: Mapping[str, Any], out_path: Path) -> Path:
    """Write the quarterly meeting's slide deck (see the module docstring)."""
    lang = meta["language"]
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _text(slide, Inches(0.9), Inches(2.3), Inches(11.5), Inches(1.3), text.t("deck_title", lang), size=40, bold=True,
          colour=BLUE)
    period = (meta.get("period") or {}).get("label", "")
    _text(slide, Inches(0.9), Inches(3.7), Inches(11.5), Inches(1.2),
          f"{period}\n{text.t('as_of', lang)}: {meta['as_of']}", size=20)
    _scorecard(prs, meta)
    _efficiency(prs, meta)
    for fig in meta.get("figures", []):
        if fig.get("deck"):
            _figure(prs, run_dir, fig)
    prs.core_properties.title = text.t("deck_title", lang)
    prs.core_properties.created = dt.datetime.now()
    prs.save(str(out_path))
    return Path(out_path)


__all__ = ["write_deck"]
