"""Org reconciliation: the HR roster against the WeCom members (the launch review's first question).

Checked as of a day (the roster on that day; the members table is the latest snapshot):

``employees_without_member``
    employees on the roster with no WeCom member (not synced, or never invited);
``members_without_employee``
    members whose ``employee_id`` is empty or not on the roster (shared or test accounts,
    external staff, typos);
``department_mismatch``
    members of employees on the roster whose WeCom department differs from the roster's;
``leavers_still_active``
    members still activated (status 1) of employees who have left — an access risk;
``disabled_or_left_while_employed``
    members disabled (2) or marked left (5) whose employee is still on the roster;
``duplicate_members``
    employees with more than one member;
``inconsistent_status``
    status and activation time that disagree (status 4 with an activation time, status 1
    without one);
``departments_without_members`` / ``departments_without_employees``
    departments with staff on one side and nobody on the other.

Counts go in ``summary`` and ``by_department`` (fit for a meeting, privacy-protected); the
named lists are RESTRICTED outputs for the administrators who fix them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis import queries_records as q
from wecom_eval.kpis._base import Context, as_date, finish, run
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar

DESCRIPTIONS = {
    "employees_without_member": "employees on the roster with no WeCom account",
    "members_without_employee": "WeCom accounts with no employee on the roster",
    "department_mismatch": "accounts in a different department than the roster says",
    "leavers_still_active": "accounts still active of employees who have left",
    "disabled_or_left_while_employed": "accounts disabled or marked left of employees still on the roster",
    "duplicate_members": "accounts of employees with more than one account",
    "inconsistent_status": "accounts whose status and activation time disagree",
    "departments_without_members": "departments with staff on the roster but no WeCom accounts",
    "departments_without_employees": "departments with WeCom accounts but nobody on the roster",
}


@dataclass(frozen=True)
class Reconciliation:
    """The roster against the members on ``data_through``."""

    data_through: dt.date
    summary: pd.DataFrame
    by_department: pd.DataFrame
    lists: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when every check found nothing."""
        return bool((self.summary["count"] == 0).all())

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()


def reconcile(
    source: Source, plan: RolloutPlan, *, data_through: dt.date, cal: WorkCalendar | None = None
) -> Reconciliation:
    """Compare the HR roster with the WeCom members on ``data_through``.

    Returns
    -------
    Reconciliation
        ``summary``: one row per check — ``check``, ``count``, ``description``;
        ``by_department``: ``department_id``, ``department``, ``employees`` (on the roster),
        ``members`` (current WeCom accounts), ``employees_without_member``,
        ``department_mismatch`` (roster department here, WeCom elsewhere), then
        ``suppressed``/``suppression`` (departments of fewer than ``min_group_size`` people
        are blanked); ``lists``: the named rows behind each check (RESTRICTED frames).
    """
    del cal
    ctx = Context.of(source, plan)
    data_through = as_date(data_through, name="data_through")
    deps = ctx.departments()
    rel = {"kpi_departments": deps}
    lists: dict[str, pd.DataFrame] = {}
    for name, sql in q.RECONCILE_LISTS.items():
        lists[name] = run(ctx.con, sql, {"data_through": data_through}, rel)
    per_dep = run(ctx.con, q.RECONCILE_DEPARTMENTS, {"data_through": data_through}, rel)
    lists["departments_without_members"] = per_dep.loc[(per_dep["employees"] > 0) & (per_dep["members"] == 0)]
    lists["departments_without_employees"] = per_dep.loc[(per_dep["members"] > 0) & (per_dep["employees"] == 0)]
    for name, frame in lists.items():
        lists[name] = privacy.mark_restricted(frame.reset_index(drop=True), f"reconciliation: {name}")

    counts = {name: len(frame) for name, frame in lists.items()}
    counts["duplicate_members"] = int(lists["duplicate_members"]["employee_id"].nunique())
    summary = pd.DataFrame(
        {
            "check": list(DESCRIPTIONS),
            "count": [counts[k] for k in DESCRIPTIONS],
            "description": list(DESCRIPTIONS.values()),
        }
    )

    missing = lists["employees_without_member"].groupby("department_id").size().rename("employees_without_member")
    moved = lists["department_mismatch"].groupby("roster_department_id").size().rename("department_mismatch")
    table = per_dep.merge(missing, left_on="department_id", right_index=True, how="left")
    table = table.merge(moved, left_on="department_id", right_index=True, how="left")
    for col in ("employees_without_member", "department_mismatch"):
        table[col] = table[col].fillna(0).astype("int64")
    table["size"] = table[["employees", "members"]].max(axis=1)
    table = privacy.suppress(
        table, size="size", by=["department_id"], keep=["department"], min_group_size=privacy.floor(plan)
    ).drop(columns=["size"])
    notes = [] if ctx.has_roster() else ["No HR roster is loaded: every member is 'without employee'."]
    return Reconciliation(data_through, finish(summary, notes=notes), finish(table, notes=notes), lists)


__all__ = ["Reconciliation", "reconcile"]
