"""The verdicts computed together are the verdicts computed one at a time, to the last bit."""

from __future__ import annotations

import math
from typing import Any

import pytest

from wecom_eval.kpis.verdicts import judge, judge_all
from wecom_eval.stats import proportion_vs_target
from wecom_eval.stats.sequential import anytime_p_value, spent_alpha
from wecom_eval.stats.targets import exact_floor_tests

CASES = [(0, 1), (0, 7), (3, 7), (7, 7), (12, 40), (39, 40), (640, 1000), (1000, 1000), (5, 2000)]
TARGETS = [0.0, 0.3, 0.6, 0.8, 1.0]


def _one_at_a_time(
    successes: float, n: float, value: float, *, census: bool, alpha: float = 0.05, look: int | None = None
) -> dict[str, Any]:
    """judge() as it was written first: two full results per figure, one per side."""
    if not n > 0 or math.isnan(successes):
        return judge(successes=math.nan, n=0, value=value, census=census)
    if census:
        return judge(successes=successes, n=n, value=value, census=True)
    n_int = max(int(round(n)), 1)
    s_int = min(max(int(round(successes)), 0), n_int)
    value = min(max(value, 0.0), 1.0)
    a = alpha if look is None else spent_alpha(look, alpha=alpha, planned_looks=12)
    method = "wilson" if look is None else "exact"
    r = proportion_vs_target(s_int, n_int, target=value, alpha=a, method=method)  # type: ignore[arg-type]
    less = proportion_vs_target(s_int, n_int, target=value, alpha=a, alternative="less", method=method)  # type: ignore[arg-type]
    if look is None:
        p_g, p_l, basis = r.p_value, less.p_value, "fixed_sample"
    else:
        p_g, p_l = (anytime_p_value(p, look, planned_looks=12) for p in (r.p_value, less.p_value))
        basis = "confidence_sequence:spending"
    return {
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "p_greater": p_g,
        "p_less": p_l,
        "verdict": r.verdict,
        "method": r.method,
        "n": n_int,
        "verdict_basis": basis,
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for x, y in ((a[k], b[k]) for k in a)
    )


def test_exact_floor_tests_are_proportion_vs_target_exact() -> None:
    asks = [(s, n, t, a) for s, n in CASES for t in TARGETS for a in (0.05, 0.004, 0.0001)]
    got = exact_floor_tests(*zip(*asks, strict=True))
    for (s, n, t, a), (r, p_less) in zip(asks, got, strict=True):
        assert r == proportion_vs_target(s, n, target=t, alpha=a, method="exact")
        assert p_less == proportion_vs_target(s, n, target=t, alpha=a, alternative="less", method="exact").p_value


@pytest.mark.parametrize("look", [None, 1, 4, 12, 15])
def test_judge_all_gives_each_figure_what_one_at_a_time_gives(look: int | None) -> None:
    asks = [
        {"successes": s + 0.4, "n": n - 0.3, "value": t, "census": census, "look": look}
        for s, n in CASES
        for t in [*TARGETS, -0.1, 1.2]
        for census in (False, True)
    ]
    asks += [{"successes": math.nan, "n": 10.0, "value": 0.5, "census": False, "look": look}]
    asks += [{"successes": 3.0, "n": 0.0, "value": 0.5, "census": False, "look": look}]
    for ask, got in zip(asks, judge_all(asks), strict=True):
        want = _one_at_a_time(ask["successes"], ask["n"], ask["value"], census=ask["census"], look=look)
        assert _same(got, want), (ask, got, want)
        assert _same(judge(**ask), want)


def test_a_look_with_a_bad_alpha_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="alpha"):
        judge_all([{"successes": 3.0, "n": 10.0, "value": 0.5, "census": False, "look": 2, "alpha": 1.5}])
    with pytest.raises(ValueError, match="target"):
        judge(successes=3.0, n=10.0, value=math.nan, census=False, look=2)
