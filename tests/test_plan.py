"""The rollout plan: the shipped plan loads, and each kind of wrong plan is refused clearly."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from wecom_eval.errors import InputError
from wecom_eval.plan import load_plan, parse_plan

REPO = Path(__file__).resolve().parents[1]


def _plan_data() -> dict[str, Any]:
    return yaml.safe_load((REPO / "params" / "rollout.yaml").read_text(encoding="utf-8"))


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(InputError) as info:
        parse_plan(data)
    assert info.value.exit_code == 2
    return str(info.value)


def test_shipped_plan_loads_with_its_dates_and_targets(plan):
    assert plan.start_date == dt.date(2026, 3, 2)
    assert [p.name for p in plan.phases] == ["launch", "promotion", "deepening"]
    assert plan.end_date == dt.date(2026, 5, 24)  # 12 weeks from Monday 2 March
    assert plan.deadline(plan.targets.registration.deadline_day) == dt.date(2026, 3, 31)
    assert plan.targets.daily_active.min_daily_minutes == 30
    assert plan.targets.feature_penetration.features == ["approval", "docs", "customer", "attendance"]


def test_unknown_key_is_named_with_the_fix():
    data = _plan_data()
    data["targets"]["registraton"] = data["targets"].pop("registration")
    message = _refusal(data)
    assert "targets.registraton" in message and "Remove the key or check its spelling" in message
    assert "targets.registration" in message  # and the missing one is named too


def test_date_that_is_not_a_date(tmp_path: Path):
    text = (REPO / "params" / "rollout.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "plan.yaml"
    bad.write_text(text.replace("start_date: 2026-03-02", "start_date: 2026-13-01"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_plan(bad)
    message = str(info.value)
    assert "start_date" in message and "'2026-13-01'" in message and "YYYY-MM-DD" in message


def test_share_above_one_suggests_a_fraction():
    data = _plan_data()
    data["targets"]["daily_active"]["target"] = 60
    message = _refusal(data)
    assert "targets.daily_active.target" in message and "60" in message and "write 0.6 for 60 %" in message


def test_deadline_before_the_start():
    data = _plan_data()
    data["targets"]["registration"]["deadline_day"] = 0
    assert "targets.registration.deadline_day" in _refusal(data)


def test_phases_with_a_gap_are_refused():
    data = _plan_data()
    data["phases"][2]["first_week"] = 10
    assert "deepening" in _refusal(data)


def test_weights_must_sum_to_one():
    data = _plan_data()
    data["best_department"]["weights"]["feedback"] = 0.5
    assert "sum to 1" in _refusal(data)


def test_pilot_department_that_does_not_exist(plan):
    known = [(1, "示例集团"), (2, "总部"), (3, "总部/行政部"), (4, "总部/销售部")]
    assert plan.resolve_pilots(known) == {3, 4}
    data = copy.deepcopy(_plan_data())
    data["departments"]["pilot"] = ["总部/行政部", "总部/销售"]
    with pytest.raises(InputError) as info:
        parse_plan(data).resolve_pilots(known)
    message = str(info.value)
    assert "departments.pilot[1]" in message and "'总部/销售'" in message and "总部/销售部" in message


def test_malformed_yaml_names_the_line(tmp_path: Path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("start_date: 2026-03-02\nphases: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        load_plan(bad)


def test_missing_file_says_how_to_start(tmp_path: Path):
    with pytest.raises(InputError, match="Copy params/rollout.yaml"):
        load_plan(tmp_path / "nope.yaml")


def test_go_live_weeks_follow_the_plan(plan):
    assert plan.go_live_week("总部/行政部", 3, is_pilot=True) == 1
    assert plan.go_live_week("总部/技术部", 5, is_pilot=False) == 3
    assert plan.go_live_week("华南分公司/销售部", 9, is_pilot=False) == 5
    assert plan.go_live_week("华南分公司销售部", 9, is_pilot=False) == 3  # a prefix must end at a "/"


def test_check_command_exit_codes(tmp_path: Path, capsys):
    from wecom_eval.cli import main

    assert main(["check"]) == 0
    bad = tmp_path / "plan.yaml"
    bad.write_text("start_date: 2026-03-02\n", encoding="utf-8")
    assert main(["check", "--plan", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "phases" in err and "Traceback" not in err


def test_check_names_a_bad_parameter_file_and_its_parameter(tmp_path: Path, capsys):
    from wecom_eval.cli import main

    bad = tmp_path / "weekly.yaml"
    bad.write_text("language: fr\n", encoding="utf-8")
    assert main(["check", "--params", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: language: got 'fr'" in err and "'zh', 'en'" in err
    assert main(["check", "--params", str(REPO / "params" / "weekly.yaml")]) == 0
