"""Pre-folded activity rollups: the layout that keeps weekly KPIs fast at 36 million member-days.

The activity KPIs only need, per department and day, how many members were registered,
active, engaged and measured (:data:`~wecom_eval.store.rollup_sql.DEPARTMENT_DAYS`), and per
department and week how many distinct members were active
(:func:`~wecom_eval.store.rollup_sql.department_weeks`). :func:`refresh_rollups` folds the
member-day rows into those two small native tables once, after a load:

``kpi_department_days``
    ``department_id, date, registered, with_row, active, engaged, measured`` — one row per
    department and calendar day of the data (about 200 × 365 rows for a large company);
``kpi_department_weeks``
    ``department_id, week_start, active_users``;
``kpi_rollup_meta``
    what they were built from: a fingerprint of the loaded tables and of the plan settings
    they depend on (``min_daily_minutes``, the rollout start that anchors the weeks), and
    the days they cover.

A load of member days records the days it touched (``_member_days_changed``); when only
member days changed since the last refresh, :func:`refresh_rollups` recomputes just the rows
of those days and of the weeks holding them (plus any days the data window grew by), which
gives the same tables as a full rebuild. Any other change (members, roster, departments,
plan settings) rebuilds them whole.

Readers never need them: every KPI query takes the rollup when it is fresh (the fingerprint
still matches) and covers the requested days (:mod:`wecom_eval.kpis.activity_sources`), and
otherwise folds the member-day rows on the fly with the very same SQL, so both paths give
identical numbers. Writers never call :func:`refresh_rollups` themselves: the load path
(:func:`wecom_eval.store.load.load`) does after every load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from wecom_eval.plan import RolloutPlan
from wecom_eval.store import rollup_sql as q
from wecom_eval.store.member_days import CHANGED_DAYS, MEMBER_DAYS_STORE
from wecom_eval.store.sql import Source, calendar_frame, connection, one
from wecom_eval.workcal import WorkCalendar

DAYS_TABLE = "kpi_department_days"
WEEKS_TABLE = "kpi_department_weeks"
META_TABLE = "kpi_rollup_meta"
VERSION = 2  # bump when the rollup SQL changes meaning
# While folding member-days: a direct-addressed ("perfect") hash table for groups on keys of up
# to 20 bits (DuckDB's default is 12), so the weekly fold, grouped by the member key alone,
# adds into an array of about a million members at most instead of a hash table.
FOLD_SETTINGS = {"perfect_ht_threshold": 20}


@dataclass(frozen=True)
class RollupInfo:
    """What :func:`refresh_rollups` built (or found)."""

    fingerprint: str
    first_day: dt.date | None
    last_day: dt.date | None
    department_days: int
    department_weeks: int
    fresh: bool
    refreshed_days: int | None = None  # days recomputed by an incremental refresh (None: a full build)

    def covers(self, start: dt.date, end: dt.date) -> bool:
        return (
            self.fresh
            and self.first_day is not None
            and self.last_day is not None
            and self.first_day <= start
            and end <= self.last_day
        )


def _check_plan(plan: RolloutPlan) -> None:
    if not isinstance(plan, RolloutPlan):
        raise TypeError(f"plan: expected a RolloutPlan (load_plan(...)), got {type(plan).__name__}")


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(one(con, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [name])[0])


def fingerprint(con: duckdb.DuckDBPyConnection, plan: RolloutPlan, *, member_days: bool = True) -> str:
    """A digest of everything the rollups depend on (loads, row counts, plan settings); with
    ``member_days=False``, of everything but the member days (what an incremental refresh keeps)."""
    parts: dict[str, object] = {
        "version": VERSION,
        "min_daily_minutes": plan.targets.daily_active.min_daily_minutes,
        "start_date": plan.start_date.isoformat(),
        "timezone": str(one(con, "SELECT current_setting('TimeZone')")[0]),
    }
    tables = ("departments", "employees", "members") + (("member_days",) if member_days else ())
    for name in tables:
        stored = MEMBER_DAYS_STORE if name == "member_days" else name
        parts[name] = int(one(con, f"SELECT COUNT(*) FROM {stored}")[0])
    if _table_exists(con, "_loads"):
        n, last = one(
            con,
            "SELECT COUNT(*), CAST(MAX(loaded_at) AS VARCHAR) FROM _loads WHERE table_name IN "
            f"({', '.join(repr(t) for t in tables)})",
        )
        parts["loads"] = [int(n), last]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def rollup_info(source: Source, plan: RolloutPlan) -> RollupInfo | None:
    """The rollups in the warehouse and whether they are fresh, or None when there are none."""
    _check_plan(plan)
    con = connection(source)
    if not _table_exists(con, META_TABLE):
        return None
    rows = con.execute(
        f"SELECT fingerprint, first_day, last_day, department_days, department_weeks FROM {META_TABLE}"
    ).fetchall()
    if len(rows) != 1:
        return None
    row = rows[0]
    fp = fingerprint(con, plan)
    return RollupInfo(row[0], row[1], row[2], int(row[3]), int(row[4]), fresh=row[0] == fp)


def refresh_rollups(
    source: Source, plan: RolloutPlan, *, cal: WorkCalendar | None = None, force: bool = False
) -> RollupInfo:
    """Build the activity rollups from the loaded member days, or bring them up to date.

    Needs a writable warehouse. Does nothing when the rollups are already fresh, unless
    ``force``. When only member days were loaded since the last refresh, only the rows of
    the days (and weeks) they touched are recomputed; otherwise the tables are rebuilt. Either
    way in one transaction.
    """
    _check_plan(plan)
    con = connection(source)
    info = None if force else rollup_info(con, plan)
    # days a load changed without changing the tables fingerprinted (activation dates moved
    # by feature events or process records) are refreshed too
    if info is not None and info.fresh and not one(con, f"SELECT EXISTS (SELECT 1 FROM {CHANGED_DAYS})")[0]:
        return info
    fp, base = fingerprint(con, plan), fingerprint(con, plan, member_days=False)
    first, last = one(con, f"SELECT MIN(date), MAX(date) FROM {MEMBER_DAYS_STORE}")
    params = {"start": first, "end": last, "min_minutes": plan.targets.daily_active.min_daily_minutes}
    con.execute("BEGIN TRANSACTION")
    try:
        if first is not None:
            con.register(
                "kpi_calendar",
                pa.Table.from_pandas(calendar_frame(cal or WorkCalendar(plan), first, last), preserve_index=False),
            )
        try:
            if first is not None:
                _execute(con, f"CREATE OR REPLACE TEMP TABLE _kpi_spans AS {q.SPANS}", params)
            days = _days_to_refresh(con, info, base, first, last)
            with fold_settings(con):
                if days is None:
                    _build(con, params, first)
                else:
                    _refresh_days(con, plan, days, params)
        finally:
            if first is not None:
                con.unregister("kpi_calendar")
            con.execute("DROP TABLE IF EXISTS _kpi_spans")
        n_days = int(one(con, f"SELECT COUNT(*) FROM {DAYS_TABLE}")[0])
        n_weeks = int(one(con, f"SELECT COUNT(*) FROM {WEEKS_TABLE}")[0])
        con.execute(
            f"CREATE OR REPLACE TABLE {META_TABLE} (fingerprint VARCHAR, first_day DATE, last_day DATE, "
            "department_days BIGINT, department_weeks BIGINT, built_at TIMESTAMPTZ, base_fingerprint VARCHAR)"
        )
        con.execute(
            f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, now(), ?)", [fp, first, last, n_days, n_weeks, base]
        )
        con.execute(f"DELETE FROM {CHANGED_DAYS}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return RollupInfo(fp, first, last, n_days, n_weeks, fresh=True, refreshed_days=None if days is None else len(days))


def _build(con: duckdb.DuckDBPyConnection, params: dict[str, object], first: dt.date | None) -> None:
    """Replace both tables by a fold of every member day."""
    for name in (DAYS_TABLE, WEEKS_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"CREATE TABLE {DAYS_TABLE} (department_id BIGINT, date DATE, registered BIGINT, "
        "with_row BIGINT, active BIGINT, engaged BIGINT, measured BIGINT)"
    )
    con.execute(f"CREATE TABLE {WEEKS_TABLE} (department_id BIGINT, week_start DATE, active_users BIGINT)")
    if first is None:
        return
    with_parts = "WITH spans AS (SELECT * FROM _kpi_spans) "
    _execute(
        con,
        f"INSERT INTO {DAYS_TABLE} {with_parts} SELECT * FROM ({q.DEPARTMENT_DAYS}) x ORDER BY department_id, date",
        params,
    )
    _execute(
        con,
        f"INSERT INTO {WEEKS_TABLE} {with_parts} SELECT * FROM ({_weeks_sql(params)}) x "
        "ORDER BY department_id, week_start",
        params,
    )


@contextmanager
def fold_settings(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """:data:`FOLD_SETTINGS` on ``con`` for the block, then the settings it had before."""
    before = {name: one(con, f"SELECT current_setting('{name}')")[0] for name in FOLD_SETTINGS}
    for name, value in FOLD_SETTINGS.items():
        con.execute(f"SET {name} = {value}")
    try:
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = {value}")


def _days_to_refresh(
    con: duckdb.DuckDBPyConnection, info: RollupInfo | None, base: str, first: dt.date | None, last: dt.date | None
) -> list[dt.date] | None:
    """The days an incremental refresh must recompute, or None when the rollups need a full build.

    Incremental when the rollups exist, were built from the same everything-but-member-days
    (``base``), and the departments with registered members are the same (a new one would
    need rows on every day): then the days whose member days changed, and the days by which
    the data window grew (a full build has a row for every calendar day of the window).
    """
    if info is None or first is None or last is None or info.first_day is None or info.last_day is None:
        return None
    stored = (
        one(con, f"SELECT base_fingerprint FROM {META_TABLE}")[0]
        if _has_column(con, META_TABLE, "base_fingerprint")
        else None
    )
    if stored != base:
        return None
    same_departments = one(
        con,
        f"SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT department_id FROM _kpi_spans)) "
        f"= (SELECT COUNT(*) FROM (SELECT DISTINCT department_id FROM {DAYS_TABLE})) AND "
        f"NOT EXISTS (SELECT department_id FROM _kpi_spans EXCEPT "
        f"SELECT department_id FROM {DAYS_TABLE})",
    )[0]
    if not same_departments:
        return None
    days = {row[0] for row in con.execute(f"SELECT DISTINCT date FROM {CHANGED_DAYS}").fetchall()}
    grown = [first + dt.timedelta(days=i) for i in range((info.first_day - first).days)]
    grown += [info.last_day + dt.timedelta(days=i) for i in range(1, (last - info.last_day).days + 1)]
    return sorted(d for d in days | set(grown) if first <= d <= last)


def _refresh_days(
    con: duckdb.DuckDBPyConnection, plan: RolloutPlan, days: list[dt.date], params: dict[str, object]
) -> None:
    """Recompute the department-day rows of ``days`` and the department-week rows of their weeks,
    each with the same SQL as the full build over the same (clipped) ranges."""
    first, last = params["start"], params["end"]
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    with_parts = "WITH spans AS (SELECT * FROM _kpi_spans) "
    runs: list[tuple[dt.date, dt.date]] = []
    for d in days:
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    for a, b in runs:
        con.execute(f"DELETE FROM {DAYS_TABLE} WHERE date BETWEEN ? AND ?", [a, b])
        _execute(
            con,
            f"INSERT INTO {DAYS_TABLE} {with_parts} SELECT * FROM ({q.DEPARTMENT_DAYS}) x",
            {**params, "start": a, "end": b},
        )
    offset = plan.start_date
    week_starts = sorted({d - dt.timedelta(days=(d - offset).days % 7) for d in days})
    for ws in week_starts:
        a, b = max(ws, first), min(ws + dt.timedelta(days=6), last)
        con.execute(f"DELETE FROM {WEEKS_TABLE} WHERE week_start = ?", [ws])
        week_params = {**params, "start": a, "end": b}
        _execute(
            con, f"INSERT INTO {WEEKS_TABLE} {with_parts} SELECT * FROM ({_weeks_sql(week_params)}) x", week_params
        )


def _has_column(con: duckdb.DuckDBPyConnection, table_name: str, column: str) -> bool:
    return bool(
        one(
            con,
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
            [table_name, column],
        )[0]
    )


def _weeks_sql(params: dict[str, object]) -> str:
    start, end = params["start"], params["end"]
    assert isinstance(start, dt.date) and isinstance(end, dt.date)
    return q.department_weeks(q.week_words(start, end))


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> None:
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def drop_rollups(source: Source) -> None:
    """Remove the rollup tables (readers then fold member days on the fly)."""
    con = connection(source)
    for name in (DAYS_TABLE, WEEKS_TABLE, META_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {name}")


__all__ = ["RollupInfo", "drop_rollups", "fingerprint", "fold_settings", "refresh_rollups", "rollup_info"]
