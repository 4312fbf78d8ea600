"""Survey KPIs: waves, the satisfaction target, items, departments, needs.

Reads the long survey tables (``survey_responses``, ``survey_items``, ``survey_choices``,
``survey_text``) and hands the statistics to :mod:`wecom_eval.stats`. Definitions:

* A **satisfaction wave** is a wave with Likert items; a **needs wave** has only
  multi-select questions (the launch survey of most-used features and most-wanted
  improvements). A wave counts from the day its last answer was submitted.
* **Satisfaction** (the target) is the mean of the overall item (:data:`OVERALL_ITEM`)
  in the latest satisfaction wave, with one-sided 95 % t bounds and the verdict of
  :func:`wecom_eval.stats.mean_vs_target`.
* **Top-2-box** is the share answering 4 or 5. **Respondents as a share of the roster**
  divides a wave's respondents by the employees on the roster on its last day: the
  warehouse does not know who was invited, so this is not a response rate when the survey
  went to a sample.
* Multi-item scales (items named ``<scale>_<n>``, e.g. ``ease_1`` … ``ease_4``) get
  Cronbach's α with its interval.
* Breakdowns by department pass the privacy floor (respondents); free text is shown only
  for groups of at least ``min_group_size_text`` people, and never with a department.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.kpis import queries_survey as sq
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse

OVERALL_ITEM = "overall"
_SCALE_ITEM = re.compile(r"^(?P<scale>[a-z][a-z0-9]*)_\d+$")
ALPHA = 0.05


def _scalar(warehouse: Warehouse, sql: str, params: list[Any]) -> int:
    """The single integer a counting query returns."""
    value: Any = warehouse.query(sql, params).iloc[0, 0]
    return int(value)


def waves(warehouse: Warehouse, *, data_through: dt.date) -> pd.DataFrame:
    """Waves with answers up to ``data_through``: kind, first and last day, respondents.

    Columns: ``wave``, ``kind`` (``satisfaction`` or ``needs``), ``first_day``,
    ``last_day``, ``respondents``, ``items`` (Likert items answered).
    """
    frame = warehouse.query(
        sq.WAVES,
        [data_through],
    )
    frame["kind"] = np.where(frame["items"] > 0, "satisfaction", "needs")
    return frame[["wave", "kind", "first_day", "last_day", "respondents", "items"]]


def latest_wave(
    warehouse: Warehouse, *, data_through: dt.date, kind: str = "satisfaction", wave: str = ""
) -> str | None:
    """The named ``wave`` (checked), else the latest wave of ``kind`` with answers by ``data_through``."""
    known = waves(warehouse, data_through=data_through)
    if wave:
        if wave not in set(known["wave"]):
            raise ValueError(
                f"survey wave {wave!r} has no answers up to {data_through}; waves: {', '.join(known['wave']) or 'none'}"
            )
        return wave
    chosen = known.loc[known["kind"] == kind, "wave"]
    return None if chosen.empty else str(chosen.iloc[-1])


def previous_wave(warehouse: Warehouse, wave: str, *, data_through: dt.date) -> str | None:
    """The satisfaction wave before ``wave``, if any."""
    frame = waves(warehouse, data_through=data_through)
    known: list[str] = [str(w) for w in frame.loc[frame["kind"] == "satisfaction", "wave"]]
    if wave not in known:
        return None
    i = known.index(wave)
    return known[i - 1] if i > 0 else None


def item_scores(warehouse: Warehouse, wave: str) -> pd.DataFrame:
    """Long Likert answers of a wave: ``respondent_id``, ``department_id``, ``item``, ``score``."""
    return warehouse.query(
        sq.ITEM_SCORES,
        [wave],
    )


def satisfaction_row(
    warehouse: Warehouse,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    n_boot: int = 9999,
    seed: int = 0,
    wave: str = "",
    language: str = "en",
) -> dict[str, Any]:
    """The scorecard row of the satisfaction target (``not_measured`` before any wave)."""
    from wecom_eval import stats

    target = plan.targets.satisfaction.target
    chosen = latest_wave(warehouse, data_through=data_through, wave=wave)
    row: dict[str, Any] = {
        "kpi": "satisfaction",
        "target": target,
        "deadline": None,
        "unit": "score",
        "confidence": 1 - 2 * ALPHA,
    }
    scores = item_scores(warehouse, chosen) if chosen else pd.DataFrame(columns=["item", "score"])
    overall_rows = scores.loc[scores["item"] == OVERALL_ITEM]
    overall = overall_rows["score"].astype(float)
    if len(overall) < 2:
        if language == "zh":
            note = "尚无满意度调查" if chosen is None else f"{chosen} 轮没有总体满意度题（{OVERALL_ITEM}）的答案"
        else:
            note = (
                "no satisfaction survey yet"
                if chosen is None
                else f"wave {chosen} has no answers to the overall item {OVERALL_ITEM!r}"
            )
        return {
            **row,
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "verdict": "not_measured",
            "n": len(overall),
            "method": None,
            "note": note,
            "verdict_basis": "none",
        }
    departments = overall_rows["department_id"].astype(object).where(overall_rows["department_id"].notna(), "?")
    result = stats.mean_vs_target(
        overall.to_numpy(), target=target, alpha=ALPHA, n_boot=n_boot, seed=seed, clusters=departments.to_numpy()
    )
    deff = "—" if math.isnan(result.design_effect) else f"{result.design_effect:.2f}"
    method = (
        f"单样本 t 检验（按部门聚类，{result.n_clusters} 个部门，设计效应 {deff}），{chosen} 轮"
        if language == "zh"
        else f"one-sample t clustered by department ({result.n_clusters} departments, design effect {deff}), "
        f"wave {chosen}"
    )
    return {
        **row,
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "verdict": result.verdict,
        "n": int(result.n),
        "method": method,
        "verdict_basis": "fixed_sample:clustered_t",
        "n_clusters": result.n_clusters,
        "design_effect": deff,
        "note": "; ".join(result.warnings) or None,
    }


def item_summary(warehouse: Warehouse, wave: str, *, n_boot: int = 9999, seed: int = 0) -> pd.DataFrame:
    """Per item: respondents, mean with its 90 % interval, top-2-box share with its interval."""
    from wecom_eval import stats

    scores = item_scores(warehouse, wave)
    rows = []
    for item, part in scores.groupby("item", sort=True):
        values = part["score"].astype(float).to_numpy()
        if len(values) < 2:
            continue
        mean = stats.mean_vs_target(values, target=1.0, alpha=ALPHA, n_boot=max(99, min(n_boot, 999)), seed=seed)
        top = stats.top2box(values, alpha=2 * ALPHA)
        rows.append(
            {
                "item": item,
                "responses": len(values),
                "mean": mean.estimate,
                "ci_low": mean.ci_low,
                "ci_high": mean.ci_high,
                "top2": top.estimate,
                "top2_low": top.ci_low,
                "top2_high": top.ci_high,
            }
        )
    out = pd.DataFrame(
        rows, columns=["item", "responses", "mean", "ci_low", "ci_high", "top2", "top2_low", "top2_high"]
    )
    order = {OVERALL_ITEM: 0}
    return out.sort_values("item", key=lambda s: s.map(lambda v: (order.get(v, 1), v))).reset_index(drop=True)


def likert_counts(warehouse: Warehouse, wave: str) -> pd.DataFrame:
    """Answers per item and score (1–5): ``item``, ``score``, ``n``."""
    return warehouse.query(
        sq.LIKERT_COUNTS,
        [wave],
    )


def scale_reliability(warehouse: Warehouse, wave: str) -> pd.DataFrame:
    """Cronbach's α (with its 95 % interval) of each multi-item scale of the wave."""
    from wecom_eval import stats

    scores = item_scores(warehouse, wave)
    scores = scores.assign(
        scale=scores["item"].map(lambda i: m.group("scale") if (m := _SCALE_ITEM.match(i)) else None)
    ).dropna(subset=["scale"])
    rows = []
    for scale, part in scores.groupby("scale"):
        wide = part.pivot_table(index="respondent_id", columns="item", values="score").dropna()
        if wide.shape[1] < 2 or len(wide) < 3:
            continue
        result = stats.cronbach_alpha(wide)
        rows.append(
            {
                "scale": scale,
                "items": wide.shape[1],
                "responses": len(wide),
                "alpha": result.estimate,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
            }
        )
    return pd.DataFrame(rows, columns=["scale", "items", "responses", "alpha", "ci_low", "ci_high"])


