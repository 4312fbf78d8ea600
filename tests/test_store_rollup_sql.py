"""The fold statements (``store/rollup_sql.py``) against a plain pandas fold of the same rows.

A messy warehouse drawn at random (seeded) over 70 weeks, more than one 64-week word of the
weekly fold: member-days before the rollout start, members without activity, roster leavers
with rows after their last day, rows before activation, two members for one person, a shared
account without an employee, a never-activated member with rows, WeCom departments that
differ from the roster's, a source without minutes, days without any row, and a member moving
to another department. The reference below is written from the definitions in
``kpis/queries.py`` with pandas, independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis
from wecom_eval.plan import RolloutPlan
from wecom_eval.store import rollup_sql
from wecom_eval.store.rollup_sql import department_weeks, week_words
from wecom_eval.store.rollups import refresh_rollups, rollup_info
from wecom_eval.store.warehouse import Warehouse

FIRST, LAST = dt.date(2025, 10, 6), dt.date(2027, 2, 7)  # 70 weeks; the plan starts 2026-02-09
DEPARTMENTS = (11, 12, 13, 21)


def messy(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_days = (LAST - FIRST).days + 1
    day = [FIRST + dt.timedelta(days=int(i)) for i in range(n_days)]
    employees, members = [], []
    for i in range(1, 31):
        hired = day[int(rng.integers(0, 200))] if i % 5 == 0 else dt.date(2024, 1, 1)
        left = day[int(rng.integers(150, n_days))] if i % 6 == 0 else None
        employees.append((f"E{i:02d}", f"员工{i}", int(rng.choice(DEPARTMENTS)), hired, left, "总部", None))
        status = 4 if i == 29 else (5 if left else 1)
        activated = None if status == 4 else day[int(rng.integers(0, 300))]
        members.append((f"u{i:02d}", f"E{i:02d}", int(rng.choice(DEPARTMENTS)), status, activated))
    members.append(("u31", "E05", 12, 1, day[40]))  # a second member for one person
    members.append(("u32", None, 21, 1, day[3]))  # a shared account
    members.append(("u33", "E13", 13, 1, LAST + dt.timedelta(days=10)))  # activated after the data ends
    rows = []
    silent = {"u27", "u28"}  # members without a single member-day
    gaps = set(rng.choice(n_days, size=6, replace=False).tolist())  # days without any row
    for userid, _, department, _, _ in members:
        if userid in silent:
            continue
        for d in range(n_days):
            if d in gaps or rng.random() < 0.3:
                continue
            active = bool(rng.random() < 0.55)
            if department == 21:  # this source gives no minutes
                rows.append((day[d], userid, active, None, "api_log"))
            else:
                minutes = None if rng.random() < 0.05 else (int(rng.integers(1, 120)) if active else 0)
                rows.append((day[d], userid, active, minutes, "admin_export"))
    cols = {
        "employees": ["employee_id", "name", "department_id", "hire_date", "leave_date", "branch", "role"],
        "members": ["userid", "employee_id", "department_id", "status", "activated_at"],
        "member_days": ["date", "userid", "active", "minutes", "source"],
    }
    frames = {
        "departments": tiny.frames()["departments"].assign(go_live_date=""),
        "employees": pd.DataFrame(employees, columns=cols["employees"]),
        "members": pd.DataFrame(members, columns=cols["members"]),
        "member_days": pd.DataFrame(rows, columns=cols["member_days"]),
    }
    at = frames["members"]["activated_at"]
    frames["members"]["activated_at"] = [None if a is None else f"{a}T09:00:00+08:00" for a in at]
    return frames


def reference(frames: dict[str, pd.DataFrame], plan: RolloutPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Department-days and department-weeks by the definitions, row by row."""
    m = frames["members"].merge(frames["employees"], on="employee_id", how="left", suffixes=("", "_e"))
    m = m[m["activated_at"].notna() & (m["status"] != 4)].copy()
    m["act"] = [dt.date.fromisoformat(a[:10]) for a in m["activated_at"]]
    m["reg_from"] = [max(h, a) if isinstance(h, dt.date) else a for h, a in zip(m["hire_date"], m["act"], strict=True)]
    m["reg_to"] = [x if isinstance(x, dt.date) else dt.date.max for x in m["leave_date"]]
    md = frames["member_days"]
    first, last = md["date"].min(), md["date"].max()
    spans = m[(m["reg_to"] >= m["act"]) & (m["reg_from"] <= last) & (m["reg_to"] >= first)]
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    rows = md.merge(spans[["userid", "department_id", "reg_from", "reg_to"]], on="userid")
    rows = rows[(rows["date"] >= rows["reg_from"]) & (rows["date"] <= rows["reg_to"])].copy()
    rows["engaged"] = rows["active"] & (rows["minutes"].fillna(-1) >= plan.targets.daily_active.min_daily_minutes)
    rows["known"] = rows["minutes"].notna()
    rows["inactive_unknown"] = ~rows["active"] & rows["minutes"].isna()
    gives = rows.groupby(["date", "source"])["known"].any().rename("gives").reset_index()
    rows = rows.merge(gives, on=["date", "source"])
    rows["measured_row"] = rows["known"] | (rows["gives"] & rows["inactive_unknown"])
    out = []
    for dept in sorted(spans["department_id"].unique()):
        s = spans[spans["department_id"] == dept]
        r = rows[rows["department_id"] == dept]
        for d in days:
            registered = int(((s["reg_from"] <= d) & (s["reg_to"] >= d)).sum())
            x = r[r["date"] == d]
            measured = int(x["measured_row"].sum())
            measured += registered - len(x) if measured > 0 else 0
            out.append((dept, d, registered, len(x), int(x["active"].sum()), int(x["engaged"].sum()), measured))
    cols = ["department_id", "date", "registered", "with_row", "active", "engaged", "measured"]
    dd = pd.DataFrame(out, columns=cols)
    act = rows[rows["active"]].copy()
    act["week_start"] = [
        plan.start_date + dt.timedelta(days=7 * ((d - plan.start_date).days // 7)) for d in act["date"]
    ]
    dw = act.groupby(["department_id", "week_start"])["userid"].nunique().rename("active_users").reset_index()
    return dd, dw


def stored(wh: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    dd = wh.query("SELECT * FROM kpi_department_days ORDER BY department_id, date")
    dw = wh.query("SELECT * FROM kpi_department_weeks ORDER BY department_id, week_start")
    dd["date"], dw["week_start"] = dd["date"].dt.date, dw["week_start"].dt.date
    return dd, dw


def _same(wh: Warehouse, frames: dict[str, pd.DataFrame], plan: RolloutPlan) -> None:
    want_days, want_weeks = reference(frames, plan)
    got_days, got_weeks = stored(wh)
    assert len(want_weeks) > 0 and want_weeks["week_start"].nunique() > 64  # two words of weeks
    pd.testing.assert_frame_equal(got_days, want_days, check_dtype=False)
    pd.testing.assert_frame_equal(got_weeks, want_weeks, check_dtype=False)


@pytest.fixture(scope="module")
def plan() -> RolloutPlan:
    return tiny.plan(1)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return messy()


def _typed(frames: dict[str, pd.DataFrame], wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The frames as the warehouse stores them (dates as dates), for the reference."""
    out = {name: wh.frame(name) for name in ("employees", "members")}
    md = wh.query("SELECT date, userid, active, minutes, source FROM member_days ORDER BY date, userid")
    md["date"] = md["date"].dt.date
    md["minutes"] = md["minutes"].astype("Float64")
    for name, col in (("employees", "hire_date"), ("employees", "leave_date")):
        out[name][col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in out[name][col]]
    out["members"]["activated_at"] = [
        None if pd.isna(v) else pd.Timestamp(v).tz_convert("Asia/Shanghai").isoformat()
        for v in out["members"]["activated_at"]
    ]
    return {**out, "member_days": md}


def test_the_fold_equals_a_plain_fold_of_a_messy_warehouse(tmp_path: Path, plan: RolloutPlan, frames) -> None:  # noqa: ANN001
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.load_many(frames, source="messy")
    refresh_rollups(wh, plan)
    _same(wh, _typed(frames, wh), plan)
    # a member moves to another department in WeCom: the rollups are rebuilt, by the new department
    moved = frames["members"].copy()
    moved.loc[moved["userid"] == "u03", "department_id"] = 13 if moved.loc[2, "department_id"] != 13 else 11
    wh.load("members", moved, source="moved")
    assert not rollup_info(wh, plan).fresh  # type: ignore[union-attr]
    assert refresh_rollups(wh, plan).refreshed_days is None
    _same(wh, _typed(frames, wh), plan)
    wh.close()


def test_folded_on_the_fly_equals_the_rollups_on_a_messy_warehouse(
    tmp_path: Path,
    plan: RolloutPlan,
    frames,  # noqa: ANN001
) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.load_many(frames, source="messy")
    start, end = dt.date(2026, 2, 9), dt.date(2027, 2, 7)
    inline = {by: kpis.weekly_activity(wh, plan, start=start, end=end, by=by) for by in ("department", "company")}
    daily = kpis.daily_activity(wh, plan, start=start, end=end)
    refresh_rollups(wh, plan)
    for by, frame in inline.items():
        rolled = kpis.weekly_activity(wh, plan, start=start, end=end, by=by)
        assert rolled.attrs["from_rollups"] and not frame.attrs["from_rollups"]
        pd.testing.assert_frame_equal(rolled, frame)
    pd.testing.assert_frame_equal(kpis.daily_activity(wh, plan, start=start, end=end), daily)
    wh.close()


def test_more_words_than_needed_change_nothing(
    tmp_path: Path,
    plan: RolloutPlan,
    frames,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert week_words(FIRST, LAST) == 2 and week_words(FIRST, FIRST + dt.timedelta(days=7 * 63)) == 1
    with pytest.raises(ValueError, match="words=0"):
        department_weeks(0)
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.load_many(frames, source="messy")
    refresh_rollups(wh, plan)
    two = stored(wh)
    monkeypatch.setattr(rollup_sql, "week_words", lambda start, end: 4)
    refresh_rollups(wh, plan, force=True)
    for a, b in zip(stored(wh), two, strict=True):
        pd.testing.assert_frame_equal(a, b)
    wh.close()
