"""A plain activity export read by Arrow's CSV reader: the same rows as the general reader, faster.

The general path (:func:`~wecom_eval.ingest.readfile.read_file`) reads every file cell by
cell in Python, which is most of the time it takes to add one day's activity of a large
company. Most activity exports are plain: UTF-8, comma-separated, LF or CRLF line ends, the
header on the first line, no quotes, no blank, ragged or note lines. Such a file is read here column by column:
each distinct cell is parsed once with the very parsers of the general path
(:func:`~wecom_eval.ingest.parse.parse_cells`), and the rows come out typed as the general
path types them.

Anything else — another layout, a cell that does not parse, a missing value, a date outside
its window — returns None, and the general path reads the file and words every message, so
messages never depend on which path ran. ``tests/test_ingest_fastcsv.py`` checks that both
paths give the same rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

from wecom_eval.ingest import parse
from wecom_eval.ingest.build_files import ACTIVITY_SOURCE
from wecom_eval.ingest.columns import Context, Sheet, _parser, plausible_window
from wecom_eval.ingest.kinds import KindSpec
from wecom_eval.ingest.read import TableStream, _is_note
from wecom_eval.store.validate import ROW

PLAIN_ENCODINGS = ("utf-8", "utf-8-sig")
# Larger files are read in chunks by the general path, whose memory stays bounded at any size
# (a day of a 1.7-million-member company is about 64 MiB).
MAX_BYTES = 64 << 20


def _table(path: Path, stream: TableStream, width: int) -> pa.Table | None:
    """The file's data rows as text columns ``c0, c1, …``, or None when it is not plain."""
    import pyarrow.csv as csv

    head = stream.head
    if head.format != "csv" or head.encoding not in PLAIN_ENCODINGS or head.delimiter != ",":
        return None
    if head.header_line != 1 or head.skipped or path.stat().st_size > MAX_BYTES:
        return None
    data = path.read_bytes()
    if b'"' in data or b"\n\n" in data or b"\n\r\n" in data:  # quoting, blank lines
        return None
    if data.count(b"\r") != data.count(b"\r\n"):  # line ends other than LF or CRLF
        return None
    try:
        table = csv.read_csv(
            pa.py_buffer(data),
            read_options=csv.ReadOptions(
                skip_rows=1, column_names=[f"c{i}" for i in range(width)], encoding="utf8", use_threads=False
            ),
            parse_options=csv.ParseOptions(delimiter=",", newlines_in_values=False, ignore_empty_lines=False),
            convert_options=csv.ConvertOptions(
                column_types=dict.fromkeys([f"c{i}" for i in range(width)], pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError):  # a ragged line, bad bytes: the general path says where
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows == 0 or table.num_rows != lines - 1:
        return None
    return table


def _blank_or_note(table: pa.Table) -> bool:
    """Whether any row is blank (all cells empty or spaces) or the last one is a note (注：…, 合计)."""
    import pyarrow.compute as pc

    blank = None
    for column in table.columns:
        empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        return True
    return _is_note(list(table.slice(table.num_rows - 1).to_pylist()[0].values()))


# What str.strip() removes (parse.as_text trims cells with it); no whitespace lies beyond U+3000.
_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _SPACE) + "]"
_PADDED = f"^{_SPACE_CLASS}|{_SPACE_CLASS}$"


def _text_as_is(column: pa.ChunkedArray) -> bool:
    """Whether every cell is text as :func:`~wecom_eval.ingest.parse.as_text` returns it: not blank, trimmed."""
    import pyarrow.compute as pc

    if pc.any(pc.equal(pc.utf8_length(column), 0)).as_py():
        return False
    return not pc.any(pc.match_substring_regex(column, _PADDED)).as_py()


def _parsed(column: pa.ChunkedArray, parser: Any, *, text: bool) -> tuple[Any, pa.Array | None] | None:
    """Each distinct cell parsed once, and each row's position among them (None: a cell does not parse)."""
    import pyarrow.compute as pc

    if text and _text_as_is(column):  # the cells are their values (ids: as many as rows)
        return column.combine_chunks(), None
    distinct = pc.unique(column)
    cells = distinct.to_pylist()
    if text:
        values: list[Any] = [parse.as_text(c) for c in cells]
    else:
        values, errors = parse.parse_cells(cells, parser)
        if errors:
            return None
    return values, pc.index_in(column, value_set=distinct)


def _field(
    table: pa.Table, sheet: Sheet, spec: KindSpec, name: str, ctx: Context
) -> tuple[Any, pa.Array | None] | None:
    f = spec.field(name)
    position = sheet.match.columns[name]
    found = _parsed(table.column(position), _parser(f, sheet, ctx.plan, ctx.mappings), text=f.parser == "text")
    if found is None:
        return None
    values, index = found
    if f.needed and index is not None and any(v is None for v in values):
        return None
    if f.parser in ("date", "timestamp"):
        lo, hi = plausible_window(ctx.plan, f.window or "hire", today=ctx.today)
        days = [v.date() if isinstance(v, dt.datetime) else v for v in values if v is not None]
        if any(not lo <= d <= hi for d in days):
            return None
    return found


def _column(found: tuple[Any, pa.Array | None], type_: pa.DataType) -> pa.Array:
    values, index = found
    if index is None:  # the text cells themselves
        return values.cast(type_)
    return pa.array(values, type=type_).take(index)


def read_activity(path: Path, stream: TableStream, sheet: Sheet, spec: KindSpec, ctx: Context) -> pa.Table | None:
    """A plain activity export's member days, typed and numbered by line, or None (not plain, or
    a cell the general path has something to say about)."""
    import pyarrow.compute as pc

    table = _table(path, stream, len(stream.head.header))
    if table is None or _blank_or_note(table):
        return None
    fields = {}
    for f in spec.fields:
        if sheet.has(f.name):
            found = _field(table, sheet, spec, f.name, ctx)
            if found is None:
                return None
            fields[f.name] = found
    n = table.num_rows
    minutes = _column(fields["minutes"], pa.int64()) if "minutes" in fields else pa.nulls(n, pa.int64())
    if "active" in fields:
        active = _column(fields["active"], pa.bool_())
        if active.null_count:  # no yes/no: active when used; neither: the general path says where
            active = pc.if_else(pc.is_null(active), pc.greater(minutes, 0), active)
    else:
        active = pc.greater(minutes, 0)
    if active.null_count:
        return None
    source = _column(fields["source"], pa.large_string()) if "source" in fields else None
    if source is None or source.null_count:
        default = pa.scalar(ACTIVITY_SOURCE, pa.large_string())
        source = pa.array([ACTIVITY_SOURCE] * n, pa.large_string()) if source is None else pc.fill_null(source, default)
    stream.rows = n
    return pa.table(
        {
            "date": _column(fields["date"], pa.date32()).cast(pa.timestamp("s")),
            "userid": _column(fields["userid"], pa.large_string()),
            "active": active,
            "minutes": minutes,
            "source": source,
            ROW: pa.array(range(2, n + 2), pa.int64()),
        }
    )


__all__ = ["read_activity"]
