"""Daily active and engaged rates on working days, and their weekly averages (DESIGN §6).

Definitions (printed in every report that shows them):

* **daily active rate** on a working day = members active that day ÷ registered members
  (:mod:`wecom_eval.kpis.queries` states who is registered on a day);
* **engaged rate** = members active with at least ``min_daily_minutes`` of use ÷ registered
  members whose minutes are measured that day. Where no member's minutes are measured (a
  source with no minutes of use) the engaged rate is *not measured*: null, with
  ``engaged_measured`` False — never 0 and never a guess;
* the **weekly** figure is the mean of the daily rates over the week's working days (China's
  calendar: public holidays excluded, adjusted working Saturdays (调休) included); a week
  without working days has no weekly rate;
* **weekly active users** = distinct registered members active on at least one day of the
  week (any day, working or not); ``weekly_active_rate`` divides them by the members
  registered on at least one day of the week.

Activity is broken down by the member's WeCom department (``members.department_id``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis import queries as q
from wecom_eval.kpis._base import By, Context, check_by, check_range, finish, keys_of, run, select_prefix
from wecom_eval.kpis._cache import memo
from wecom_eval.kpis.activity_sources import activity_sources
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.rollups import fold_settings
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

DEFINITION_ACTIVE = (
    "Daily active rate: on each working day (China's calendar), members active that day ÷ "
    "registered members; the weekly figure is the mean over the week's working days."
)
DEFINITION_ENGAGED = (
    "Engaged rate: members active with at least {minutes} minutes of use ÷ registered members "
    "whose minutes are measured; 'not measured' where the source gives no minutes."
)
NOT_MEASURED_NOTE = (
    "Engaged rate not measured for {what}: the activity source gives no minutes of use (shown as empty, not as 0)."
)


def _params(ctx: Context, start: dt.date, end: dt.date) -> dict[str, object]:
    return {"start": start, "end": end, "min_minutes": ctx.plan.targets.daily_active.min_daily_minutes}


def _run(ctx: Context, sql: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """An activity statement over ``start``..``end`` with its helper relations, under the fold's settings."""
    with fold_settings(ctx.con):
        return run(
            ctx.con,
            sql,
            _params(ctx, start, end),
            {"kpi_calendar": ctx.activity_calendar(start, end), "kpi_departments": ctx.departments()},
        )


def daily_activity_raw(ctx: Context, *, start: dt.date, end: dt.date, by: By = "department") -> pd.DataFrame:
    """Daily counts and rates per group, before privacy protection (for internal use)."""
    check_by(by)
    check_range(start, end)
    sources = activity_sources(ctx, start, end, weeks=False)
    sel, grp = select_prefix(by)
    parts = {k: v for k, v in sources.parts.items() if k != "department_weeks"}
    sql = q.render(q.DAILY_ACTIVITY, **parts, select=sel, group=grp)
    frame = _run(ctx, sql, start, end)
    for col in ("registered", "with_row", "active", "engaged", "measured"):
        frame[col] = frame[col].astype("int64")
    frame["active_rate"] = _ratio(frame["active"], frame["registered"]).where(frame["covered"].astype(bool))
    frame["engaged_rate"] = _ratio(frame["engaged"], frame["measured"])
    frame["engaged_measured"] = frame["measured"] > 0
    frame["minutes_coverage"] = _ratio(frame["measured"], frame["registered"])
    keys = keys_of(by)
    return frame.sort_values([*keys, "date"], ignore_index=True)


