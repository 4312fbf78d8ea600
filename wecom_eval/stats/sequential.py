"""Always-valid confidence sequences for a proportion read every week.

A 95 % confidence interval recomputed every week and checked against the target will,
over ten weekly looks, exclude the truth far more often than 5 % of the time. A confidence
sequence holds at every look simultaneously: the chance that it *ever* excludes the true
value is at most ``alpha``, however often it is read, so a weekly "off track" alarm from it
is a real alarm.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from ._checks import check_alpha, check_choice
from ._results import ConfidenceSequenceResult
from .targets import _verdict, wilson_bounds

#: Fraction of the largest allowed bet (WSR 2023 use 1/2 or 3/4).
_BET_CAP = 0.5
_GRID = np.linspace(0.0, 1.0, 4001)


def confidence_sequence(
    successes: Any,
    n: Any,
    *,
    alpha: float = 0.05,
    method: Literal["betting", "normal_mixture"] = "betting",
    target: float | None = None,
    alternative: Literal["greater", "less"] = "greater",
    planned_n: int | None = None,
) -> ConfidenceSequenceResult:
    r"""Time-uniform confidence sequence for a proportion observed in weekly batches.

    Parameters
    ----------
    successes, n : array-like of int
        Successes and trials **of each look** (not cumulative), in time order.
    alpha : float
        The probability that the sequence ever misses the true proportion.
    method : {"betting", "normal_mixture"}
        ``betting``: hedged capital process (Waudby-Smith & Ramdas 2023), tight for
        proportions far from 1/2. ``normal_mixture``: Robbins' normal-mixture boundary for
        1/2-sub-Gaussian observations (Howard et al. 2021), in closed form.
    target : float, optional
        Target share; adds an anytime-valid ``p_value`` per look for H0: share = target
        and a ``verdict`` per look from the sequence's bounds.
    alternative : {"greater", "less"}
        Whether the target is a floor or a ceiling (for the verdict).
    planned_n : int, optional
        Total observations the normal mixture is tuned for (default: the total given; it
        must not be chosen by looking at the outcomes).

    Returns
    -------
    ConfidenceSequenceResult
        ``looks``: one row per look with ``look, n, successes, cum_n, cum_successes,
        estimate, cs_low, cs_high`` (the running intersection), ``naive_low, naive_high``
        (the fixed-sample Wilson interval, for contrast), and with a target ``p_value``
        and ``verdict``. Top-level fields repeat the last look.

    Notes
    -----
    Betting: for each candidate mean :math:`m`, with bets :math:`\lambda_i` fixed before
    each week from earlier weeks only,
    :math:`K^{\pm}_t(m) = \prod_{i \le t} (1 \pm \lambda^{\pm}_i(m)(X_i - m))` are
    nonnegative martingales when :math:`m` is the true mean, so by Ville's inequality
    :math:`K_t(m) = (K^+_t + K^-_t)/2` exceeds :math:`1/\alpha` with probability at most
    :math:`\alpha` over all time (the hedged capital :math:`(K^+_t + K^-_t)/2` is itself a
    test martingale); the sequence is
    :math:`\{m : \max_{s \le t} K_s(m) < 1/\alpha\}`. Bets follow the predictable plug-in
    :math:`\lambda = \sqrt{2\log(2/\alpha)/(\hat\sigma^2 t\log(1+t))}`, capped at
    :math:`\tfrac12 \min(1/m, 1/(1-m))` for the two sides, constant within a week (so that
    the order of answers inside a week does not matter), and the sequence is computed on a
    grid of 4,001 values and widened by one grid step.

    Normal mixture: with :math:`S_t = \sum (X_i - m)`, :math:`V_t = t/4`,
    :math:`|S_t| < \sqrt{(V_t+\rho)\log((V_t+\rho)/(\rho\alpha^2))}` for all t with
    probability :math:`\ge 1-\alpha`; :math:`\rho` minimises the width at ``planned_n``.
    Anytime p-values are :math:`\min(1, 1/\max_{s\le t} M_s)` for the test martingale
    :math:`M` at the target.

    References
    ----------
    Howard, Ramdas, McAuliffe & Sekhon (2021), Time-uniform, nonparametric, nonasymptotic
    confidence sequences, Annals of Statistics 49:1055-1080.
    Waudby-Smith & Ramdas (2023), Estimating means of bounded random variables by betting,
    JRSS B 86:1-27.
    Ville (1939), Étude critique de la notion de collectif.

    Examples
    --------
    Ten weeks of 200 approvals, 60 % handled within four hours each week:

    >>> from wecom_eval import stats
    >>> cs = stats.confidence_sequence([120] * 10, [200] * 10, target=0.5)
    >>> last = cs.looks.iloc[-1]
    >>> round(float(last.cs_low), 3), round(float(last.cs_high), 3), last.verdict
    (0.564, 0.636, 'met')
    >>> bool((cs.looks.cs_high - cs.looks.cs_low > cs.looks.naive_high - cs.looks.naive_low).all())
    True
    """
    alpha = check_alpha(alpha)
    check_choice(method, "method", ("betting", "normal_mixture"))
    check_choice(alternative, "alternative", ("greater", "less"))
    s = np.asarray(successes, dtype=float).ravel()
    nn = np.asarray(n, dtype=float).ravel()
    if s.size != nn.size or s.size == 0:
        raise ValueError(f"successes and n need one entry per look; got {s.size} and {nn.size}")
    if np.any(np.isnan(s)) or np.any(np.isnan(nn)):
        raise ValueError("successes and n must not have missing values (use 0 for no data)")
    if np.any(s != np.round(s)) or np.any(nn != np.round(nn)) or np.any(s < 0) or np.any(s > nn):
        raise ValueError("successes and n must be whole counts with 0 <= successes <= n")
    if target is not None and not 0.0 <= target <= 1.0:
        raise ValueError(f"target must be a share in [0, 1]; got {target!r}")
    warnings: list[str] = []
    cum_n, cum_s = np.cumsum(nn), np.cumsum(s)
    if method == "betting":
        lo, hi, pv = _betting(s, nn, alpha, target)
        label = "hedged betting confidence sequence (Waudby-Smith & Ramdas 2023)"
    else:
        total = int(planned_n) if planned_n is not None else int(cum_n[-1])
        lo, hi, pv = _normal_mixture(cum_s, cum_n, alpha, target, max(total, 1))
        label = "normal-mixture confidence sequence (Howard et al. 2021)"
    est = np.where(cum_n > 0, cum_s / np.maximum(cum_n, 1), np.nan)
    naive = [
        wilson_bounds(int(a), int(b), alpha / 2) if b > 0 else (0.0, 1.0) for a, b in zip(cum_s, cum_n, strict=True)
    ]
    looks = pd.DataFrame(
        {
            "look": np.arange(1, s.size + 1),
            "n": nn.astype(int),
            "successes": s.astype(int),
            "cum_n": cum_n.astype(int),
            "cum_successes": cum_s.astype(int),
            "estimate": est,
            "cs_low": lo,
            "cs_high": hi,
            "naive_low": [a for a, _ in naive],
            "naive_high": [b for _, b in naive],
        }
    )
    if target is not None:
        looks["p_value"] = pv
        looks["verdict"] = [_verdict(a, b, target, alternative) for a, b in zip(lo, hi, strict=True)]
    if cum_n[-1] < 30:
        warnings.append("fewer than 30 observations so far: the sequence is still wide")
    return ConfidenceSequenceResult(
        looks=looks,
        estimate=float(est[-1]),
        ci_low=float(lo[-1]),
        ci_high=float(hi[-1]),
        p_value=float(pv[-1]) if target is not None else math.nan,
        alpha=alpha,
        method=label,
        warnings=warnings,
    )


def _betting(
    s: np.ndarray, nn: np.ndarray, alpha: float, target: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    grid = _GRID if target is None else np.append(_GRID, target)
    log_kp = np.zeros(grid.size)
    log_km = np.zeros(grid.size)
    worst = np.full(grid.size, -np.inf)  # running max of log hedged capital
    prev_n = prev_s = 0.0
    lows, highs, pvals = [], [], []
    thresh = math.log(1.0 / alpha)
    step = _GRID[1] - _GRID[0]
    for sw, nw in zip(s, nn, strict=True):
        if nw > 0:
            mu = (0.5 + prev_s) / (prev_n + 1.0)
            var = (0.25 + prev_s * (1 - mu) ** 2 + (prev_n - prev_s) * mu**2) / (prev_n + 1.0)
            t = prev_n + (nw + 1.0) / 2.0
            lam = math.sqrt(2.0 * math.log(2.0 / alpha) / (var * t * math.log1p(t)))
            with np.errstate(divide="ignore"):
                lp = np.minimum(lam, _BET_CAP / np.maximum(grid, 1e-300))
                lm = np.minimum(lam, _BET_CAP / np.maximum(1.0 - grid, 1e-300))
            fw = nw - sw
            log_kp += sw * np.log1p(lp * (1 - grid)) + fw * np.log1p(-lp * grid)
            log_km += sw * np.log1p(-lm * (1 - grid)) + fw * np.log1p(lm * grid)
            hedged = np.logaddexp(log_kp, log_km) - math.log(2.0)
            worst = np.maximum(worst, hedged)
            prev_n += nw
            prev_s += sw
        inside = worst[: _GRID.size] < thresh
        if inside.any():
            idx = np.flatnonzero(inside)
            lows.append(max(0.0, _GRID[idx[0]] - step))
            highs.append(min(1.0, _GRID[idx[-1]] + step))
        else:  # numerically empty (cannot happen with probability > alpha)
            est = prev_s / prev_n
            lows.append(est)
            highs.append(est)
        if target is not None:
            pvals.append(min(1.0, math.exp(-worst[-1])) if np.isfinite(worst[-1]) else 1.0)
        else:
            pvals.append(math.nan)
    return np.array(lows), np.array(highs), np.array(pvals)


def _normal_mixture(
    cum_s: np.ndarray, cum_n: np.ndarray, alpha: float, target: float | None, planned: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v_star = planned / 4.0

    def width(log_rho: float) -> float:
        rho = math.exp(log_rho)
        return (v_star + rho) * math.log((v_star + rho) / (rho * alpha**2))

    res = optimize.minimize_scalar(width, bounds=(-20.0, 20.0), method="bounded")
    rho = math.exp(float(res.x))
    lows, highs, pvals = [], [], []
    best_lo, best_hi, worst_m = 0.0, 1.0, 0.0
    for a, b in zip(cum_s, cum_n, strict=True):
        if b > 0:
            v = b / 4.0
            radius = math.sqrt((v + rho) * math.log((v + rho) / (rho * alpha**2))) / b
            best_lo = max(best_lo, a / b - radius)
            best_hi = min(best_hi, a / b + radius)
            if target is not None:
                s_t = a - b * target
                log_m = 0.5 * math.log(rho / (v + rho)) + s_t**2 / (2 * (v + rho))
                worst_m = max(worst_m, log_m)
        lows.append(max(0.0, best_lo))
        highs.append(min(1.0, best_hi))
        pvals.append(min(1.0, math.exp(-worst_m)) if target is not None else math.nan)
    return np.array(lows), np.array(highs), np.array(pvals)


def naive_alarm(successes: np.ndarray, n: np.ndarray, truth: float, alpha: float) -> bool:
    """Would a fixed-sample Wilson interval at any look have excluded ``truth``?"""
    cs, cn = np.cumsum(successes), np.cumsum(n)
    for a, b in zip(cs, cn, strict=True):
        lo, hi = wilson_bounds(int(a), int(b), alpha / 2)
        if not lo <= truth <= hi:
            return True
    return False


def spent_alpha(look: int, *, alpha: float = 0.05, planned_looks: int = 12) -> float:
    r"""The error rate a weekly verdict may spend at ``look`` so that all looks together keep ``alpha``.

    The reports read each adoption KPI every week and decide met / not yet shown / missed
    from that week's figure. Reading a fixed-sample bound every week lets the chance of
    *ever* a wrong verdict grow with the number of looks (about half of twelve-week
    rollouts at a true rate on the target). Bounds at ``spent_alpha`` keep it at ``alpha``.

    Parameters
    ----------
    look : int
        The look, counted from 1 (the rollout week); values below 1 count as 1.
    alpha : float
        The chance, over all looks, of ever a wrong bound on one side.
    planned_looks : int
        Looks the plan foresees (its weeks); later looks get geometrically less.

    Returns
    -------
    float
        :math:`\alpha_k`, the one-sided error rate of look ``k``'s bound.

    Notes
    -----
    :math:`\alpha_k = \alpha/(K+1)` for the planned looks :math:`k \le K` and
    :math:`\alpha_k = \alpha\,2^{-(k-K)}/(K+1)` after them, so
    :math:`\sum_{k\ge1}\alpha_k = \alpha` however long the reports go on. A bound at
    :math:`\alpha_k` each week is a time-uniform confidence sequence for the sequence of
    weekly rates: by the union bound the chance that any look's bound is on the wrong side
    of its week's true rate is at most :math:`\alpha`, whatever the dependence between
    weeks.

    Why not :func:`confidence_sequence` (betting or normal mixture)? Those pool every week
    since the start into one running estimate: they cover the *average* rate since the
    start and assume each week is a fresh independent sample. An adoption rate rises week
    by week (the pooled average lags the current rate, so it would call a target missed
    that is met) and the weekly figures re-measure the same people (not independent).
    The union bound needs neither assumption; its price is a wider bound (a one-sided
    z of 2.66 instead of 1.64 for ``alpha = 0.05`` and 12 planned looks).

    References
    ----------
    Howard, Ramdas, McAuliffe & Sekhon (2021), Time-uniform, nonparametric, nonasymptotic
    confidence sequences, Annals of Statistics 49:1055-1080 (the definition; the union
    bound is their baseline construction).

    Examples
    --------
    >>> round(spent_alpha(3, alpha=0.05, planned_looks=12), 5)
    0.00385
    >>> round(spent_alpha(14, alpha=0.05, planned_looks=12), 5)
    0.00096
    >>> round(sum(spent_alpha(k, planned_looks=12) for k in range(1, 200)), 12)
    0.05
    """
    return check_alpha(alpha) * _spent_share(look, planned_looks)


def _spent_share(look: int, planned_looks: int) -> float:
    if planned_looks < 1:
        raise ValueError(f"planned_looks must be 1 or more, got {planned_looks}")
    k = max(int(look), 1)
    share = 1.0 / (planned_looks + 1)
    return share * 0.5 ** (k - planned_looks) if k > planned_looks else share


def anytime_p_value(p_value: float, look: int, *, planned_looks: int = 12) -> float:
    """A look's fixed-sample p-value made valid over all looks: ``min(1, p / (alpha_k / alpha))``.

    It is at most ``alpha`` exactly when the look's bound at :func:`spent_alpha` clears
    the value tested, for every ``alpha``; it can enter Holm or Benjamini-Hochberg.

    >>> anytime_p_value(0.001, 3, planned_looks=12)
    0.013
    """
    if p_value is None or math.isnan(p_value):
        return math.nan
    return min(1.0, float(p_value) / _spent_share(look, planned_looks))
