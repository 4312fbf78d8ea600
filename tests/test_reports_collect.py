"""What notebooks hand to the exporter: shown tables (with the privacy floor), figures, KPIs."""

from __future__ import annotations

import datetime as dt
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from wecom_eval.privacy import mark_restricted
from wecom_eval.reporting import collect
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.floor import enforce_floor
from wecom_eval.reporting.params import validate_params
from wecom_eval.reporting.records import jsonable

TARGETS = pd.DataFrame(
    {
        "kpi": ["registration", "daily_active", "feature_penetration", "satisfaction", "pilot_efficiency"],
        "target": [1.0, 0.6, 0.8, 4.5, 0.3],
        "deadline": [dt.date(2026, 3, 31), None, None, None, None],
        "estimate": [0.97, 0.62, 0.7, 4.1, 0.4],
        "ci_low": [None, 0.6, 0.68, 4.0, 0.31],
        "ci_high": [None, 0.64, 0.72, 4.2, 0.5],
        "confidence": [0.9] * 5,
        "verdict": ["missed", "met", "not_yet_shown", "missed", "met"],
        "unit": ["share", "share", "share", "score", "share"],
        "n": [100, 90, 100, 80, 12],
    }
)


@pytest.fixture
def report(home, tmp_path):
    run_dir = tmp_path / "run"
    return Report("weekly", validate_params("weekly", {"as_of": "2026-05-25"}), home=home, run_dir=run_dir)


def test_small_groups_and_a_complementary_sibling_are_hidden():
    frame = pd.DataFrame({"department": ["a", "b", "c", "d"], "n": [3, 40, 7, 25], "rate": [1.0, 0.5, 0.7, 0.6]})
    out, hidden = enforce_floor(frame, people="n", floor=5)
    # the 3-person row is below the floor; with a published total it could be worked out from the
    # others, so the smallest remaining row (7) is hidden too (privacy.suppress's complementary rule)
    assert hidden == 2
    assert out["rate"].isna().tolist() == [True, False, True, False]
    assert out["n"].isna().tolist() == [True, False, True, False]
    assert out["department"].tolist() == ["a", "b", "c", "d"]
    assert frame["rate"].notna().all()  # the input is unchanged


def test_rows_a_kpi_function_already_hid_stay_hidden():
    frame = pd.DataFrame(
        {
            "department": ["a", "b", "c"],
            "n": [np.nan, 40, 30],
            "rate": [np.nan, 0.5, 0.7],
            "suppressed": [True, False, False],
            "suppression": ["small_group", None, None],
        }
    )
    out, hidden = enforce_floor(frame, people="n", floor=5)
    # a alone hidden would be the company total minus b and c: the smallest visible sibling (c) goes too
    assert hidden == 2 and "suppressed" not in out
    assert out["rate"].isna().tolist() == [True, False, True]


def test_a_row_left_blank_before_is_protected_by_its_siblings():
    # a KPI function hid department a in every week of the month, so its monthly row arrives blank
    # without a flag (the monthly month-over-month table): it still needs a complementary cell
    frame = pd.DataFrame(
        {"department": ["a", "b", "c", "d"], "registered": [np.nan, 40, 12, 30], "change": [np.nan, 0.05, -0.02, 0.01]}
    )
    out, hidden = enforce_floor(frame, people="registered", floor=5)
    assert hidden == 2 and out["change"].isna().tolist() == [True, False, True, False]


def test_show_table_records_the_table_after_the_floor(report):
    frame = pd.DataFrame({"department": ["a", "b", "c"], "employees": [2, 50, 60], "registration_rate": [1, 0.9, 0.8]})
    report.show_table(frame, "registration", title="注册率", people="employees")
    meta = json.loads((report.run_dir / collect.COLLECTED / "meta.json").read_text(encoding="utf-8"))
    (table,) = meta["tables"]
    assert table["hidden_rows"] == 2 and table["people"] == "employees" and table["floor"] == 5
    assert "少于 5 人" in table["note"]
    stored = collect.read_table(report.run_dir, table)
    assert stored["registration_rate"].isna().tolist() == [True, True, False]


def test_a_table_must_say_whom_it_describes(report):
    frame = pd.DataFrame({"department": ["a"], "n": [3]})
    with pytest.raises(ValueError, match="privacy floor"):
        report.show_table(frame, "tiny", title="x", people=3)
    with pytest.raises(ValueError, match="not a column"):
        report.show_table(frame, "tiny", title="x", people="employees")
    with pytest.raises(ValueError, match="restricted"):
        report.show_table(mark_restricted(frame.copy(), "named list"), "names", title="x", people=None)
    with pytest.raises(ValueError, match="snake_case"):
        report.show_table(frame, "Bad Name", title="x", people=None)


def test_targets_need_all_five_and_are_recorded(report):
    with pytest.raises(ValueError, match="satisfaction"):
        report.show_targets(TARGETS.loc[TARGETS["kpi"] != "satisfaction"])
    report.show_targets(TARGETS)
    meta = report.meta()
    assert list(meta["targets"]) == list(TARGETS["kpi"])
    assert meta["targets"]["registration"]["ci_low"] is None
    assert meta["targets"]["satisfaction"]["unit"] == "score"
    assert meta["targets"]["daily_active"]["confidence"] == 0.9
    assert meta["definitions"][:5] == list(TARGETS["kpi"])


def test_kpis_check_their_verdict_and_unit(report):
    report.record_kpi("active_rate", group="a", estimate=0.5, n=10)
    report.record_kpi("active_rate", group="a", estimate=0.6, n=10)  # a rerun of the cell replaces it
    assert [k["estimate"] for k in report.meta()["kpis"]] == [0.6]
    with pytest.raises(ValueError, match="verdict"):
        report.record_kpi("active_rate", estimate=0.5, verdict="passed")
    with pytest.raises(ValueError, match="unit"):
        report.record_kpi("active_rate", estimate=0.5, unit="percent")


def test_figures_are_kept_as_png(report):
    from wecom_eval.reporting.figures import new_figure, use_theme

    use_theme()
    fig, ax = new_figure()
    ax.plot([1, 2], [3, 4])
    ax.set_title("趋势")
    report.show_figure(fig, "trend", deck=True, note="说明")
    (record,) = report.meta()["figures"]
    assert record == {"name": "trend", "title": "趋势", "file": "figures/trend.png", "deck": True, "note": "说明"}
    assert (report.run_dir / collect.COLLECTED / "figures" / "trend.png").read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend()  # nothing above needed pyplot


def test_without_a_run_folder_a_report_only_displays(home):
    report = Report("weekly", validate_params("weekly", {"as_of": "2026-05-25"}), home=home, run_dir=None)
    report.show_table(pd.DataFrame({"kpi": ["x"]}), "t", title="t", people=None)
    assert report.meta()["tables"][0]["name"] == "t"


def test_jsonable_turns_missing_values_into_null():
    assert jsonable({"a": np.nan, "b": pd.NA, "c": np.int64(3), "d": dt.date(2026, 1, 2)}) == {
        "a": None,
        "b": None,
        "c": 3,
        "d": "2026-01-02",
    }
