"""The best department of the month, ranked on lower confidence bounds (DESIGN §6).

Score of a department for a calendar month::

    score = w_active · active_rate + w_penetration · penetration + w_feedback · feedback

with the plan's ``best_department.weights`` and three components, each a share in [0, 1]:

``active_rate``
    the mean over the month's working days of the daily active rate (members active ÷
    registered members, by WeCom department); its standard error treats it as a share of the
    mean number of registered members;
``feature_penetration``
    on the month's last day, pooled over the core features that apply to the department:
    Σ users ÷ Σ eligible (trailing ``window_days``); its standard error uses the headcount
    (people, not person-features, which is conservative);
``feedback``
    from the latest survey wave submitted by the month's end: each respondent's answer to the
    ``overall`` item (or the mean of their items when the wave has no such item), rescaled
    to [0, 1] as (score − 1) ÷ (scale_max − 1); standard error s ÷ √n on that scale.

``se = √(Σ w² se²)`` (components taken as independent) and the department is ranked on
``score_low = score − z · se`` with ``z`` the one-sided 1 − alpha normal quantile, so a small
team cannot win on noise. A department is **not ranked** when any component it needs falls
under the privacy floor (fewer than ``min_group_size`` registered members, staff or
respondents — or hidden so that such a group cannot be worked out), or has no data. A
component that no department has (no survey yet, no activity rows in the month, no feature
events in the window) is dropped and the other weights are rescaled to sum to 1; the result
says so. A day the activity source does not cover at all is left out, not counted as 0 %;
with no component measured nobody is ranked (``winner`` None).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis import queries_survey as sq
from wecom_eval.kpis._base import Context, run
from wecom_eval.kpis.queries import render
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source, one
from wecom_eval.workcal import WorkCalendar

COMPONENTS = ("active_rate", "feature_penetration", "feedback")
KEYS = ["department_id", "department"]


@dataclass(frozen=True)
class BestDepartment:
    """The month's award: the ranking, the winner and the evidence behind it."""

    month: str
    first_day: dt.date
    last_day: dt.date
    weights: dict[str, float]
    ranking: pd.DataFrame
    winner: dict[str, Any] | None
    evidence: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The ranking (one row per department; unranked ones last, with their reason)."""
        return self.ranking.copy()


def _month(month: str | dt.date) -> tuple[str, dt.date, dt.date]:
    if isinstance(month, dt.date):
        first = month.replace(day=1)
    else:
        try:
            first = dt.date.fromisoformat(f"{str(month)[:7]}-01")
        except ValueError:
            raise ValueError(f"month={month!r}: write it as YYYY-MM (e.g. 2026-04)") from None
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first.strftime("%Y-%m"), first, last


def _active(ctx: Context, first: dt.date, last: dt.date) -> pd.DataFrame:
    from wecom_eval.kpis.activity import daily_activity_raw

    daily = daily_activity_raw(ctx, start=first, end=last, by="department")
    # a day the activity source does not cover (no row for anyone) is missing data, not a day of 0 %
    covered = daily.groupby("date")["with_row"].transform("sum") > 0
    work = daily.loc[daily["is_working"] & (daily["registered"] > 0) & covered]
    if work.empty:
        return pd.DataFrame(columns=[*KEYS, "estimate", "n", "size"])
    g = work.groupby(KEYS, as_index=False).agg(
        estimate=("active_rate", "mean"), n=("registered", "mean"), size=("registered", "max")
    )
    return g


def _penetration(ctx: Context, last: dt.date) -> pd.DataFrame:
    from wecom_eval.kpis.penetration import penetration_raw

    pen = penetration_raw(ctx, data_through=[last], by="department")
    pen = pen.loc[pen["users"].notna()]  # a feature without events in the window is not measured, not 0
    g = pen.groupby(KEYS, as_index=False).agg(
        users=("users", "sum"), eligible=("eligible", "sum"), n=("headcount", "max")
    )
    g = g.loc[g["eligible"] > 0]
    g["estimate"] = g["users"] / g["eligible"]
    g["size"] = g["n"]
    return g[[*KEYS, "estimate", "n", "size"]]


def _feedback(
    ctx: Context, last: dt.date, *, wave: str | None, item: str
) -> tuple[pd.DataFrame, str | None, list[str]]:
    notes: list[str] = []
    waves = run(ctx.con, sq.SURVEY_WAVES)
    if wave is None:
        dated = waves.loc[waves["last_submitted"].notna()]
        dated = dated.loc[[d <= last for d in dated["last_submitted"]]]
        if dated.empty:
            return pd.DataFrame(columns=[*KEYS, "estimate", "n", "size", "se"]), None, notes
        wave = str(dated.sort_values(["last_submitted", "wave"])["wave"].iloc[-1])
    elif wave not in set(waves["wave"]):
        raise ValueError(f"survey wave {wave!r} is not loaded; waves: {', '.join(sorted(waves['wave'])) or 'none'}")
    has_item = bool(one(ctx.con, "SELECT COUNT(*) FROM survey_items WHERE wave = ? AND item = ?", [wave, item])[0])
    if not has_item:
        notes.append(f"survey wave {wave} has no item {item!r}: feedback is each respondent's mean over all items")
    sql = render(sq.FEEDBACK, item_filter="i.item = $item" if has_item else "1 = 1")
    fb = run(ctx.con, sql, {"wave": wave, "item": item}, {"kpi_departments": ctx.departments()})
    scale = ctx.plan.targets.satisfaction.scale_max
    fb["estimate"] = (fb["mean_score"] - 1.0) / (scale - 1.0)
    fb["se"] = fb["sd_score"].fillna(0.0) / np.sqrt(fb["respondents"]) / (scale - 1.0)
    fb["n"] = fb["respondents"]
    fb["size"] = fb["respondents"]
    return fb[[*KEYS, "estimate", "n", "size", "se"]], wave, notes


def best_department(
    source: Source,
    plan: RolloutPlan,
    *,
    month: str | dt.date,
    wave: str | None = None,
    item: str = "overall",
    alpha: float = 0.05,
    cal: WorkCalendar | None = None,
) -> BestDepartment:
    """Rank the departments for a month and name the best one, with the evidence.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan (``best_department.weights``, privacy floor,
        ``targets.satisfaction.scale_max``) and its calendar.
    month
        ``"YYYY-MM"`` or any day of the month.
    wave
        The survey wave for feedback (default: the latest submitted by the month's end).
    item
        The survey item read as feedback (default ``"overall"``).
    alpha
        One-sided error rate of the lower bound ranked on.

    Returns
    -------
    BestDepartment
        ``ranking``: one row per department — ``department_id``, ``department``, ``ranked``,
        ``reason`` (why not ranked), per component ``<name>`` and ``<name>_n``, ``score``,
        ``score_se`` (``√(Σ w² se²)``), ``score_low`` (``score − z · score_se``, ranked on),
        per component ``<name>_se``, ``rank``; the figures are null for unranked
        departments; ``winner`` (the first row as a dict, or None);
        ``evidence``: the winner's components (``component, weight, estimate, n, se,
        ci_low, ci_high, contribution``) and the comparison with the runner-up
        (``runner_up``, ``runner_up_score``, ``runner_up_score_low``, ``margin``,
        ``clear``: the winner's lower bound beats the runner-up's score).
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, got {alpha}")
    ctx = Context.of(source, plan, cal)
    label, first, last = _month(month)
    notes = ctx.notes()
    parts = {"active_rate": _active(ctx, first, last), "feature_penetration": _penetration(ctx, last)}
    fb, used_wave, fb_notes = _feedback(ctx, last, wave=wave, item=item)
    parts["feedback"] = fb
    notes += fb_notes
    weights = _weights(plan, parts, notes)
    total = sum(weights.values())
    if total <= 0:  # no component measured: nobody is ranked
        notes.append("no department could be ranked this month: none of the score's components was measured")
        ranking = pd.DataFrame(columns=[*KEYS, "ranked", "reason", "score", "score_se", "score_low", "rank"])
        evidence = pd.DataFrame(columns=EVIDENCE)
        return BestDepartment(label, first, last, weights, ranking, None, evidence, list(dict.fromkeys(notes)))
    weights = {k: v / total for k, v in weights.items()}
    used = [k for k in COMPONENTS if weights[k] > 0]
    from scipy import stats as sps  # imported here: scipy.stats takes a second to import

    z = float(sps.norm.ppf(1 - alpha))
    table = _ranked(_components(ctx, parts, used), weights, used, z)
    winner, evidence = _winner(table, weights, used, z, notes)
    if winner is not None and used_wave:
        winner["survey_wave"] = used_wave
    table.attrs["definition"] = __doc__.split("Score of a department", 1)[1].strip() if __doc__ else ""
    return BestDepartment(label, first, last, weights, table, winner, evidence, list(dict.fromkeys(notes)))


