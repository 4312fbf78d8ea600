"""One file's columns matched to fields and parsed, with every problem collected, not raised.

A :class:`Sheet` is a :class:`~wecom_eval.ingest.read.RawTable` whose headers have been
matched to a kind's fields. :func:`parse_fields` parses each matched column with its field's
parser and records one :class:`~wecom_eval.errors.Problem` per bad cell (a few examples per
column and kind of problem, then a count), naming the file, the line, the header as written,
the value, what was expected and how to fix it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from wecom_eval.errors import Problem
from wecom_eval.ingest import labels, parse
from wecom_eval.ingest.aliases import AliasTable, HeaderMatch, closest_aliases, match_headers
from wecom_eval.ingest.departments import DepartmentError, DepartmentIndex
from wecom_eval.ingest.mapping import Mappings
from wecom_eval.ingest.read import RawTable
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.validate import EXAMPLES_PER_RULE

Parser = Literal["text", "int", "date", "timestamp", "minutes", "bool", "member_status", "approval_status"]
Window = Literal["event", "hire"]

# A date outside these windows is an error (a mistyped year, a day/month mix-up, Excel's day 0).
EVENT_YEARS_AROUND = 3  # activity, approvals, surveys, training, tickets: the plan ± 3 years …
FUTURE_MARGIN = dt.timedelta(days=1)  # … and never after the day of the load (+1 day: time zones)
EARLIEST_HIRE = dt.date(1950, 1, 1)  # hire and leave dates (may lie ahead): 1950 to the plan's end + 3 years


@dataclass(frozen=True)
class FieldSpec:
    """A field a kind reads: its parser, whether its column must exist, whether each row needs a value."""

    name: str
    parser: Parser
    required: bool = False  # the file must have the column
    needed: bool = False  # every row must have a value (when the column exists)
    window: Window | None = None
    help: str = ""


def plausible_window(plan: RolloutPlan, window: Window, *, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The dates a field of this window accepts (see the module constants).

    Events (activity, approvals, answers…) cannot have happened after ``today``, the day of
    the load in the plan's time zone, plus :data:`FUTURE_MARGIN`; hire and leave dates may
    lie ahead (a contract signed, a notice given).
    """
    last = _add_years(plan.end_date, EVENT_YEARS_AROUND)
    if window == "hire":
        return EARLIEST_HIRE, last
    today = today or dt.datetime.now(ZoneInfo(plan.timezone)).date()
    return _add_years(plan.start_date, -EVENT_YEARS_AROUND), min(last, today + FUTURE_MARGIN)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class ProblemLog:
    """Problems of one ingest, with at most a few examples per file, column and kind of problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._counts: dict[tuple[str, str, str], int] = {}

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Sequence[Problem]) -> None:
        self.problems.extend(problems)

    def cell(self, source: str, line: int, header: str, value: object, expected: str, fix: str = "") -> None:
        key = (source, header, expected)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= EXAMPLES_PER_RULE:
            self.problems.append(Problem(f"{source}, row {line}, column {header}", _shown(value), expected, fix))

    def summarise(self) -> None:
        """Add one 'N more such rows' line for each column whose examples were cut short."""
        for (source, header, expected), n in self._counts.items():
            if n > EXAMPLES_PER_RULE:
                self.problems.append(
                    Problem(f"{source}, column {header}", f"{n - EXAMPLES_PER_RULE} more such rows", expected)
                )
        self._counts.clear()


def _shown(value: object) -> object:
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return str(value)
    return value


@dataclass
class Context:
    """What every file of one ingest shares: the plan, the mappings, the departments, the problems."""

    kind: str
    plan: RolloutPlan
    mappings: Mappings
    departments: DepartmentIndex
    log: ProblemLog
    wave: str | None = None
    salt: str | None = None
    today: dt.date | None = None  # the day of the load (default: today in the plan's time zone)
    as_of: dt.date | None = None  # the export date of snapshot kinds (members), from --as-of
    people: Any = None  # wecom_eval.ingest.people.People: who is already loaded (members and the roster)


@dataclass
class Sheet:
    """A file read and matched: the raw table, its header match, and where messages point."""

    raw: RawTable
    match: HeaderMatch
    source: str
    notes: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.match.columns

    def cells(self, name: str) -> list[object]:
        return self.raw.column(self.match.columns[name])

    def header(self, name: str) -> str:
        return self.match.headers.get(name, name)

    @property
    def lines(self) -> list[int]:
        return self.raw.lines

    def index(self) -> pd.Index:
        return pd.Index(self.raw.lines, dtype="int64")


def match_sheet(
    raw: RawTable,
    specs: Sequence[FieldSpec],
    aliases: AliasTable,
    *,
    kind: str,
    one_of: Sequence[tuple[str, ...]],
    log: ProblemLog,
) -> Sheet:
    """Match the file's headers to ``specs``; missing or ambiguous columns go into ``log``."""
    source = str(raw.path)
    names = [s.name for s in specs]
    match = match_headers(raw.header, names, aliases, kind=kind)
    found = ", ".join(h for h in raw.header if h) or "none"
    fix_alias = "Rename the column, or add its name to a mapping file in params/mappings/ (see its README)."
    for spec in specs:
        if spec.required and spec.name not in match.columns:
            close = closest_aliases(spec.name, [h for h in raw.header if h], aliases)
            examples = ", ".join(aliases.aliases(spec.name)[:3])
            log.add(
                Problem(
                    f"{source}, header on line {raw.header_line}",
                    f"no column for {spec.name}",
                    f"a {spec.name} column, named e.g. {examples}",
                    f"Headers found: {found}. Closest aliases: {', '.join(close)}. {fix_alias}",
                )
            )
    for group in one_of:
        if not any(g in match.columns for g in group):
            hints = "; ".join(f"{g}: {', '.join(aliases.aliases(g)[:3])}" for g in group)
            log.add(
                Problem(
                    f"{source}, header on line {raw.header_line}",
                    f"none of {', '.join(group)}",
                    f"at least one of these columns ({hints})",
                    f"Headers found: {found}. {fix_alias}",
                )
            )
    for name, headers in match.ambiguous.items():
        log.add(
            Problem(
                f"{source}, header on line {raw.header_line}",
                ", ".join(headers),
                f"one column for {name}, not {len(headers)}",
                "Remove or rename the extra column, or name the right one in a mapping file.",
            )
        )
    sheet = Sheet(raw, match, source)
    if match.unmatched and kind != "survey":  # a survey's other columns are its questions
        sheet.notes.append("columns not used: " + ", ".join(h for _p, h in match.unmatched))
    if match.ignored:
        sheet.notes.append("columns left out on purpose: " + ", ".join(match.ignored))
    return sheet


