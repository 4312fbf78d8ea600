"""What each data source covers, and so which KPI is measured: never 0 % for a source that is absent.

Each KPI decides from its own source whether it is measured:

* **registration** needs a member source — WeCom members with their activation (an API pull,
  a contacts export, or a roster with 激活状态). A roster alone says who should register,
  not who did: registration is then *not measured* (:data:`NO_MEMBERS`);
* **activity** needs member-activity rows and registered members (the KPI is empty otherwise);
* **penetration of a feature** needs that feature's events covering the window: a feature
  whose events (first … last day) do not reach into the trailing window is not measured,
  for that feature alone (attendance can be measured while documents is not).

:func:`source_coverage` is the coverage table every report shows and writes to
``kpis.json``: per source its date range, rows, working days missing inside the range and
the last load time. A missing working day inside the activity range is a data-quality gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from wecom_eval.kpis._base import Context, has_rows, run
from wecom_eval.kpis._cache import feature_uses_fresh, memo
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.feature_uses import feature_ranges as uses_ranges
from wecom_eval.store.member_days import MEMBER_DAYS_STORE
from wecom_eval.store.sql import Source, one
from wecom_eval.store.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar

NO_MEMBERS = "not measured: no member source (WeCom members with their activation)"
NO_FEATURE_EVENTS = "not measured: no events of this feature in the window"

# Source → (table, the date expression of a row or "" for undated rows, a filter or "").
# Events are dated in the warehouse's time zone (the plan's).
SOURCES: dict[str, tuple[str, str, str]] = {
    "roster": ("employees", "", ""),
    "members": ("members", "CAST(activated_at AS DATE)", ""),
    "member_snapshots": ("member_status", "observed_on", ""),
    "activity": ("member_days", "date", ""),
    "feature_events": ("feature_events", "CAST(ts AS DATE)", ""),
    "legacy_approvals": ("process_records", "CAST(started_at AS DATE)", "system = 'legacy'"),
    "wecom_approvals": ("process_records", "CAST(started_at AS DATE)", "system = 'wecom'"),
    "survey": ("survey_responses", "submitted_on", ""),
    "training": ("training_attendance", "date", ""),
    "tickets": ("tickets", "CAST(created_at AS DATE)", ""),
}
# Sources dated by a timestamp (their day is its date in the session's time zone): read as
# the date of the first and last timestamp before the day after ``end``, with no conversion per row.
STAMPED: dict[str, str] = {
    "members": "activated_at",
    "feature_events": "ts",
    "legacy_approvals": "started_at",
    "wecom_approvals": "started_at",
    "tickets": "created_at",
}
_BEFORE = "CAST($end AS DATE) + INTERVAL '1' DAY"
# Sources whose rows are expected on every working day of their range (a missing day is a gap).
DAILY = ("activity",)


def has_member_source(ctx: Context) -> bool:
    """Whether any WeCom member is loaded (registration is measurable)."""
    return has_rows(ctx.con, "members")


def feature_ranges(ctx: Context) -> dict[str, tuple[dt.date, dt.date]]:
    """Each feature with events: its first and last event day (from the feature uses when fresh)."""
    return dict(memo(ctx.con, "feature_ranges", lambda: _feature_ranges(ctx)))


def _feature_ranges(ctx: Context) -> dict[str, tuple[dt.date, dt.date]]:
    if feature_uses_fresh(ctx.con):
        return uses_ranges(ctx.con)
    frame = run(
        ctx.con,
        "SELECT feature, MIN(CAST(ts AS DATE)) AS first, MAX(CAST(ts AS DATE)) AS last "
        "FROM feature_events GROUP BY feature",
    )
    return {str(f): (a, b) for f, a, b in zip(frame["feature"], frame["first"], frame["last"], strict=True)}


def feature_measured(
    ranges: dict[str, tuple[dt.date, dt.date]], feature: str, *, window_start: dt.date, data_through: dt.date
) -> bool:
    """Whether ``feature``'s events (first … last day) reach into ``window_start`` … ``data_through``."""
    span = ranges.get(feature)
    return span is not None and span[0] <= data_through and span[1] >= window_start


def _load_times(ctx: Context) -> dict[str, Any]:
    try:
        frame = run(ctx.con, "SELECT table_name, MAX(loaded_at) AS last FROM _loads GROUP BY table_name")
    except Exception:  # a warehouse without a load log (built by hand in a test)
        return {}
    return dict(zip(frame["table_name"], frame["last"], strict=True))


