"""One file of a kind read, its headers matched, its cells parsed and typed, chunk by chunk.

:func:`read_file` gives the file's report (format, encoding, header line, column mapping,
notes) and its rows per canonical table as typed Arrow chunks that keep their line numbers
(``_row``), ready to be checked (:mod:`~wecom_eval.ingest.precheck`) and loaded.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.ingest.aliases import score_row
from wecom_eval.ingest.columns import Context, ProblemLog, Sheet, match_sheet, parse_fields
from wecom_eval.ingest.kinds import KindSpec
from wecom_eval.ingest.read import CHUNK_ROWS, TableStream, open_table
from wecom_eval.store.raw import Landed
from wecom_eval.store.schema import TABLES
from wecom_eval.store.validate import coerce_frame

_COLUMN_AT_END = r"(, column )([\w/]+)$"
Parts = dict[str, list[pa.Table]]  # per table: the file's rows, typed, with their line numbers (_row)


def used_columns(sheets: Iterable[Sheet]) -> Iterator[dict[str, object]]:
    """The rows of a file (its chunks) with only the columns its kind uses, as text (for a reduced raw copy)."""
    first = True
    for sheet in sheets:
        columns = sorted(sheet.match.columns.items())
        if first:
            yield {"file": sheet.raw.path.name, "columns": {f: sheet.header(f) for f, _p in columns}}
            first = False
        for line, row in zip(sheet.lines, sheet.raw.rows, strict=True):
            yield {"line": line, **{f: None if row[p] is None else str(row[p]) for f, p in columns}}


@dataclass
class FileReport:
    """What ingest made of one file."""

    path: Path
    description: str
    columns: dict[str, str]  # field → header as written
    notes: list[str]
    rows: dict[str, int] = field(default_factory=dict)  # canonical rows per table from this file
    landed: Landed | None = None

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.description}"]
        if self.columns:
            lines.append("  columns: " + ", ".join(f"{h} → {f}" for f, h in self.columns.items()))
        lines += [f"  {note}" for note in self.notes]
        if self.landed is not None:
            state = "kept" if self.landed.new else "already kept"
            lines.append(f"  raw copy {state}: {self.landed.path} (sha256 {self.landed.sha256[:16]}…)")
        return "\n".join(lines)


def translate(problems: Sequence[Problem], columns: dict[str, str]) -> list[Problem]:
    """Name the file's own headers beside canonical column names (column 完成时间 (finished_at))."""
    out = []
    for p in problems:
        where = re.sub(
            _COLUMN_AT_END,
            lambda m: f"{m.group(1)}{columns[m.group(2)]} ({m.group(2)})" if m.group(2) in columns else m.group(0),
            p.where,
        )
        out.append(Problem(where, p.value, p.expected, p.fix))
    return out


def _typed(name: str, frame: pd.DataFrame, source: str, columns: dict[str, str], log: ProblemLog) -> pa.Table | None:
    """``frame`` coerced to table ``name``'s kinds, as Arrow (None, with the problems logged, if it fails)."""
    try:
        coerced = coerce_frame(TABLES[name], frame, source=source)
    except InputError as exc:
        log.extend(translate(exc.problems, columns))
        return None
    return pa.Table.from_pandas(coerced, preserve_index=False)


def _open(path: Path, spec: KindSpec, ctx: Context, *, sheet_name: str | None) -> TableStream:
    wanted, aliases = spec.field_names, ctx.mappings.aliases
    return open_table(
        path,
        score=lambda row: score_row(row, wanted, aliases),
        sheet=sheet_name,
        chunk_rows=CHUNK_ROWS if spec.streams else sys.maxsize,
    )


def reread_sheets(path: Path, spec: KindSpec, ctx: Context, head: Sheet, *, sheet_name: str | None) -> Iterator[Sheet]:
    """The file read again, chunk by chunk, with the columns matched the first time."""
    for chunk in _open(path, spec, ctx, sheet_name=sheet_name).chunks():
        yield Sheet(chunk, head.match, head.source)


def read_file(
    path: Path, spec: KindSpec, ctx: Context, *, sheet_name: str | None, fast: bool = True
) -> tuple[FileReport, Parts, Sheet] | None:
    """One file read, parsed and typed in chunks: its report, rows and matched header (None if unreadable).

    A plain activity export is read by :mod:`~wecom_eval.ingest.fastcsv` (unless ``fast`` is
    False), which gives the same rows; any other file, or one it has doubts about, cell by cell.
    """
    aliases = ctx.mappings.aliases
    try:
        stream = _open(path, spec, ctx, sheet_name=sheet_name)
    except InputError as exc:
        ctx.log.extend(exc.problems)
        return None
    before = len(ctx.log)
    head = match_sheet(stream.head, spec.fields, aliases, kind=spec.name, one_of=spec.one_of, log=ctx.log)
    if len(ctx.log) != before:
        return None
    columns = dict(head.match.headers)
    if fast and spec.name == "activity":
        from wecom_eval.ingest.fastcsv import read_activity

        typed = read_activity(path, stream, head, spec, ctx)
        if typed is not None:
            report = FileReport(path, stream.describe(), columns, list(dict.fromkeys(head.notes)), {})
            report.rows["member_days"] = typed.num_rows
            return report, {"member_days": [typed]}, head
    created_before = set(ctx.departments.created)
    parts: Parts = {}
    rows: dict[str, int] = {}
    try:
        for chunk in stream.chunks():
            sheet = Sheet(chunk, head.match, head.source, head.notes)
            values = parse_fields(
                sheet, spec.fields, plan=ctx.plan, mappings=ctx.mappings, log=ctx.log, today=ctx.today
            )
            for name, frame in spec.build(sheet, values, ctx).items():
                rows[name] = rows.get(name, 0) + len(frame)
                typed = _typed(name, frame, head.source, columns, ctx.log)
                if typed is not None:
                    parts.setdefault(name, []).append(typed)
    except InputError as exc:
        ctx.log.extend(exc.problems)
        return None
    ctx.log.extend(stream.problems)
    notes = list(dict.fromkeys(head.notes))  # each chunk may have noted the same thing
    new_departments = [i for i in ctx.departments.created if i not in created_before]
    if new_departments:
        frame = ctx.departments.created_frame(new_departments)
        rows["departments"] = len(frame)
        typed = _typed("departments", frame, head.source, columns, ctx.log)
        if typed is not None:
            parts["departments"] = [typed]
        notes.append(
            f"departments to create: {len(new_departments)} "
            f"({', '.join(ctx.departments.by_id[i] for i in new_departments[:5])}"
            f"{', …' if len(new_departments) > 5 else ''})"
        )
    return FileReport(path, stream.describe(), columns, notes, rows), parts, head


__all__ = ["FileReport", "Parts", "read_file", "reread_sheets", "translate", "used_columns"]
