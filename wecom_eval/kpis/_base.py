"""Shared plumbing for the KPI modules: the KPI context, small helper relations, grouping.

The KPI SQL (in :mod:`wecom_eval.kpis.queries`) reads the canonical tables plus three small
relations built from the plan and the calendar and handed to the engine for one query:

* ``kpi_calendar(date, is_working, week, week_start)`` — one row per day of the query's
  range (:func:`wecom_eval.store.sql.calendar_frame`, shared with the store's rollups; for
  the activity KPIs also ``covered``: the activity source has a row that day);
* ``kpi_departments(department_id, department, name, branch, is_pilot, go_live_date)`` —
  the department tree with each department's pilot flag and go-live date from the plan;
* ``kpi_eligibility(department_id, feature)`` — which department each core feature applies to.

Keeping week numbers and working days in a relation, rather than in engine-specific date
functions, keeps the SQL portable (DESIGN §11).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.kpis._cache import memo
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source, calendar_frame, connection, one, settle
from wecom_eval.workcal import WorkCalendar

By = Literal["department", "branch", "company"]
BY_VALUES: tuple[str, ...] = ("department", "branch", "company")

# Output key columns for each level of breakdown (stable names).
KEYS: dict[str, list[str]] = {"department": ["department_id", "department"], "branch": ["branch"], "company": []}
COMPANY = "全公司"


def check_by(by: str) -> str:
    if by not in BY_VALUES:
        raise ValueError(f"by={by!r} is not a breakdown; use one of {', '.join(BY_VALUES)}")
    return by


def check_range(start: dt.date, end: dt.date, *, what: str = "start/end") -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValueError(f"{what}: expected dates, got {start!r} and {end!r}")
    if end < start:
        raise ValueError(f"{what}: the end {end} is before the start {start}; swap them")


def as_date(value: dt.date | str, *, name: str) -> dt.date:
    """A date from a ``date``, ``datetime`` or ISO text; a clear error otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{name}={value!r} is not a date; write it as YYYY-MM-DD")


def group_sql(by: str, alias: str = "dep") -> tuple[str, str]:
    """(select list, group-by list) for a breakdown level, over the ``kpi_departments`` alias."""
    check_by(by)
    if by == "department":
        return (
            f"{alias}.department_id AS department_id, {alias}.department AS department",
            f"{alias}.department_id, {alias}.department",
        )
    if by == "branch":
        return f"{alias}.branch AS branch", f"{alias}.branch"
    return "", ""


def select_prefix(by: str, alias: str = "dep") -> tuple[str, str]:
    """Like :func:`group_sql` but with trailing commas, ready to put before more columns."""
    sel, grp = group_sql(by, alias)
    return (sel + ", " if sel else ""), (grp + ", " if grp else "")


def keys_of(by: str) -> list[str]:
    return list(KEYS[check_by(by)])


