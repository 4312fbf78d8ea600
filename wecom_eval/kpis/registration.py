"""Registration rate against the HR roster, over time, and the (restricted) list of stragglers.

**Registration rate** on day d = employees on the roster on d whose WeCom member is
activated by d ÷ employees on the roster on d (DESIGN §6). Branches are included (the roster
holds the whole company); an employee hired after d or gone before d is in neither count.
Broken down by the roster's department (``employees.department_id``). The rule for
"activated" is stated in :mod:`wecom_eval.kpis.queries`: ``activated_at`` on or before d and
not in status 4; a member later disabled or gone still counted as registered while its
employee was on the roster (a disabled account of a current employee is listed by the
reconciliation instead).

Without any member source (no API pull, no contacts export, a roster without 激活状态)
registration is **not measured**: ``registered`` and ``registration_rate`` are null, never 0.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wecom_eval import privacy
from wecom_eval.kpis import queries as q
from wecom_eval.kpis._base import (
    By,
    Context,
    as_date,
    as_dates,
    check_by,
    dates_frame,
    finish,
    keys_of,
    people_parts,
    run,
    select_prefix,
    week_ends,
)
from wecom_eval.kpis._cache import by_date, memo
from wecom_eval.kpis.coverage import has_member_source
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import MEMBER_STATUS
from wecom_eval.store.sql import Source, one
from wecom_eval.workcal import WorkCalendar

DEFINITION = (
    "Registration rate: employees on the HR roster that day (branches included) whose WeCom account "
    "is activated ÷ employees on the roster that day."
)


BASIS_ORDER = ("export_time", "snapshot", "first_activity")


BASIS_OPEN = ("unknown", "snapshot", "first_activity")  # a basis that leaves the date open


def _isin(values: pd.Series, among: Sequence[object] | pd.Series) -> np.ndarray:
    """``values.isin(among)`` in Arrow (pandas walks Arrow strings one by one in Python)."""
    ref = among if isinstance(among, pd.Series) else list(among)
    value_set = pa.array(ref, from_pandas=True).cast(pa.string())
    found = pc.is_in(pa.array(values, from_pandas=True).cast(pa.string()), value_set=value_set)
    return np.asarray(found.fill_null(False), dtype=bool)


def registration_basis(source: Source, plan: RolloutPlan, *, data_through: dt.date | Sequence[dt.date]) -> pd.DataFrame:
    """On which bound the registration figure rests, company-wide, per as-of day.

    Returns one row per day: ``data_through``, ``employees`` (the people counted, as in
    :func:`registration_rate`), ``registered`` and its split by what each registration date
    rests on (``export_time``, ``snapshot``, ``first_activity``), and ``activated_unknown``:
    people not counted as registered on the day whose WeCom account is activated but whose
    activation has no bound on or before the day, and no snapshot on or before the day
    showing it not yet activated — "activated, date unknown", never silently "after".
    """
    ctx = Context.of(source, plan)
    days = as_dates(data_through, name="data_through")
    parts, _notes = people_parts(ctx)
    people = run(
        ctx.con,
        f"WITH people AS ({parts['people']}) SELECT p.person_id, p.on_from, p.on_to, "
        f"m.userid, m.status, CAST(m.activated_at AS DATE) AS activated_on, "
        f"{_basis_column(ctx)} AS basis FROM people p LEFT JOIN members m ON {parts['member_join']}",
    )
    snaps = (
        run(ctx.con, "SELECT userid, observed_on, status FROM member_status")
        if _has_snapshots(ctx)
        else pd.DataFrame(columns=["userid", "observed_on", "status"])
    )
    stamps = {col: pd.to_datetime(people[col]) for col in ("on_from", "on_to", "activated_on")}  # compared as arrays
    for col, stamp in stamps.items():
        people[col] = stamp.dt.date
    snaps["observed_on"] = pd.to_datetime(snaps["observed_on"]).dt.date
    rows = []
    for day in days:
        when = pd.Timestamp(day)
        on_roster = (stamps["on_from"] <= when) & (stamps["on_to"].isna() | (stamps["on_to"] >= when))
        on = people[on_roster]
        activated = stamps["activated_on"][on_roster]
        dated = on[activated.notna() & (activated <= when) & (on["status"] != 4)]
        first = dated.sort_values(["person_id", "activated_on"]).drop_duplicates("person_id")
        open_ = on[~_isin(on["person_id"], first["person_id"]) & _isin(on["basis"], BASIS_OPEN)]
        before = snaps[snaps["observed_on"] <= day].sort_values("observed_on").drop_duplicates("userid", keep="last")
        seen_inactive = before.loc[before["status"] != 1, "userid"]
        unknown = open_[~_isin(open_["userid"], seen_inactive)]["person_id"].nunique()
        row = {"data_through": day, "employees": int(on["person_id"].nunique()), "registered": len(first)}
        row.update({b: int((first["basis"] == b).sum()) for b in BASIS_ORDER})
        row["activated_unknown"] = int(unknown)
        rows.append(row)
    return pd.DataFrame(rows, columns=["data_through", "employees", "registered", *BASIS_ORDER, "activated_unknown"])


def _basis_column(ctx: Context) -> str:
    """The basis column; a warehouse not yet migrated (opened read-only) states every time."""
    cols = {
        r[0]
        for r in ctx.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'members'"
        ).fetchall()
    }
    if "activation_basis" in cols:
        return "COALESCE(m.activation_basis, CASE WHEN m.activated_at IS NOT NULL THEN 'export_time' END)"
    return "CASE WHEN m.activated_at IS NOT NULL THEN 'export_time' END"


def _has_snapshots(ctx: Context) -> bool:
    return bool(one(ctx.con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'member_status'")[0])


def _department_counts(ctx: Context, days: list[dt.date], people: str, departments: pd.DataFrame) -> pd.DataFrame:
    sel, grp = select_prefix("department")
    sql = q.render(q.REGISTRATION, people=people, select=sel, group=grp)
    frame = run(ctx.con, sql, {}, {"kpi_dates": dates_frame(ctx.plan, days), "kpi_departments": departments})
    cols = ["department_id", "data_through", "employees", "registered"]
    return frame[cols].astype({"department_id": "int64", "employees": "int64", "registered": "int64"})


def registration_raw(ctx: Context, *, data_through: Sequence[dt.date], by: By = "department") -> pd.DataFrame:
    """Registration counts per group and as-of date, before privacy protection.

    Counted per department (kept per as-of date for a report's read-only warehouse, and the
    result too, see :mod:`wecom_eval.kpis._cache`) and added up for a branch or the company: each person
    is in one department, so the sums are the group's own counts.
    """
    check_by(by)
    dates = list(data_through)
    key = ("registration_raw", tuple(sorted(set(dates))), by)
    return memo(ctx.con, key, lambda: _registration_raw(ctx, dates, by), owners=(ctx.plan,))


def _registration_raw(ctx: Context, data_through: Sequence[dt.date], by: By) -> pd.DataFrame:
    parts, _notes = people_parts(ctx)
    departments = ctx.departments()
    counts = by_date(
        ctx.con,
        ("registration", parts["people"]),
        data_through,
        lambda days: _department_counts(ctx, days, parts["people"], departments),
    )
    frame = counts.merge(departments[["department_id", "department", "branch"]], on="department_id")
    frame = frame.groupby([*keys_of(by), "data_through"], sort=False, as_index=False)[["employees", "registered"]].sum()
    frame = frame.astype({"employees": "int64", "registered": "int64"})
    frame["unregistered"] = frame["employees"] - frame["registered"]
    frame["registration_rate"] = frame["registered"] / frame["employees"]
    if not has_member_source(ctx):  # a roster alone: who should register, not who did — never 0 %
        frame[["registered", "unregistered", "registration_rate"]] = math.nan
    keys = keys_of(by)
    frame = frame[[*keys, "data_through", "employees", "registered", "unregistered", "registration_rate"]]
    return frame.sort_values([*keys, "data_through"], ignore_index=True)


def registration_rate(
    source: Source,
    plan: RolloutPlan,
    *,
    data_through: dt.date | Sequence[dt.date],
    by: By = "department",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Registration rate on one or several days, by department, branch or company-wide.

    Parameters
    ----------
    source
        The warehouse (or its DuckDB connection).
    plan
        The rollout plan (privacy floor, pilots and go-live for the department list).
    data_through
        A day, or several days (one row per group and day).
    by
        ``"department"`` (the roster's department), ``"branch"`` or ``"company"``.
    cal
        Unused here; accepted so that every KPI function takes the same arguments.

    Returns
    -------
    pandas.DataFrame
        One row per group and day: key columns, ``data_through``, ``employees`` (on the roster that
        day: the people the row describes), ``registered``, ``unregistered``,
        ``registration_rate``, ``suppressed``, ``suppression``. Groups with no one on the
        roster that day have no row.
    """
    del cal
    ctx = Context.of(source, plan)
    days = as_dates(data_through, name="data_through")
    raw = registration_raw(ctx, data_through=days, by=by)
    out = privacy.suppress(
        raw, size="employees", by=keys_of(by), within=["data_through"], min_group_size=privacy.floor(plan)
    )
    _parts, notes = people_parts(ctx)
    return finish(out, notes=notes, definition=DEFINITION)


