"""The views of the surveys: the needs survey's choices and the satisfaction wave's results."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from wecom_eval import text
from wecom_eval.kpis import satisfaction
from wecom_eval.reporting import figures
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.views._common import p_text, v


def needs(report: Report) -> list[tuple[str, pd.DataFrame, int]]:
    """Each needs-survey question: its title, the choices (count, share) and respondents."""
    wave = satisfaction.latest_wave(report.warehouse, data_through=report.period.end, kind="needs")
    if wave is None:
        return []
    chosen = satisfaction.choices(report.warehouse, wave)
    n = satisfaction.roster_share(report.warehouse, wave)["respondents"]
    return [
        (str(q), part[["choice", "count", "share"]].reset_index(drop=True), n)
        for q, part in chosen.groupby("question", sort=False)
    ]


def needs_figure(report: Report, question: str, frame: pd.DataFrame, n: int) -> Figure:
    return figures.bar_chart(
        frame, label="choice", value="share", title=v(report, "needs_question", question=question, n=f"{n:,}")
    )


def _satisfaction_sentence(report: Report, wave: str, row: dict[str, Any], overall: pd.DataFrame) -> str:
    """The satisfaction target in a sentence, or that the wave does not measure it."""
    if row["estimate"] is None or not len(overall):
        return v(report, "no_satisfaction")
    return v(
        report,
        "satisfaction_sentence",
        wave=wave,
        mean=row["estimate"],
        low=row["ci_low"],
        high=row["ci_high"],
        p=f"{row['confidence']:.0%}",
        n=row["n"],
        top2=float(overall["top2"].iloc[0]),
        target=row["target"],
        verdict=text.verdict_label(row["verdict"], report.language),
        departments=row.get("n_clusters", 0),
        deff=row.get("design_effect", "—"),
    )


def _wave_sentence(report: Report, wave: str) -> str:
    """The overall item against the previous satisfaction wave, when there is one."""
    previous = satisfaction.previous_wave(report.warehouse, wave, data_through=report.period.end)
    if not previous:
        return ""
    cmp = satisfaction.compare(report.warehouse, previous, wave).iloc[0]
    return v(
        report,
        "wave_sentence",
        baseline=previous,
        diff=cmp["estimate"],
        low=cmp["ci_low"],
        high=cmp["ci_high"],
        pv=p_text(cmp["p_value"]),
        top2_pp=100 * cmp["top2_difference"],
    )


def survey(report: Report) -> dict[str, Any]:
    """The satisfaction wave's results: sentence, items, distribution figure, α, departments, waves."""
    params: Any = report.params
    wave = satisfaction.latest_wave(
        report.warehouse, data_through=report.period.end, wave=params.wave if hasattr(params, "wave") else ""
    )
    empty: dict[str, Any] = {
        "sentence": v(report, "no_satisfaction"),
        "roster_share": "",
        "waves": "",
        "figure": None,
        "items": pd.DataFrame(),
        "items_people": None,
        "reliability": pd.DataFrame(),
        "reliability_people": None,
        "by_department": pd.DataFrame(),
        "comments": pd.DataFrame(),
        "comment_people": None,
    }
    if wave is None:
        return empty
    wh, plan = report.warehouse, report.plan
    row = satisfaction.satisfaction_row(
        wh,
        plan,
        data_through=report.period.end,
        n_boot=report.params.n_boot,
        seed=report.params.seed,
        wave=wave,
        language=report.language,
    )
    items = satisfaction.item_summary(wh, wave, n_boot=report.params.n_boot, seed=report.params.seed)
    overall = items.loc[items["item"] == satisfaction.OVERALL_ITEM]
    out: dict[str, Any] = {
        **empty,
        "wave": wave,
        "items": items,
        "items_people": int(items["responses"].min()) if len(items) else None,
    }
    out["sentence"] = _satisfaction_sentence(report, wave, row, overall)
    labels = text.strings()["views"]["likert_labels"][report.language]
    counts = satisfaction.likert_counts(wh, wave)
    counts["item"] = counts["item"].map(lambda code: text.lookup("items", code, report.language))
    out["figure"] = figures.likert_chart(counts, labels=labels, title=v(report, "likert_title", wave=wave))
    out["reliability"] = satisfaction.scale_reliability(wh, wave)
    out["reliability_people"] = int(out["reliability"]["responses"].min()) if len(out["reliability"]) else None
    out["by_department"] = satisfaction.by_department(wh, wave)
    share = satisfaction.roster_share(wh, wave)
    out["roster_share"] = v(report, "roster_share_sentence", **share) if share["roster"] else ""
    out["waves"] = _wave_sentence(report, wave)
    out["comments"] = satisfaction.comments(wh, plan, wave)
    total = satisfaction.text_respondents(wh, wave)
    out["comment_people"] = total if len(out["comments"]) else None
    return out


__all__ = [
    "needs",
    "needs_figure",
    "survey",
]
