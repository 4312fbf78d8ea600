"""Read a CSV/text export or an XLSX workbook into header + rows, whatever it looks like.

- The format is recognised by content, not by extension (admin consoles like to call a
  tab-separated UTF-16 text file ``.xls``); encodings and delimiters are found by
  :mod:`~wecom_eval.ingest.formats`.
- The header is the row (among the first 30) with the most known column names; title and
  note rows above it (成员活跃度统计 2026-11-01 至 2026-11-07, merged title cells) and note or
  total rows below the data (注：…, 合计) are skipped and reported.
- Every data row keeps its line number in the file (the header line counted), so that a
  message can point at it. Cells are kept as they are: text stays text (a cell starting
  with ``=`` is never evaluated), workbook numbers and dates keep their types.
"""

from __future__ import annotations

import codecs
import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.ingest.formats import BLOCK, SAVE_AS, Records, any_filled, fail, open_text, open_xlsx
from wecom_eval.ingest.parse import EXCEL_1900, as_text, fold

HEADER_SEARCH_ROWS = 30
_NOTE = re.compile(r"^(注|备注|说明|合计|总计|小计|数据来源|导出时间|统计时间|制表|note|notes|total|source:)", re.I)

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

    def describe(self, *, rows: int | None = None) -> str:
        """One line for the ingest report: format, encoding, delimiter, header line, skipped lines."""
        if self.format == "xlsx":
            what = f"XLSX sheet {self.sheet!r}"
        else:
            names = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}
            what = f"{self.encoding} text, {names.get(self.delimiter or ',', repr(self.delimiter))}-separated"
        text = f"{what}, header on line {self.header_line}, {len(self.rows) if rows is None else rows:,} data rows"
        if self.skipped:
            text += f"; skipped title/note lines {', '.join(map(str, self.skipped))}"
        return text


CHUNK_ROWS = 100_000  # data rows handed on at a time (memory stays bounded at any file size)


# ---- header, data rows -----------------------------------------------------------------


def _filled(row: Sequence[object]) -> int:
    return sum(1 for c in row if c is not None and (not isinstance(c, str) or c.strip()))


def find_header(rows: Sequence[Sequence[object]], score: Score) -> int | None:
    """Index of the header among ``rows``: the most known names, else the first row of ≥ 2 cells."""
    candidates = [i for i, row in enumerate(rows[: HEADER_SEARCH_ROWS * 2]) if _filled(row)][:HEADER_SEARCH_ROWS]
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


