"""Tables as readers see them: labelled, formatted, and collected into ``tables.xlsx``.

:func:`present` turns a tidy frame (snake_case columns, codes such as ``approval`` or
``not_yet_shown``) into what a meeting reads: translated headings and values.
:func:`styled` formats it for the notebook and the HTML; :func:`write_workbook` writes every
table a report showed into one Excel workbook, one sheet per table after a contents sheet.

Text from data is made inert by :mod:`.safe_text`: escaped in the HTML (cells, headings,
caption); in the workbook every text cell is a typed string (the writer never turns strings
into formulas, numbers or links), and one that starts like a formula (``=``, ``+``, ``-``,
``@``) also carries Excel's invisible quote prefix, so that editing it or saving the sheet
as CSV keeps it text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from pandas.io.formats.style import Styler

from wecom_eval import text
from wecom_eval.reporting import safe_text

SUPPRESSED = "—"
# Columns whose values are codes with a translation (column → string group).
VALUE_GROUPS: dict[str, str] = {
    "feature": "features",
    "verdict": "verdicts",
    "path_verdict": "verdicts",
    "kpi": "targets",
    "kind": "kinds",
    "severity": "severities",
    "group": "cells",
    "period": "cells",
    "item": "items",
    "scale": "items",
    "method": "methods",
}
EXCEL_FORMATS: dict[str, str] = {
    "pct": "0.0%",
    # a change of a share in percentage points: the cell holds 100 × the change (see _Writer.cell)
    "pp_signed": '+0.0" pp";-0.0" pp";0.0" pp"',
    "int": "#,##0",
    "num1": "0.0",
    "num2": "0.00",
    "num2_signed": "+0.00;-0.00;0.00",
    "num3": "0.000",
    "date": "yyyy-mm-dd",
    "hours": "0.0",
}
# The display format of a KPI value by its unit (as :func:`format_kpi_value` writes it).
UNIT_FORMATS: dict[str, str] = {"share": "pct", "relative_change": "pct", "score": "num2"}
# A change of a share (or of a relative change) is a difference of percentages: shown in
# percentage points, never as "%", which a reader takes for a relative change.
CHANGE_FORMATS: dict[str, str] = {"share": "pp_signed", "relative_change": "pp_signed", "score": "num2_signed"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
VERDICT_CODES: tuple[str, ...] = ("met", "not_yet_shown", "missed", "not_measured")
# One colour per verdict for every output: table cells (HTML and xlsx), charts and the deck's lights.
VERDICT_COLOURS: dict[str, str] = {
    "met": "#2e7d32",
    "not_yet_shown": "#f2a900",
    "missed": "#c62828",
    "not_measured": "#9e9e9e",
}
VERDICT_TEXT = {"not_yet_shown": "#1a1a1a"}  # dark text on amber; white on the others


def verdict_css(code: str | None) -> str:
    """The CSS of a verdict cell: a badge in the verdict's colour (nothing for a non-verdict)."""
    if code not in VERDICT_COLOURS:
        return ""
    return f"background-color: {VERDICT_COLOURS[code]}; color: {VERDICT_TEXT.get(code, '#ffffff')}; font-weight: 600;"


