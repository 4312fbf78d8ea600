"""Org reconciliation: the HR roster against the WeCom members (tiny.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from kpis_tiny_fixture import tiny

from wecom_eval import kpis, privacy

D = dt.date.fromisoformat


def test_counts_and_restricted_lists(wh) -> None:  # noqa: ANN001
    r = kpis.reconcile(wh, tiny.plan(1), data_through=D("2026-02-27"))
    counts = dict(zip(r.summary["check"], r.summary["count"], strict=True))
    assert counts == {
        "employees_without_member": 1,  # E14
        "members_without_employee": 1,  # shared1
        "department_mismatch": 1,  # E13 in 行政部, u13 in 销售部
        "leavers_still_active": 0,  # E15 left, u15 is status 5
        "disabled_or_left_while_employed": 1,  # u35 disabled, E35 still employed
        "duplicate_members": 0,
        "inconsistent_status": 0,
        "departments_without_members": 0,
        "departments_without_employees": 0,
    }
    assert not r.clean
    assert r.lists["employees_without_member"]["employee_id"].tolist() == ["E14"]
    mismatch = r.lists["department_mismatch"].iloc[0]
    assert (mismatch["roster_department"], mismatch["wecom_department"]) == ("总部/行政部", "总部/销售部")
    assert all(privacy.is_restricted(frame) for frame in r.lists.values())
    assert not privacy.is_restricted(r.summary)


def test_by_department(wh) -> None:  # noqa: ANN001
    r = kpis.reconcile(wh, tiny.plan(1), data_through=D("2026-02-27"))
    admin = r.by_department.set_index("department").loc["总部/行政部"]
    # roster E11–E14 (E15 gone); WeCom accounts there: u11, u12, shared1 (u15 is 'left')
    assert (admin["employees"], admin["members"], admin["employees_without_member"], admin["department_mismatch"]) == (
        4,
        3,
        1,
        1,
    )
    hidden = kpis.reconcile(wh, tiny.plan(5), data_through=D("2026-02-27")).by_department.set_index("department")
    assert hidden.loc["总部/法务部", "suppressed"] and hidden["employees"].isna().sum() >= 2


def test_access_risks_and_duplicates(wh, tmp_path: Path) -> None:  # noqa: ANN001
    tables = tiny.frames()
    members = tables["members"]
    members.loc[members["userid"] == "u15", "status"] = "1"  # the leaver's account still active
    extra = members.loc[members["userid"] == "u01"].assign(userid="u01b", status="4", activated_at="")
    tables["members"] = pd.concat([members, extra], ignore_index=True)
    other = tiny.load(tmp_path / "w.duckdb", tables)
    r = kpis.reconcile(other, tiny.plan(1), data_through=D("2026-02-27"))
    counts = dict(zip(r.summary["check"], r.summary["count"], strict=True))
    assert counts["leavers_still_active"] == 1 and counts["duplicate_members"] == 1
    assert r.lists["duplicate_members"]["userid"].tolist() == ["u01", "u01b"]
    # a second, never-activated account does not change E01's registration
    reg = kpis.registration_rate(other, tiny.plan(1), data_through=D("2026-02-27"), by="company")
    assert reg["registered"].item() == 15
    other.close()
