"""Approvals (legacy system before go-live, WeCom after), training sign-ins and IT tickets.

Approval turnaround in hours is log-normal:

``log T = log(legacy_median) + u_dept + log(drift) · (days since rollout start) / 28
+ log(effect) · [filed in WeCom] + sigma · z``

with ``effect = pilot_effect`` in the pilot departments and ``other_effect`` elsewhere, so
the pilot's true change at go-live is ``log(pilot_effect)`` on the log scale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.org import NEVER, Org, Window, _clock, dates, serials, timestamps
from wecom_eval.plan import RolloutPlan

STATUSES = ("approved", "rejected", "withdrawn", "pending")
TICKET_CATEGORIES = ("账号登录", "审批配置", "考勤打卡", "文档权限", "客户管理", "其他")
TICKET_WEIGHTS = (0.30, 0.20, 0.18, 0.12, 0.08, 0.12)


def headcount(org: Org) -> np.ndarray:
    """Employees on the roster per (day, department row), by the roster's department."""
    n_days, n_dept = org.window.n_days, len(org.dept_ids)
    diff = np.zeros((n_days + 1, n_dept), dtype=np.int64)
    start = np.clip(org.emp_hire, 0, n_days)
    stop = np.clip(np.where(org.emp_leave == NEVER, n_days, org.emp_leave + 1), 0, n_days)
    np.add.at(diff, (start, org.emp_dept), 1)
    np.add.at(diff, (stop, org.emp_dept), -1)
    return np.cumsum(diff, axis=0)[:n_days]


def member_of_employee(org: Org) -> np.ndarray:
    """Member row of each employee, -1 for employees with no member."""
    out = np.full(len(org.emp_dept), -1, dtype=np.int64)
    has = org.mem_emp >= 0
    out[org.mem_emp[has]] = np.flatnonzero(has)
    return out