def format_kpi_value(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A KPI value as text: shares in %, their changes (``signed``) in percentage points, scores
    with two decimals, ``—`` when missing.

    Examples
    --------
    >>> format_kpi_value(0.612, "share"), format_kpi_value(-0.041, "share", signed=True)
    ('61.2%', '-4.1 pp')
    >>> format_kpi_value(4.213, "score"), format_kpi_value(None, "share")
    ('4.21', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    if unit in ("share", "relative_change"):
        return _fmt_value(value, "pp_signed") if signed else f"{value:.1%}"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def format_interval(low: float | None, high: float | None, unit: str) -> str:
    """``low – high`` in the unit's format, or ``—`` when either end is missing."""
    if low is None or high is None or any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        return SUPPRESSED
    return f"{format_kpi_value(low, unit)} – {format_kpi_value(high, unit)}"


def _fmt_value(value: Any, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return SUPPRESSED
    if isinstance(value, (bool, np.bool_)):
        return "✓" if value else ""
    if fmt == "pct" and isinstance(value, (int, float, np.number)):
        return f"{value:.1%}"
    if fmt == "pp_signed" and isinstance(value, (int, float, np.number)):
        points = round(100 * float(value), 1)
        return f"{points:+.1f} pp" if points else "0.0 pp"
    if fmt == "int" and isinstance(value, (int, float, np.number)):
        return f"{value:,.0f}"
    if fmt in ("num1", "hours") and isinstance(value, (int, float, np.number)):
        return f"{value:,.1f}"
    if fmt == "num3" and isinstance(value, (int, float, np.number)):
        return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"
    if fmt == "num2_signed" and isinstance(value, (int, float, np.number)):
        return f"{value:+.2f}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.2f}"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Presented:
    """A table ready to show: translated values and headings, and a format per heading.

    ``verdicts`` maps each shown verdict text back to its code (for traffic-light colours).
    """

    frame: pd.DataFrame
    formats: dict[str, str | None]
    verdict_column: str | None = None
    verdicts: dict[str, str] | None = None
    # Per-cell formats by heading (one per row, None = the column's format): rows mixing units.
    cell_formats: dict[str, list[str | None]] | None = None

    def format_of(self, label: str, row: int) -> str | None:
        """The format of one cell: its own (:attr:`cell_formats`) or its column's."""
        own = (self.cell_formats or {}).get(label)
        return (own[row] if own is not None else None) or self.formats.get(label)


def present(
    df: pd.DataFrame,
    language: str,
    *,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    row_formats: Mapping[str, str] | None = None,
) -> Presented:
    """Translate codes and headings of ``df`` for ``language``; never changes ``df``.

    Parameters
    ----------
    df
        A tidy frame with snake_case columns.
    formats
        Display formats by column (``pct``, ``int``, ``num2`` …) overriding the defaults
        in ``strings.yaml``.
    labels
        Headings by column overriding the defaults.
    row_formats
        Value column → a column of ``df`` holding each row's format (for tables whose rows
        mix shares and scores); that format column is not shown.
    """
    row_formats = dict(row_formats or {})
    out = df.reset_index(drop=True).copy()
    per_row = {
        column: [v if isinstance(v, str) else None for v in out[source]] for column, source in row_formats.items()
    }
    out = out.drop(columns=sorted(set(row_formats.values()) & set(out.columns)))
    for column, group in VALUE_GROUPS.items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, g=group: text.lookup(g, v, language) if isinstance(v, str) else v)
    formats = dict(formats or {})
    labels = dict(labels or {})
    fmt_by_label: dict[str, str | None] = {}
    renamed: dict[str, str] = {}
    for column in out.columns:
        label = labels.get(column) or text.column_label(str(column), language)
        while label in fmt_by_label:  # two columns with one heading: keep both visible
            label += " "
        renamed[column] = label
        fmt_by_label[label] = formats.get(column) or text.column_format(str(column))
    verdicts = {text.verdict_label(v, language): v for v in VERDICT_CODES}
    return Presented(
        out.rename(columns=renamed),
        fmt_by_label,
        renamed.get("verdict") if "verdict" in renamed else None,
        verdicts,
        {renamed[c]: formats_ for c, formats_ in per_row.items()} or None,
    )


def _formatter(fmt: str | None) -> Any:
    return lambda value: safe_text.html(_fmt_value(value, fmt))


def styled(presented: Presented, *, caption: str | None = None) -> Styler:
    """A pandas Styler for notebooks and HTML: formatted numbers, ``—`` for hidden cells.

    Every shown text (cells, headings, caption) is escaped with :func:`.safe_text.html`.
    """
    frame = presented.frame
    styler = frame.style.hide(axis="index")
    styler = styler.format({c: _formatter(presented.formats.get(c)) for c in frame.columns})
    for label, own in (presented.cell_formats or {}).items():
        for fmt in set(own) - {None}:
            rows = [i for i, f in enumerate(own) if f == fmt]
            styler = styler.format(_formatter(fmt), subset=pd.IndexSlice[rows, [label]])
    numeric: list[Any] = [
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    others: list[Any] = [c for c in frame.columns if c not in numeric]
    styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    styler = styler.set_properties(subset=others, **{"text-align": "left"})
    styler = styler.set_table_styles([{"selector": "th", "props": "text-align: left;"}])
    if presented.verdict_column is not None and presented.verdicts:
        codes = presented.verdicts
        styler = styler.map(lambda v: verdict_css(codes.get(v)), subset=[presented.verdict_column])
    styler = styler.format_index(safe_text.html, axis="columns")
    styler = styler.set_table_attributes('class="wecom-table"')
    if caption:
        styler = styler.set_caption(safe_text.html(caption))
    return styler


def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel-safe, unique sheet names (at most 31 characters, no ``[]:*?/\\``)."""
    out: list[str] = []
    for name in names:
        base = _SHEET_BAD.sub("_", name).strip("'") or "table"
        base = base[:31]
        candidate, k = base, 2
        while candidate.lower() in {o.lower() for o in out}:
            suffix = f"~{k}"
            candidate = base[: 31 - len(suffix)] + suffix
            k += 1
        out.append(candidate)
    return out


def sheet_label(name: str, title: str, language: str) -> str:
    """A table's sheet name in the report's language: its ``sheets`` entry, else its title.
    (:func:`sheet_names` then makes the names valid and unique.)"""
    found = text.lookup("sheets", name, language)
    return found if found != name else (title or name)


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # local wall time; Excel has no time zones
    if isinstance(value, (dt.date, int, float, bool)):
        return value
    return str(value)


def _width(value: Any) -> int:
    s = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


@dataclass(frozen=True)
class SheetTable:
    """One table for the workbook: its sheet name, its title and the presented frame."""

    name: str
    title: str
    presented: Presented
    note: str = ""


class _Writer:
    """The workbook's cell formats, and how each kind of value is written with them."""

    STYLES: dict[str, dict[str, Any]] = {
        "text": {},
        "bold": {"bold": True},
        "title": {"bold": True, "font_size": 13},
        "head": {"bold": True, "bg_color": "#e8eef7", "border": 1, "text_wrap": True, "valign": "top"},
    }

    def __init__(self, wb: Any) -> None:
        self.plain = {k: wb.add_format(v) for k, v in self.STYLES.items()}
        # The same looks with Excel's quote prefix, for text that starts like a formula.
        self.quoted = {k: wb.add_format({**v, "quote_prefix": True}) for k, v in self.STYLES.items()}
        self.hidden = wb.add_format({"align": "center", "font_color": "#888888"})
        self.verdicts = {
            code: wb.add_format({"bg_color": colour, "font_color": VERDICT_TEXT.get(code, "#ffffff"), "bold": True})
            for code, colour in VERDICT_COLOURS.items()
        }
        self.numbers = {k: wb.add_format({"num_format": v}) for k, v in EXCEL_FORMATS.items()}
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def text(self, ws: Any, row: int, col: int, value: Any, style: str = "text") -> str:
        """Write ``value`` as inert text (:func:`.safe_text.xlsx`); return what was written."""
        content, quote = safe_text.xlsx(value)
        ws.write_string(row, col, content, (self.quoted if quote else self.plain)[style])
        return content

    def cell(
        self, ws: Any, row: int, col: int, raw: Any, *, column: str, fmt_name: str | None, shown: Presented
    ) -> Any:
        """Write one table cell by its type; return the value written (None: hidden)."""
        value = _excel_value(raw)
        if value is None:
            ws.write_string(row, col, SUPPRESSED, self.hidden)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, (int, float)):
            points = fmt_name == "pp_signed" and not isinstance(value, bool)
            ws.write_number(row, col, 100 * value if points else value, self.numbers.get(fmt_name or ""))
        elif isinstance(value, dt.datetime):
            style = self.datetime if (value.hour or value.minute) else self.numbers["date"]
            ws.write_datetime(row, col, value, style)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), self.numbers["date"])
        elif column == shown.verdict_column and shown.verdicts and shown.verdicts.get(value) in self.verdicts:
            ws.write_string(row, col, value, self.verdicts[shown.verdicts[value]])
        else:
            value = self.text(ws, row, col, value)
        return value


