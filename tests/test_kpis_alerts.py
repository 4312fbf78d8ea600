"""Alerts: behind the path (how much, since when), stragglers, no data, sudden drops.

On the hand-built organisation (tiny.py); expected values worked out by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def found(wh) -> pd.DataFrame:  # noqa: ANN001
    return kpis.alerts(wh, tiny.plan(1), data_through=D("2026-02-28"), language="en")


def _one(frame: pd.DataFrame, **match: object) -> dict:
    rows = frame
    for key, value in match.items():
        rows = rows.loc[rows[key] == value]
    assert len(rows) == 1, f"expected one alert matching {match}, found {len(rows)}"
    return rows.iloc[0].to_dict()


def test_registration_behind_since_week_one(found: pd.DataFrame) -> None:
    a = _one(found, kind="behind_path", kpi="registration", level="company")
    # read at each week's end: 02-15 7/16 = 43.8 % against the path's 50 % (day 7 of 14);
    # 02-22 7/16 against 100 %; 02-28 15/17 against 100 %: behind since week 1
    assert a["since_week"] == 1 and a["since_date"] == D("2026-02-09")
    assert a["value"] == pytest.approx(15 / 17) and a["expected"] == 1.0
    assert a["gap"] == pytest.approx(15 / 17 - 1) and a["severity"] == "high"  # a count: shown
    assert "behind since week 1" in a["message"]


def test_department_behind_since_the_week_it_fell_behind(found: pd.DataFrame) -> None:
    a = _one(found, kind="behind_path", kpi="registration", group="总部/销售部")
    # 02-15: 4/5 = 80 % is ahead of the 50 % path; 02-22: 80 % < 100 %: behind since week 2
    assert a["since_week"] == 2 and a["count"] == 6


def test_active_rate_run_is_not_broken_by_a_holiday_week(found: pd.DataFrame) -> None:
    a = _one(found, kind="behind_path", kpi="active_rate", level="company")
    # week 1: 49.9 % against 0.6 × smoothstep(7/21) = 15.6 %: ahead; week 2 has no working day;
    # week 3: 32.6 % against 59.6 %: behind since week 3
    assert a["since_week"] == 3
    assert a["expected"] == pytest.approx(0.6 * (3 * (20 / 21) ** 2 - 2 * (20 / 21) ** 3))


def test_penetration_behind_per_feature(found: pd.DataFrame) -> None:
    approval = _one(found, kind="behind_path", kpi="feature_penetration", feature="approval", level="company")
    assert approval["value"] == pytest.approx(5 / 17) and approval["since_week"] == 1  # see test_kpis_penetration
    # no docs or attendance events at all: not measured, so no alert (never "0 %, behind")
    assert found.loc[found["feature"].isin(["docs", "attendance"])].empty
    customer = found.loc[(found["feature"] == "customer") & (found["group"] == "总部/行政部")]
    assert customer.empty  # customer management does not apply there


def test_stragglers_are_counted_never_named(found: pd.DataFrame) -> None:
    company = _one(found, kind="registration_stragglers", level="company")
    sales = _one(found, kind="registration_stragglers", group="总部/销售部")
    # E05 (not activated, 18 days after go-live); E14 went live 4 days ago: within the 7-day grace
    assert company["count"] == 1 and sales["count"] == 1
    assert not found["message"].str.contains("周五|E05|u05").any()


def test_department_without_data(found: pd.DataFrame) -> None:
    a = _one(found, kind="no_data")
    assert a["group"] == "总部/法务部" and a["week"] == 3 and a["count"] == 2 and a["severity"] == "high"
    assert found["kind"].iloc[0] == "no_data"  # the most urgent first


def test_hidden_departments_get_no_kpi_alert(wh) -> None:  # noqa: ANN001
    out = kpis.alerts(wh, tiny.plan(5), data_through=D("2026-02-28"))
    kpi_alerts = out.loc[out["kind"] == "behind_path"]
    assert not set(kpi_alerts["group"]) & {"总部/行政部", "总部/法务部"}
    no_data = _one(out, kind="no_data")  # data problems are about data, not people …
    assert no_data["group"] == "总部/法务部" and pd.isna(no_data["count"])  # … but a small group's size is kept
    assert "2" not in no_data["message"].replace("第 3 周", "")
    assert out["message"].str.contains("全公司").any()  # Chinese by default


def test_sudden_drop_and_data_drop(tmp_path: Path) -> None:
    tables = tiny.frames()
    # week 4 (03-02 … 03-06 so far): only u01, u03 and u06 send rows, all inactive
    extra = pd.DataFrame(
        [
            {"date": f"2026-03-0{d}", "userid": u, "active": "false", "minutes": "0", "source": "admin_export"}
            for d in range(2, 7)
            for u in ("u01", "u03", "u06")
        ]
    )
    tables["member_days"] = pd.concat([tables["member_days"], extra], ignore_index=True)
    wh = tiny.load(tmp_path / "w.duckdb", tables)
    out = kpis.alerts(wh, tiny.plan(1), data_through=D("2026-03-06"), language="en")
    drop = _one(out, kind="sudden_drop", group="总部/销售部")
    # week 3: 48 % (see test_kpis_activity); week 4: 0 of 6
    assert drop["value"] == 0.0 and drop["expected"] == pytest.approx(0.48) and drop["gap"] == pytest.approx(-0.48)
    rows = _one(out, kind="data_drop")
    # rows per day: week 3 63 over 7 days = 9; week 4 15 over 5 days = 3
    assert (rows["expected"], rows["value"]) == (pytest.approx(9.0), pytest.approx(3.0))
    assert set(out.loc[out["kind"] == "no_data", "group"]) == {"总部/行政部", "总部/法务部", "华东分公司/销售部"}
    wh.close()


def test_before_the_start_there_is_nothing_to_say(wh) -> None:  # noqa: ANN001
    assert kpis.alerts(wh, tiny.plan(1), data_through=D("2026-01-31")).empty


def test_bad_options(wh) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="language"):
        kpis.alerts(wh, tiny.plan(1), data_through=D("2026-02-28"), language="fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="drop_threshold"):
        kpis.alerts(wh, tiny.plan(1), data_through=D("2026-02-28"), drop_threshold=15)


def test_messages_name_features_with_the_report_labels(wh, found: pd.DataFrame) -> None:  # noqa: ANN001
    # Regression: messages showed the raw code, "功能渗透率（docs）"; they read like the report
    # (wecom_eval/strings.yaml, the one table of feature labels)
    zh = kpis.alerts(wh, tiny.plan(1), data_through=D("2026-02-28"), language="zh")
    cust_zh = _one(zh, kind="behind_path", kpi="feature_penetration", feature="customer", level="company")
    assert cust_zh["message"].startswith("全公司 核心功能渗透率（客户管理）为 27.3%")  # 3 of 11
    cust_en = _one(found, kind="behind_path", kpi="feature_penetration", feature="customer", level="company")
    assert cust_en["message"].startswith("全公司: Core-feature penetration (customer management) is 27.3%")
    labels = {
        "zh": {"approval": "审批", "docs": "文档协作", "customer": "客户管理", "attendance": "考勤"},
        "en": {
            "approval": "approval",
            "docs": "document collaboration",
            "customer": "customer management",
            "attendance": "attendance",
        },
    }
    for language, frame in (("zh", zh), ("en", found)):
        features = frame.loc[frame["feature"].notna()]
        assert set(features["feature"]) == {"approval", "customer"}  # the two measured features are behind
        for feature, message in zip(features["feature"], features["message"], strict=True):
            assert (f"（{labels['zh'][feature]}）" if language == "zh" else f"({labels['en'][feature]})") in message
        if language == "zh":
            assert not features["message"].str.contains("[A-Za-z]").any()  # no code left in Chinese text
        else:
            assert not features["message"].str.contains(r"\((?:docs|customer)\)").any()
    # the KPIs too: the engaged rate is 深度使用率 in the report, not another word
    engaged = zh.loc[zh["kpi"] == "engaged_rate", "message"]
    assert len(engaged) and engaged.str.contains("深度使用率").all()


def test_behind_alerts_are_one_benjamini_hochberg_family(found: pd.DataFrame) -> None:
    from wecom_eval.stats import benjamini_hochberg

    behind = found.loc[(found["kind"] == "behind_path") & found["p_value"].notna()]
    assert len(behind) >= 2
    ref = benjamini_hochberg(behind["p_value"].to_numpy(), alpha=0.05)
    assert behind["p_adjusted"].to_numpy() == pytest.approx(ref.p_adjusted)
    assert ((behind["severity"] == "high") == (behind["p_adjusted"] <= 0.05)).all()
    # registration is a count of everyone: no test, and its shortfall stays high
    reg = found.loc[(found["kind"] == "behind_path") & (found["kpi"] == "registration")]
    assert reg["p_value"].isna().all() and (reg["severity"] == "high").all()
