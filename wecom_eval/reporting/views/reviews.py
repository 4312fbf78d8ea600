"""The views of the monthly and promotion reviews: best department, month over month, deadlines, laggards, branches."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wecom_eval import kpis, text
from wecom_eval.kpis import targets as five
from wecom_eval.kpis.laggards import laggards
from wecom_eval.reporting import figures, trends
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.views._common import path_at, v


def best_department(report: Report, *, top: int = 10) -> dict[str, Any]:
    """The month's best department: the sentence, the ranking (top rows) and the winner's evidence."""
    month = report.period.start.strftime("%Y-%m")
    report.define("best_department")
    result = kpis.best_department(report.warehouse, report.plan, month=month)
    ranking = result.ranking.loc[result.ranking["ranked"].astype(bool)].head(top)
    wanted = ["rank", "department", "n", "active_rate", "feature_penetration", "feedback", "score", "score_low"]
    size = next(
        (f"{c}_n" for c in ("feature_penetration", "active_rate", "feedback") if f"{c}_n" in ranking.columns), None
    )  # the headcount when penetration is measured
    ranking = ranking.assign(n=ranking[size] if size else np.nan)
    figure = None
    if len(ranking):
        drawn = ranking.assign(score_high=2 * ranking["score"] - ranking["score_low"])  # symmetric interval
        figure = figures.estimate_chart(
            drawn,
            label="department",
            estimate="score",
            low="score_low",
            high="score_high",
            title=v(report, "best_figure"),
            xlabel=v(report, "best_axis"),
            percent=False,
        )
    ranking = ranking[[c for c in wanted if c in ranking.columns]].rename(
        columns={"feature_penetration": "penetration"}
    )
    winner = result.winner
    if winner is None:
        return {
            "sentence": v(report, "no_best"),
            "ranking": ranking,
            "evidence": result.evidence,
            "figure": figure,
            "evidence_people": None,
        }
    sentence = v(
        report,
        "best_sentence",
        month=report.period.label(report.language),
        winner=winner["department"],
        score=winner["score"],
        low=winner["score_low"],
        runner=winner.get("runner_up") or "—",
        runner_score=winner.get("runner_up_score") or math.nan,
        runner_low=winner.get("runner_up_score_low") or math.nan,
        clear=v(report, "best_clear" if winner.get("clear") else "best_not_clear"),
    )
    evidence = result.evidence.rename(columns={"component": "kpi"})
    evidence["kpi"] = evidence["kpi"].map(lambda c: text.column_label(c, report.language))
    smallest: Any = result.evidence["n"].min()
    people = int(smallest)
    return {"sentence": sentence, "ranking": ranking, "evidence": evidence, "evidence_people": people, "figure": figure}


def month_over_month(report: Report) -> pd.DataFrame:
    """Each department's active rate and penetration this month against last month."""
    this_end = report.period.end
    this_start = report.period.start
    last_end = this_start - dt.timedelta(days=1)
    last_start = last_end.replace(day=1)
    rows = []
    for label, start, end in (("last", last_start, last_end), ("this", this_start, this_end)):
        act = (
            kpis.weekly_activity(
                report.warehouse, report.plan, start=max(start, report.plan.start_date), end=end, by="department"
            )
            if end >= report.plan.start_date
            else None
        )
        if act is None or act.empty:
            continue
        act = act.loc[act["working_days"] > 0]
        grouped = act.groupby("department").agg(
            active_rate=("active_rate", "mean"), registered=("registered_week", "max")
        )
        pen = kpis.feature_penetration(report.warehouse, report.plan, data_through=end, by="department")
        mean_pen = pen.groupby("department")["penetration"].mean().rename("penetration")
        rows.append(grouped.join(mean_pen).add_suffix(f"_{label}"))
    if len(rows) < 2:
        return pd.DataFrame(columns=["department", "registered", "active_rate_last", "active_rate_this", "change"])
    both = rows[0].join(rows[1], how="outer").reset_index()
    both["registered"] = both[["registered_last", "registered_this"]].min(axis=1)
    both["change"] = both["active_rate_this"] - both["active_rate_last"]
    both["penetration_change"] = both["penetration_this"] - both["penetration_last"]
    return (
        both[
            [
                "department",
                "registered",
                "active_rate_last",
                "active_rate_this",
                "change",
                "penetration_last",
                "penetration_this",
                "penetration_change",
            ]
        ]
        .sort_values("change")
        .reset_index(drop=True)
    )


def registration_deadline(report: Report) -> dt.date:
    """The registration deadline, or the period's end when the deadline is later."""
    return min(report.plan.deadline(report.plan.targets.registration.deadline_day), report.period.end)