def write_workbook(path: str | Path, tables: Sequence[SheetTable], *, language: str, heading: str = "") -> Path:
    """Write ``tables`` to ``path`` (``tables.xlsx``): a contents sheet, then one sheet each.

    Sheets are named in the report's language (:func:`sheet_label`). Each table's sheet has
    its title in row 1, its note (or nothing) in row 2, the headings in row 3 and the rows
    below. Numbers stay numbers (with a number format); text is a typed string made inert by
    :func:`.safe_text.xlsx` (quote-prefixed when it starts like a formula); hidden
    (suppressed) cells are shown as ``—``.
    """
    path = Path(path)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    wb = xlsxwriter.Workbook(str(path), {**options, "nan_inf_to_errors": False})
    try:
        writer = _Writer(wb)
        names = sheet_names([sheet_label(t.name, t.title, language) for t in tables])
        contents = wb.add_worksheet(sheet_names([text.t("tables_sheet_contents", language)])[0])
        writer.text(contents, 0, 0, heading, "title")
        writer.text(contents, 2, 0, text.t("table_name", language), "bold")
        writer.text(contents, 2, 1, text.t("table_title", language), "bold")
        contents.set_column(0, 0, 34)
        contents.set_column(1, 1, 60)
        for i, (sheet, table) in enumerate(zip(names, tables, strict=True), start=3):
            shown, quote = safe_text.xlsx(sheet)  # a sheet named after a title from data stays inert too
            link = (writer.quoted if quote else writer.plain)["text"]
            contents.write_url(i, 0, f"internal:'{sheet}'!A1", link, string=shown)
            writer.text(contents, i, 1, table.title)
        for sheet, table in zip(names, tables, strict=True):
            _write_sheet(wb.add_worksheet(sheet), writer, table)
    finally:
        wb.close()
    return path


