"""``ingest(kind, files)``: read → map headers → parse → validate every file whole → land → load.

The order guarantees that a bad file changes nothing:

1. every file is read, its headers matched and every cell parsed
   (:mod:`~wecom_eval.ingest.readfile`); problems are collected across all files, not
   raised at the first;
2. the canonical rows of each file are checked with the warehouse's own rules
   (:func:`wecom_eval.store.validate.coerce_frame` and :func:`~wecom_eval.store.validate.check_staged`)
   on a scratch copy of the keys they refer to (:mod:`~wecom_eval.ingest.precheck`), so
   references, ranges, orderings and conflicting duplicate keys are reported per file and
   line before anything is written; keys repeated across the files with different values
   are reported too;
3. only then do the files take the one load path (:func:`wecom_eval.store.load.load`): kept
   byte for byte in raw landing (``data/raw/file-<kind>/``, with their checksums), loaded in
   **one** warehouse transaction, which upserts by natural key (the same file again changes
   nothing, a newer export of the same period replaces the rows it repeats, and the report
   says how many rows were new, changed and unchanged), then the activation dates and the
   KPI rollups refreshed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.ingest.columns import Context, ProblemLog, Sheet
from wecom_eval.ingest.departments import DepartmentIndex
from wecom_eval.ingest.kinds import KindSpec
from wecom_eval.ingest.kinds import kind as kind_spec
from wecom_eval.ingest.mapping import Mappings, load_mappings
from wecom_eval.ingest.people import People
from wecom_eval.ingest.precheck import check_all
from wecom_eval.ingest.readfile import FileReport, Parts, read_file, reread_sheets, used_columns
from wecom_eval.ingest.survey import salt_from_env
from wecom_eval.lock import writer_lock
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.store.load import Raw, RawFile, RawRecords, load
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.upsert import LoadResult
from wecom_eval.store.validate import ROW
from wecom_eval.store.warehouse import Warehouse

Progress = Callable[[str], None]
SNAPSHOT_KINDS = ("members",)  # kinds whose files are dated snapshots (--as-of)
PEOPLE_KINDS = ("members", "approvals")  # kinds that join to the members and roster already loaded
REDUCED_RAW_KINDS = ("checkins",)  # kinds whose raw copy keeps only the columns used (DESIGN §10)


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


def _check_options(
    kind: str, files: Sequence[str | os.PathLike[str]], *, wave: str | None, as_of: dt.date | None
) -> None:
    """Refuse options the kind has no use for, and a call without files."""
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
        fix = "--as-of dates a members export (a status snapshot); use it with `ingest members`."
        raise InputError("wecom-eval ingest", [Problem("--as-of", as_of.isoformat(), "no --as-of for this kind", fix)])
    if not files:
        raise InputError("wecom-eval ingest", [Problem("FILE", None, "at least one file to ingest")])


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
    _check_options(kind, files, wave=wave, as_of=as_of)
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
        read = read_file(path, spec, ctx, sheet_name=sheet)
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
    problems += check_all(wh, per_file, references=not problems)
    if problems:
        raise InputError(f"wecom-eval ingest {spec.name}", problems)
    if dry_run:
        return IngestReport(spec.name, reports, {}, mappings.files, dry_run=True)

    items: list[RawFile | RawRecords] = []
    for report, head in zip(reports, heads, strict=True):
        if spec.name in REDUCED_RAW_KINDS:  # keep only the columns used (check-ins carry locations)
            sheets = reread_sheets(report.path, spec, ctx, head, sheet_name=sheet)
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
