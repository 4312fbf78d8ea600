"""KPIs against their targets, with the DESIGN §6 verdict.

How the verdict is decided (stated in every result):

- A target is a floor (``alternative="greater"``: reach at least the target) or a ceiling
  (``alternative="less"``: stay at most at the target).
- ``ci_low`` and ``ci_high`` are each a **one-sided** ``1 - alpha`` confidence bound, so
  together they form a two-sided ``1 - 2 alpha`` interval (90 % for ``alpha = 0.05``;
  ``result.confidence`` says so).
- For a floor: **met** when ``ci_low >= target`` (the estimate is shown to clear the target
  with one-sided confidence ``1 - alpha``); **missed** when ``ci_high < target`` (even the
  optimistic bound is short of it); otherwise **not yet shown** — which covers both an
  estimate above the target whose lower bound is not, and an estimate below the target
  whose upper bound still reaches it. Ceilings mirror this.
- ``met`` holds exactly when the one-sided test of ``H0: the target is not reached`` rejects
  at level ``alpha`` with the test that matches the interval (score test for Wilson,
  exact binomial for Clopper-Pearson, t for the mean), which is the ``p_value`` reported.
- A target of exactly 1 (or 0) for a proportion is a census condition: a floor of 1 is met
  only when every unit succeeds and missed as soon as one does not (a ceiling of 0 mirrors
  this).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import check_alpha, check_choice, check_count, finite_array
from ._results import TargetResult, Verdict

Alternative = Literal["greater", "less"]
Method = Literal["wilson", "exact"]


def wilson_bounds(successes: int, n: int, alpha: float) -> tuple[float, float]:
    """Wilson score bounds, each one-sided at level ``1 - alpha``.

    With ``z = Phi^-1(1 - alpha)``:
    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.
    """
    z = float(sps.norm.ppf(1 - alpha))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_bounds(successes: int, n: int, alpha: float) -> tuple[float, float]:
    """Clopper-Pearson (exact) bounds, each one-sided at level ``1 - alpha``."""
    lo = 0.0 if successes == 0 else float(sps.beta.ppf(alpha, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(sps.beta.ppf(1 - alpha, successes + 1, n - successes))
    return lo, hi


def _verdict(lo: float, hi: float, target: float, alternative: str) -> Verdict:
    if alternative == "greater":
        if lo >= target:
            return "met"
        return "missed" if hi < target else "not_yet_shown"
    if hi <= target:
        return "met"
    return "missed" if lo > target else "not_yet_shown"


def proportion_vs_target(
    successes: int,
    n: int,
    *,
    target: float,
    alternative: Alternative = "greater",
    method: Literal["wilson", "exact"] = "wilson",
    alpha: float = 0.05,
) -> TargetResult:
    r"""A proportion against its target: interval, one-sided test and verdict.

    Parameters
    ----------
    successes, n : int
        Count of successes (e.g. active members) and of trials (registered members).
    target : float
        The target share in [0, 1].
    alternative : {"greater", "less"}
        ``"greater"``: the target is a floor; ``"less"``: a ceiling.
    method : {"wilson", "exact"}
        Wilson score bounds with the score test, or Clopper-Pearson bounds with the exact
        binomial test.
    alpha : float
        One-sided error rate of each bound and of the test.

    Returns
    -------
    TargetResult
        ``estimate`` (successes / n), ``ci_low``/``ci_high`` (one-sided ``1 - alpha``
        bounds), ``p_value`` (one-sided test matching ``method``), ``exact_p_value`` (exact
        binomial test, always), ``verdict`` in {"met", "not_yet_shown", "missed"}.

    Raises
    ------
    ValueError
        Negative counts, ``successes > n``, ``n = 0``, target outside [0, 1].

    Notes
    -----
    Wilson bound (one-sided, :math:`z = \Phi^{-1}(1-\alpha)`):
    :math:`\frac{\hat p + z^2/2n \mp z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1+z^2/n}`;
    it is the set of :math:`p_0` not rejected by the score test
    :math:`z_0 = (\hat p - p_0)/\sqrt{p_0(1-p_0)/n}`. Clopper-Pearson bounds are the
    :math:`\alpha` and :math:`1-\alpha` quantiles of :math:`\mathrm{Beta}(x, n-x+1)` and
    :math:`\mathrm{Beta}(x+1, n-x)`; they invert the exact binomial test. See the module
    docstring for the verdict rule.

    References
    ----------
    Wilson (1927), JASA 22:209-212. Clopper & Pearson (1934), Biometrika 26:404-413.
    Brown, Cai & DasGupta (2001), Interval estimation for a binomial proportion,
    Statistical Science 16:101-133.

    Examples
    --------
    Daily active rate 640 of 1,000 registered members against the 60 % target:

    >>> from wecom_eval import stats
    >>> r = stats.proportion_vs_target(640, 1000, target=0.60)
    >>> round(r.ci_low, 4), r.verdict
    (0.6147, 'met')
    >>> stats.proportion_vs_target(61, 100, target=0.60).verdict
    'not_yet_shown'
    >>> stats.proportion_vs_target(45, 100, target=0.60).verdict
    'missed'
    """
    alpha = check_alpha(alpha)
    check_choice(alternative, "alternative", ("greater", "less"))
    check_choice(method, "method", ("wilson", "exact"))
    n = check_count(n, "n", 1)
    successes = check_count(successes, "successes", 0)
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n})")
    if not isinstance(target, (int, float)) or not 0.0 <= float(target) <= 1.0:
        raise ValueError(f"target must be a share in [0, 1] (e.g. 0.6 for 60 %); got {target!r}")
    target = float(target)
    lo, hi = wilson_bounds(successes, n, alpha) if method == "wilson" else clopper_pearson_bounds(successes, n, alpha)
    p, exact_p = _p_values(successes, n, target, alternative, method)
    return _result(successes, n, target, alternative, method, alpha, (lo, hi, p, exact_p))


def _result(
    successes: int,
    n: int,
    target: float,
    alternative: Alternative,
    method: str,
    alpha: float,
    found: tuple[float, float, float, float],
) -> TargetResult:
    """The result of checked counts from their bounds and p-values ``(lo, hi, p, exact_p)``."""
    lo, hi, p, exact_p = found
    warnings: list[str] = []
    verdict = _verdict(lo, hi, target, alternative)
    if target == 1.0 and alternative == "greater":
        verdict = "met" if successes == n else "missed"
        warnings.append("a 100 % target is a census condition: met only when every unit succeeds")
    elif target == 0.0 and alternative == "less":
        verdict = "met" if successes == 0 else "missed"
        warnings.append("a 0 % ceiling is a census condition: met only when no unit fails it")
    if n < 30:
        warnings.append(f"only {n} observations: the interval is wide")
    return TargetResult(
        estimate=successes / n,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        alpha=alpha,
        confidence=1 - 2 * alpha,
        target=target,
        alternative=alternative,
        verdict=verdict,
        method="Wilson score" if method == "wilson" else "Clopper-Pearson exact",
        n=n,
        exact_p_value=exact_p,
        warnings=warnings,
    )


def exact_floor_tests(
    successes: Sequence[int], n: Sequence[int], targets: Sequence[float], alphas: Sequence[float]
) -> list[tuple[TargetResult, float]]:
    """Many :func:`proportion_vs_target` results against floors with ``method="exact"``, computed as
    arrays (the same numbers, one call of each distribution for all), each with the p-value of
    the other side (``alternative="less"``). Counts must be checked: ``0 <= successes <= n``,
    ``n >= 1``, targets in [0, 1].

    >>> [(r.verdict, round(p_less, 4)) for r, p_less in exact_floor_tests([45], [100], [0.6], [0.05])]
    [('missed', 0.0017)]
    """
    s, m = np.asarray(successes, dtype=np.int64), np.asarray(n, dtype=np.int64)
    t, a = np.asarray(targets, dtype=float), np.asarray(alphas, dtype=float)
    lo, hi = np.zeros(len(s)), np.ones(len(s))
    some, short = s > 0, s < m  # Clopper-Pearson bounds, as clopper_pearson_bounds
    lo[some] = sps.beta.ppf(a[some], s[some], m[some] - s[some] + 1)
    hi[short] = sps.beta.ppf(1 - a[short], s[short] + 1, m[short] - s[short])
    greater = np.atleast_1d(sps.binom.sf(s - 1, m, t))  # scipy's binomtest, one-sided
    less = np.atleast_1d(sps.binom.cdf(s, m, t))
    return [
        (
            _result(
                int(k), int(size), float(v), "greater", "exact", float(al), (float(x), float(y), float(pg), float(pg))
            ),
            float(pl),
        )
        for k, size, v, al, x, y, pg, pl in zip(s, m, t, a, lo, hi, greater, less, strict=True)
    ]


def _p_values(successes: int, n: int, target: float, alternative: str, method: str) -> tuple[float, float]:
    """(the test's p-value matching ``method``, the exact binomial test's p-value)."""
    exact_p = float(sps.binomtest(successes, n, target, alternative=alternative).pvalue)
    if method == "wilson" and 0.0 < target < 1.0:
        z0 = (successes / n - target) / math.sqrt(target * (1 - target) / n)
        return float(sps.norm.sf(z0) if alternative == "greater" else sps.norm.cdf(z0)), exact_p
    return exact_p, exact_p  # the exact test, or Wilson at a census target


def proportion_p_value(successes: int, n: int, *, target: float, alternative: Alternative, method: Method) -> float:
    """The ``p_value`` of :func:`proportion_vs_target` alone (no bounds), for checked counts.

    >>> proportion_p_value(45, 100, target=0.6, alternative="less", method="exact") < 0.01
    True
    """
    return _p_values(successes, n, float(target), alternative, method)[0]


def mean_vs_target(
    values: np.ndarray | list[float],
    *,
    target: float,
    alternative: Alternative = "greater",
    alpha: float = 0.05,
    n_boot: int = 9999,
    seed: int = 0,
    clusters: np.ndarray | list[object] | None = None,
) -> TargetResult:
    r"""A mean (such as satisfaction on a 1-5 scale) against its target.

    Parameters
    ----------
    values : array-like
        One value per respondent (missing values are dropped).
    target : float
        The target mean (e.g. 4.5).
    alternative : {"greater", "less"}
        Floor or ceiling, as in :func:`proportion_vs_target`.
    alpha : float
        One-sided error rate.
    n_boot : int
        Bootstrap replicates for the BCa bounds reported beside the t bounds.
    seed : int
        Random seed.
    clusters : array-like, optional
        One label per value (the respondent's department): answers within a department
        share its mood, so they are not independent. The t bounds and test then use the
        cluster-robust (CR1) standard error of the mean with ``G - 1`` degrees of freedom,
        and ``design_effect`` is its variance over the simple-random one. With a single
        department the interval cannot be estimated: NaN bounds, a warning says why.

    Returns
    -------
    TargetResult
        ``estimate`` (mean), one-sided t bounds ``ci_low``/``ci_high``, one-sided t-test
        ``p_value``, BCa bootstrap bounds ``boot_ci_low``/``boot_ci_high`` and the verdict
        (from the t bounds; a warning says when the bootstrap bound would disagree);
        with ``clusters`` also ``n_clusters`` and ``design_effect``.

    Notes
    -----
    t bounds: :math:`\bar x \mp t_{n-1,1-\alpha}\, s/\sqrt n`; test statistic
    :math:`t = (\bar x - \mu_0)/(s/\sqrt n)`. The BCa interval (Efron 1987) uses bias
    correction :math:`z_0 = \Phi^{-1}(\#\{\bar x^* < \bar x\}/B)` and, for the mean, the
    closed-form acceleration :math:`a = \sum (x_i-\bar x)^3 / (6 [\sum (x_i-\bar x)^2]^{3/2})`.
    Values with few distinct levels (Likert answers) are resampled through multinomial
    counts, so the bootstrap costs O(B x levels).

    References
    ----------
    Efron (1987), Better bootstrap confidence intervals, JASA 82:171-185.

    Examples
    --------
    >>> from wecom_eval import stats
    >>> scores = [5, 4, 5, 5, 4, 5, 5, 4, 5, 5, 4, 5, 5, 5, 4, 5, 5, 5, 5, 4]
    >>> r = stats.mean_vs_target(scores, target=4.5)
    >>> round(r.estimate, 2), round(r.ci_low, 3), r.verdict
    (4.7, 4.518, 'met')
    """
    alpha = check_alpha(alpha)
    check_choice(alternative, "alternative", ("greater", "less"))
    n_boot = check_count(n_boot, "n_boot", 99)
    raw = np.asarray(values, dtype=float).ravel()
    labels = None if clusters is None else pd.Series(np.asarray(clusters, dtype=object).ravel())
    if labels is not None and labels.size != raw.size:
        raise ValueError(f"clusters needs one label per value; got {labels.size} for {raw.size} values")
    if labels is not None:
        keep = ~np.isnan(raw) & labels.notna().to_numpy()
        raw, labels = raw[keep], labels[keep]
    x = finite_array(raw, "values", min_size=2)
    target = float(target)
    warnings: list[str] = []
    n = x.size
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(n))
    df = n - 1
    n_clusters, deff = 0, math.nan
    if labels is not None:
        se, df, n_clusters, deff = _clustered_se(x, labels, se, warnings)
    q = float(sps.t.ppf(1 - alpha, df)) if df > 0 else math.nan
    lo, hi = mean - q * se, mean + q * se
    if math.isnan(se):
        p = math.nan
    elif se > 0:
        t = (mean - target) / se
        p = float(sps.t.sf(t, df) if alternative == "greater" else sps.t.cdf(t, df))
    else:
        p = 0.0 if (mean > target if alternative == "greater" else mean < target) else 1.0
        warnings.append("all values are equal: the interval has zero width")
    blo, bhi = _bca_mean_bounds(x, alpha, n_boot, np.random.default_rng(seed))
    verdict = _verdict(lo, hi, target, alternative) if not math.isnan(se) else "not_yet_shown"
    if labels is None and _verdict(blo, bhi, target, alternative) != verdict:
        warnings.append(
            "the bootstrap bounds give a different verdict than the t bounds: the data are "
            "skewed or few; read the verdict with care"
        )
    if n < 30:
        warnings.append(f"only {n} values: the interval is wide")
    return TargetResult(
        estimate=mean,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        alpha=alpha,
        confidence=1 - 2 * alpha,
        target=target,
        alternative=alternative,
        verdict=verdict,
        method="one-sample t" if labels is None else f"one-sample t, clustered by department ({n_clusters})",
        n=n,
        boot_ci_low=blo,
        boot_ci_high=bhi,
        warnings=warnings,
        n_clusters=n_clusters,
        design_effect=deff,
    )


def _clustered_se(
    x: np.ndarray, labels: pd.Series, se_simple: float, warnings: list[str]
) -> tuple[float, int, int, float]:
    """CR1 standard error of the mean of ``x`` clustered by ``labels``: SE, df (G - 1), G, design effect."""
    n, mean = x.size, float(x.mean())
    codes = pd.factorize(labels)[0]
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        warnings.append(
            "every answer comes from one department: the spread between "
            "departments cannot be estimated, so no interval is given"
        )
        return math.nan, 0, n_clusters, math.nan
    sums = np.bincount(codes, weights=x - mean)
    se_c = math.sqrt(n_clusters / (n_clusters - 1) * float(sums @ sums)) / n
    deff = (se_c / se_simple) ** 2 if se_simple > 0 else math.nan
    if n_clusters < 10:
        warnings.append(f"only {n_clusters} departments: the clustered interval is wide")
    return se_c, n_clusters - 1, n_clusters, deff


def bootstrap_means(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` bootstrap means of ``x`` (multinomial counts when levels are few)."""
    levels, counts = np.unique(x, return_counts=True)
    n = x.size
    if levels.size <= 50:
        draws = rng.multinomial(n, counts / n, size=n_boot)
        return np.asarray(draws @ levels / n)
    out = np.empty(n_boot)
    chunk = max(1, int(5e6 // n))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        out[start : start + size] = x[rng.integers(0, n, size=(size, n))].mean(axis=1)
    return out


def _bca_mean_bounds(x: np.ndarray, alpha: float, n_boot: int, rng: np.random.Generator) -> tuple[float, float]:
    """One-sided ``1 - alpha`` BCa bounds for the mean."""
    boot = bootstrap_means(x, n_boot, rng)
    mean = x.mean()
    frac = np.mean(boot < mean) + 0.5 * np.mean(boot == mean)
    if frac <= 0 or frac >= 1:
        return float(boot.min()), float(boot.max())
    z0 = float(sps.norm.ppf(frac))
    dev = x - mean
    ss = float(dev @ dev)
    a = float((dev**3).sum() / (6 * ss**1.5)) if ss > 0 else 0.0
    out = []
    for zq in (sps.norm.ppf(alpha), sps.norm.ppf(1 - alpha)):
        adj = z0 + (z0 + zq) / (1 - a * (z0 + zq))
        out.append(float(np.quantile(boot, sps.norm.cdf(adj))))
    return out[0], out[1]
