"""``ingest(kind, files)``: read → map headers → parse → validate every file whole → land → load.

The order guarantees that a bad file changes nothing:

1. every file is read, its headers matched and every cell parsed; problems are collected
   across all files, not raised at the first;
2. the canonical rows of each file are checked with the warehouse's own rules
   (:func:`wecom_eval.validate.coerce_frame` and :func:`~wecom_eval.validate.check_staged`) on a
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.ingest.aliases import score_row
from wecom_eval.ingest.columns import Context, ProblemLog, Sheet, match_sheet, parse_fields
from wecom_eval.ingest.departments import DepartmentIndex
from wecom_eval.ingest.kinds import KindSpec
from wecom_eval.ingest.kinds import kind as kind_spec
from wecom_eval.ingest.mapping import Mappings, load_mappings
from wecom_eval.ingest.people import People
from wecom_eval.ingest.read import read_table
from wecom_eval.ingest.survey import salt_from_env
from wecom_eval.kpis import refresh_rollups
from wecom_eval.lock import writer_lock
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.raw import Landed, land_file, land_records
from wecom_eval.schema import LOAD_ORDER, TABLES, Table
from wecom_eval.validate import ROW, check_staged, coerce_frame
from wecom_eval.warehouse import LoadResult, Warehouse

Progress = Callable[[str], None]
_COLUMN_AT_END = r"(, column )([\w/]+)$"
SNAPSHOT_KINDS = ("members",)  # kinds whose files are dated snapshots (--as-of)
PEOPLE_KINDS = ("members", "approvals")  # kinds that join to the members and roster already loaded
REDUCED_RAW_KINDS = ("checkins",)  # kinds whose raw copy keeps only the columns used (DESIGN §10)


def used_columns(sheet: Sheet) -> Iterator[dict[str, object]]:
    """The rows of a file with only the columns its kind uses, as text (for a reduced raw copy)."""
    columns = sorted(sheet.match.columns.items())
    yield {"file": sheet.raw.path.name, "columns": {f: sheet.header(f) for f, _p in columns}}
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


# ---- reading and parsing -------------------------------------------------------------------

def _read_file(path: Path, spec: KindSpec, ctx: Context, *, sheet_name: str | None) -> Sheet | None:
    wanted = spec.field_names
    aliases = ctx.mappings.aliases
    try:
        raw = read_table(path, score=lambda row: score_row(row, wanted, aliases), sheet=sheet_name)
    except InputError as exc:
        ctx.log.extend(exc.problems)
        return None
    before = len(ctx.log)
    sheet = match_sheet(raw, spec.fields, aliases, kind=spec.name, one_of=spec.one_of, log=ctx.log)
    return sheet if len(ctx.log) == before else None


def _build(sheet: Sheet, spec: KindSpec, ctx: Context) -> dict[str, pd.DataFrame]:
    values = parse_fields(sheet, spec.fields, plan=ctx.plan, mappings=ctx.mappings, log=ctx.log)
    return spec.build(sheet, values, ctx)


# ---- validation against the warehouse's rules, before anything is written ----------------------

def _translate(problems: Sequence[Problem], columns: dict[str, str]) -> list[Problem]:
    """Name the file's own headers beside canonical column names (column 完成时间 (finished_at))."""
    out = []
    for p in problems:
        where = re.sub(_COLUMN_AT_END,
                       lambda m: f"{m.group(1)}{columns[m.group(2)]} ({m.group(2)})" if m.group(2) in columns
                       else m.group(0), p.where)
        out.append(Problem(where, p.value, p.expected, p.fix))
    return out


