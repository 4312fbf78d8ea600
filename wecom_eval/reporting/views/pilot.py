"""The views of the pilot: its departments against their paths, the power of the planned comparison, the evidence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wecom_eval import kpis, text
from wecom_eval.kpis import efficiency, pilot
from wecom_eval.kpis import targets as five
from wecom_eval.kpis.verdicts import look_of, planned_looks
from wecom_eval.reporting import figures, trends
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.views._common import hide_blank_rows, not_measured, v


def pilot_status(report: Report) -> pd.DataFrame:
    """The pilot departments on registration and the daily rates, against their paths.

    Pilots go live on the rollout's first day, so their paths start there (``align="start"``).
    """
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="department", align="start")
    pilots = pilot.pilot_ids(report.warehouse, report.plan)
    rows = sc.loc[sc["department_id"].isin(pilots) & sc["kpi"].isin(["registration", "active_rate", "engaged_rate"])]
    rows = not_measured(rows.copy(), "n")  # no count and no path verdict for a figure not measured
    rows["path_verdict"] = rows["path_verdict"].astype(object).where(rows["verdict"] != "not_measured", "not_measured")
    rows = hide_blank_rows(rows, "n", ["department", "department_id", "kpi"])
    return rows[["department", "kpi", "n", "estimate", "ci_low", "ci_high", "path_value", "path_verdict"]].reset_index(
        drop=True
    )


#: The longest after-period the launch review searches for 80 % probability of "met".
MAX_WEEKS = 26


def power(report: Report) -> tuple[Any, str, Figure | None]:
    """Power and minimum detectable effect of the planned pilot comparison
    (:func:`wecom_eval.pilot.launch_power`), a sentence and the curve."""
    params: Any = report.params  # LaunchReviewParams
    found = pilot.launch_power(
        report.warehouse,
        report.plan,
        data_through=report.period.end,
        effect=params.assumed_gain,
        n_sim=params.power_simulations,
        seed=params.seed,
        max_weeks=MAX_WEEKS,
    )
    result, weeks_pre, weeks_post = found.result, found.weeks_pre, found.weeks_post
    if result is None:  # too little baseline data: say so instead of failing the report
        why = five.reason("no_approvals" if not found.baseline_records else "not_estimable", report.language)
        return None, v(report, "power_not_estimable", reason=why), None
    sentence = v(
        report,
        "power_sentence",
        departments=result.n_departments,
        treated=result.n_treated,
        pre=weeks_pre,
        post=weeks_post,
        effect=result.effect,
        power=result.estimate,
        n_sim=result.n_sim,
        mde=result.mde,
        inference=text.lookup("methods", result.inference, report.language),
    )
    curve = result.curve
    effect_col = "effect" if "effect" in curve else curve.columns[0]
    power_col = "power" if "power" in curve else curve.columns[1]
    fig = trends.trend_chart(
        curve.assign(target=0.8),
        x=effect_col,
        y=power_col,
        low="ci_low" if "ci_low" in curve else None,
        high="ci_high" if "ci_high" in curve else None,
        target=pd.DataFrame({effect_col: curve[effect_col], "target": 0.8}),
        title=v(report, "power_curve"),
        xlabel=v(report, "efficiency_gain"),
        ylabel=v(report, "power"),
        target_label="80%",
    )
    from matplotlib.ticker import PercentFormatter

    fig.axes[0].xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    return result, sentence, fig


def show_met_probability(report: Report, result: Any) -> None:
    """The table of P(the efficiency verdict says met) by true gain, from :func:`power`'s result."""
    if result is None or result.met.empty:
        return
    target = report.plan.targets.pilot_efficiency.target
    report.show_table(
        result.met,
        "power_met",
        title=v(report, "power_met_title"),
        people=None,
        note=v(report, "power_met_note", target=target, rho=result.rho, max_weeks=MAX_WEEKS),
    )


def _why_not(report: Report, records: pd.DataFrame) -> str:
    """Why the approval records allow no estimate yet, in the report's language (never an internal message)."""

    return five.reason("no_approvals" if records.empty else "not_estimable", report.language)


def _efficiency_sentence(report: Report, cal: Any, design: Any) -> tuple[dict[str, Any], str]:
    """The scorecard row of the calendar-hours estimate and the sentence that reads it."""
    recurring = not report.spec.read_once
    looks = (
        {"look": look_of(report.plan, report.period.end), "planned_looks": planned_looks(report.plan)}
        if recurring
        else {}
    )
    row = efficiency.efficiency_row(cal, report.plan, design=design, language=report.language, **looks)
    sentence = v(
        report,
        "efficiency_sentence",
        gain=row["estimate"],
        low=row["ci_low"],
        high=row["ci_high"],
        p=f"{row['confidence']:.0%}",
        target=row["target"],
        p_zero=row["p_value"],
        p_target=row["target_p_value"],
        verdict=text.verdict_label(row["verdict"], report.language),
    )
    sentence += " " + (
        v(
            report,
            "efficiency_spent",
            look=looks["look"],
            alpha=row["spent_alpha"],
            p_zero=row["p_value_anytime"],
            p_target=row["target_p_value_anytime"],
        )
        if recurring
        else v(report, "efficiency_once")
    )
    return row, sentence


