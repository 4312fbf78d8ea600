"""The points ledger (restricted) and department totals, on the hand-built organisation (tiny.py).

Fixture plan: register 20, approval 2, docs 2, customer 1, attendance 1, training 10 points;
at most 30 points per employee and week.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis, privacy
from wecom_eval.errors import InputError
from wecom_eval.plan import Points
from wecom_eval.store.feature_uses import refresh_feature_uses

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def ledger(wh):  # noqa: ANN001, ANN201
    return kpis.points_ledger(wh, tiny.plan(1), end=D("2026-03-01"))


def test_ledger_is_restricted_and_traceable(ledger) -> None:  # noqa: ANN001
    assert privacy.is_restricted(ledger)
    assert set(ledger["source_table"]) == {"members", "feature_events", "training_attendance"}
    # every awarded point has an event: registration by userid, feature rows by event_id,
    # training by session/userid
    e01 = ledger.loc[ledger["employee_id"] == "E01"]
    assert e01[["week", "action", "event_id", "points_awarded"]].values.tolist() == [
        [1, "register", "u01", 20],
        [1, "training", "T1/u01", 10],
        [3, "approval", "A3", 2],
        [3, "customer", "C1", 1],
    ]


def test_weekly_cap_cuts_the_event_that_crosses_it(ledger) -> None:  # noqa: ANN001
    e03 = ledger.loc[ledger["employee_id"] == "E03"].set_index("event_id")
    # week 1: registration 20 (02-10 09:00), approval A1 ×8 = 16 (14:00): 10 left under 30;
    # A2 (02-11, 2 points) after the cap: 0, still in the ledger
    assert e03.loc["u03", "points_awarded"] == 20
    assert e03.loc["A1", ["points_earned", "earned_before", "points_awarded"]].tolist() == [16, 20, 10]
    assert (e03.loc["A2", "points_earned"], e03.loc["A2", "points_awarded"]) == (2, 0)
    assert ledger.groupby(["employee_id", "week"])["points_awarded"].sum().max() == 30


def test_what_earns_nothing(ledger) -> None:  # noqa: ANN001
    # 'other' has no rule; the shared account has no employee; E05 never activated; E14 has no member
    assert "O1" not in set(ledger["event_id"]) and "A10" not in set(ledger["event_id"])
    assert not {"E05", "E14"} & set(ledger["employee_id"])
    # E35's member is disabled, but the employee registered and trained: 20 + 10
    assert ledger.loc[ledger["employee_id"] == "E35", "points_awarded"].sum() == 30
    # A9 at 2026-02-21T16:30Z falls on 02-22 in Shanghai: week 2
    assert ledger.set_index("event_id").loc["A9", "week"] == 2


def test_totals_by_department_and_week(wh) -> None:  # noqa: ANN001
    out = kpis.points_by_department(wh, tiny.plan(1), end=D("2026-03-01"))
    got = {
        (r["department"], r["week"]): (r["employees"], r["earners"], r["points"], r["points_over_cap"])
        for r in out.to_dict("records")
    }
    # week 1, 销售部: E01 30, E02 20, E03 30 (8 over the cap), E04 20; 5 on the roster on 02-15
    assert got[("总部/销售部", 1)] == (5, 4, 100, 8)
    # 行政部: E11 20 + 10, E12 20, E13 20, E15 20 (registered 02-09, left 02-12); the employees are
    # E11–E15, everyone on the roster on some day of the week (E15 until 02-12), so the leaver who
    # earned is one of them; E14 (no member) earns nothing
    assert got[("总部/行政部", 1)] == (5, 4, 90, 0)
    # week 3, 华东: E31 20 + 1 + 2, E32 20, E33 20, E34 20 + 1, E35 20 + 10
    assert got[("华东分公司/销售部", 3)] == (5, 5, 114, 0)
    assert got[("华东分公司/销售部", 2)] == (5, 2, 4, 0)  # A8 and A9
    assert got[("总部/法务部", 1)] == (2, 0, 0, 0)
    hidden = kpis.points_by_department(wh, tiny.plan(5), end=D("2026-03-01"))
    assert hidden.loc[hidden["department"] == "总部/法务部", "points"].isna().all()


def test_points_window(wh) -> None:  # noqa: ANN001
    week3 = kpis.points_ledger(wh, tiny.plan(1), start=D("2026-02-23"), end=D("2026-03-01"))
    assert set(week3["week"]) == {3}
    assert week3["points_awarded"].sum() == 23 + 9 + 40 + 114  # 销售部, 行政部, 法务部, 华东 in week 3


def test_unknown_action_in_the_plan_is_named(wh) -> None:  # noqa: ANN001
    plan = tiny.plan(1)
    plan = plan.model_copy(update={"points": Points(per_action={"register": 20, "share_doc": 3}, weekly_cap=60)})
    with pytest.raises(InputError, match="points.per_action.share_doc"):
        kpis.points_ledger(wh, plan, end=D("2026-03-01"))


def _with_leaver_and_joiner(path: Path):  # noqa: ANN202
    """tiny, plus: E15's account left active and used the day after the leave date (X1, 02-13);
    a joiner E07 in 行政部, hired Monday 02-16 (week 2), whose account was activated the Friday
    before (02-13, week 1)."""
    tables = tiny.frames()
    members = tables["members"]
    members.loc[members["userid"] == "u15", "status"] = "1"
    tables["members"] = pd.concat(
        [
            members,
            pd.DataFrame(
                [
                    {
                        "userid": "u07",
                        "employee_id": "E07",
                        "department_id": "12",
                        "status": "1",
                        "activated_at": "2026-02-13T18:00:00+08:00",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    tables["employees"] = pd.concat(
        [
            tables["employees"],
            pd.DataFrame(
                [
                    {
                        "employee_id": "E07",
                        "name": "孔七",
                        "department_id": "12",
                        "hire_date": "2026-02-16",
                        "leave_date": "",
                        "branch": "总部",
                        "role": "专员",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    tables["feature_events"] = pd.concat(
        [
            tables["feature_events"],
            pd.DataFrame(
                [
                    {
                        "event_id": "X1",
                        "userid": "u15",
                        "feature": "approval",
                        "ts": "2026-02-13T10:00:00+08:00",
                        "count": "1",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    return tiny.load(path, tables)


def test_points_only_while_on_the_roster(tmp_path: Path) -> None:
    wh = _with_leaver_and_joiner(tmp_path / "w.duckdb")
    ledger = kpis.points_ledger(wh, tiny.plan(1), end=D("2026-03-01")).set_index("event_id")
    # X1 was done on E15's account after the leave date (02-12): no points, not in the ledger
    assert "X1" not in ledger.index
    # E07's activation (02-13, before the hire date) counts on the hire date 02-16: week 2
    assert ledger.loc["u07", ["employee_id", "week", "points_awarded"]].tolist() == ["E07", 2, 20]
    wh.close()


def test_a_use_before_the_hire_date_counts_in_a_range_that_starts_at_the_hire(tmp_path: Path) -> None:
    wh = _with_leaver_and_joiner(tmp_path / "w.duckdb")
    wh.load(
        "feature_events",
        pd.DataFrame(
            [
                {
                    "event_id": "J1",
                    "userid": "u07",
                    "feature": "approval",
                    "ts": "2026-02-12T10:00:00+08:00",
                    "count": "1",
                }
            ]
        ),
        source="a pull",
    )
    # the range of week 2 only: J1 (02-12, before E07's hire on 02-16) is dated on the hire date,
    # read from the raw events and with the feature uses bounding what is read before the range
    for refresh in (False, True):
        if refresh:
            refresh_feature_uses(wh)
        ledger = kpis.points_ledger(wh, tiny.plan(1), start=D("2026-02-16"), end=D("2026-02-22")).set_index("event_id")
        assert ledger.loc["J1", ["employee_id", "week"]].tolist() == ["E07", 2]
        assert "A1" not in ledger.index  # E03's approval of 02-10 stays in week 1
    wh.close()


def test_earners_are_among_the_employees_of_their_week(tmp_path: Path) -> None:
    # Regression: the employees were counted on the week's last day while anyone awarded points
    # in the week was an earner, so a leaver (or a joiner registered before the hire date) made
    # 行政部 show more earners than employees.
    wh = _with_leaver_and_joiner(tmp_path / "w.duckdb")
    out = kpis.points_by_department(wh, tiny.plan(1), end=D("2026-03-01"))
    got = {(r["department"], r["week"]): (r["employees"], r["earners"], r["points"]) for r in out.to_dict("records")}
    # week 1: on the roster some day of 02-09 – 02-15: E11–E15 (E07 is hired 02-16); earners E11 30,
    # E12 20, E13 20, E15 20 (registered 02-09, left 02-12); X1 (02-13) earns nothing
    assert got[("总部/行政部", 1)] == (5, 4, 90)
    # week 2: E11–E14 and E07 (E15 has left); E07 earns the registration, 20
    assert got[("总部/行政部", 2)] == (5, 1, 20)
    assert (out["earners"] <= out["employees"]).all()
    company = kpis.points_by_department(wh, tiny.plan(1), end=D("2026-03-01"), by="company")
    assert (company["earners"] <= company["employees"]).all()
    # every department's week adds up to the company's
    assert company.set_index("week")["employees"].to_dict() == out.groupby("week")["employees"].sum().to_dict()
    wh.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from wecom_eval.demo import DemoConfig, build_demo
    from wecom_eval.home import Home
    from wecom_eval.plan import Privacy, load_plan
    from wecom_eval.store.warehouse import Warehouse

    plan = load_plan(Path(__file__).resolve().parent.parent / "params" / "rollout.yaml")
    home = Home.from_env(tmp_path_factory.mktemp("demo"))
    build_demo(home, DemoConfig(), plan)  # the default demo, where the review found 29 earners of 28 people
    wh = Warehouse(home.warehouse, read_only=True)
    yield wh, plan.model_copy(update={"privacy": Privacy(min_group_size=1)})
    wh.close()


def test_demo_earners_never_outnumber_employees(demo) -> None:  # noqa: ANN001
    wh, plan = demo
    end = wh.query("SELECT MAX(date) AS d FROM member_days")["d"].iloc[0].date()
    out = kpis.points_by_department(wh, plan, end=end)
    assert (out["earners"] <= out["employees"]).all(), out.loc[out["earners"] > out["employees"]]
    # the earners are exactly the distinct employees awarded points in the ledger that week …
    ledger = kpis.points_ledger(wh, plan, end=end)
    paid = ledger.loc[ledger["points_awarded"] > 0]
    want = paid.groupby(["department_id", "week"])["employee_id"].nunique()
    got = out.set_index(["department_id", "week"])["earners"]
    assert got[got > 0].to_dict() == want.to_dict()
    # … and on the roster that week, leavers included: the case the review found (not vacuous)
    roster = wh.frame("employees").set_index("employee_id")
    paid = paid.join(roster[["hire_date", "leave_date"]], on="employee_id")
    week_end = pd.to_datetime(paid["week_start"]) + pd.Timedelta(days=6)
    left_that_week = paid["leave_date"].notna() & (paid["leave_date"] < week_end)
    assert left_that_week.any()
    assert (paid["leave_date"].isna() | (paid["leave_date"] >= pd.to_datetime(paid["week_start"]))).all()