def _parser(spec: FieldSpec, sheet: Sheet, plan: RolloutPlan, mappings: Mappings) -> Callable[[Any], Any]:
    epoch = sheet.raw.epoch
    if spec.parser == "text":
        return parse.as_text
    if spec.parser == "int":
        return parse.parse_int
    if spec.parser == "date":
        return partial(parse.parse_date, epoch=epoch)
    if spec.parser == "timestamp":
        return partial(parse.parse_timestamp, tz=plan.timezone, epoch=epoch)
    if spec.parser == "minutes":
        return partial(parse.parse_minutes, unit=sheet.match.units.get(spec.name, "minutes"))
    if spec.parser == "bool":
        return partial(labels.parse_bool, extra=mappings.vocabulary("active"))
    if spec.parser == "member_status":
        return partial(labels.parse_member_status, extra=mappings.vocabulary("member_status"))
    return partial(labels.parse_approval_status, extra=mappings.vocabulary("approval_status"))


def parse_fields(
    sheet: Sheet,
    specs: Sequence[FieldSpec],
    *,
    plan: RolloutPlan,
    mappings: Mappings,
    log: ProblemLog,
    today: dt.date | None = None,
) -> dict[str, list[Any]]:
    """Each matched field's values (None where blank or bad), bad cells logged.

    Text fields keep their cells exactly (trimmed), including formula-looking text; typed
    fields treat empty markers (``-``, ``无``, ``N/A``) as blank. A ``needed`` field with a
    blank cell, and a date outside its plausible window (a date field without a window
    gets the widest, ``hire``), are problems too.
    """
    out: dict[str, list[Any]] = {}
    lines = sheet.lines
    for spec in specs:
        if not sheet.has(spec.name):
            continue
        header = sheet.header(spec.name)
        cells = sheet.cells(spec.name)
        if spec.parser == "text":
            values: list[Any] = [parse.as_text(c) for c in cells]
            errors: dict[int, parse.CellError] = {}
        else:
            values, errors = parse.parse_cells(cells, _parser(spec, sheet, plan, mappings))
        for i, error in errors.items():
            log.cell(sheet.source, lines[i], header, cells[i], error.expected, error.fix)
        if spec.needed:
            for i, value in enumerate(values):
                if value is None and i not in errors:
                    log.cell(
                        sheet.source,
                        lines[i],
                        header,
                        None,
                        "a value (this column is required)",
                        "Fill it in, or remove the row.",
                    )
        if spec.parser in ("date", "timestamp"):
            window = spec.window or "hire"
            lo, hi = plausible_window(plan, window, today=today)
            expected = f"a date from {lo} to {hi} (the rollout runs {plan.start_date} to {plan.end_date}"
            if window == "event" and hi < _add_years(plan.end_date, EVENT_YEARS_AROUND):
                expected += f"; this load runs on {hi - FUTURE_MARGIN}, and nothing can be dated after the next day"
            expected += ")"
            for i, value in enumerate(values):
                if value is None:
                    continue
                day = value.date() if isinstance(value, dt.datetime) else value
                if not lo <= day <= hi:
                    log.cell(
                        sheet.source,
                        lines[i],
                        header,
                        cells[i] if not isinstance(cells[i], dt.datetime) else str(cells[i]),
                        expected,
                        "Check the year and the date format (a day/month mix-up, or a number that is not "
                        "an Excel date), and the clock of the computer that exported the file.",
                    )
                    values[i] = None
        out[spec.name] = values
    return out