def deadline_status(report: Report) -> pd.DataFrame:
    """Registration and engaged rate on their deadlines (or today, when the deadline is later).

    The rows are the scorecard's target rows on that day, so a figure whose source is absent
    says ``not_measured`` with its reason (``note``), as in the five targets.
    """

    rows = []
    for target_name in ("registration", "daily_active"):
        deadline = report.plan.deadline(getattr(report.plan.targets, target_name).deadline_day)
        day = min(deadline, report.period.end)
        found = five.adoption_rows(report.warehouse, report.plan, data_through=day, language=report.language)
        rec = next(r for r in found if r["kpi"] == target_name)
        rows.append(
            {
                "kpi": target_name,
                "date": day,
                "deadline": deadline,
                "n": rec["n"],
                "estimate": rec["estimate"],
                "ci_low": rec["ci_low"],
                "ci_high": rec["ci_high"],
                "target": rec["target"],
                "verdict": rec["verdict"],
                "note": rec["note"],
            }
        )
    return pd.DataFrame(rows)


def lagging(report: Report, *, top: int = 10) -> pd.DataFrame:
    """The departments furthest behind their engaged-rate path, with likely reasons
    (:func:`wecom_eval.kpis.laggards.laggards`)."""
    found = laggards(report.warehouse, report.plan, data_through=report.period.end, top=top)
    rows = []
    for rec in found.to_dict("records"):
        fields = {
            "late_go_live": {"week": rec["go_live_week"]},
            "low_registration": {"rate": rec["registration_rate"]},
            "low_training": {"share": rec["trained"]},
        }
        reasons = [v(report, f"reason_{code}", **fields[code]) for code in rec["reasons"]]
        message = "；".join(reasons) if report.language == "zh" else "; ".join(reasons)
        rows.append(
            {
                **{k: rec[k] for k in ("department", "n", "go_live_week")},
                **{k: rec[k] for k in ("registration_rate", "active_rate", "engaged_rate", "gap")},
                "message": message or v(report, "reason_unknown"),
            }
        )
    columns = ["department", "n", "go_live_week", "registration_rate", "active_rate", "engaged_rate", "gap", "message"]
    return pd.DataFrame(rows, columns=columns)


def branch_trend_figure(report: Report, kpi: str = "registration") -> Figure:
    """One KPI (registration or the engaged rate) by branch at each week's end, from each branch's
    go-live week on, with the company's target path; each line is named at its end, and a branch
    with nothing to draw is named in the caption with the reason."""
    end = report.period.end
    minutes = report.plan.targets.daily_active.min_daily_minutes
    if kpi == "registration":
        trend = kpis.registration_trend(
            report.warehouse, report.plan, start=report.plan.start_date, end=end, by="branch"
        ).rename(columns={"registration_rate": "rate"})
        title = v(report, "branch_registration_trend")
        path_kpi = "registration"
    else:
        trend = kpis.weekly_activity(
            report.warehouse, report.plan, start=report.plan.start_date, end=end, by="branch"
        ).rename(columns={"engaged_rate": "rate"})
        trend = trend.loc[trend["working_days"] > 0]
        title = v(report, "branch_engaged_trend", minutes=minutes)
        path_kpi = "engaged_rate"
    from wecom_eval.kpis._base import Context

    live = kpis.paths.first_days(Context.of(report.warehouse, report.plan), "branch")
    all_branches = [str(b) for b in trend["branch"].dropna().unique()]
    trend = trend.loc[
        [
            report.plan.week_start(int(w)) >= live.get(b, report.plan.start_date)
            for b, w in zip(trend["branch"], trend["week"], strict=True)
        ]
    ]
    left_out = [b for b in all_branches if b not in set(trend.dropna(subset=["rate"])["branch"].astype(str))]
    trend = trend.dropna(subset=["rate"]).astype({"week": int})
    weeks = sorted(trend["week"].unique())
    ends = [report.plan.week_start(int(w)) + dt.timedelta(days=6) for w in weeks]
    path = pd.DataFrame({"week": weeks, "target": path_at(report, path_kpi, ends).to_numpy()})
    reason = v(report, "left_out_not_measured" if kpi != "registration" else "left_out_not_live")
    caption = (
        v(
            report,
            "branches_left_out",
            names="、".join(left_out) if report.language == "zh" else ", ".join(left_out),
            reason=reason,
        )
        if left_out
        else ""
    )
    return trends.trend_chart(
        trend,
        x="week",
        y="rate",
        hue="branch",
        target=path,
        title=title,
        xlabel=v(report, "rollout_week"),
        target_label=v(report, "target_path"),
        language=report.language,
        end_labels=True,
        caption=caption,
        empty_text=v(report, "chart_not_measured"),
    )


__all__ = [
    "best_department",
    "branch_trend_figure",
    "deadline_status",
    "lagging",
    "month_over_month",
    "registration_deadline",
]
