"""The KPIs computed from the warehouse equal the ground truth the demo generator recorded.

The generator (wecom_eval.demo) writes, beside the data, the realised figures under the same
definitions (``truth["definitions"]``); every figure here must agree exactly (to rounding).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from wecom_eval import kpis
from wecom_eval.demo import DemoConfig, build_demo
from wecom_eval.home import Home
from wecom_eval.plan import Privacy, RolloutPlan
from wecom_eval.store.rollups import refresh_rollups
from wecom_eval.store.warehouse import Warehouse

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, plan: RolloutPlan) -> Any:  # noqa: ANN401
    home = Home.from_env(tmp_path_factory.mktemp("demo"))
    summary = build_demo(home, DemoConfig(employees=600, baseline_weeks=2, rollout_weeks=6), plan)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    wh = Warehouse(home.warehouse)
    refresh_rollups(wh, plan)
    open_plan = plan.model_copy(update={"privacy": Privacy(min_group_size=1)})  # compare every department
    yield wh, truth, open_plan
    wh.close()


def test_registration_matches_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    reg = truth["registration"]
    as_of = D(reg["as_of"])
    company = kpis.registration_rate(wh, plan, data_through=as_of, by="company").iloc[0]
    assert (company["employees"], company["registered"]) == (reg["company"]["roster"], reg["company"]["registered"])
    by_dep = kpis.registration_rate(wh, plan, data_through=as_of, by="department")
    got = {str(r["department_id"]): (r["employees"], r["registered"]) for r in by_dep.to_dict("records")}
    assert got == {k: (v["roster"], v["registered"]) for k, v in reg["by_department"].items()}
    weekly = kpis.registration_trend(wh, plan, start=plan.start_date, end=D(reg["weekly"][-1]["date"]), by="company")
    assert weekly["registered"].tolist() == [w["registered"] for w in reg["weekly"]]
    assert weekly["employees"].tolist() == [w["roster"] for w in reg["weekly"]]


def test_weekly_activity_matches_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    end = D(truth["window"]["end"])
    company = kpis.weekly_activity(wh, plan, start=plan.start_date, end=end, by="company")
    assert company.attrs["from_rollups"]
    for row, want in zip(company.to_dict("records"), truth["activity"]["weekly"], strict=True):
        assert row["week"] == want["week"] and row["working_days"] == want["working_days"]
        assert row["active_rate"] == pytest.approx(want["active_rate"], abs=1e-12)
        assert row["engaged_rate"] == pytest.approx(want["engaged_rate"], abs=1e-12)
    by_dep = kpis.weekly_activity(wh, plan, start=plan.start_date, end=end, by="department")
    checked = 0
    for dep_id, weeks in truth["activity"]["by_department_weekly"].items():
        mine = by_dep.loc[by_dep["department_id"] == int(dep_id)].set_index("week")
        for want in weeks:
            if want["active_rate"] is None:
                assert (
                    want["week"] not in mine.index
                    or mine.loc[want["week"], "active_rate"] != mine.loc[want["week"], "active_rate"]
                )  # NaN
                continue
            assert mine.loc[want["week"], "active_rate"] == pytest.approx(want["active_rate"], abs=1e-12)
            if want["engaged_rate"] is None:
                assert not mine.loc[want["week"], "engaged_measured"]
            else:
                assert mine.loc[want["week"], "engaged_rate"] == pytest.approx(want["engaged_rate"], abs=1e-12)
            checked += 1
    assert checked > 50


def test_not_measured_departments_match_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    end = D(truth["window"]["end"])
    by_dep = kpis.weekly_activity(wh, plan, start=end, end=end, by="department")
    unmeasured = set(by_dep.loc[by_dep["engaged_measured"] == False, "department_id"].astype(int))  # noqa: E712
    assert unmeasured == set(truth["activity"]["not_measured_departments"])
    assert by_dep.loc[by_dep["department_id"].isin(unmeasured), "engaged_rate"].isna().all()


def test_daily_activity_matches_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    daily = kpis.daily_activity(wh, plan, start=plan.start_date, end=D(truth["window"]["end"]), by="company")
    got = {
        r["date"].isoformat(): (r["registered"], r["active"], r["measured"], r["engaged"])
        for r in daily.to_dict("records")
    }
    for want in truth["activity"]["daily"]:
        assert got[want["date"]] == (want["registered"], want["active"], want["registered_measured"], want["engaged"])


def test_penetration_matches_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    pen = truth["penetration"]
    as_of = D(pen["as_of"])
    company = kpis.feature_penetration(wh, plan, data_through=as_of, by="company").set_index("feature")
    for feature, want in pen["features"].items():
        assert (company.loc[feature, "eligible"], company.loc[feature, "users"]) == (want["eligible"], want["users"])
    by_dep = kpis.feature_penetration(wh, plan, data_through=as_of, by="department")
    for feature, deps in pen["by_department"].items():
        mine = by_dep.loc[(by_dep["feature"] == feature) & (by_dep["eligible"] > 0)]
        got = {str(r["department_id"]): (r["eligible"], r["users"]) for r in mine.to_dict("records")}
        assert got == {k: (v["eligible"], v["users"]) for k, v in deps.items()}


def test_support_and_reconciliation_match_the_truth(demo: Any) -> None:  # noqa: ANN401
    wh, truth, plan = demo
    end = D(truth["window"]["end"])
    # a cut-off after the data window, so that every ticket's window has closed (the truth
    # divides by all tickets)
    support = kpis.it_support(wh, plan, start=D(truth["window"]["start"]), end=end + dt.timedelta(days=30))
    assert support["tickets"].sum() == truth["tickets"]["n"]
    assert support["answered_within_1h"].sum() / support["tickets"].sum() == pytest.approx(
        truth["tickets"]["answered_within_1h"]
    )
    assert support["resolved_within_4h"].sum() / support["tickets"].sum() == pytest.approx(
        truth["tickets"]["resolved_within_4h"]
    )
    anomalies = truth["anomalies"]
    recon = kpis.reconcile(wh, plan, data_through=end)
    assert sorted(recon.lists["members_without_employee"]["userid"]) == sorted(anomalies["shared_accounts"])
    # moved in HR but not in WeCom (those whose employee has left by then are no longer listed)
    mismatched = set(recon.lists["department_mismatch"]["userid"])
    assert mismatched and mismatched <= set(anomalies["department_mismatch"])
    employees_without = set(recon.lists["employees_without_member"]["employee_id"])
    assert employees_without <= set(anomalies["employees_without_member"])