def _write_sheet(ws: Any, writer: _Writer, table: SheetTable) -> None:
    """One table's sheet, a fixed layout for people and programs alike: title, note (may be blank), headings, rows."""
    writer.text(ws, 0, 0, table.title, "title")
    if table.note:
        writer.text(ws, 1, 0, table.note)
    row0 = 2
    frame = table.presented.frame
    widths = [_width(c) for c in frame.columns]
    for j, column in enumerate(frame.columns):
        writer.text(ws, row0, j, column, "head")
    for i, record in enumerate(frame.itertuples(index=False, name=None), start=row0 + 1):  # plain tuples: no class made
        for j, (column, raw) in enumerate(zip(frame.columns, record, strict=True)):
            fmt_name = table.presented.format_of(column, i - row0 - 1)
            value = writer.cell(ws, i, j, raw, column=column, fmt_name=fmt_name, shown=table.presented)
            widths[j] = max(widths[j], min(_width(value if value is not None else SUPPRESSED), 60))
    for j, w in enumerate(widths):
        ws.set_column(j, j, max(8, w + 2))
    ws.freeze_panes(row0 + 1, 0)


__all__ = [
    "CHANGE_FORMATS",
    "UNIT_FORMATS",
    "VERDICT_COLOURS",
    "format_interval",
    "format_kpi_value",
    "Presented",
    "SheetTable",
    "present",
    "sheet_label",
    "sheet_names",
    "styled",
    "verdict_css",
    "write_workbook",
]
