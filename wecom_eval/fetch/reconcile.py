"""Fit a batch of fetched rows to what the warehouse already holds, before it is loaded.

The API knows less than the warehouse in places: it gives no activation time (the roster or
an export may have), no ``employee_id``, and approvals or events may name departments and
members that contacts no longer list (people who left). :func:`reconcile` keeps what the
warehouse knows better and names every member the events use.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from wecom_eval.fetch.mapping import ACTIVITY_SOURCE
from wecom_eval.store.warehouse import Warehouse

log = logging.getLogger("wecom_eval.fetch")

SNAPSHOT_SOURCE = "wecom_api"  # member_status.source of a fetch's contacts


def reconcile(
    wh: Warehouse, tables: dict[str, pd.DataFrame], *, observed_on: dt.date
) -> tuple[dict[str, pd.DataFrame], int]:
    """The tables to load, and how many members were added because events named them.

    ``members`` keep their stored ``employee_id`` and gain a ``member_status`` snapshot of
    ``observed_on``; a userid that events use but contacts do not list becomes a member who
    left (status 5) in the root department; an approval of an unknown department is filed
    under the root; ``member_days`` of the operation log never replace a row another source
    (with minutes) already gave.
    """
    members = tables.get("members")
    known = set(wh.query("SELECT userid FROM members")["userid"])
    if members is not None:
        members = _with_snapshot(wh, members, tables, observed_on)
        known |= set(members["userid"])
    departments = tables.get("departments")
    dept_ids = set(wh.query("SELECT department_id FROM departments")["department_id"].astype(int))
    if departments is not None:
        dept_ids |= set(departments["department_id"].astype(int))
    root = _root(wh, departments)
    stubs = _stubs(tables, known, root)
    if len(stubs):
        members = stubs if members is None else pd.concat([members, stubs], ignore_index=True)
    if members is not None:
        tables["members"] = members
    records = tables.get("process_records")
    if records is not None and dept_ids:
        unknown = ~records["department_id"].isin(dept_ids)
        if unknown.any():
            log.warning(
                "%d approvals name a department WeCom contacts do not list; filed under the root department %s",
                int(unknown.sum()),
                root,
            )
            records = records.copy()
            records.loc[unknown, "department_id"] = root
            tables["process_records"] = records
    days = tables.get("member_days")
    if days is not None and len(days):
        tables["member_days"] = _without_richer_days(wh, days)
    return tables, len(stubs)


def _with_snapshot(
    wh: Warehouse, members: pd.DataFrame, tables: dict[str, pd.DataFrame], observed_on: dt.date
) -> pd.DataFrame:
    old = wh.query("SELECT userid, employee_id FROM members").set_index("userid")
    members = members.drop_duplicates("userid").copy()
    members["employee_id"] = members["userid"].map(old["employee_id"]) if len(old) else None
    # The API gives no activation time: the load keeps any stored one (activated_at is a
    # keep column) and the status is recorded as a snapshot of the fetch's day; the date
    # is derived from snapshots and first activity after the load (date_activations).
    tables["member_status"] = pd.DataFrame(
        {
            "userid": members["userid"],
            "observed_on": pd.Timestamp(observed_on),
            "source": SNAPSHOT_SOURCE,
            "status": members["status"],
            "activated_at": members["activated_at"],
        }
    )
    return members


def _stubs(tables: dict[str, pd.DataFrame], known: set[str], root: int) -> pd.DataFrame:
    """Members for the userids events use that contacts did not list: members who left."""
    used: set[str] = set()
    for name in ("feature_events", "member_days"):
        if name in tables:
            used |= set(tables[name]["userid"].dropna().astype(str))
    missing = sorted(used - known)
    if not missing:
        return pd.DataFrame()
    log.warning(
        "%d userids in events are not in WeCom contacts (members who left?); recorded as status 5", len(missing)
    )
    stubs = pd.DataFrame(
        {"userid": missing, "employee_id": None, "department_id": root, "status": 5, "activated_at": pd.NaT}
    )
    stubs["activated_at"] = pd.to_datetime(stubs["activated_at"]).dt.tz_localize("Asia/Shanghai")
    return stubs


def _without_richer_days(wh: Warehouse, days: pd.DataFrame) -> pd.DataFrame:
    richer = wh.query(
        "SELECT date, userid FROM member_days WHERE source <> ? AND date BETWEEN ? AND ?",
        [ACTIVITY_SOURCE, days["date"].min().date(), days["date"].max().date()],
    )
    if not len(richer):
        return days
    richer["date"] = pd.to_datetime(richer["date"])
    keep = days.merge(richer.assign(_other=True), on=["date", "userid"], how="left")["_other"].isna()
    return days[keep.to_numpy()]


def _root(wh: Warehouse, departments: pd.DataFrame | None) -> int:
    if departments is not None and len(departments):
        roots = departments[departments["parent_id"].isna()]["department_id"]
        if len(roots):
            return int(roots.min())
    found = wh.query("SELECT min(department_id) AS d FROM departments WHERE parent_id IS NULL")["d"]
    return int(found.iloc[0]) if len(found) and pd.notna(found.iloc[0]) else 1


__all__ = ["SNAPSHOT_SOURCE", "reconcile"]