def run(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    relations: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Execute ``sql`` with the given helper relations registered for this query only."""
    names = list(relations or {})
    settle(con)
    try:
        for name in names:
            con.register(name, pa.Table.from_pandas(relations[name], preserve_index=False))  # type: ignore[index]
        used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
        table = con.sql(sql, params=used).to_arrow_table()
    finally:
        for name in names:
            con.unregister(name)
    return to_frame(table)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as pandas: dates as ``datetime.date``, whole decimals (SUMs) as int64."""
    fields = []
    for f in table.schema:
        if pa.types.is_decimal(f.type):
            fields.append(pa.field(f.name, pa.int64() if f.type.scale == 0 else pa.float64()))
        else:
            fields.append(f)
    schema = pa.schema(fields)
    if schema != table.schema:
        table = table.cast(schema)
    frame: pd.DataFrame = table.to_pandas(date_as_object=True)
    return frame


def has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return memo(con, ("has_rows", table), lambda: bool(one(con, f"SELECT EXISTS (SELECT 1 FROM {table})")[0]))


# ---- helper relations --------------------------------------------------------------------


def path_segments(path: str) -> list[str]:
    return [p for p in str(path).split("/") if p]


def departments_frame(con: duckdb.DuckDBPyConnection, plan: RolloutPlan) -> pd.DataFrame:
    """``kpi_departments``: each department with its branch, pilot flag and go-live date.

    The branch is the first segment of the department's path (``华东分公司`` for
    ``华东分公司/销售部``, ``总部`` for headquarters). Pilot flags and go-live dates come from
    the plan the report runs with (:func:`plan_departments`), never from what was stored at
    ingest: editing the plan and rerunning is enough.
    """
    found = con.execute("SELECT department_id, name, path FROM departments ORDER BY department_id").fetchall()
    frame = plan_departments(plan, pd.DataFrame(found, columns=["department_id", "name", "path"]))
    frame["branch"] = [(path_segments(p) or [p])[0] for p in frame["path"]]
    return frame.rename(columns={"path": "department"})[
        ["department_id", "department", "name", "branch", "is_pilot", "go_live_date"]
    ]


def plan_departments(plan: RolloutPlan, departments: pd.DataFrame) -> pd.DataFrame:
    """``departments`` (``department_id``, ``path``, …) with the plan's ``is_pilot`` and ``go_live_date``.

    Pilots are the plan's ``departments.pilot`` (by path or id) and go live in week 1; every
    other department in :meth:`RolloutPlan.go_live_week`. A pilot the plan names that is not
    among ``departments`` simply matches nothing here: ``wecom-eval check`` and ``run`` refuse
    such a plan before any report starts.
    """
    refs = set(plan.departments.pilot)
    out = departments.copy()
    ids = out["department_id"].astype("int64")
    paths = out["path"].astype(str)
    out["department_id"] = ids
    out["is_pilot"] = [int(i) in refs or p in refs for i, p in zip(ids, paths, strict=True)]
    out["go_live_date"] = [
        plan.week_start(plan.go_live_week(p, int(i), is_pilot=bool(pilot)))
        for i, p, pilot in zip(ids, paths, out["is_pilot"], strict=True)
    ]
    return out


def eligibility_frame(
    departments: pd.DataFrame, plan: RolloutPlan, features: Sequence[str] | None = None
) -> pd.DataFrame:
    """``kpi_eligibility``: (department_id, feature) for every department a feature applies to.

    A feature applies to a department when the plan lists no departments for it, or when
    any segment of the department's path is one of the names it lists (so
    ``华东分公司/销售部`` is eligible for ``customer`` through ``销售部``).
    """
    feats = list(features if features is not None else plan.targets.feature_penetration.features)
    rows = []
    for feature in feats:
        names = plan.eligible_names(feature)
        for did, path in zip(departments["department_id"], departments["department"], strict=True):
            if names is None or set(path_segments(path)) & set(names):
                rows.append((int(did), feature))
    return pd.DataFrame(rows, columns=["department_id", "feature"]).astype({"department_id": "int64"})


@dataclass(frozen=True)
class Context:
    """What one KPI call needs: the connection, the plan and its calendar."""

    con: duckdb.DuckDBPyConnection
    plan: RolloutPlan
    cal: WorkCalendar

    @classmethod
    def of(cls, source: Source, plan: RolloutPlan, cal: WorkCalendar | None = None) -> Context:
        if not isinstance(plan, RolloutPlan):
            raise TypeError(f"plan: expected a RolloutPlan (load_plan(...)), got {type(plan).__name__}")
        return cls(connection(source), plan, cal or WorkCalendar(plan))

    def departments(self) -> pd.DataFrame:
        return memo(self.con, "departments", lambda: departments_frame(self.con, self.plan), owners=(self.plan,))

    def calendar(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        return calendar_frame(self.cal, start, end)

    def activity_calendar(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """``kpi_calendar`` with ``covered``: whether the activity source has any row that day.

        A day without a single member-day row is missing data (an export not loaded yet, a
        gap), not a day on which nobody was active: the activity rates leave it out.
        """
        frame = calendar_frame(self.cal, start, end)
        days = run(
            self.con,
            "SELECT DISTINCT date FROM member_activity WHERE date BETWEEN $start AND $end",  # no userid join
            {"start": start, "end": end},
        )
        frame["covered"] = frame["date"].isin(set(days["date"]))
        return frame

    def has_roster(self) -> bool:
        return has_rows(self.con, "employees")

    def notes(self) -> list[str]:
        note = self.cal.fallback_note
        return [note] if note else []


def finish(frame: pd.DataFrame, *, notes: Sequence[str] = (), definition: str | None = None) -> pd.DataFrame:
    """Attach the notes (calendar fallback, roster missing …) and the KPI definition to a frame."""
    if notes:
        frame.attrs["notes"] = list(dict.fromkeys(notes))
    if definition:
        frame.attrs["definition"] = definition
    return frame


# ---- populations -------------------------------------------------------------------------

NO_ROSTER_NOTE = (
    "No HR roster is loaded: the roster-based figures (registration, penetration) count the "
    "WeCom members instead (members that left excluded); load the roster for the headcount."
)


def people_parts(ctx: Context) -> tuple[dict[str, str], list[str]]:
    """SQL parts for the roster-based population, and the notes to print beside the figures."""
    from wecom_eval.kpis import queries as q

    if ctx.has_roster():
        return (
            {"people": q.PEOPLE_FROM_ROSTER, "person_map": q.PERSON_MAP_ROSTER, "member_join": q.MEMBER_JOIN_ROSTER},
            [],
        )
    return (
        {"people": q.PEOPLE_FROM_MEMBERS, "person_map": q.PERSON_MAP_MEMBERS, "member_join": q.MEMBER_JOIN_MEMBERS},
        [NO_ROSTER_NOTE],
    )


def dates_frame(plan: RolloutPlan, dates: Sequence[dt.date], *, window_days: int = 1) -> pd.DataFrame:
    """``kpi_dates``: as-of dates with the first day of their trailing window and their rollout week."""
    days = sorted(set(dates))
    offset = np.array([(d - plan.start_date).days for d in days], dtype=np.int64)
    week = offset // 7 + 1
    return pd.DataFrame(
        {
            "date": days,
            "window_start": [d - dt.timedelta(days=window_days - 1) for d in days],
            "week": week.astype(np.int32),
            "week_start": [plan.start_date + dt.timedelta(days=int(7 * (w - 1))) for w in week],
        }
    )


def as_dates(value: dt.date | str | Sequence[dt.date | str], *, name: str) -> list[dt.date]:
    """One date or several, as a sorted list without duplicates."""
    if isinstance(value, (dt.date, str)):
        return [as_date(value, name=name)]
    days = sorted({as_date(v, name=name) for v in value})
    if not days:
        raise ValueError(f"{name}: no dates given")
    return days


def week_ends(plan: RolloutPlan, start: dt.date, end: dt.date) -> list[dt.date]:
    """The last day of each rollout week from ``start`` to ``end``, and ``end`` itself."""
    first = plan.start_date + dt.timedelta(days=7 * ((start - plan.start_date).days // 7) + 6)
    out = []
    day = first
    while day < end:
        out.append(day)
        day += dt.timedelta(days=7)
    out.append(end)
    return out
