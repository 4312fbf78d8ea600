"""Every KPI breakdown respects the privacy floor: no visible cell describes fewer than
``min_group_size`` people, and no hidden cell can be worked out from a total and its visible
siblings. Checked on the demo organisation, whose 总部/法务部 has three people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from wecom_eval import kpis, privacy
from wecom_eval.demo import DemoConfig, build_demo
from wecom_eval.home import Home
from wecom_eval.kpis._base import Context
from wecom_eval.kpis.activity import weekly_activity_raw
from wecom_eval.kpis.penetration import penetration_raw
from wecom_eval.kpis.registration import registration_raw
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, plan: RolloutPlan) -> Any:  # noqa: ANN401
    home = Home.from_env(tmp_path_factory.mktemp("demo"))
    build_demo(home, DemoConfig(employees=400, baseline_weeks=1, rollout_weeks=5), plan)
    wh = Warehouse(home.warehouse)
    yield wh, plan
    wh.close()


def check(out: pd.DataFrame, raw: pd.DataFrame, *, size: str, keys: list[str], within: list[str], floor: int) -> int:
    """Assert the two guarantees; return how many cells were hidden."""
    merged = out[[*keys, *within, "suppressed"]].merge(
        raw[[*keys, *within, size]], on=[*keys, *within], validate="one_to_one"
    )
    visible = merged.loc[~merged["suppressed"]]
    assert ((visible[size] == 0) | (visible[size] >= floor)).all(), visible.loc[visible[size] < floor]
    for _, part in merged.groupby(within) if within else [((), merged)]:
        live = part.loc[part[size] > 0]
        hidden = live.loc[live["suppressed"]]
        if len(hidden) and (~live["suppressed"]).any():
            assert len(hidden) >= 2 and hidden[size].sum() >= floor, part
    return int(merged["suppressed"].sum())


def test_registration_activity_and_penetration_breakdowns(demo: Any) -> None:  # noqa: ANN401
    wh, plan = demo
    floor = privacy.floor(plan)
    ctx = Context.of(wh, plan)
    as_of = plan.start_date + dt.timedelta(days=27)
    keys = ["department_id"]
    hidden = check(
        kpis.registration_rate(wh, plan, data_through=as_of),
        registration_raw(ctx, data_through=[as_of]),
        size="employees",
        keys=keys,
        within=["data_through"],
        floor=floor,
    )
    assert hidden >= 2  # the three-person department and its complement
    hidden = check(
        kpis.weekly_activity(wh, plan, start=plan.start_date, end=as_of),
        weekly_activity_raw(ctx, start=plan.start_date, end=as_of),
        size="registered_week",
        keys=keys,
        within=["week"],
        floor=floor,
    )
    assert hidden >= 2
    check(
        kpis.feature_penetration(wh, plan, data_through=as_of),
        penetration_raw(ctx, data_through=[as_of]).drop(columns=["headcount"]),
        size="eligible",
        keys=keys,
        within=["feature", "data_through"],
        floor=floor,
    )


def test_hidden_rows_carry_no_figures_at_all(demo: Any) -> None:  # noqa: ANN401
    wh, plan = demo
    as_of = plan.start_date + dt.timedelta(days=27)
    frames = [
        kpis.registration_rate(wh, plan, data_through=as_of),
        kpis.weekly_activity(wh, plan, start=plan.start_date, end=as_of),
        kpis.daily_activity(wh, plan, start=as_of - dt.timedelta(days=6), end=as_of),
        kpis.feature_penetration(wh, plan, data_through=as_of),
        kpis.points_by_department(wh, plan, end=as_of),
        kpis.reconcile(wh, plan, data_through=as_of).by_department,
    ]
    labels = {
        "department_id",
        "department",
        "data_through",
        "week",
        "week_start",
        "week_end",
        "working_days",
        "date",
        "is_working",
        "feature",
        "window_days",
        "applies",
        "suppressed",
        "suppression",
    }
    for frame in frames:
        assert frame["suppressed"].any()
        figures = [c for c in frame.columns if c not in labels]
        assert frame.loc[frame["suppressed"], figures].isna().all().all(), figures


def test_scorecard_leaderboard_and_alerts_hide_the_small_department(demo: Any) -> None:  # noqa: ANN401
    wh, plan = demo
    as_of = plan.start_date + dt.timedelta(days=27)
    small = "总部/法务部"
    card = kpis.progress(wh, plan, data_through=as_of, by="department")
    assert card.loc[card["department"] == small, "estimate"].isna().all()
    ranking = kpis.best_department(wh, plan, month=as_of).ranking
    row = ranking.loc[ranking["department"] == small]
    assert len(row) == 1 and not row["ranked"].item() and pd.isna(row["score"].item())
    found = kpis.alerts(wh, plan, data_through=as_of)
    assert small not in set(found.loc[found["kind"] != "no_data", "group"])


def test_named_lists_are_restricted(demo: Any) -> None:  # noqa: ANN401
    wh, plan = demo
    as_of = plan.start_date + dt.timedelta(days=27)
    assert privacy.is_restricted(kpis.stragglers(wh, plan, data_through=as_of))
    assert privacy.is_restricted(kpis.points_ledger(wh, plan, end=as_of))
    assert all(privacy.is_restricted(f) for f in kpis.reconcile(wh, plan, data_through=as_of).lists.values())
