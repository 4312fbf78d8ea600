"""Read a CSV/text export or an XLSX workbook into header + rows, whatever it looks like.

- The format is recognised by content, not by extension (admin consoles like to call a
  tab-separated UTF-16 text file ``.xls``).
- Text encodings are tried in an order that cannot be fooled: a byte-order mark first
  (UTF-8 or UTF-16), then strict UTF-8, then UTF-16 without a mark (recognised by its NUL
  bytes), then GB18030 (a superset of GBK and GB2312). GB18030 goes last because almost
  any bytes decode as GB18030, while GB18030 text practically never decodes as strict UTF-8.
- The delimiter (comma, tab, semicolon, ``|``) is the one that splits the lines most
  consistently; an Excel ``sep=;`` hint line wins.
- The header is the row (among the first 30) with the most known column names; title and
  note rows above it (成员活跃度统计 2026-11-01 至 2026-11-07, merged title cells) and note or
  total rows below the data (注：…, 合计) are skipped and reported.
- Every data row keeps its line number in the file (the header line counted), so that a
  message can point at it. Cells are kept as they are: text stays text (a cell starting
  with ``=`` is never evaluated), workbook numbers and dates keep their types.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from wecom_eval.errors import InputError, Problem
from wecom_eval.ingest.parse import EXCEL_1900, as_text, fold

HEADER_SEARCH_ROWS = 30
DELIMITERS = (",", "\t", ";", "|")
_NOTE = re.compile(r"^(注|备注|说明|合计|总计|小计|数据来源|导出时间|统计时间|制表|note|notes|total|source:)", re.I)
_SAVE_AS = "Open it in Excel or WPS and save it as .xlsx or as CSV (UTF-8), then ingest that file."

Score = Callable[[Sequence[object]], int]


@dataclass
class RawTable:
    """A file read as a header and data rows; ``lines[i]`` is the file line of ``rows[i]``."""

    path: Path
    header: list[str]
    header_line: int
    rows: list[list[object]]
    lines: list[int]
    format: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    epoch: dt.datetime = EXCEL_1900
    skipped: list[int] = field(default_factory=list)  # title/note lines above and below the data

    def column(self, position: int) -> list[object]:
        return [row[position] for row in self.rows]

    def describe(self) -> str:
        """One line for the ingest report: format, encoding, delimiter, header line, skipped lines."""
        if self.format == "xlsx":
            what = f"XLSX sheet {self.sheet!r}"
        else:
            names = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}
            what = f"{self.encoding} text, {names.get(self.delimiter or ',', repr(self.delimiter))}-separated"
        text = f"{what}, header on line {self.header_line}, {len(self.rows):,} data rows"
        if self.skipped:
            text += f"; skipped title/note lines {', '.join(map(str, self.skipped))}"
        return text


def _fail(path: Path, value: object, expected: str, fix: str = "") -> InputError:
    return InputError(str(path), [Problem(f"{path}", value, expected, fix)])


# ---- encodings and delimiters ----------------------------------------------------------

def detect_encoding(data: bytes) -> str:
    """The encoding of a text export: utf-8-sig, utf-16, utf-8, utf-16-le/-be or gb18030.

    Raises
    ------
    ValueError
        When the bytes are none of these (the caller turns it into an input error).

    Examples
    --------
    >>> detect_encoding("部门".encode("gb18030")), detect_encoding("部门".encode("utf-8"))
    ('gb18030', 'utf-8')
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:4096]
    if len(sample) >= 4:
        even_nul = sample[0::2].count(0) / len(sample[0::2])
        odd_nul = sample[1::2].count(0) / len(sample[1::2])
        for name, ratio in (("utf-16-le", odd_nul), ("utf-16-be", even_nul)):
            if ratio > 0.2:
                try:
                    data.decode(name)
                    return name
                except UnicodeDecodeError:
                    pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise ValueError("not UTF-8, UTF-16 or GB18030 text") from None


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits ``lines`` into the most rows of one common width (> 1).

    Examples
    --------
    >>> sniff_delimiter(["成员活跃度统计 2026-11-01 至 2026-11-07", "日期;账号;活跃", "2026-11-01;a;是"])
    ';'
    """
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        widths: dict[int, int] = {}
        for row in csv.reader(lines, delimiter=delimiter):
            width = len(row)
            while width > 1 and not row[width - 1].strip():
                width -= 1  # trailing empty cells (Excel pads title rows)
            if width > 1:
                widths[width] = widths.get(width, 0) + 1
        if widths:
            width, count = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
            score = count * 1000 + width
            if score > best_score:
                best, best_score = delimiter, score
    return best


def _read_text(path: Path, data: bytes) -> tuple[list[list[object]], list[int], str, str]:
    try:
        encoding = detect_encoding(data)
    except ValueError:
        raise _fail(path, data[:16], "a text export in UTF-8, UTF-16 or GB18030 (GBK), or an XLSX workbook",
                    _SAVE_AS) from None
    text = data.decode(encoding)
    if "\x00" in text:
        raise _fail(path, "NUL characters", "a text export (the file looks binary or mixes encodings)", _SAVE_AS)
    head = text.split("\n", 1)[0].strip().lower()
    hint = re.fullmatch(r'"?sep=(.)"?,*', head)
    if hint:
        delimiter = hint.group(1)
        text = text.split("\n", 1)[1] if "\n" in text else ""
        first_line = 2
    else:
        sample = [line for line in io.StringIO(text, newline="").readlines()[:60]]
        delimiter = sniff_delimiter(sample)
        first_line = 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = cast("list[list[object]]", list(reader))
    except csv.Error as exc:
        raise _fail(path, str(exc), f"well-formed {encoding} CSV (line {reader.line_num + first_line - 1})",
                    "Check for an unclosed quote near that line.") from None
    if reader.line_num == len(rows):  # one record per line: line numbers are positions
        return rows, list(range(first_line, first_line + len(rows))), encoding, delimiter
    # Some quoted values span lines: read again, noting where each record starts.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    lines: list[int] = []
    previous = 0
    try:
        for record in reader:
            start = previous + 1
            previous = reader.line_num
            rows.append(list(record))
            lines.append(start + first_line - 1)
    except csv.Error as exc:
        raise _fail(path, str(exc), f"well-formed {encoding} CSV (line {previous + first_line})",
                    "Check for an unclosed quote near that line.") from None
    return rows, lines, encoding, delimiter


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[list[object]], list[int], str, dt.datetime]:
    import openpyxl  # imported here: only workbooks need it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise _fail(path, "a damaged or incomplete ZIP archive", "a complete XLSX workbook",
                    "The file was cut short (an interrupted download or copy?); export or download it again.") from None
    except Exception as exc:  # noqa: BLE001 - any failure inside a third-party parser is an input problem
        raise _fail(path, f"{type(exc).__name__}: {exc}", "a readable XLSX workbook",
                    "Export or download it again; " + _SAVE_AS) from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise _fail(path, sheet, f"a sheet of this workbook: {', '.join(names)}", "Pass --sheet with one of them.")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some exporters write a wrong sheet size; read every row
        rows: list[list[object]] = []
        lines: list[int] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), 1):
            cells = list(values)
            if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                rows.append(cells)
                lines.append(number)
        return rows, lines, ws.title, wb.epoch
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only workbooks parse lazily, row by row
        raise _fail(path, f"{type(exc).__name__}: {exc}", "a complete, readable XLSX workbook",
                    "The workbook is damaged or cut short; export or download it again.") from None
    finally:
        wb.close()


# ---- header, data rows -----------------------------------------------------------------

def _filled(row: Sequence[object]) -> int:
    return sum(1 for c in row if c is not None and (not isinstance(c, str) or c.strip()))


def _any_filled(row: Sequence[object]) -> bool:
    for c in row:  # noqa: SIM110 - a plain loop is faster than any() on a generator, once per row
        if c is not None and (not isinstance(c, str) or c.strip()):
            return True
    return False


def find_header(rows: Sequence[Sequence[object]], score: Score) -> int | None:
    """Index of the header among ``rows``: the most known names, else the first row of ≥ 2 cells."""
    candidates = [i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS * 2]) if _filled(row)][:HEADER_SEARCH_ROWS]
    best, best_score = None, 0
    for i in candidates:
        s = score(rows[i])
        if s > best_score:
            best, best_score = i, s
    if best is not None:
        return best
    return next((i for i in candidates if _filled(rows[i]) >= 2), None)


def _is_note(row: Sequence[object]) -> bool:
    first = next((c for c in row if c is not None and (not isinstance(c, str) or c.strip())), None)
    return isinstance(first, str) and bool(_NOTE.match(fold(first)))


def read_table(path: str | Path, *, score: Score, sheet: str | None = None) -> RawTable:
    """Read a file into a :class:`RawTable`.

    Parameters
    ----------
    path
        A CSV/TSV/text export or an XLSX workbook.
    score
        Counts the known column names in a row; the header is the best-scoring early row.
    sheet
        The workbook sheet to read (default: the first).

    Raises
    ------
    InputError
        For a missing, empty, truncated or unreadable file, one without a header row or
        without data rows, and rows with more cells than the header.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, str(path), "an existing file", "Check the path.") from None
    except IsADirectoryError:
        raise _fail(path, str(path), "a file, not a folder", "Name the files inside it.") from None
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise _fail(path, "an empty file (0 data bytes)" if not data else "only blank lines",
                    "an export with a header row and data rows", "Export the file again.")
    lowered = data[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(path, "an old binary .xls workbook", "an XLSX workbook or a CSV export", _SAVE_AS)
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise _fail(path, "an HTML/XML page (often saved as .xls by web consoles)",
                    "an XLSX workbook or a CSV export", _SAVE_AS)
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        rows, lines, sheet_name, epoch = _read_xlsx(path, sheet)
        table = RawTable(path, [], 0, [], [], "xlsx", sheet=sheet_name, epoch=epoch)
    else:
        rows, lines, encoding, delimiter = _read_text(path, data)
        table = RawTable(path, [], 0, [], [], "csv", encoding=encoding, delimiter=delimiter)
    at = find_header(rows, score)
    if at is None:
        raise _fail(path, "no header row", "a header row of column names within the first lines",
                    "Export the file with its column headers.")
    header = [as_text(c) or "" for c in rows[at]]
    while header and not header[-1]:
        header.pop()
    table.header, table.header_line = header, lines[at]
    table.skipped = [lines[i] for i in range(at) if _filled(rows[i])]
    body = [(line, row) for line, row in zip(lines[at + 1:], rows[at + 1:], strict=True) if _any_filled(row)]
    while body and _is_note(body[-1][1]):
        table.skipped.append(body.pop()[0])
    problems = []
    width = len(header)
    for line, row in body:
        if len(row) > width:
            extra = [c for c in row[width:] if c is not None and (not isinstance(c, str) or c.strip())]
            if extra:
                problems.append(Problem(
                    f"{path}, row {line}", as_text(extra[0]),
                    f"at most {width} cells, like the header on line {table.header_line}",
                    "A value probably contains an unquoted delimiter; quote it or export again."))
            row = row[:width]
        elif len(row) < width:
            row = list(row) + [None] * (width - len(row))
        table.rows.append(row)
        table.lines.append(line)
    if problems:
        raise InputError(str(path), problems[:20])
    if not table.rows:
        raise _fail(path, f"no data rows below the header on line {table.header_line}",
                    "at least one data row", "Export the file again with its data.")
    table.skipped.sort()
    return table
