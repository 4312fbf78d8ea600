"""``ingest(kind, files)``: read → map headers → parse → validate every file whole → land → load.

The order guarantees that a bad file changes nothing:

1. every file is read, its headers matched and every cell parsed; problems are collected
   across all files, not raised at the first;
2. the canonical rows of each file are checked with the warehouse's own rules
   (:func:`wecom_eval.store.validate.coerce_frame` and :func:`~wecom_eval.store.validate.check_staged`) on a
   scratch copy of the keys they refer to, so references, ranges, orderings and
   conflicting duplicate keys are reported per file and line before anything is written;
   keys repeated across the files with different values are reported too;
3. only then are the files kept byte for byte in raw landing (``data/raw/file-<kind>/``,
   with their checksums) and loaded in **one** warehouse transaction, which upserts by
   natural key: the same file again changes nothing, a newer export of the same period
   replaces the rows it repeats, and the report says how many rows were new, changed and
   unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.ingest.aliases import score_row
from wecom_eval.ingest.columns import Context, ProblemLog, Sheet, match_sheet, parse_fields
from wecom_eval.ingest.departments import DepartmentIndex
from wecom_eval.ingest.kinds import KindSpec
from wecom_eval.ingest.kinds import kind as kind_spec
from wecom_eval.ingest.mapping import Mappings, load_mappings
from wecom_eval.ingest.people import People
from wecom_eval.ingest.read import CHUNK_ROWS, TableStream, open_table
from wecom_eval.ingest.survey import salt_from_env
from wecom_eval.lock import writer_lock
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.store.engine import duckdb_config
from wecom_eval.store.load import Raw, RawFile, RawRecords, load
from wecom_eval.store.raw import Landed
from wecom_eval.store.schema import LOAD_ORDER, TABLES, Table
from wecom_eval.store.upsert import LoadResult
from wecom_eval.store.validate import ROW, check_staged, coerce_frame
from wecom_eval.store.warehouse import Warehouse

Progress = Callable[[str], None]
_COLUMN_AT_END = r"(, column )([\w/]+)$"
SNAPSHOT_KINDS = ("members",)  # kinds whose files are dated snapshots (--as-of)
PEOPLE_KINDS = ("members", "approvals")  # kinds that join to the members and roster already loaded
REDUCED_RAW_KINDS = ("checkins",)  # kinds whose raw copy keeps only the columns used (DESIGN §10)


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


@dataclass
class IngestReport:
    """The outcome of one ``ingest`` call: per file, then per table."""

    kind: str
    files: list[FileReport]
    results: dict[str, LoadResult]
    mapping_files: tuple[Path, ...] = ()
    dry_run: bool = False

    @property
    def changed(self) -> int:
        return sum(r.inserted + r.updated for r in self.results.values())

    def __str__(self) -> str:
        lines = [str(f) for f in self.files]
        if self.mapping_files:
            lines.append("mapping files: " + ", ".join(map(str, self.mapping_files)))
        if self.dry_run:
            rows: dict[str, int] = {}
            for f in self.files:
                for t, n in f.rows.items():
                    rows[t] = rows.get(t, 0) + n
            counted = ", ".join(f"{t} {n:,} rows" for t, n in rows.items())
            lines.append(f"checked, nothing written (--dry-run): {counted}")
            return "\n".join(lines)
        lines += [str(r) for r in self.results.values()]
        if self.results and not self.changed:
            lines.append("nothing changed: the warehouse already held these rows")
        return "\n".join(lines)


# ---- reading, parsing and typing, chunk by chunk -------------------------------------------

Parts = dict[str, list[pa.Table]]  # per table: the file's rows, typed, with their line numbers (_row)


def _typed(name: str, frame: pd.DataFrame, source: str, columns: dict[str, str], log: ProblemLog) -> pa.Table | None:
    """``frame`` coerced to table ``name``'s kinds, as Arrow (None, with the problems logged, if it fails)."""
    try:
        coerced = coerce_frame(TABLES[name], frame, source=source)
    except InputError as exc:
        log.extend(_translate(exc.problems, columns))
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


def _sheets(path: Path, spec: KindSpec, ctx: Context, head: Sheet, *, sheet_name: str | None) -> Iterator[Sheet]:
    """The file read again, chunk by chunk, with the columns matched the first time."""
    for chunk in _open(path, spec, ctx, sheet_name=sheet_name).chunks():
        yield Sheet(chunk, head.match, head.source)


