"""The points ledger: per employee per rollout week from the plan's rules and weekly cap.

Every point traces to the event that earned it (DESIGN §6). The actions are:

``register``
    the member's activation (``members.activated_at``; the event is the member's userid);
``approval``, ``docs``, ``customer``, ``attendance``, ``other``
    ``feature_events`` rows (the event is the row's ``event_id``), ``per_action × count``
    points;
``training``
    ``training_attendance`` rows (the event is ``session_id/userid``), on the session day.

Points go to employees on the HR roster through their WeCom members, and only for what
they do while on the roster (hire date to leave date, the definition of
:mod:`wecom_eval.kpis.queries_records`): a member with no employee (a shared account) earns nothing,
nor does a leaver's account that is still used after the leave date; an event dated before
the hire date (an account activated before the first day) counts on the hire date. Points
belong to the roster's department (``employees.department_id``), never the member's WeCom
department. Within an employee's rollout week, events are taken in time order
(ties by action, then event id) and each is awarded what is left under ``weekly_cap``: the
event that reaches the cap gets part of its points, later ones none — they stay in the
ledger with ``points_awarded`` 0, so nothing is lost from the audit.

The ledger names people: it is a RESTRICTED output (for the points administrator), never
for meeting reports. :func:`points_by_department` gives the totals that reports may show.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from wecom_eval import privacy
from wecom_eval.errors import InputError, Problem
from wecom_eval.kpis import queries_records as q
from wecom_eval.kpis._base import By, Context, as_date, check_by, check_range, finish, keys_of, run, select_prefix
from wecom_eval.kpis._cache import feature_uses_fresh
from wecom_eval.kpis.queries import render
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.feature_uses import first_use_day
from wecom_eval.store.schema import FEATURES
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

ACTIONS: tuple[str, ...] = ("register", "training", *FEATURES)
DEFINITION = (
    "Points: per employee per rollout week, {rules}; at most {cap} points a week (events in time order; "
    "the rest of a week's events earn nothing). Only events while the employee is on the HR roster count, "
    "by the roster's department; a week's employees are those on the roster on any day of it, so the "
    "earners are always among them."
)


def _rules(plan: RolloutPlan) -> pd.DataFrame:
    unknown = sorted(set(plan.points.per_action) - set(ACTIONS))
    if unknown:
        raise InputError(
            "rollout plan",
            [
                Problem(
                    f"points.per_action.{a}",
                    a,
                    f"one of {', '.join(ACTIONS)}",
                    "No event in the warehouse traces to this action; rename or remove it.",
                )
                for a in unknown
            ],
        )
    return pd.DataFrame({"action": list(plan.points.per_action), "points": list(plan.points.per_action.values())})


def _range(plan: RolloutPlan, start: dt.date | None, end: dt.date) -> tuple[dt.date, dt.date]:
    end = as_date(end, name="end")
    start = as_date(start, name="start") if start is not None else plan.start_date
    check_range(start, end)
    return start, end


def _ledger_sql(ctx: Context, start: dt.date, end: dt.date) -> str:
    """The ledger statement; the events before ``start`` it must read (those of employees hired
    in the range) are bounded below by their members' first use when the feature uses are fresh."""
    first_use = ""
    if feature_uses_fresh(ctx.con):
        day = first_use_day(ctx.con, q.HIRED_MEMBERS, {"start": start, "end": end})
        first_use = "AND FALSE" if day is None else f"AND fe.ts >= CAST(DATE '{day.isoformat()}' AS TIMESTAMPTZ)"
    return render(q.POINTS_LEDGER, first_use=first_use)


def points_ledger(
    source: Source, plan: RolloutPlan, *, end: dt.date, start: dt.date | None = None, cal: WorkCalendar | None = None
) -> pd.DataFrame:
    """The auditable points ledger — a RESTRICTED, named output.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan (``points.per_action``, ``points.weekly_cap``) and
        its calendar (for rollout weeks).
    end
        The last day whose events count.
    start
        The first day (default: the plan's ``start_date``).

    Returns
    -------
    pandas.DataFrame
        One row per event that earns points (an event of the employee's member, on a day the
        employee is on the roster; an event before the hire date is dated on the hire
        date): ``employee_id``, ``name``, ``department_id``,
        ``department`` (roster), ``week``, ``week_start``, ``action``, ``source_table``,
        ``event_id`` (the event's key in ``source_table``), ``userid``, ``ts``, ``count``,
        ``points_per_action``, ``points_earned`` (before the cap), ``earned_before`` (the
        employee's points earlier that week, before the cap), ``points_awarded``. Marked
        with :func:`wecom_eval.privacy.mark_restricted`.
    """
    ctx = Context.of(source, plan, cal)
    start, end = _range(plan, start, end)
    out = run(
        ctx.con,
        _ledger_sql(ctx, start, end),
        {"start": start, "end": end, "cap": plan.points.weekly_cap},
        {"kpi_points": _rules(plan), "kpi_calendar": ctx.calendar(start, end), "kpi_departments": ctx.departments()},
    )
    privacy.mark_restricted(out, "points ledger: named, per event")
    rules = ", ".join(f"{a} {p}" for a, p in plan.points.per_action.items())
    return finish(out, definition=DEFINITION.format(rules=rules, cap=plan.points.weekly_cap))


def points_by_department(
    source: Source,
    plan: RolloutPlan,
    *,
    end: dt.date,
    start: dt.date | None = None,
    by: By = "department",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Points awarded per department (or branch, or company) and rollout week.

    Returns
    -------
    pandas.DataFrame
        One row per group and week: key columns, ``week``, ``week_start``, ``employees``
        (on the HR roster on at least one day of the week, clipped to ``start``..``end``, in
        the group by the roster's department: the people the row describes, and the only
        ones who can earn points in it), ``earners`` (those of them awarded points, so never
        more than ``employees``), ``points`` (awarded), ``points_over_cap`` (earned but cut
        by the weekly cap), ``points_per_employee`` (``points ÷ employees``), ``suppressed``,
        ``suppression``.

    Notes
    -----
    A leaver counts among the employees of the weeks they were employed in, including the
    week they leave; a joiner from the week they are hired. WeCom members with no employee
    on the roster (shared accounts) are in neither count (see
    :func:`wecom_eval.kpis.reconcile`).
    """
    check_by(by)
    ctx = Context.of(source, plan, cal)
    start, end = _range(plan, start, end)
    keys = keys_of(by)
    sel, grp = select_prefix(by)
    sql = render(
        q.POINTS_TOTALS,
        ledger=_ledger_sql(ctx, start, end),
        select=sel,
        group=grp,
        head_keys="".join(f"h.{k}, " for k in keys),
        join_earned=f"AND e.{keys[0]} = h.{keys[0]}" if keys else "",
    )
    out = run(
        ctx.con,
        sql,
        {"start": start, "end": end, "cap": plan.points.weekly_cap},
        {"kpi_points": _rules(plan), "kpi_calendar": ctx.calendar(start, end), "kpi_departments": ctx.departments()},
    )
    out["points_per_employee"] = out["points"] / out["employees"].where(out["employees"] > 0)
    out = out.sort_values([*keys, "week"], ignore_index=True)
    out = privacy.suppress(
        out, size="employees", by=keys, within=["week", "week_start"], min_group_size=privacy.floor(plan)
    )
    rules = ", ".join(f"{a} {p}" for a, p in plan.points.per_action.items())
    return finish(out, notes=ctx.notes(), definition=DEFINITION.format(rules=rules, cap=plan.points.weekly_cap))


__all__ = ["ACTIONS", "points_by_department", "points_ledger"]
