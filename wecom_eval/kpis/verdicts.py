"""The verdict of a figure against a value (a target, or a path's point) and Holm over a family.

:func:`judge` gives one verdict; :func:`holm_verdicts` adjusts a scorecard's family of them;
:func:`look_of` and :func:`planned_looks` say which weekly look a day is. The rule in full is
the definition of :func:`wecom_eval.kpis.progress.progress`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from wecom_eval.plan import RolloutPlan

if TYPE_CHECKING:
    from wecom_eval.stats._results import TargetResult

EPS = 1e-12


def planned_looks(plan: RolloutPlan) -> int:
    """Weekly looks the plan foresees: the weeks up to the end of its last phase."""
    return max(p.last_week for p in plan.phases)


def look_of(plan: RolloutPlan, day: dt.date) -> int:
    """The rollout week ``day`` falls in (1 in the first week and before the start)."""
    return max(1, (day - plan.start_date).days // 7 + 1)


def judge(
    *,
    successes: float,
    n: float,
    value: float,
    census: bool,
    alpha: float = 0.05,
    look: int | None = None,
    planned_looks: int = 12,
) -> dict[str, Any]:
    """One figure against one value: estimate, bounds, p-values, verdict, method, verdict basis.

    ``census`` figures (registration) are exact counts: no interval, verdict by the count.
    Others go through :func:`wecom_eval.stats.proportion_vs_target` with ``successes`` and
    ``n`` rounded to whole people. With ``look`` (the rollout week) the bounds are those of
    the weekly confidence sequence (:func:`wecom_eval.stats.spent_alpha`): exact
    Clopper-Pearson bounds, each one-sided at ``alpha_k``, so that reading the verdict every
    week keeps the chance of ever a wrong "met" (or ever a wrong "missed") at ``alpha``;
    ``p_greater``/``p_less`` are the anytime p-values of "the value is not reached" / "the
    value is reached", comparable with ``alpha`` (and ready for Holm). Without ``look``:
    the one-off Wilson interval at ``alpha``.
    """
    ask = {"successes": successes, "n": n, "value": value, "census": census, "alpha": alpha}
    return judge_all([{**ask, "look": look, "planned_looks": planned_looks}])[0]


def judge_all(asks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`judge` of each of ``asks`` (its keyword arguments), the same results: the exact
    bounds and tests of the weekly looks are computed together, one call of each distribution
    for all (:func:`wecom_eval.stats.targets.exact_floor_tests`)."""
    from wecom_eval.stats.sequential import anytime_p_value
    from wecom_eval.stats.targets import exact_floor_tests

    out: list[dict[str, Any]] = []
    batch: list[tuple[int, int, int, float, float, int, int]] = []
    for ask in asks:
        done = _judge_alone(ask)
        if isinstance(done, dict):
            out.append(done)
        else:
            batch.append((len(out), *done))
            out.append({})
    if batch:
        at, s, n, value, a_look, look, planned = zip(*batch, strict=True)
        for i, (r, p_less), k, k_max in zip(at, exact_floor_tests(s, n, value, a_look), look, planned, strict=True):
            p_g, p_l = (anytime_p_value(p, k, planned_looks=k_max) for p in (r.p_value, p_less))
            out[i] = _found(r, p_g, p_l, n_int=r.n, basis="confidence_sequence:spending")
    return out


def _judge_alone(ask: Mapping[str, Any]) -> dict[str, Any] | tuple[int, int, float, float, int, int]:
    """:func:`judge`'s result for ``ask`` (its keyword arguments), or ``(successes, n, value,
    alpha_k, look, planned_looks)`` of an exact weekly look, checked, for :func:`judge_all`."""
    successes, n, value, census = ask["successes"], ask["n"], ask["value"], ask["census"]
    alpha, look, planned_looks = ask.get("alpha", 0.05), ask.get("look"), ask.get("planned_looks", 12)
    if n is None or not n > 0 or successes is None or (isinstance(successes, float) and math.isnan(successes)):
        return {
            "estimate": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
            "p_greater": math.nan,
            "p_less": math.nan,
            "verdict": None,
            "method": None,
            "n": 0,
            "verdict_basis": None,
        }
    if census:
        est = successes / n
        verdict = "met" if est >= value - EPS else "missed"
        return {
            "estimate": est,
            "ci_low": est,
            "ci_high": est,
            "p_value": math.nan,
            "p_greater": math.nan,
            "p_less": math.nan,
            "verdict": verdict,
            "method": "census count",
            "n": int(round(n)),
            "verdict_basis": "census",
        }
    from wecom_eval.stats import proportion_vs_target
    from wecom_eval.stats.sequential import spent_alpha
    from wecom_eval.stats.targets import proportion_p_value

    n_int = max(int(round(n)), 1)
    s_int = min(max(int(round(successes)), 0), n_int)
    value = min(max(value, 0.0), 1.0)
    a_look = alpha if look is None else spent_alpha(look, alpha=alpha, planned_looks=planned_looks)
    if look is not None and 0.0 <= value <= 1.0 and 0.0 < a_look < 0.5:  # else checked (and refused) below
        return s_int, n_int, value, a_look, look, planned_looks
    # the sequence spends a small alpha_k at each look, deep in the tails where the score
    # test's normal approximation is too liberal: there the exact (Clopper-Pearson) bounds
    method: Literal["wilson", "exact"] = "wilson" if look is None else "exact"
    r = proportion_vs_target(s_int, n_int, target=value, alpha=a_look, method=method)
    p_less = proportion_p_value(s_int, n_int, target=value, alternative="less", method=method)
    return _found(r, r.p_value, p_less, n_int=n_int, basis="fixed_sample")


def _found(r: TargetResult, p_greater: float, p_less: float, *, n_int: int, basis: str) -> dict[str, Any]:
    return {
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "p_greater": p_greater,
        "p_less": p_less,
        "verdict": r.verdict,
        "method": r.method,
        "n": n_int,
        "verdict_basis": basis,
    }


def holm_verdicts(
    frame: pd.DataFrame, *, verdict: str, p_greater: str, p_less: str, alpha: float = 0.05
) -> tuple[pd.Series, pd.Series]:
    """Holm over a report's family of verdicts: the adjusted p-values and the verdicts they allow.

    Each row claims "met" (a floor reached: ``p_greater`` small) or "missed" (``p_less``
    small) or nothing; the row's p-value is the smaller of the two, the family is every row
    with one (census rows have none and keep their verdict). A row keeps "met"/"missed"
    only when its Holm-adjusted p-value is at most ``alpha``; otherwise it becomes
    "not_yet_shown". Rows without a verdict keep theirs.
    """
    from wecom_eval.stats import holm

    p = pd.concat([frame[p_greater], frame[p_less]], axis=1).astype(float).min(axis=1, skipna=False)
    adjusted = pd.Series(math.nan, index=frame.index)
    out = frame[verdict].copy()
    ok = p.notna()
    if ok.any():
        res = holm(p[ok].to_numpy(), alpha=alpha)
        adjusted[ok] = res.p_adjusted
        claims = frame[verdict].isin(["met", "missed"]) & ok
        out[claims & (adjusted > alpha)] = "not_yet_shown"
    return adjusted, out


__all__ = ["holm_verdicts", "judge", "judge_all", "look_of", "planned_looks"]