EVIDENCE = ["component", "weight", "estimate", "n", "se", "ci_low", "ci_high", "contribution"]


def _weights(plan: RolloutPlan, parts: dict[str, pd.DataFrame], notes: list[str]) -> dict[str, float]:
    """The plan's weights, with a component that has no data this month set to 0 (said in ``notes``)."""
    weights = {k: float(plan.best_department.weights.get(k, 0.0)) for k in COMPONENTS}  # type: ignore[call-overload]
    if sum(weights.values()) <= 0:
        raise ValueError("every component has weight 0 in best_department.weights: nothing to rank on")
    if parts["feedback"].empty and weights["feedback"] > 0:
        notes.append("no survey wave by the month's end: feedback is left out and the other weights rescaled")
        weights["feedback"] = 0.0
    for name in ("active_rate", "feature_penetration"):
        if parts[name].empty and weights[name] > 0:
            notes.append(f"{name}: no data this month: left out and the other weights rescaled")
            weights[name] = 0.0
    return weights


def _components(ctx: Context, parts: dict[str, pd.DataFrame], used: list[str]) -> pd.DataFrame:
    """One row per department with data: each used component protected by the privacy floor, and
    ``ranked``/``reason`` (a department is ranked only when every component is shown)."""
    floor = privacy.floor(ctx.plan)
    table = ctx.departments()[KEYS].copy()
    reasons: dict[int, list[str]] = {int(i): [] for i in table["department_id"]}
    for name in used:
        part = parts[name].copy()
        if "se" not in part:
            part["se"] = np.sqrt(part["estimate"] * (1 - part["estimate"]) / part["n"].where(part["n"] > 0))
        prot = privacy.suppress(part, size="size", by=["department_id"], keep=["department"], min_group_size=floor)
        small = set(prot.loc[prot["suppression"] == privacy.SMALL_GROUP, "department_id"].astype(int))
        hidden = set(prot.loc[prot["suppressed"], "department_id"].astype(int))
        shown = prot.loc[~prot["suppressed"], ["department_id", "estimate", "n", "se"]]
        shown = shown.rename(columns={"estimate": name, "n": f"{name}_n", "se": f"{name}_se"})
        table = table.merge(shown, on="department_id", how="left")
        have = set(part["department_id"].astype(int))
        for did in reasons:
            if did in small:
                reasons[did].append(f"{name}: under the privacy floor of {floor}")
            elif did in hidden:
                reasons[did].append(f"{name}: hidden so that a group under the privacy floor cannot be worked out")
            elif did not in have:
                reasons[did].append(f"{name}: no data")
    table["ranked"] = [not reasons[int(d)] for d in table["department_id"]]
    table["reason"] = ["; ".join(reasons[int(d)]) or None for d in table["department_id"]]
    present = set().union(*(set(parts[k]["department_id"].astype(int)) for k in used))
    return table.loc[table["department_id"].astype(int).isin(present)]


