"""The pilot's efficiency effect from the warehouse agrees with the demo generator's truth."""

from __future__ import annotations

import json
import math

import pytest

from wecom_eval.demo import DemoConfig, build_demo
from wecom_eval.reporting import efficiency
from wecom_eval.warehouse import open_reader


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from wecom_eval.home import Home
    from wecom_eval.plan import load_plan

    home = Home.from_env(tmp_path_factory.mktemp("eff-home"))
    plan = load_plan(home.plan)
    build_demo(home, DemoConfig(employees=600), plan)
    truth = json.loads((home.demo / "truth.json").read_text(encoding="utf-8"))
    with open_reader(home) as wh:
        records = efficiency.turnaround_records(wh, plan, end=plan.end_date)
    return plan, truth, records


def test_launch_sample_is_the_generators_launch_comparison(demo):
    plan, truth, records = demo
    launch = truth["efficiency"]["realised"]["launch_did"]
    sample, design = efficiency.launch_sample(records, plan)
    cells = efficiency.cell_means(sample).set_index(["treated", "post"])
    for (treated, post), name in (((1, 0), "pilot_pre"), ((1, 1), "pilot_post"), ((0, 0), "control_pre"),
                                  ((0, 1), "control_post")):
        assert cells.loc[(treated, post), "records"] == launch[name]["n"]
        assert cells.loc[(treated, post), "mean_log"] == pytest.approx(launch[name]["mean_log_hours"], rel=1e-12)
    assert [str(d) for d in design.after] == launch["post"]


def test_pilot_effect_equals_the_truth_and_its_interval_holds_the_planted_effect(demo):
    plan, truth, records = demo
    result, _ = efficiency.pilot_did(records, plan, n_boot=999)
    assert result.estimate == pytest.approx(truth["efficiency"]["realised"]["launch_did"]["log_effect"], rel=1e-9)
    row = efficiency.efficiency_row(result, plan, language="zh")
    assert row["estimate"] == pytest.approx(1 - math.exp(result.estimate))
    assert row["ci_low"] <= truth["efficiency"]["true"]["pilot_gain"] <= row["ci_high"]
    assert row["verdict"] in ("met", "not_yet_shown") and "随机化推断" in row["method"]


def test_working_hours_are_never_zero(demo):
    _plan, _truth, records = demo
    assert (records["working_hours"] > 0).all() and (records["hours"] > 0).all()