def registration_trend(
    source: Source,
    plan: RolloutPlan,
    *,
    start: dt.date,
    end: dt.date,
    freq: str = "week",
    by: By = "department",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Registration rate at the end of each rollout week (``freq="week"``) or each day (``"day"``).

    The weekly series is read on the last day of each rollout week from ``start`` to ``end``,
    and on ``end`` itself. Columns as :func:`registration_rate` plus ``week``.
    """
    start = as_date(start, name="start")
    end = as_date(end, name="end")
    if freq == "week":
        days = week_ends(plan, start, end)
    elif freq == "day":
        days = list(pd.date_range(start, end, freq="D").date)
    else:
        raise ValueError(f"freq={freq!r}: use 'week' or 'day'")
    out = registration_rate(source, plan, data_through=days, by=by, cal=cal)
    week = np.array([(d - plan.start_date).days // 7 + 1 for d in out["data_through"]], dtype=np.int64)
    out.insert(list(out.columns).index("data_through") + 1, "week", week)
    return out


def stragglers(
    source: Source, plan: RolloutPlan, *, data_through: dt.date, grace_days: int = 0, cal: WorkCalendar | None = None
) -> pd.DataFrame:
    """Who has not registered by ``data_through``, by department — a RESTRICTED named list.

    For the department heads who chase registration; never for meeting reports (the frame is
    marked with :func:`wecom_eval.privacy.mark_restricted`).

    Parameters
    ----------
    data_through
        The day.
    grace_days
        Leave out employees whose department went live, or who were hired, fewer than this
        many days before ``data_through``.

    Returns
    -------
    pandas.DataFrame
        One row per unregistered employee on the roster: ``department_id``, ``department``,
        ``employee_id``, ``name``, ``hire_date``, ``go_live_date``, ``days_since_go_live``
        (days since the later of go-live and hire), ``userid`` (null without a member),
        ``member_state`` (``no member``, ``not activated``, ``activated after data_through``,
        ``activated, date unknown`` (dated only by a later snapshot or use, or not at all), or
        the member status),
        sorted by department and ``days_since_go_live`` (longest first).
    """
    del cal
    ctx = Context.of(source, plan)
    data_through = as_date(data_through, name="data_through")
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, got {grace_days}")
    parts, notes = people_parts(ctx)
    sql = q.render(q.STRAGGLERS, people=parts["people"], member_join=parts["member_join"], basis=_basis_column(ctx))
    rows = run(ctx.con, sql, {"data_through": data_through}, {"kpi_departments": ctx.departments()})
    # one row per employee: their most advanced member, if any
    rows["_rank"] = rows["member_status"].map({1: 0, 2: 1, 5: 2, 4: 3}).fillna(9)
    rows = rows.sort_values(["employee_id", "_rank", "userid"]).drop_duplicates("employee_id")
    go_live = pd.to_datetime(rows["go_live_date"]).dt.date
    hire = pd.to_datetime(rows["hire_date"]).dt.date
    since = [max(g, h) for g, h in zip(go_live, hire, strict=True)]
    rows["days_since_go_live"] = np.array([(data_through - s).days for s in since], dtype=np.int64)
    state = rows["member_status"].map(lambda s: "no member" if pd.isna(s) else MEMBER_STATUS.get(int(s), str(s)))
    activated_later = rows["activated_on"].notna() & rows["member_status"].isin([1, 2, 5])
    state = state.where(~activated_later, "activated after data_through")
    # A date that is only an upper bound (a snapshot, a first use) does not say "after": unknown.
    unknown = (rows["member_status"] == 1) & (
        rows["activated_on"].isna() | rows["activation_basis"].isin(["snapshot", "first_activity"])
    )
    state = state.where(~unknown, "activated, date unknown")
    rows["member_state"] = state
    rows = rows.loc[rows["days_since_go_live"] >= grace_days]
    out = rows[
        [
            "department_id",
            "department",
            "employee_id",
            "name",
            "hire_date",
            "go_live_date",
            "days_since_go_live",
            "userid",
            "member_state",
        ]
    ]
    out = out.sort_values(
        ["department", "days_since_go_live", "employee_id"], ascending=[True, False, True], ignore_index=True
    )
    privacy.mark_restricted(out, "registration stragglers: named list for department heads")
    return finish(out, notes=notes, definition=DEFINITION)


__all__ = ["registration_basis", "registration_rate", "registration_trend", "stragglers"]