def by_department(warehouse: Warehouse, wave: str) -> pd.DataFrame:
    """Overall item by department: ``department``, ``responses``, ``mean``, ``top2``.

    Not yet suppressed: show it through ``report.show_table(..., people="responses")``.
    """
    frame = warehouse.query(
        sq.DEPARTMENT_SCORES,
        [wave, OVERALL_ITEM],
    )
    frame["department"] = frame["department"].fillna("—")
    return frame


def compare(warehouse: Warehouse, baseline: str, comparison: str) -> pd.DataFrame:
    """The overall item, wave over wave: means, difference with its interval, p-value."""
    from wecom_eval import stats

    data = pd.concat(
        [
            item_scores(warehouse, baseline).assign(wave=baseline),
            item_scores(warehouse, comparison).assign(wave=comparison),
        ],
        ignore_index=True,
    )
    result = stats.compare_waves(data, baseline=baseline, comparison=comparison, item=OVERALL_ITEM, respondent=None)
    return result.to_frame()


def roster_share(warehouse: Warehouse, wave: str) -> dict[str, Any]:
    """Respondents of a wave and their share of the roster on the wave's last day."""
    row = warehouse.query(
        sq.ROSTER_SHARE,
        [wave],
    ).iloc[0]
    roster = int(row["roster"]) if row["roster"] is not None else 0
    respondents = int(row["respondents"])
    return {
        "wave": wave,
        "respondents": respondents,
        "roster": roster,
        "share": respondents / roster if roster else math.nan,
    }


def choices(warehouse: Warehouse, wave: str) -> pd.DataFrame:
    """Multi-select answers: ``question``, ``choice``, ``count``, ``share`` (of the wave's respondents)."""
    return warehouse.query(
        sq.CHOICES,
        [wave, wave],
    )


def comments(warehouse: Warehouse, plan: RolloutPlan, wave: str, *, limit: int = 8) -> pd.DataFrame:
    """Up to ``limit`` free-text answers, company-wide, when the wave has enough of them.

    Free text is shown only for a group of at least ``min_group_size_text`` respondents; it
    is never labelled with a department (a comment from a small team could name its author).
    """
    count = _scalar(warehouse, sq.TEXT_ANSWERS, [wave])
    if count < plan.privacy.min_group_size_text:
        return pd.DataFrame(columns=["question", "text"])
    return warehouse.query(
        sq.COMMENTS,
        [wave, limit],
    )


def text_respondents(warehouse: Warehouse, wave: str) -> int:
    """Respondents of a wave who wrote free text."""
    return _scalar(warehouse, sq.TEXT_RESPONDENTS, [wave])


__all__ = [
    "OVERALL_ITEM",
    "by_department",
    "choices",
    "comments",
    "compare",
    "item_scores",
    "item_summary",
    "latest_wave",
    "likert_counts",
    "previous_wave",
    "roster_share",
    "satisfaction_row",
    "scale_reliability",
    "text_respondents",
    "waves",
]