def _methods_table(report: Report, cal: Any, work: Any) -> pd.DataFrame:
    """The estimate in calendar and in working hours, each with its inference, in the report's language."""
    labels = {"zh": ("日历小时", "工作小时"), "en": ("calendar hours", "working hours")}[report.language]
    table = efficiency.did_table({labels[0]: cal, labels[1]: work})
    table["method"] = [
        text.lookup("methods", m, report.language) + "，"
        if report.language == "zh"
        else text.lookup("methods", m, report.language) + ", "
        for m in table["method"]
    ]
    table["method"] += [
        text.lookup("methods", "enumerated" if e else "sampled", report.language, n=f"{n:,}")
        for e, n in zip(table.pop("enumerated"), table.pop("draws"), strict=True)
    ]
    return table


def _event_study(report: Report, records: pd.DataFrame) -> tuple[Figure | None, str]:
    """The staggered event study's figure and the pre-trend sentence (or why there is none)."""
    try:
        return _event_figure(report, records)
    except ValueError:
        return None, v(report, "event_study_not_estimable", reason=_why_not(report, records))


def _event_figure(report: Report, records: pd.DataFrame) -> tuple[Figure, str]:
    es = efficiency.staggered_event_study(
        records, report.plan, n_boot=min(report.params.n_boot, 1999), seed=report.params.seed
    )
    effects = es.effects.assign(
        change=np.expm1(es.effects["estimate"]),
        low=np.expm1(es.effects["ci_low"]),
        high=np.expm1(es.effects["ci_high"]),
    )
    figure = figures.event_study_chart(
        effects,
        estimate="change",
        low="low",
        high="high",
        title=v(report, "event_study"),
        xlabel=v(report, "weeks_since_go_live"),
        ylabel=v(report, "change_in_turnaround"),
        legend=(v(report, "event_estimate"), v(report, "event_interval"), v(report, "event_reference")),
    )
    key = "pretrend_flag" if es.pretrend_rejects else "pretrend_ok"
    return figure, v(report, key, p=es.pretrend_p_value)


def _case(report: Report, sample: pd.DataFrame) -> str:
    """The case-study sentence: median turnaround of the pilots and the controls, before and after."""
    med: Any = sample.groupby(["treated", "post"])["hours"].agg(["median", "size"])
    if len(med) < 4:  # a cell without records: no case to tell
        return ""
    return v(
        report,
        "case_sentence",
        before=med.loc[(1, 0), "median"],
        after=med.loc[(1, 1), "median"],
        n_before=int(med.loc[(1, 0), "size"]),
        n_after=int(med.loc[(1, 1), "size"]),
        c_before=med.loc[(0, 0), "median"],
        c_after=med.loc[(0, 1), "median"],
    )


def _pilot_estimates(report: Report) -> tuple[pd.DataFrame, tuple[Any, Any, Any] | None]:
    """The turnaround records and the pilot's estimates in calendar and in working hours (the
    first with its design), or None for the estimates when the records allow none."""
    records = efficiency.turnaround_records(report.warehouse, report.plan, data_through=report.period.end)
    inference = getattr(report.params, "inference", "auto")
    n_boot, seed = report.params.n_boot, report.params.seed
    try:
        cal, design = efficiency.pilot_did(records, report.plan, inference=inference, n_boot=n_boot, seed=seed)
        work, _ = efficiency.pilot_did(
            records, report.plan, outcome="working_hours", inference=inference, n_boot=n_boot, seed=seed
        )
    except ValueError:
        return records, None
    return records, (cal, design, work)


def efficiency_sentence(report: Report) -> str:
    """The ``sentence`` of :func:`efficiency_evidence` alone, without the evidence's tables and figure."""
    records, found = _pilot_estimates(report)
    if found is None:
        return v(report, "efficiency_not_estimable", reason=_why_not(report, records))
    return _efficiency_sentence(report, found[0], found[1])[1]


def efficiency_evidence(report: Report) -> dict[str, Any]:
    """The pilot's efficiency effect with its evidence.

    Returns a dict with ``sentence`` (markdown), ``cells`` (geometric-mean turnaround per
    pilot/control × before/after cell), ``methods`` (calendar and working hours; the
    chosen inference beside CR1), ``event_figure`` and ``pretrend`` (a sentence, flagged when
    the pre-trend test rejects), ``case`` (the case-study sentence). Every key is always
    there: when the records allow no estimate the sentence says "not measured" and why, the
    other sentences point to it, and the tables and the figure are None (shown as nothing).
    """
    records, found = _pilot_estimates(report)
    out: dict[str, Any] = {
        "sentence": "",
        "cells": None,
        "methods": None,
        "event_figure": None,
        "pretrend": "",
        "case": "",
    }
    if found is None:
        out["sentence"] = v(report, "efficiency_not_estimable", reason=_why_not(report, records))
        out["pretrend"] = out["case"] = v(report, "efficiency_see_above")
        return out
    cal, design, work = found
    out["row"], out["sentence"] = _efficiency_sentence(report, cal, design)
    sample, _ = efficiency.launch_sample(records, report.plan)
    cells = efficiency.cell_means(sample)
    cells["group"] = np.where(cells["treated"] == 1, "pilot", "control")
    cells["period"] = np.where(cells["post"] == 1, "after", "before")
    out["cells"] = cells[["group", "period", "departments", "records", "median_hours"]]
    out["methods"] = _methods_table(report, cal, work)
    out["event_figure"], out["pretrend"] = _event_study(report, records)
    out["case"] = _case(report, sample)
    return out


__all__ = [
    "MAX_WEEKS",
    "efficiency_evidence",
    "efficiency_sentence",
    "pilot_status",
    "power",
    "show_met_probability",
]