def source_coverage(
    source: Source,
    plan: RolloutPlan,
    *,
    end: dt.date,
    cal: WorkCalendar | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per data source: what it covers up to ``end``.

    Returns
    -------
    pandas.DataFrame
        One row per source in :data:`SOURCES` (or ``sources``): ``source``, ``table``,
        ``first_day``, ``last_day`` (of its rows dated up to ``end``; None without rows),
        ``rows``, ``missing_working_days`` (for daily sources, working days inside the
        range with no row; None for others), ``missing_days`` (those days, ISO, comma-separated),
        ``last_loaded`` (the last load into its table, ISO time; None if unknown).
    """
    ctx = Context.of(source, plan, cal)
    loaded = _load_times(ctx)
    rows = []
    for name in sources or SOURCES:
        table, day, where = SOURCES[name]
        stored = MEMBER_DAYS_STORE if table == "member_days" else table  # the same rows without the view's join
        cond = f"{day} <= $end" + (f" AND {where}" if where else "")
        if name in STAMPED:
            ts = STAMPED[name]
            cond = f"{ts} < CAST({_BEFORE} AS TIMESTAMPTZ)" + (f" AND {where}" if where else "")
            first, last, n = one(
                ctx.con,
                f"SELECT CAST(MIN({ts}) AS DATE), CAST(MAX({ts}) AS DATE), COUNT(*) FROM {stored} "
                f"WHERE {cond.replace('$end', '?')}",
                [end],
            )
        elif day:
            first, last, n = one(
                ctx.con,
                f"SELECT MIN({day}), MAX({day}), COUNT(*) FROM {stored} WHERE {cond.replace('$end', '?')}",
                [end],
            )
        else:  # a headcount, not dated events
            first, last, n = None, None, one(ctx.con, f"SELECT COUNT(*) FROM {stored}")[0]
        missing: list[dt.date] | None = None
        if name in DAILY:
            missing = []
            if n and first is not None and last is not None:
                days = run(ctx.con, f"SELECT DISTINCT {day} AS day FROM {stored} WHERE {cond}", {"end": end})
                have = set(days["day"])
                missing = [d for d in ctx.cal.working_days(first, last) if d not in have]
        stamp = loaded.get(table)
        rows.append(
            {
                "source": name,
                "table": table,
                "first_day": first,
                "last_day": last,
                "rows": int(n),
                "missing_working_days": None if missing is None else len(missing),
                "missing_days": None if missing is None else ", ".join(d.isoformat() for d in missing),
                "last_loaded": None
                if stamp is None or pd.isna(stamp)
                else pd.Timestamp(stamp).tz_convert(plan.timezone).isoformat(timespec="seconds")
                if pd.Timestamp(stamp).tzinfo
                else pd.Timestamp(stamp).isoformat(timespec="seconds"),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "table",
            "first_day",
            "last_day",
            "rows",
            "missing_working_days",
            "missing_days",
            "last_loaded",
        ],
        dtype=object,
    )  # counts stay whole


# The first day of any activity, approval or feature event, and the last one up to $last.
DATA_WINDOW = (
    "SELECT least((SELECT min(date) FROM member_activity), (SELECT min(started_at)::DATE FROM process_records),"
    " (SELECT min(ts)::DATE FROM feature_events)) AS first,"
    " greatest((SELECT max(date) FROM member_activity WHERE date <= $last),"
    " (SELECT max(started_at)::DATE FROM process_records"
    "  WHERE started_at < CAST(CAST($last AS DATE) + INTERVAL '1' DAY AS TIMESTAMPTZ)),"
    " (SELECT max(ts)::DATE FROM feature_events"
    "  WHERE ts < CAST(CAST($last AS DATE) + INTERVAL '1' DAY AS TIMESTAMPTZ))) AS last"
)


def data_window(warehouse: Warehouse, *, data_through: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and the last day of activity data up to ``data_through`` (None: no data)."""
    row: Any = warehouse.query(DATA_WINDOW, {"last": data_through}).iloc[0]

    def day(value: Any) -> dt.date | None:
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    return day(row["first"]), day(row["last"])


__all__ = [
    "NO_FEATURE_EVENTS",
    "NO_MEMBERS",
    "SOURCES",
    "data_window",
    "feature_measured",
    "feature_ranges",
    "has_member_source",
    "source_coverage",
]
