"""Registration rate against the roster, over time, and the restricted straggler list.

Every expected number is worked out by hand from tests/fixtures/kpis/tiny (see tiny.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis, privacy

D = dt.date.fromisoformat


def _by(frame, key):  # noqa: ANN001, ANN202
    return {(r[key], r["data_through"]): (r["employees"], r["registered"]) for r in frame.to_dict("records")}


def test_company_rate_counts_joiners_leavers_and_branches(wh) -> None:  # noqa: ANN001
    out = kpis.registration_rate(
        wh, tiny.plan(1), data_through=[D("2026-02-13"), D("2026-02-23"), D("2026-02-27")], by="company"
    )
    got = {r["data_through"]: (r["employees"], r["registered"]) for r in out.to_dict("records")}
    # 02-13: on the roster 5 (销售部 E01–E05; E06 is hired 02-24) + 4 (行政部: E15's last day was
    # 02-12) + 2 (法务部) + 5 (华东, a branch) = 16; registered E01–E04, E11–E13 = 7.
    assert got[D("2026-02-13")] == (16, 7)
    # 02-23: same 16; registered 7 + u21 (02-23) + u31, u32, u33, u35 (02-23; u35 disabled later
    # still counts) = 12. u22 activated 2026-02-23T16:30Z = 02-24 00:30 in Shanghai: not yet.
    assert got[D("2026-02-23")] == (16, 12)
    # 02-27: 17 with the joiner E06; 12 + u22 (02-24) + u34 (02-26) + u06 (02-25) = 15.
    assert got[D("2026-02-27")] == (17, 15)
    assert out.loc[out["data_through"] == D("2026-02-27"), "registration_rate"].item() == pytest.approx(15 / 17)
    assert out.loc[out["data_through"] == D("2026-02-27"), "unregistered"].item() == 2


def test_by_department_uses_the_roster_department(wh) -> None:  # noqa: ANN001
    out = kpis.registration_rate(wh, tiny.plan(1), data_through=D("2026-02-27"), by="department")
    got = {r["department"]: (r["employees"], r["registered"]) for r in out.to_dict("records")}
    # 行政部: E11–E14 on the roster; E13's member sits in 销售部 in WeCom but counts here; E14 has
    # no member: 3 of 4. 销售部: E01–E06, E05 never activated: 5 of 6.
    assert got == {"总部/销售部": (6, 5), "总部/行政部": (4, 3), "总部/法务部": (2, 2), "华东分公司/销售部": (5, 5)}


def test_by_branch(wh) -> None:  # noqa: ANN001
    out = kpis.registration_rate(wh, tiny.plan(1), data_through=D("2026-02-27"), by="branch")
    assert {r["branch"]: (r["employees"], r["registered"]) for r in out.to_dict("records")} == {
        "总部": (12, 10),
        "华东分公司": (5, 5),
    }


def test_small_departments_are_hidden(wh) -> None:  # noqa: ANN001
    out = kpis.registration_rate(wh, tiny.plan(5), data_through=D("2026-02-27"), by="department")
    hidden = set(out.loc[out["suppressed"], "department"])
    # 行政部 (4) and 法务部 (2) are under 5; together they describe 6, so nothing else is needed
    assert hidden == {"总部/行政部", "总部/法务部"}
    assert out.loc[out["suppressed"], ["employees", "registered", "registration_rate"]].isna().all().all()


def test_trend_reads_each_week_end_and_the_last_day(wh) -> None:  # noqa: ANN001
    out = kpis.registration_trend(wh, tiny.plan(1), start=D("2026-02-09"), end=D("2026-02-27"), by="company")
    assert out["data_through"].tolist() == [D("2026-02-15"), D("2026-02-22"), D("2026-02-27")]
    assert out["week"].tolist() == [1, 2, 3]
    # 02-15 and 02-22: 16 on the roster, the same 7 registered (nobody activates in the holiday)
    assert out["registered"].tolist() == [7, 7, 15]


def test_stragglers_are_a_restricted_named_list(wh) -> None:  # noqa: ANN001
    out = kpis.stragglers(wh, tiny.plan(5), data_through=D("2026-02-27"))
    assert privacy.is_restricted(out)
    rows = {r["employee_id"]: r for r in out.to_dict("records")}
    assert set(rows) == {"E05", "E14"}
    assert rows["E05"]["member_state"] == "not activated" and rows["E05"]["userid"] == "u05"
    assert rows["E05"]["days_since_go_live"] == 18  # 销售部 live since 02-09
    assert rows["E14"]["member_state"] == "no member" and rows["E14"]["days_since_go_live"] == 4  # live 02-23
    assert rows["E14"]["name"] == "陈四"
    late = kpis.stragglers(wh, tiny.plan(5), data_through=D("2026-02-27"), grace_days=7)
    assert late["employee_id"].tolist() == ["E05"]


def test_activation_after_the_day_is_not_yet_registration(wh) -> None:  # noqa: ANN001
    out = kpis.stragglers(wh, tiny.plan(5), data_through=D("2026-02-24"))
    state = dict(zip(out["employee_id"], out["member_state"], strict=True))
    # u06's employee was hired 02-24 and activates 02-25; u34 activates 02-26
    assert state["E06"] == "activated after data_through" and state["E34"] == "activated after data_through"


def test_no_roster_falls_back_to_members_with_a_note(tmp_path: Path) -> None:
    tables = tiny.frames()
    tables.pop("employees")
    tables["members"]["employee_id"] = ""
    for name in ("training_attendance",):
        tables.pop(name)
    wh = tiny.load(tmp_path / "w.duckdb", tables)
    out = kpis.registration_rate(wh, tiny.plan(1), data_through=D("2026-02-27"), by="company")
    # members not gone (status 5: u15 excluded) = 17; activated by 02-27: all but u05 = 16
    assert (out["employees"].item(), out["registered"].item()) == (17, 16)
    assert "No HR roster" in out.attrs["notes"][0]
    wh.close()


def test_bad_arguments_are_clear(wh) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="by='team'"):
        kpis.registration_rate(wh, tiny.plan(5), data_through=D("2026-02-27"), by="team")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        kpis.registration_rate(wh, tiny.plan(5), data_through="27/02/2026")  # type: ignore[arg-type]


def test_a_half_read_result_on_the_connection_does_not_block_the_kpis(wh) -> None:  # noqa: ANN001
    assert wh.count("members") == 18  # fetchone(): DuckDB 2 keeps that result open
    out = kpis.registration_rate(wh, tiny.plan(1), data_through=D("2026-02-27"), by="company")
    assert out["registered"].item() == 15