def weekly_activity_raw(ctx: Context, *, start: dt.date, end: dt.date, by: By = "department") -> pd.DataFrame:
    """Weekly averages per group, before privacy protection (for internal use; kept per
    read-only connection, :mod:`wecom_eval.kpis._cache`)."""
    check_by(by)
    check_range(start, end)
    plan = ctx.plan
    start = plan.start_date + dt.timedelta(days=7 * ((start - plan.start_date).days // 7))  # whole weeks
    key = ("weekly_activity", start, end, by)
    return memo(ctx.con, key, lambda: _weekly_activity(ctx, start, end, by), owners=(plan,), cal=ctx.cal)


def _weekly_activity(ctx: Context, start: dt.date, end: dt.date, by: By) -> pd.DataFrame:
    """:func:`weekly_activity_raw` of whole weeks from ``start``, computed."""
    sources = activity_sources(ctx, start, end, weeks=True)
    sel, grp = select_prefix(by)
    keys = keys_of(by)
    key_list = "".join(f"{k}, " for k in keys)
    join_key = keys[0] if keys else None
    sql = q.render(
        q.WEEKLY_ACTIVITY,
        **sources.parts,
        registered_weeks=q.REGISTERED_WEEKS,
        select=sel,
        group=grp,
        keys=key_list,
        reg_keys="".join(f"reg.{k}, " for k in keys),
        join_weekly=f"AND wk.{join_key} = reg.{join_key}" if join_key else "",
        join_users=f"AND u.{join_key} = reg.{join_key}" if join_key else "",
    )
    frame = _run(ctx, sql, start, end)
    frame["working_days"] = frame["working_days"].astype("int64")
    # measured or not is only a question in a week with working days (a holiday week has no rate at all)
    frame["engaged_measured"] = pd.array(
        [
            None if w == 0 else bool(m > 0)
            for w, m in zip(frame["working_days"], frame["engaged_days_measured"], strict=True)
        ],
        dtype="boolean",
    )
    frame["weekly_active_rate"] = _ratio(frame["weekly_active_users"], frame["registered_week"])
    frame = frame[
        [
            *keys,
            "week",
            "week_start",
            "week_end",
            "working_days",
            "registered_week",
            "registered_mean",
            "active_mean",
            "active_rate",
            "measured_mean",
            "engaged_mean",
            "engaged_rate",
            "engaged_measured",
            "engaged_days_measured",
            "minutes_coverage",
            "weekly_active_users",
            "weekly_active_rate",
            "member_day_rows",
        ]
    ]
    frame.attrs["from_rollups"] = sources.from_rollups
    return frame.sort_values([*keys, "week"], ignore_index=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype(float)
    den = den.astype(float)
    return pd.Series(np.where(den > 0, num / den.where(den > 0, 1.0), np.nan), index=num.index)


def _notes(ctx: Context, frame: pd.DataFrame, by: By) -> list[str]:
    notes = ctx.notes()
    flags = frame["engaged_measured"].astype("boolean") if "engaged_measured" in frame else None
    if flags is not None and (flags == False).any():  # noqa: E712 - NA (no working day) is not "not measured"
        unmeasured = frame.loc[(flags == False).fillna(False)]  # noqa: E712
        if by == "department":
            what = ", ".join(sorted(set(unmeasured["department"].astype(str))))
        elif by == "branch":
            what = ", ".join(sorted(set(unmeasured["branch"].astype(str))))
        else:
            what = "the company"
        notes.append(NOT_MEASURED_NOTE.format(what=what))
    return notes


def daily_activity(
    source: Source,
    plan: RolloutPlan,
    *,
    start: dt.date,
    end: dt.date,
    by: By = "department",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Daily active and engaged rates per department (or branch, or company-wide).

    Parameters
    ----------
    source
        The warehouse (or its DuckDB connection).
    plan
        The rollout plan (``targets.daily_active.min_daily_minutes``, the calendar).
    start, end
        The days to report, both included.
    by
        ``"department"`` (the member's WeCom department), ``"branch"`` (first segment of
        the department path) or ``"company"``.
    cal
        The working calendar (default: ``WorkCalendar(plan)``).

    Returns
    -------
    pandas.DataFrame
        One row per group and day: the group's key columns (``department_id, department`` /
        ``branch`` / none), ``date``, ``week`` (rollout week), ``is_working``,
        ``registered``, ``with_row`` (registered members with a member-day row),
        ``active``, ``engaged``, ``measured`` (registered members whose minutes are
        measured), ``active_rate``, ``engaged_rate`` (null when not measured),
        ``engaged_measured``, ``minutes_coverage`` (measured ÷ registered), then
        ``suppressed`` and ``suppression`` from :func:`wecom_eval.privacy.suppress` (groups of
        fewer than ``min_group_size`` registered members are blanked).
    """
    ctx = Context.of(source, plan, cal)
    raw = daily_activity_raw(ctx, start=start, end=end, by=by)
    out = privacy.suppress(
        raw,
        size="registered",
        by=keys_of(by),
        within=["date", "week", "is_working"],
        min_group_size=privacy.floor(plan),
    )
    minutes = plan.targets.daily_active.min_daily_minutes
    return finish(
        out, notes=_notes(ctx, raw, by), definition=DEFINITION_ACTIVE + " " + DEFINITION_ENGAGED.format(minutes=minutes)
    )


def weekly_activity(
    source: Source,
    plan: RolloutPlan,
    *,
    start: dt.date,
    end: dt.date,
    by: By = "department",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Weekly active and engaged rates (means over working days) and weekly active users.

    Parameters
    ----------
    source, plan, by, cal
        As for :func:`daily_activity`.
    start, end
        The days to report; ``start`` is moved back to the first day of its rollout week,
        so every week but possibly the last (which ends at ``end``) is whole.

    Returns
    -------
    pandas.DataFrame
        One row per group and rollout week with registered members:

        ``week``, ``week_start``, ``week_end``
            the rollout week and the days it covers (``week_end`` is ``end`` for a week in
            progress);
        ``working_days``
            working days in the week (0 in a holiday week: then every rate is null);
        ``registered_week``
            members registered on at least one day of the week: the people the row
            describes (the privacy ``size``);
        ``registered_mean``, ``active_mean``
            mean per working day;
        ``active_rate``
            mean over working days of active ÷ registered;
        ``measured_mean``, ``engaged_mean``, ``engaged_rate``
            the same for engaged ÷ measured, over working days with measured minutes;
        ``engaged_measured``, ``engaged_days_measured``
            whether (and on how many working days) the engaged rate was measured; where
            False, ``engaged_rate`` is null: *not measured*, not zero;
        ``minutes_coverage``
            mean share of registered members whose minutes are measured;
        ``weekly_active_users``, ``weekly_active_rate``
            distinct members active on any day of the week, and ÷ ``registered_week``;
        ``member_day_rows``
            member-day rows received for the group that week (0: no data);
        ``suppressed``, ``suppression``
            from :func:`wecom_eval.privacy.suppress`.

    Notes
    -----
    The weekly rate is the mean of daily rates, not the ratio of the week's totals, so a day
    with many registrations weighs as much as any other day (DESIGN §6). Frames carry
    ``attrs["notes"]`` (calendar fallback, engaged rate not measured) and
    ``attrs["definition"]``.
    """
    ctx = Context.of(source, plan, cal)
    raw = weekly_activity_raw(ctx, start=start, end=end, by=by)
    out = privacy.suppress(
        raw,
        size="registered_week",
        by=keys_of(by),
        within=["week", "week_start", "week_end", "working_days"],
        min_group_size=privacy.floor(plan),
    )
    minutes = plan.targets.daily_active.min_daily_minutes
    return finish(
        out, notes=_notes(ctx, raw, by), definition=DEFINITION_ACTIVE + " " + DEFINITION_ENGAGED.format(minutes=minutes)
    )


__all__ = ["daily_activity", "weekly_activity"]