def _filers(org: Org, day: np.ndarray, dept: np.ndarray, wecom: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Who filed each record: a member whose employee is in the department and employed that day
    (registered, for WeCom records); up to six draws, -1 when none fits."""
    n = len(day)
    order = np.argsort(org.emp_dept, kind="stable")
    first = np.searchsorted(org.emp_dept[order], np.arange(len(org.dept_ids)))
    size = np.bincount(org.emp_dept, minlength=len(org.dept_ids))
    member_of = member_of_employee(org)
    filer = np.full(n, -1, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(6):
        if not len(todo):
            break
        e = order[first[dept[todo]] + (rng.random(len(todo)) * size[dept[todo]]).astype(np.int64)]
        m = member_of[e]
        ok = (org.emp_hire[e] <= day[todo]) & (day[todo] <= org.emp_leave[e]) & (m >= 0)
        ok &= ~wecom[todo] | (org.mem_act[np.maximum(m, 0)] <= day[todo])
        filer[todo[ok]] = m[ok]
        todo = todo[~ok]
    return filer


@dataclass
class Approvals:
    """``process_records`` as compact arrays, one entry per record in table order.

    About 35 bytes a record (at a million employees there are about 19 million); the table's
    string and timestamp columns are built by :meth:`frame` for a slice of rows at a time.
    """

    window: Window
    dept_ids: np.ndarray  # department id per department row
    userids: pa.Array  # large_string, one per member row
    day: np.ndarray  # int32 day index filed
    dept: np.ndarray  # int32 department row
    start_s: np.ndarray  # int64 second of the day filed
    finish_s: np.ndarray  # float64 second from the window's start finished
    status: np.ndarray  # int8 index into STATUSES
    filer: np.ndarray  # member row, -1 when none fits
    wecom: np.ndarray  # bool: filed in WeCom
    pending: np.ndarray  # bool: not finished by the window's end

    def __len__(self) -> int:
        return len(self.day)

    def facts(self) -> dict[str, Any]:
        """What the truth needs per record: day, dept, wecom, pending, status and hours (the turnaround)."""
        hours = (self.finish_s - (self.day.astype(np.int64) * 86400 + self.start_s)) / 3600.0
        return {
            "day": self.day,
            "dept": self.dept,
            "wecom": self.wecom,
            "pending": self.pending,
            "status": self.status,
            "hours": hours,
        }

    def frame(self, lo: int = 0, hi: int | None = None) -> pd.DataFrame:
        """Rows ``lo`` to ``hi`` (default: all) of ``process_records`` as a frame."""
        hi = len(self) if hi is None else hi
        n, w = hi - lo, self.window
        wecom, pending = self.wecom[lo:hi], self.pending[lo:hi]
        seq = pc.utf8_lpad(pc.cast(pa.array(np.arange(lo + 1, hi + 1)), pa.large_string()), 7, "0")
        prefix = pa.array(["OA", "SP"], type=pa.large_string()).take(pa.array(wecom.astype(np.int8)))
        record_id = pc.binary_join_element_wise(prefix, seq, pa.scalar("-", pa.large_string()))
        filer = self.filer[lo:hi]
        finish = np.where(pending, 0, self.finish_s[lo:hi]).astype(np.int64)
        columns = {
            "record_id": pd.Series(record_id, dtype="str"),
            "process": _text(["approval"], np.zeros(n, dtype=np.int8)),
            "department_id": pd.Series(self.dept_ids[self.dept[lo:hi]]),
            "userid": pd.Series(self.userids.take(pa.array(filer, mask=filer < 0)), dtype="str"),
            "started_at": pd.Series(timestamps(w, self.day[lo:hi], self.start_s[lo:hi])),
            "finished_at": pd.Series(timestamps(w, np.zeros(n, dtype=np.int64), finish)).where(~pending),
            "status": _text(list(STATUSES), self.status[lo:hi]),
            "system": _text(["legacy", "wecom"], wecom.astype(np.int8)),
        }
        return pd.DataFrame(columns, copy=False)


def approvals(org: Org, config: DemoConfig, rng: np.random.Generator) -> Approvals:
    """The approval records: how many each day per department, who filed them, their turnaround."""
    w = org.window
    heads = headcount(org)
    rate = np.where(w.working, config.approvals_per_working_day, 0.03 * config.approvals_per_working_day)
    counts = rng.poisson(heads * rate[:, None])
    day, dept = np.nonzero(counts)
    reps = counts[day, dept]
    day = np.repeat(day, reps).astype(np.int32)
    dept = np.repeat(dept, reps).astype(np.int32)
    wecom = day >= org.dept_go_live[dept]
    filer = _filers(org, day, dept, wecom, rng)
    start_s, finish_s, kind = _turnaround(org, config, day, dept, wecom, rng)
    pending = finish_s >= w.n_days * 86400
    status = np.where(pending, 3, kind).astype(np.int8)
    del kind
    sort = np.lexsort((start_s, day))
    userids = pa.array(org.members["userid"].to_numpy(dtype=object), type=pa.large_string())
    return Approvals(
        w,
        org.dept_ids,
        userids,
        *(a[sort] for a in (day, dept, start_s, finish_s, status, filer, wecom, pending)),
    )


def _text(values: list[str], index: np.ndarray) -> pd.Series:
    """A string column built in Arrow from a few values (no Python objects per row)."""
    return pd.Series(pa.array(values, type=pa.large_string()).take(pa.array(index)), dtype="str")


def _turnaround(
    org: Org, config: DemoConfig, day: np.ndarray, dept: np.ndarray, wecom: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start second of the day, finish second from the window's start, kind: 0 approved,
    1 rejected, 2 withdrawn) per record, from the log-normal turnaround model."""
    n = len(day)
    u_dept = rng.normal(0.0, config.department_sigma, size=len(org.dept_ids))
    effect = np.where(org.dept_pilot, np.log(config.pilot_effect), np.log(config.other_effect))
    weeks_in = (day - org.window.rollout_day0) / 28.0
    log_hours = (
        np.log(config.legacy_median_hours)
        + u_dept[dept]
        + np.log(config.drift_per_28_days) * weeks_in
        + effect[dept] * wecom
        + rng.normal(0.0, config.turnaround_sigma, size=n)
    )
    del weeks_in
    start_s = _clock(rng, n, office_share=0.9)
    kind = rng.choice(3, size=n, p=[0.86, 0.09, 0.05])  # approved, rejected, withdrawn
    hours = np.exp(log_hours) * np.where(kind == 2, 0.3, 1.0)
    del log_hours
    finish_s = day.astype(np.float64) * 86400 + start_s + np.rint(hours * 3600)
    return start_s, finish_s, kind.astype(np.int8)


def training(org: Org, plan: RolloutPlan, rng: np.random.Generator) -> pd.DataFrame:
    """Sign-ins at training sessions held on working Tuesdays and Thursdays of the promotion phase."""
    w = org.window
    try:
        phase = plan.phase("promotion")
        first_week, last_week = phase.first_week, phase.last_week
    except ValueError:
        first_week, last_week = 1, plan.last_week
    lo = w.rollout_day0 + 7 * (first_week - 1)
    hi = min(w.rollout_day0 + 7 * last_week, w.n_days)
    days = np.arange(lo, hi)
    weekday = (np.datetime64(w.start, "D") + days).astype("datetime64[D]").view("int64")
    weekday = (weekday + 3) % 7  # Monday = 0
    days = days[np.isin(weekday, (1, 3)) & w.working[days]] if len(days) else days
    units = sorted({b for b in org.dept_branch}, key=lambda b: (b != "总部", b))
    if not len(days):
        return pd.DataFrame(
            {
                "session_id": pd.Series([], dtype="str"),
                "userid": pd.Series([], dtype="str"),
                "date": pd.Series([], dtype="datetime64[s]"),
            }
        )
    unit_of_member = np.array([units.index(org.dept_branch[d]) for d in range(len(org.dept_ids))])[org.mem_dept]
    rows_m, rows_d, rows_u = [], [], []
    for share in (0.45, 0.12):  # most attend one session, some a second
        pick = (org.mem_emp >= 0) & (rng.random(org.n_members) < share)
        m = np.flatnonzero(pick)
        d = days[rng.integers(0, len(days), size=len(m))]
        ok = (org.mem_hire[m] <= d) & (d <= org.mem_leave[m])
        rows_m.append(m[ok])
        rows_d.append(d[ok])
        rows_u.append(unit_of_member[m[ok]])
    m = np.concatenate(rows_m)
    d = np.concatenate(rows_d)
    u = np.concatenate(rows_u)
    day0 = w.start.toordinal()
    session = np.array(
        [f"TR-{dt.date.fromordinal(day0 + int(a)):%Y%m%d}-U{int(b)}" for a, b in zip(d, u, strict=True)], dtype=object
    )
    frame = pd.DataFrame(
        {"session_id": session.astype(object), "userid": org.members["userid"].to_numpy()[m], "date": dates(w, d)}
    )
    return frame.drop_duplicates(["session_id", "userid"]).sort_values(["session_id", "userid"], ignore_index=True)


def tickets(org: Org, rng: np.random.Generator) -> pd.DataFrame:
    """IT tickets, most of them soon after a member registers; most answered within the hour."""
    w = org.window
    activated = np.flatnonzero(org.mem_act < w.n_days)
    around = activated[rng.random(len(activated)) < 0.10]
    day_a = org.mem_act[around] + rng.exponential(3.0, size=len(around)).astype(np.int64)
    n_bg = rng.poisson(0.04 * org.n_members * max(w.n_days - w.rollout_day0, 0) / 84)
    day_b = rng.integers(w.rollout_day0, w.n_days, size=n_bg) if w.n_days > w.rollout_day0 else np.array([], int)
    day = np.concatenate([day_a, day_b])
    day = day[day < w.n_days]
    n = len(day)
    created_s = day * 86400 + _clock(rng, n, office_share=0.92)
    response_min = rng.lognormal(np.log(20.0), 1.0, size=n)
    resolve_min = rng.lognormal(np.log(90.0), 1.1, size=n)
    first_s = created_s + np.rint(response_min * 60).astype(np.int64)
    resolved_s = first_s + np.rint(resolve_min * 60).astype(np.int64)
    end_s = w.n_days * 86400
    no_response = (rng.random(n) < 0.02) | (first_s >= end_s)
    unresolved = no_response | (rng.random(n) < 0.03) | (resolved_s >= end_s)
    order = np.argsort(created_s, kind="stable")
    created_s, first_s, resolved_s, no_response, unresolved = (
        a[order] for a in (created_s, first_s, resolved_s, no_response, unresolved)
    )
    zero = np.zeros(n, dtype=np.int64)
    category = np.asarray(TICKET_CATEGORIES, dtype=object)[rng.choice(len(TICKET_CATEGORIES), size=n, p=TICKET_WEIGHTS)]
    return pd.DataFrame(
        {
            "ticket_id": serials("IT-", np.arange(1, n + 1), 6),
            "created_at": timestamps(w, zero, created_s),
            "first_response_at": pd.Series(timestamps(w, zero, np.where(no_response, 0, first_s))).where(~no_response),
            "resolved_at": pd.Series(timestamps(w, zero, np.where(unresolved, 0, resolved_s))).where(~unresolved),
            "category": category,
        }
    )
