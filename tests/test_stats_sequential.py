"""stats.confidence_sequence: closed forms, validity over repeated looks, anytime p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wecom_eval import stats
from wecom_eval.stats.sequential import naive_alarm


def test_normal_mixture_radius_is_the_closed_form() -> None:
    # Howard et al. (2021), two-sided normal mixture for 1/2-sub-Gaussian observations:
    # radius = sqrt((V + rho) log((V + rho) / (rho alpha^2))) / t with V = t/4, and rho
    # minimising the radius at the planned sample size.
    cs = stats.confidence_sequence([30, 35], [50, 50], method="normal_mixture", planned_n=100)
    v_star = 25.0
    rhos = np.exp(np.linspace(-5, 8, 200_001))
    rho = rhos[np.argmin((v_star + rhos) * np.log((v_star + rhos) / (rhos * 0.05**2)))]
    v = 100 / 4
    radius = math.sqrt((v + rho) * math.log((v + rho) / (rho * 0.05**2))) / 100
    last = cs.looks.iloc[-1]
    assert last.cs_high - last.estimate == pytest.approx(radius, rel=1e-3)


@pytest.mark.parametrize("method", ["betting", "normal_mixture"])
def test_sequences_are_nested_and_wider_than_the_naive_interval(method: str) -> None:
    rng = np.random.default_rng(0)
    s = rng.binomial(150, 0.7, size=10)
    cs = stats.confidence_sequence(s, [150] * 10, method=method)  # type: ignore[arg-type]
    looks = cs.looks
    assert (np.diff(looks.cs_low) >= 0).all() and (np.diff(looks.cs_high) <= 0).all()
    assert ((looks.cs_low <= looks.naive_low) & (looks.naive_high <= looks.cs_high)).all()
    assert ((looks.cs_low <= looks.estimate) & (looks.estimate <= looks.cs_high)).all()


def test_betting_is_tighter_than_hoeffding_far_from_one_half() -> None:
    s, n = [190] * 10, [200] * 10  # 95 %: the sub-Gaussian bound ignores the small variance
    bet = stats.confidence_sequence(s, n).looks.iloc[-1]
    nm = stats.confidence_sequence(s, n, method="normal_mixture").looks.iloc[-1]
    assert bet.cs_high - bet.cs_low < 0.6 * (nm.cs_high - nm.cs_low)


def test_anytime_p_value_agrees_with_the_sequence() -> None:
    # The sequence is {m : max capital < 1/alpha} (widened by a grid step), and the anytime
    # p-value at the target is 1 / max capital there: outside the sequence means p <= alpha.
    for s in ([66, 64, 70, 68], [75, 80, 78, 77], [50, 45, 48, 44]):
        cs = stats.confidence_sequence(s, [100] * 4, target=0.6)
        for _, row in cs.looks.iterrows():
            if not row.cs_low <= 0.6 <= row.cs_high:
                assert row.p_value <= 0.05
            if row.p_value > 0.05:
                assert row.cs_low <= 0.6 <= row.cs_high
        assert set(cs.looks.verdict) <= {"met", "not_yet_shown", "missed"}
    met = stats.confidence_sequence([75, 80, 78, 77], [100] * 4, target=0.6)
    assert met.looks.verdict.iloc[-1] == "met" and met.p_value < 0.05
    missed = stats.confidence_sequence([50, 45, 48, 44], [100] * 4, target=0.6)
    assert missed.looks.verdict.iloc[-1] == "missed"


def test_few_looks_false_alarm_rate() -> None:
    # 300 rollouts of ten weekly looks at a true 60 % share: the sequences must raise an
    # alarm at most about alpha of the time (binomial slack), the naive interval more often.
    rng = np.random.default_rng(1)
    cs_alarms = naive_alarms = 0
    for _ in range(300):
        n = rng.integers(80, 200, size=10)
        s = rng.binomial(n, 0.6)
        looks = stats.confidence_sequence(s, n).looks
        cs_alarms += bool(((looks.cs_low > 0.6) | (looks.cs_high < 0.6)).any())
        naive_alarms += naive_alarm(s, n, 0.6, 0.05)
    assert cs_alarms / 300 <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 300)
    assert naive_alarms > cs_alarms


def test_misuse() -> None:
    with pytest.raises(ValueError, match="one entry per look"):
        stats.confidence_sequence([1, 2], [3])
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        stats.confidence_sequence([5], [3])
    with pytest.raises(ValueError, match="method must be one of"):
        stats.confidence_sequence([1], [3], method="naive")  # type: ignore[arg-type]