def _read_file(
    path: Path, spec: KindSpec, ctx: Context, *, sheet_name: str | None
) -> tuple[FileReport, Parts, Sheet] | None:
    """One file read, parsed and typed in chunks: its report, rows and matched header (None if unreadable)."""
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


# ---- validation against the warehouse's rules, before anything is written ----------------------


def _translate(problems: Sequence[Problem], columns: dict[str, str]) -> list[Problem]:
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


class _Scratch:
    """A DuckDB of its own holding the keys references point at: the warehouse's plus this ingest's.

    Each file's rows are staged here whole (spilling to disk beyond the memory limit) to be
    checked with the warehouse's rules, then dropped.
    """

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.con = duckdb.connect(config=duckdb_config(wh.path.parent))
        self.con.execute(f"SET TimeZone = '{wh.tz}'")
        self._targets: set[str] = set()

    def _insert(self, target: str, parts: Sequence[pa.Table], select: str) -> None:
        for part in parts:
            rel = self.con.from_arrow(part)
            rel.select(select).insert_into(target)
            del rel

    def prepare(self, files: Sequence[Parts]) -> None:
        targets = {ref.target for name in {n for f in files for n in f} for ref in TABLES[name].references}
        for target in targets:
            cols = sorted(
                {
                    c
                    for name in TABLES
                    for ref in TABLES[name].references
                    if ref.target == target
                    for c in ref.target_columns
                }
            )
            t = TABLES[target]
            select = ", ".join(cols)
            existing = self.wh.query(f"SELECT {select} FROM {target}")
            self.con.register("_existing", existing)
            typed = ", ".join(f"CAST({c} AS {t.column(c).sql_type}) AS {c}" for c in cols)
            self.con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed} FROM _existing")
            self.con.unregister("_existing")
            for f in files:
                self._insert(target, f.get(target, []), typed)
            self._targets.add(target)

    def has_rows(self, name: str) -> bool:
        if name not in self._targets:
            return False
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0])  # type: ignore[index]

    def _stage(self, table: Table, stage: str, parts: Sequence[pa.Table], extra: str = "") -> None:
        # Wide stage types: a range is checked before anything is cast to a narrow storage type.
        cols = ", ".join(f"{c.name} {c.stage_type}" for c in table.columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} ({cols}, {ROW} BIGINT{extra})")
        select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in table.columns)
        self._insert(stage, parts, f"{select}, {ROW}")

    def check(self, table: Table, parts: Sequence[pa.Table], source: str) -> None:
        """The warehouse's rules on one file's rows (raises :class:`InputError`)."""
        stage = f"_stage_{table.name}"
        self._stage(table, stage, parts)
        try:
            check_staged(self.con, table, stage, source=source, target_has_rows=self.has_rows)
        finally:
            self.con.execute(f"DROP TABLE {stage}")

    def cross_file_conflicts(self, table: Table, files: Sequence[tuple[str, Sequence[pa.Table]]]) -> list[Problem]:
        """Keys that two files give different values for."""
        if len(files) < 2:
            return []
        key = ", ".join(table.key)
        cols = ", ".join(f"{c.name} {c.stage_type}" for c in table.columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _all ({cols}, {ROW} BIGINT, _source VARCHAR)")
        select = ", ".join(f"CAST({c.name} AS {c.stage_type})" for c in table.columns)
        for source, parts in files:
            self._insert("_all", parts, f"{select}, {ROW}, {_quote(source)}")
        others = [c for c in table.column_names if c not in table.key]
        distinct = f"count(DISTINCT ({', '.join(others)}))" if others else "1"
        rows = self.con.execute(
            f"SELECT {key}, list(DISTINCT _source || ' row ' || CAST({ROW} AS VARCHAR)) FROM _all GROUP BY {key} "
            f"HAVING count(DISTINCT _source) > 1 AND {distinct} > 1 LIMIT 6"
        ).fetchall()
        self.con.execute("DROP TABLE _all")
        problems = []
        for *values, where in rows[:5]:
            shown = ", ".join(f"{k}={v}" for k, v in zip(table.key, values, strict=True))
            problems.append(
                Problem(
                    "; ".join(sorted(where)[:4]),
                    shown,
                    f"one set of values per key ({key}) across the files",
                    "Ingest the files one at a time (the later one wins), or keep one of them.",
                )
            )
        return problems

    def close(self) -> None:
        self.con.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_all(wh: Warehouse, per_file: list[tuple[FileReport, Parts]], *, references: bool) -> list[Problem]:
    """The warehouse's rules on every file that parsed cleanly, then across the files.

    With ``references=False`` (some other file was refused) reference problems are left
    out: the rows they miss may be in the refused file.
    """
    scratch = _Scratch(wh)
    try:
        scratch.prepare([parts for _r, parts in per_file])
        problems: list[Problem] = []
        for report, parts in per_file:
            for name in LOAD_ORDER:
                if name not in parts:
                    continue
                try:
                    scratch.check(TABLES[name], parts[name], str(report.path))
                except InputError as exc:
                    problems += _translate(exc.problems, report.columns)
        if not problems:
            for name in LOAD_ORDER:
                files = [(str(r.path), parts[name]) for r, parts in per_file if name in parts]
                problems += scratch.cross_file_conflicts(TABLES[name], files)
    finally:
        scratch.close()
    if not references:
        problems = [p for p in problems if not p.expected.startswith("a value that exists in")]
    return problems


def _latest_members_only(per_file: list[tuple[FileReport, Parts]]) -> None:
    """Several snapshots in one ingest: each member's row comes from the latest (all are kept as snapshots)."""
    import pyarrow.compute as pc

    dated = sorted(
        (max(pc.max(t["observed_on"]).as_py() for t in parts["member_status"] if t.num_rows), n)
        for n, (_r, parts) in enumerate(per_file)
        if any(t.num_rows for t in parts.get("member_status", []))
    )
    later: set[str] = set()
    for _day, n in reversed(dated):
        parts = per_file[n][1]
        members = parts.get("members", [])
        seen = pa.array(sorted(later), pa.string())
        parts["members"] = [
            t.filter(pc.invert(pc.is_in(t["userid"].cast(pa.string()), value_set=seen))) for t in members
        ]
        later |= {u for t in members for u in t["userid"].drop_null().to_pylist()}


# ---- the whole ingest --------------------------------------------------------------------


def ingest(
    kind: str,
    files: Sequence[str | os.PathLike[str]],
    *,
    home: Home | None = None,
    plan: RolloutPlan | None = None,
    wave: str | None = None,
    sheet: str | None = None,
    mapping: Sequence[str | os.PathLike[str]] = (),
    salt: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> IngestReport:
    """Load ``files`` of one KIND into the warehouse, or change nothing and raise.

    Parameters
    ----------
    kind
        One of ``roster``, ``activity``, ``survey``, ``legacy-approvals``, ``training``,
        ``tickets``, ``members``, ``approvals``, ``checkins``, ``customer-contacts`` (see
        :data:`wecom_eval.ingest.kinds.KINDS`).
    files
        CSV/text exports or XLSX workbooks; all are validated before any is loaded.
    home, plan
        The workbook home (default ``$WECOM_EVAL_HOME``) and rollout plan (default the home's).
    wave
        The survey wave (e.g. ``2026-Q1``) when the file has no 批次 column.
    sheet
        The workbook sheet to read (default the first).
    mapping
        Extra mapping files, besides ``params/mappings/*.yaml``.
    salt
        The pseudonymisation salt for surveys; default the environment variable the plan
        names. Only the demo passes one.
    dry_run
        Validate everything and report, but land and load nothing.
    as_of
        The export date of a ``members`` export (a status snapshot of that day); default the
        date in each file's name.
    today
        The day of the load (default: today in the plan's time zone); events dated after
        the next day are refused.

    Returns
    -------
    IngestReport
        Per file: format, encoding, header line, column mapping, notes, the raw copy; per
        table: rows received, new, changed and unchanged.

    Raises
    ------
    InputError
        Listing every problem in every file (exit code 2); the warehouse is unchanged.
    """
    spec = kind_spec(kind)
    if wave is not None and kind != "survey":
        raise InputError(
            "wecom-eval ingest",
            [
                Problem(
                    "--wave",
                    wave,
                    "no --wave for this kind",
                    "--wave names a survey wave; use it with `ingest survey`.",
                )
            ],
        )
    if as_of is not None and kind not in SNAPSHOT_KINDS:
        raise InputError(
            "wecom-eval ingest",
            [
                Problem(
                    "--as-of",
                    as_of.isoformat(),
                    "no --as-of for this kind",
                    "--as-of dates a members export (a status snapshot); use it with `ingest members`.",
                )
            ],
        )
    if not files:
        raise InputError("wecom-eval ingest", [Problem("FILE", None, "at least one file to ingest")])
    home = home or Home.from_env()
    plan = plan or load_plan(home.plan)
    say = progress or (lambda _m: None)
    mappings: Mappings = load_mappings(None, kind=kind, extra=[*home.param_files("mappings"), *map(Path, mapping)])
    if kind == "survey" and salt is None:
        salt = salt_from_env(plan)
    paths = [Path(f) for f in files]
    # open_writer(), spelled out so that a warehouse this call created can be removed again
    # (after a refusal or a dry run) while the writer lock is still held.
    with writer_lock(home.lock):
        existed = home.warehouse.exists()
        wh = Warehouse(home.warehouse)
        done = False
        try:
            report = _ingest(
                spec,
                paths,
                wh,
                home=home,
                plan=plan,
                mappings=mappings,
                wave=wave,
                sheet=sheet,
                salt=salt,
                dry_run=dry_run,
                say=say,
                as_of=as_of,
                today=today or dt.datetime.now(ZoneInfo(plan.timezone)).date(),
            )
            done = not dry_run
            return report
        finally:
            wh.close()
            if not existed and not done:  # a refused or dry first ingest leaves no empty warehouse behind
                for leftover in (home.warehouse, home.warehouse.with_name(home.warehouse.name + ".wal")):
                    leftover.unlink(missing_ok=True)


def _ingest(
    spec: KindSpec,
    paths: list[Path],
    wh: Warehouse,
    *,
    home: Home,
    plan: RolloutPlan,
    mappings: Mappings,
    wave: str | None,
    sheet: str | None,
    salt: str | None,
    dry_run: bool,
    say: Progress,
    today: dt.date,
    as_of: dt.date | None = None,
) -> IngestReport:
    existing = wh.frame("departments") if wh.count("departments") else None
    departments = DepartmentIndex.from_frame(plan, existing, strip_prefix=mappings.strip_prefix)
    log = ProblemLog()
    people = People.from_warehouse(wh) if spec.name in PEOPLE_KINDS else None
    ctx = Context(
        spec.name, plan, mappings, departments, log, wave=wave, salt=salt, today=today, as_of=as_of, people=people
    )
    reports: list[FileReport] = []
    heads: list[Sheet] = []
    per_file: list[tuple[FileReport, Parts]] = []
    for path in paths:
        say(f"reading {path}")
        before = len(log)
        read = _read_file(path, spec, ctx, sheet_name=sheet)
        if read is None:
            continue
        report, parts, head = read
        reports.append(report)
        heads.append(head)
        if len(log) == before:
            per_file.append((report, parts))
    log.summarise()
    if spec.name in SNAPSHOT_KINDS:
        _latest_members_only(per_file)
    problems: list[Problem] = list(log.problems)
    problems += _check_all(wh, per_file, references=not problems)
    if problems:
        raise InputError(f"wecom-eval ingest {spec.name}", problems)
    if dry_run:
        return IngestReport(spec.name, reports, {}, mappings.files, dry_run=True)

    items: list[RawFile | RawRecords] = []
    for report, head in zip(reports, heads, strict=True):
        if spec.name in REDUCED_RAW_KINDS:  # keep only the columns used (check-ins carry locations)
            sheets = _sheets(report.path, spec, ctx, head, sheet_name=sheet)
            items.append(RawRecords(report.path.name, used_columns(sheets)))
            report.notes.append("raw copy keeps only the columns used (no location, Wi-Fi or device)")
        else:
            items.append(RawFile(report.path))
    tables: dict[str, list[pa.Table]] = {}
    for name in LOAD_ORDER:
        # Checked already: the rows go in as typed Arrow chunks, without their line numbers.
        chunks = [part.drop_columns([ROW]) for _r, parts in per_file for part in parts.get(name, [])]
        if chunks:
            tables[name] = chunks
    source = "; ".join(str(p) for p in paths)
    say(f"loading {', '.join(tables)}")
    # the rollups follow every load (a no-op when nothing they use changed)
    done = load(wh, tables, source=source, plan=plan, raw=Raw(home.raw, f"file-{spec.name}", items), progress=say)
    for report, landed in zip(reports, done.landed, strict=True):
        report.landed = landed
    return IngestReport(spec.name, reports, done.results, mappings.files)