class _Scratch:
    """An in-memory DuckDB holding the keys references point at: the warehouse's plus this ingest's."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.con = duckdb.connect()
        self.con.execute(f"SET TimeZone = '{wh.tz}'")
        self._targets: set[str] = set()

    def prepare(self, frames: Sequence[dict[str, pd.DataFrame]]) -> None:
        targets = {ref.target for name in {n for f in frames for n in f} for ref in TABLES[name].references}
        for target in targets:
            cols = sorted({c for name in TABLES for ref in TABLES[name].references if ref.target == target
                           for c in ref.target_columns})
            t = TABLES[target]
            select = ", ".join(cols)
            existing = self.wh.query(f"SELECT {select} FROM {target}")
            self.con.register("_existing", existing)
            typed = ", ".join(f"CAST({c} AS {t.column(c).sql_type}) AS {c}" for c in cols)
            self.con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed} FROM _existing")
            self.con.unregister("_existing")
            for f in frames:
                if target in f and len(f[target]):
                    self.con.register("_new", f[target][cols].reset_index(drop=True))
                    self.con.execute(f"INSERT INTO {target} SELECT {typed} FROM _new")
                    self.con.unregister("_new")
            self._targets.add(target)

    def has_rows(self, name: str) -> bool:
        if name not in self._targets:
            return False
        return bool(self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0])  # type: ignore[index]

    def check(self, table: Table, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """The frame coerced to the table's types (raises :class:`InputError` on any rule)."""
        coerced = coerce_frame(table, frame, source=source, tz=self.wh.tz)
        stage = f"_stage_{table.name}"
        cols = ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in table.columns)
        self.con.register("_chunk", coerced)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {cols}, {ROW} FROM _chunk")
        self.con.unregister("_chunk")
        check_staged(self.con, table, stage, source=source, target_has_rows=self.has_rows)
        self.con.execute(f"DROP TABLE {stage}")
        coerced["_source"] = source
        return coerced

    def cross_file_conflicts(self, table: Table, parts: list[pd.DataFrame]) -> list[Problem]:
        """Keys that two files give different values for."""
        if len(parts) < 2:
            return []
        both = pd.concat(parts, ignore_index=True)
        self.con.register("_all", both)
        key = ", ".join(table.key)
        others = [c for c in table.column_names if c not in table.key]
        distinct = f"count(DISTINCT ({', '.join(others)}))" if others else "1"
        rows = self.con.execute(
            f"SELECT {key}, list(DISTINCT _source || ' row ' || CAST({ROW} AS VARCHAR)) FROM _all GROUP BY {key} "
            f"HAVING count(DISTINCT _source) > 1 AND {distinct} > 1 LIMIT 6").fetchall()
        self.con.unregister("_all")
        problems = []
        for *values, where in rows[:5]:
            shown = ", ".join(f"{k}={v}" for k, v in zip(table.key, values, strict=True))
            problems.append(Problem("; ".join(sorted(where)[:4]), shown, f"one set of values per key ({key}) "
                                    "across the files", "Ingest the files one at a time (the later one wins), or "
                                    "keep one of them."))
        return problems

    def close(self) -> None:
        self.con.close()


def _check_all(wh: Warehouse, per_file: list[tuple[FileReport, dict[str, pd.DataFrame]]], *,
               references: bool) -> list[Problem]:
    """The warehouse's rules on every file that parsed cleanly, then across the files.

    With ``references=False`` (some other file was refused) reference problems are left
    out: the rows they miss may be in the refused file.
    """
    scratch = _Scratch(wh)
    try:
        scratch.prepare([frames for _r, frames in per_file])
        problems: list[Problem] = []
        checked: dict[str, list[pd.DataFrame]] = {}
        for report, frames in per_file:
            for name in LOAD_ORDER:
                if name not in frames:
                    continue
                try:
                    checked.setdefault(name, []).append(scratch.check(TABLES[name], frames[name], str(report.path)))
                except InputError as exc:
                    problems += _translate(exc.problems, report.columns)
        if not problems:
            for name, parts in checked.items():
                problems += scratch.cross_file_conflicts(TABLES[name], parts)
    finally:
        scratch.close()
    if not references:
        problems = [p for p in problems if not p.expected.startswith("a value that exists in")]
    return problems


def _latest_members_only(per_file: list[tuple[FileReport, dict[str, pd.DataFrame]]]) -> None:
    """Several snapshots in one ingest: each member's row comes from the latest (all are kept as snapshots)."""
    dated = sorted((frames["member_status"]["observed_on"].max(), n) for n, (_r, frames) in enumerate(per_file)
                   if "member_status" in frames and len(frames["member_status"]))
    later: set[str] = set()
    for _day, n in reversed(dated):
        frames = per_file[n][1]
        members = frames["members"]
        frames["members"] = members[~members["userid"].isin(later)]
        later |= set(members["userid"].dropna())


# ---- the whole ingest --------------------------------------------------------------------