class TableStream:
    """A file opened for reading in chunks: the header now, the data rows chunk by chunk.

    ``chunks()`` yields :class:`RawTable` pieces of at most ``chunk_rows`` rows, sharing
    the header; problems with row widths are collected in :attr:`problems` as the rows go
    by (and a damaged file raises :class:`InputError` where the damage is found). After
    the last chunk, :attr:`rows` counts the data rows and :attr:`skipped` lists the title
    and note lines. Note rows (注：…, 合计) are skipped only at the end of the data.
    """

    def __init__(
        self,
        path: Path,
        records: Records,
        *,
        score: Score,
        format: str,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        epoch: dt.datetime = EXCEL_1900,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.chunk_rows = chunk_rows
        self.problems: list[Problem] = []
        self.rows = 0
        first = list(itertools.islice(records, HEADER_SEARCH_ROWS * 2))
        rows = [r for _line, r in first]
        at = find_header(rows, score)
        if at is None:
            raise fail(
                path,
                "no header row",
                "a header row of column names within the first lines",
                "Export the file with its column headers.",
            )
        header = [as_text(c) or "" for c in rows[at]]
        while header and not header[-1]:
            header.pop()
        self.head = RawTable(
            path, header, first[at][0], [], [], format, encoding=encoding, delimiter=delimiter, sheet=sheet, epoch=epoch
        )
        self.head.skipped = [line for line, row in first[:at] if _filled(row)]
        self._rest = itertools.chain(first[at + 1 :], records)

    @property
    def path(self) -> Path:
        return self.head.path

    @property
    def skipped(self) -> list[int]:
        return self.head.skipped

    def _piece(self, rows: list[list[object]], lines: list[int]) -> RawTable:
        h = self.head
        return RawTable(
            h.path,
            h.header,
            h.header_line,
            rows,
            lines,
            h.format,
            encoding=h.encoding,
            delimiter=h.delimiter,
            sheet=h.sheet,
            epoch=h.epoch,
        )

    def chunks(self) -> Iterator[RawTable]:
        path, width, header_line = self.head.path, len(self.head.header), self.head.header_line
        rows: list[list[object]] = []
        lines: list[int] = []
        text = self.head.format == "csv"  # every cell a str: one join tells a blank row, much faster
        full = self.chunk_rows
        for line, row in self._rest:
            if not ("".join(row).strip() if text else any_filled(row)):  # type: ignore[arg-type]
                continue
            if len(row) > width:
                extra = [c for c in row[width:] if c is not None and (not isinstance(c, str) or c.strip())]
                if extra and len(self.problems) < 20:
                    self.problems.append(
                        Problem(
                            f"{path}, row {line}",
                            as_text(extra[0]),
                            f"at most {width} cells, like the header on line {header_line}",
                            "A value probably contains an unquoted delimiter; quote it or export again.",
                        )
                    )
                row = row[:width]
            elif len(row) < width:
                row = list(row) + [None] * (width - len(row))
            rows.append(row)
            lines.append(line)
            if len(rows) >= full:
                held = _trailing_notes(rows)  # notes at the end of a chunk may yet be followed by data
                cut = len(rows) - held
                if cut:
                    self.rows += cut
                    yield self._piece(rows[:cut], lines[:cut])
                    rows, lines = rows[cut:], lines[cut:]
                full = len(rows) + self.chunk_rows
        held = _trailing_notes(rows)
        self.head.skipped += lines[len(rows) - held :]
        self.head.skipped.sort()
        rows, lines = rows[: len(rows) - held], lines[: len(lines) - held]
        self.rows += len(rows)
        if rows:
            yield self._piece(rows, lines)
        if not self.rows and not self.problems:
            raise fail(
                path,
                f"no data rows below the header on line {header_line}",
                "at least one data row",
                "Export the file again with its data.",
            )

    def describe(self) -> str:
        """One line for the ingest report (complete once every chunk was read)."""
        table = self._piece([], [])
        table.skipped = self.head.skipped
        return table.describe(rows=self.rows)


def _trailing_notes(rows: Sequence[Sequence[object]]) -> int:
    n = 0
    while n < len(rows) and _is_note(rows[len(rows) - 1 - n]):
        n += 1
    return n


def open_table(
    path: str | Path, *, score: Score, sheet: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> TableStream:
    """Open a file for reading in chunks (see :class:`TableStream`).

    Parameters
    ----------
    path
        A CSV/TSV/text export or an XLSX workbook.
    score
        Counts the known column names in a row; the header is the best-scoring early row.
    sheet
        The workbook sheet to read (default: the first).
    chunk_rows
        At most this many data rows per chunk.

    Raises
    ------
    InputError
        For a missing, empty, unreadable or wrongly encoded file and one without a header row.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(512)
            blank = not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8) and not f.read(BLOCK).strip(b" \t\r\n\x00")
    except FileNotFoundError:
        raise fail(path, str(path), "an existing file", "Check the path.") from None
    except IsADirectoryError:
        raise fail(path, str(path), "a file, not a folder", "Name the files inside it.") from None
    except OSError as exc:
        raise fail(
            path, f"{type(exc).__name__}: {exc.strerror}", "a readable file", "Check the path and its permissions."
        ) from None
    if blank:
        raise fail(
            path,
            "an empty file (0 data bytes)" if not head else "only blank lines",
            "an export with a header row and data rows",
            "Export the file again.",
        )
    lowered = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise fail(path, "an old binary .xls workbook", "an XLSX workbook or a CSV export", SAVE_AS)
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise fail(
            path, "an HTML/XML page (often saved as .xls by web consoles)", "an XLSX workbook or a CSV export", SAVE_AS
        )
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        records, sheet_name, epoch = open_xlsx(path, sheet)
        return TableStream(
            path, records, score=score, format="xlsx", sheet=sheet_name, epoch=epoch, chunk_rows=chunk_rows
        )
    records, encoding, delimiter = open_text(path)
    return TableStream(
        path, records, score=score, format="csv", encoding=encoding, delimiter=delimiter, chunk_rows=chunk_rows
    )


def read_table(path: str | Path, *, score: Score, sheet: str | None = None) -> RawTable:
    """Read a whole file into one :class:`RawTable` (:func:`open_table` reads it in chunks).

    Raises
    ------
    InputError
        For a missing, empty, truncated or unreadable file, one without a header row or
        without data rows, and rows with more cells than the header.
    """
    stream = open_table(path, score=score, sheet=sheet)
    table = stream._piece([], [])
    for chunk in stream.chunks():
        table.rows += chunk.rows
        table.lines += chunk.lines
    if stream.problems:
        raise InputError(str(stream.path), stream.problems)
    table.skipped = stream.skipped
    return table