def _ranked(table: pd.DataFrame, weights: dict[str, float], used: list[str], z: float) -> pd.DataFrame:
    """The score, its standard error and lower bound, sorted and ranked; unranked rows show no figures."""
    score = sum(weights[k] * table[k].astype(float) for k in used)
    se = np.sqrt(sum((weights[k] * table[f"{k}_se"].astype(float)) ** 2 for k in used))
    table["score"] = np.where(table["ranked"], score, np.nan)
    table["score_se"] = np.where(table["ranked"], se, np.nan)
    table["score_low"] = table["score"] - z * table["score_se"]
    table = table.sort_values(
        ["ranked", "score_low", "score", "department"], ascending=[False, False, False, True], ignore_index=True
    )
    table["rank"] = pd.array([i + 1 if r else None for i, r in enumerate(table["ranked"])], dtype="Int64")
    # unranked rows show no figures (they may describe fewer people than the floor)
    figure_cols = [c for c in table.columns if c not in (*KEYS, "ranked", "reason", "rank")]
    for col in figure_cols:
        table[col] = table[col].where(table["ranked"])
    components = [c for c in figure_cols if c.endswith("_se") and c != "score_se"]
    return table[[*KEYS, "ranked", "reason", *[c for c in figure_cols if c not in components], *components, "rank"]]


def _winner(
    table: pd.DataFrame, weights: dict[str, float], used: list[str], z: float, notes: list[str]
) -> tuple[dict[str, Any] | None, pd.DataFrame]:
    """The first ranked department with the comparison with the runner-up, and its evidence."""
    ranked = table.loc[table["ranked"]]
    if not len(ranked):
        notes.append("no department could be ranked this month")
        return None, pd.DataFrame(columns=EVIDENCE)
    winner = {str(k): v for k, v in ranked.iloc[0].to_dict().items()}
    rows = []
    for k in used:
        est, se_k = float(winner[k]), float(winner[f"{k}_se"])
        rows.append(
            {
                "component": k,
                "weight": weights[k],
                "estimate": est,
                "n": float(winner[f"{k}_n"]),
                "se": se_k,
                "ci_low": max(0.0, est - z * se_k),
                "ci_high": min(1.0, est + z * se_k),
                "contribution": weights[k] * est,
            }
        )
    if len(ranked) > 1:
        second = ranked.iloc[1]
        winner.update(
            runner_up=second["department"],
            runner_up_score=float(second["score"]),
            runner_up_score_low=float(second["score_low"]),
            margin=float(winner["score_low"] - second["score_low"]),
            clear=bool(winner["score_low"] > second["score"]),
        )
        if winner["margin"] <= 0:
            notes.append("the first two are tied on the lower bound: the higher score, then the name, decides")
    else:
        notes.append("only one department could be ranked this month")
    return winner, pd.DataFrame(rows)


__all__ = ["BestDepartment", "best_department"]