def ingest(kind: str, files: Sequence[str | os.PathLike[str]], *, home: Home | None = None,
           plan: RolloutPlan | None = None, wave: str | None = None, sheet: str | None = None,
           mapping: Sequence[str | os.PathLike[str]] = (), salt: str | None = None, dry_run: bool = False,
           progress: Progress | None = None, as_of: dt.date | None = None) -> IngestReport:
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
        raise InputError("wecom-eval ingest", [Problem("--wave", wave, "no --wave for this kind",
                                                       "--wave names a survey wave; use it with `ingest survey`.")])
    if as_of is not None and kind not in SNAPSHOT_KINDS:
        raise InputError("wecom-eval ingest", [Problem("--as-of", as_of.isoformat(), "no --as-of for this kind",
                                                       "--as-of dates a members export (a status snapshot); use it "
                                                       "with `ingest members`.")])
    if not files:
        raise InputError("wecom-eval ingest", [Problem("FILE", None, "at least one file to ingest")])
    home = home or Home.from_env()
    plan = plan or load_plan(home.plan)
    say = progress or (lambda _m: None)
    mappings: Mappings = load_mappings(None, kind=kind,
                                           extra=[*home.param_files("mappings"), *map(Path, mapping)])
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
            report = _ingest(spec, paths, wh, home=home, plan=plan, mappings=mappings, wave=wave, sheet=sheet,
                             salt=salt, dry_run=dry_run, say=say, as_of=as_of)
            done = not dry_run
            return report
        finally:
            wh.close()
            if not existed and not done:  # a refused or dry first ingest leaves no empty warehouse behind
                for leftover in (home.warehouse, home.warehouse.with_name(home.warehouse.name + ".wal")):
                    leftover.unlink(missing_ok=True)


def _ingest(spec: KindSpec, paths: list[Path], wh: Warehouse, *, home: Home, plan: RolloutPlan,
            mappings: Mappings, wave: str | None, sheet: str | None, salt: str | None, dry_run: bool,
            say: Progress, as_of: dt.date | None = None) -> IngestReport:
    existing = wh.frame("departments") if wh.count("departments") else None
    departments = DepartmentIndex.from_frame(plan, existing, strip_prefix=mappings.strip_prefix)
    log = ProblemLog()
    people = People.from_warehouse(wh) if spec.name in PEOPLE_KINDS else None
    ctx = Context(spec.name, plan, mappings, departments, log, wave=wave, salt=salt, as_of=as_of, people=people)
    reports: list[FileReport] = []
    sheets: list[Sheet] = []
    per_file: list[tuple[FileReport, dict[str, pd.DataFrame]]] = []
    for path in paths:
        say(f"reading {path}")
        before = len(log)
        parsed = _read_file(path, spec, ctx, sheet_name=sheet)
        if parsed is None:
            continue
        created_before = set(departments.created)
        frames = _build(parsed, spec, ctx)
        new_departments = [i for i in departments.created if i not in created_before]
        if new_departments:
            frames["departments"] = departments.created_frame(new_departments)
            parsed.notes.append(f"departments to create: {len(new_departments)} "
                                f"({', '.join(departments.by_id[i] for i in new_departments[:5])}"
                                f"{', …' if len(new_departments) > 5 else ''})")
        report = FileReport(path, parsed.raw.describe(), dict(parsed.match.headers), parsed.notes,
                            {t: len(f) for t, f in frames.items()})
        reports.append(report)
        sheets.append(parsed)
        if len(log) == before:
            per_file.append((report, frames))
    log.summarise()
    if spec.name in SNAPSHOT_KINDS:
        _latest_members_only(per_file)
    problems: list[Problem] = list(log.problems)
    problems += _check_all(wh, per_file, references=not problems)
    if problems:
        raise InputError(f"wecom-eval ingest {spec.name}", problems)
    if dry_run:
        return IngestReport(spec.name, reports, {}, mappings.files, dry_run=True)

    for report, parsed in zip(reports, sheets, strict=True):
        if spec.name in REDUCED_RAW_KINDS:  # keep only the columns used (check-ins carry locations)
            report.landed = land_records(home.raw, f"file-{spec.name}", report.path.name, used_columns(parsed))
            report.notes.append("raw copy keeps only the columns used (no location, Wi-Fi or device)")
        else:
            report.landed = land_file(home.raw, f"file-{spec.name}", report.path)
    tables: dict[str, pd.DataFrame] = {}
    for name in LOAD_ORDER:
        parts = [frames[name] for _r, frames in per_file if name in frames]
        if parts:
            tables[name] = parts[0] if len(parts) == 1 else pd.concat(parts)
    source = "; ".join(str(p) for p in paths)
    say(f"loading {', '.join(tables)}")
    results = wh.load_many(tables, source=source, progress=say)
    refresh_rollups(wh, plan)  # the KPI rollups follow every load (a no-op when nothing they use changed)
    return IngestReport(spec.name, reports, results, mappings.files)