def date_series(values: Sequence[Any], index: pd.Index) -> pd.Series:
    """Dates (or None) as a naive ``datetime64`` series at midnight."""
    return pd.Series(pd.to_datetime(pd.Series(list(values), dtype=object)).to_numpy(), index=index)


def timestamp_series(values: Sequence[Any], index: pd.Index, tz: str) -> pd.Series:
    """Timezone-aware datetimes (or None) as a ``datetime64[ns, tz]`` series."""
    series = pd.to_datetime(pd.Series(list(values), dtype=object), utc=True).dt.tz_convert(tz)
    series.index = index
    return series


def text_series(values: Sequence[Any], index: pd.Index) -> pd.Series:
    return pd.Series(list(values), index=index, dtype=object)


# ---- helpers of the build functions (ingest/build_*.py) --------------------------------------

Frames = dict[str, pd.DataFrame]  # canonical rows per table, from one parsed file


def department_ids(
    sheet: Sheet, values: dict[str, list[Any]], ctx: Context, *, create: bool, needed: bool
) -> list[int | None]:
    """Department ids per row from the 部门 (path or name) and/or 部门ID columns."""
    n = len(sheet.lines)
    texts = values.get("department", [None] * n)
    ids = values.get("department_id", [None] * n)
    parents = values.get("parent_id", [None] * n)
    header = sheet.header("department") if sheet.has("department") else sheet.header("department_id")
    out: list[int | None] = []
    cache: dict[tuple[Any, Any, Any], int | DepartmentError] = {}
    for i in range(n):
        key = (texts[i], ids[i], parents[i])
        if key not in cache:
            try:
                if create:
                    cache[key] = ctx.departments.ensure(texts[i], dept_id=ids[i], parent_id=parents[i])
                elif ids[i] is not None:
                    cache[key] = ids[i]
                elif texts[i] is not None:
                    cache[key] = ctx.departments.resolve(texts[i])
                elif needed:
                    cache[key] = DepartmentError(
                        "a department (a path like 总部/销售部, a name, or a 部门ID)", "Fill it in, or remove the row."
                    )
                else:
                    cache[key] = None  # type: ignore[assignment]
            except DepartmentError as exc:
                cache[key] = exc
        found = cache[key]
        if isinstance(found, DepartmentError):
            shown = texts[i] if texts[i] is not None else ids[i]
            ctx.log.cell(sheet.source, sheet.lines[i], header, shown, found.expected, found.fix)
            out.append(None)
        else:
            out.append(found)
    return out


def int_series(values: Sequence[int | None], index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="Int64"), index=index)


def column_values(values: dict[str, list[Any]], name: str, n: int) -> list[Any]:
    return values.get(name, [None] * n)


def stated_basis(activated: pd.Series) -> pd.Series:
    """``activation_basis`` of members whose export states the activation time (else derived later)."""
    return pd.Series(["export_time" if pd.notna(t) else None for t in activated], index=activated.index, dtype=object)
