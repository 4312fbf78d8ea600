"""Two-sample comparisons for heavy-tailed durations: ratios and shifts with intervals.

Each function takes a long frame, the value column, the group column and the two group
labels; the effect is always ``comparison`` relative to ``baseline`` (for example after
relative to before, or pilot relative to control).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import (
    check_alpha,
    check_choice,
    check_columns,
    check_count,
    check_frame,
    finite_array,
    numeric_column,
)
from ._results import TwoSampleResult


def _two_groups(
    data: pd.DataFrame, value: str, group: str, baseline: Any, comparison: Any, *, positive: bool, min_size: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The comparison and baseline samples (NaN dropped), checked."""
    data = check_frame(data)
    check_columns(data, value=value, group=group)
    values = numeric_column(data, value, "value")
    labels = data[group]
    present = set(labels.dropna().unique().tolist())
    for name, lab in (("baseline", baseline), ("comparison", comparison)):
        if lab not in present:
            raise ValueError(
                f"{name}={lab!r} is not a value of group={group!r}; the groups are {sorted(map(str, present))[:20]}"
            )
    if baseline == comparison:
        raise ValueError("baseline and comparison must be different groups")
    warnings: list[str] = []
    out = []
    for lab in (comparison, baseline):
        v = values[(labels == lab).to_numpy()]
        n_nan = int(np.isnan(v).sum())
        if n_nan:
            warnings.append(f"dropped {n_nan} missing value(s) in group {lab!r}")
        v = finite_array(v, f"group {lab!r} of {value!r}", min_size=min_size)
        if positive and np.any(v <= 0):
            raise ValueError(
                f"{value!r} has {int((v <= 0).sum())} value(s) <= 0 in group {lab!r}; a ratio "
                "on the log scale needs positive durations. Drop or fix those rows."
            )
        out.append(v)
    return out[0], out[1], warnings


def welch_log(
    data: pd.DataFrame,
    *,
    value: str,
    group: str,
    baseline: Any,
    comparison: Any,
    alpha: float = 0.05,
) -> TwoSampleResult:
    r"""Ratio of geometric means by Welch's t test on the logs.

    Parameters
    ----------
    data : DataFrame
        Long frame, one row per observation.
    value : str
        Positive outcome column (a duration).
    group : str
        Column holding the group labels.
    baseline, comparison : object
        The two labels; the ratio is comparison / baseline.
    alpha : float
        Two-sided level; the interval has confidence ``1 - alpha``.

    Returns
    -------
    TwoSampleResult
        ``estimate`` = ratio of geometric means, ``ci_low``, ``ci_high``, ``p_value``
        (H0: ratio = 1), sizes and ``warnings``.

    Notes
    -----
    With :math:`\bar\ell_j, s_j^2` the mean and variance of the logs in group j,
    :math:`d = \bar\ell_1 - \bar\ell_0`, :math:`se = \sqrt{s_1^2/n_1 + s_0^2/n_0}` and the
    Welch-Satterthwaite degrees of freedom
    :math:`\nu = se^4 / \sum_j (s_j^2/n_j)^2/(n_j - 1)`; the ratio is :math:`e^d` with
    interval :math:`e^{d \pm t_{\nu, 1-\alpha/2}\, se}`.

    References
    ----------
    Welch (1947), The generalization of Student's problem when several different
    population variances are involved, Biometrika 34:28-35.

    Examples
    --------
    >>> import pandas as pd
    >>> from wecom_eval import stats
    >>> df = pd.DataFrame({"hours": [10, 20, 40, 80, 5, 10, 20, 40],
    ...                    "system": ["legacy"] * 4 + ["wecom"] * 4})
    >>> r = stats.welch_log(df, value="hours", group="system", baseline="legacy",
    ...                     comparison="wecom")
    >>> round(r.estimate, 3), round(r.p_value, 3)
    (0.5, 0.315)
    """
    alpha = check_alpha(alpha)
    x, y, warnings = _two_groups(data, value, group, baseline, comparison, positive=True, min_size=2)
    lx, ly = np.log(x), np.log(y)
    vx, vy = lx.var(ddof=1) / lx.size, ly.var(ddof=1) / ly.size
    d = float(lx.mean() - ly.mean())
    se = math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (lx.size - 1) + vy**2 / (ly.size - 1)) if se > 0 else 1.0
    q = float(sps.t.ppf(1 - alpha / 2, df))
    p = float(2 * sps.t.sf(abs(d) / se, df)) if se > 0 else math.nan
    if min(x.size, y.size) < 10:
        warnings.append("fewer than 10 observations in a group: the t approximation is rough")
    return TwoSampleResult(
        estimate=math.exp(d),
        ci_low=math.exp(d - q * se),
        ci_high=math.exp(d + q * se),
        p_value=p,
        alpha=alpha,
        measure="ratio_of_geometric_means",
        method=f"Welch t on logs, {df:.1f} df",
        n_baseline=int(y.size),
        n_comparison=int(x.size),
        baseline=str(baseline),
        comparison=str(comparison),
        warnings=warnings,
    )


def mann_whitney_hl(
    data: pd.DataFrame,
    *,
    value: str,
    group: str,
    baseline: Any,
    comparison: Any,
    alpha: float = 0.05,
    transform: Literal["none", "log"] = "none",
    method: Literal["auto", "exact", "asymptotic"] = "auto",
) -> TwoSampleResult:
    r"""Mann-Whitney test with the Hodges-Lehmann shift and its Moses interval.

    Parameters
    ----------
    data, value, group, baseline, comparison
        As in :func:`welch_log`.
    alpha : float
        Two-sided level.
    transform : {"none", "log"}
        ``"log"`` works on log values and reports the shift as a ratio
        (:math:`e^{\hat\Delta}`: the median ratio of a comparison to a baseline value).
    method : {"auto", "exact", "asymptotic"}
        Exact null distribution of U (``auto``: when both groups have at most 50
        observations and there are no ties) or the normal approximation.

    Returns
    -------
    TwoSampleResult
        ``estimate`` = Hodges-Lehmann shift (or ratio), ``ci_low``, ``ci_high``,
        ``p_value`` of the two-sided Mann-Whitney test.

    Notes
    -----
    The Hodges-Lehmann estimate is the median of the :math:`N = n_1 n_0` differences
    :math:`D = x_i - y_j` (comparison minus baseline). The Moses interval is
    :math:`[D_{(k)}, D_{(N+1-k)}]` with, asymptotically,
    :math:`k = \lfloor N/2 - z_{1-\alpha/2}\sqrt{n_1 n_0 (n_1+n_0+1)/12}\rfloor` and, exactly,
    :math:`k = 1 + \max\{c : P(U \le c) \le \alpha/2\}` under the null distribution of U
    (Hollander & Wolfe 1999, section 4.3; SAS PROC NPAR1WAY, HL option). Large samples are
    handled without forming all N differences (selection by counting, O(n log n) per step).

    References
    ----------
    Hodges & Lehmann (1963), Estimates of location based on rank tests, Annals of
    Mathematical Statistics 34:598-611.
    Hollander, Wolfe & Chicken (2014), Nonparametric Statistical Methods, 3rd ed., Wiley.

    Examples
    --------
    Hollander-Wolfe-Chicken example (as used by the SAS and R comparison of CAMIS):

    >>> import pandas as pd
    >>> from wecom_eval import stats
    >>> a = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> b = [0.878, 0.647, 0.598, 2.050, 1.060, 1.290, 1.060, 3.140, 1.290]
    >>> df = pd.DataFrame({"v": a + b, "g": ["A"] * 9 + ["B"] * 9})
    >>> r = stats.mann_whitney_hl(df, value="v", group="g", baseline="B", comparison="A")
    >>> round(r.estimate, 4), round(r.ci_low, 4), round(r.ci_high, 4)
    (0.56, -0.37, 1.183)
    """
    alpha = check_alpha(alpha)
    check_choice(transform, "transform", ("none", "log"))
    check_choice(method, "method", ("auto", "exact", "asymptotic"))
    x, y, warnings = _two_groups(data, value, group, baseline, comparison, positive=transform == "log", min_size=1)
    if transform == "log":
        x, y = np.log(x), np.log(y)
    n1, n0 = x.size, y.size
    ties = np.unique(np.concatenate([x, y])).size < n1 + n0
    if method == "auto":
        method = "exact" if max(n1, n0) <= 50 and not ties else "asymptotic"
    if method == "exact" and ties:
        warnings.append("ties in the data: the 'exact' p-value and interval are approximate")
    if method == "exact" and n1 * n0 > 250_000:
        raise ValueError(f"method='exact' is for small samples (n1 * n0 = {n1 * n0}); use 'asymptotic'")
    p = float(sps.mannwhitneyu(x, y, alternative="two-sided", method=method).pvalue)
    xs, ys = np.sort(x), np.sort(y)
    N = n1 * n0
    if N % 2:
        hl = _kth_difference(xs, ys, (N + 1) // 2)
    else:
        hl = 0.5 * (_kth_difference(xs, ys, N // 2) + _kth_difference(xs, ys, N // 2 + 1))
    if method == "exact":
        cdf = np.cumsum(_u_distribution(n1, n0))
        k = int(np.searchsorted(cdf, alpha / 2 * (1 + 1e-12), side="right"))
    else:
        z = float(sps.norm.ppf(1 - alpha / 2))
        k = int(math.floor(N / 2 - z * math.sqrt(n1 * n0 * (n1 + n0 + 1) / 12)))
    if k < 1:
        lo, hi = -math.inf, math.inf
        warnings.append(f"samples too small for a {1 - alpha:.0%} interval (it is unbounded)")
    else:
        lo, hi = _kth_difference(xs, ys, k), _kth_difference(xs, ys, N + 1 - k)
    measure = "hodges_lehmann_shift"
    if transform == "log":
        hl, lo, hi = math.exp(hl), _exp(lo), _exp(hi)
        measure = "hodges_lehmann_ratio"
    return TwoSampleResult(
        estimate=float(hl),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=p,
        alpha=alpha,
        measure=measure,
        method=f"Mann-Whitney U ({method}), Moses interval",
        n_baseline=int(n0),
        n_comparison=int(n1),
        baseline=str(baseline),
        comparison=str(comparison),
        warnings=warnings,
    )


def ratio_of_medians_bootstrap(
    data: pd.DataFrame,
    *,
    value: str,
    group: str,
    baseline: Any,
    comparison: Any,
    alpha: float = 0.05,
    n_boot: int = 9999,
    seed: int = 0,
) -> TwoSampleResult:
    r"""Ratio of medians with a percentile bootstrap interval.

    Parameters
    ----------
    data, value, group, baseline, comparison
        As in :func:`welch_log`; values must be positive.
    alpha : float
        Two-sided level.
    n_boot : int
        Bootstrap replicates.
    seed : int
        Random seed.

    Returns
    -------
    TwoSampleResult
        ``estimate`` = median(comparison) / median(baseline), the percentile interval,
        and ``p_value`` = the smallest two-sided level at which the percentile interval
        excludes 1.

    Notes
    -----
    Each group is resampled independently. The bootstrap median is drawn exactly and in
    O(1) per replicate from its order-statistic representation: the k-th smallest of n
    values resampled from the sorted sample :math:`x_{(1)} \le \dots \le x_{(n)}` is
    :math:`x_{(\lceil nU_{(k)}\rceil)}` with :math:`U_{(k)} \sim \mathrm{Beta}(k, n-k+1)`, and
    :math:`U_{(k+1)} = U_{(k)} + (1 - U_{(k)})\,\mathrm{Beta}(1, n-k)` for the second middle
    value of an even sample (Efron 1979; Maritz & Jarrett 1978).

    References
    ----------
    Efron (1979), Bootstrap methods: another look at the jackknife, Annals of
    Statistics 7:1-26. Maritz & Jarrett (1978), A note on estimating the variance of the
    sample median, JASA 73:194-196.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from wecom_eval import stats
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"hours": np.r_[rng.lognormal(3, 1, 400), rng.lognormal(2.5, 1, 400)],
    ...                    "phase": ["before"] * 400 + ["after"] * 400})
    >>> r = stats.ratio_of_medians_bootstrap(df, value="hours", group="phase",
    ...                                      baseline="before", comparison="after")
    >>> round(r.estimate, 2), bool(r.ci_low < np.exp(-0.5) < r.ci_high)
    (0.62, True)
    """
    alpha = check_alpha(alpha)
    n_boot = check_count(n_boot, "n_boot", 99)
    x, y, warnings = _two_groups(data, value, group, baseline, comparison, positive=True, min_size=2)
    rng = np.random.default_rng(seed)
    est = float(np.median(x) / np.median(y))
    lr = np.log(bootstrap_medians(x, n_boot, rng)) - np.log(bootstrap_medians(y, n_boot, rng))
    lo, hi = np.quantile(lr, [alpha / 2, 1 - alpha / 2])
    p = float(min(1.0, 2 * min(np.mean(lr <= 0), np.mean(lr >= 0))))
    if min(x.size, y.size) < 20:
        warnings.append("fewer than 20 observations in a group: the bootstrap of a median is coarse")
    return TwoSampleResult(
        estimate=est,
        ci_low=float(np.exp(lo)),
        ci_high=float(np.exp(hi)),
        p_value=p,
        alpha=alpha,
        measure="ratio_of_medians",
        method=f"percentile bootstrap, {n_boot} replicates",
        n_baseline=int(y.size),
        n_comparison=int(x.size),
        baseline=str(baseline),
        comparison=str(comparison),
        warnings=warnings,
    )


# -- helpers ----------------------------------------------------------------------------
def bootstrap_medians(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` draws of the bootstrap median of ``x`` (exact, O(n log n + n_boot))."""
    xs = np.sort(x)
    n = xs.size

    def pick(u: np.ndarray) -> np.ndarray:
        return np.asarray(xs[np.clip(np.ceil(n * u).astype(int) - 1, 0, n - 1)])

    if n % 2:
        k = (n + 1) // 2
        return pick(rng.beta(k, n - k + 1, size=n_boot))
    k = n // 2
    u1 = rng.beta(k, n - k + 1, size=n_boot)
    u2 = u1 + (1.0 - u1) * rng.beta(1, n - k, size=n_boot)
    return np.asarray(0.5 * (pick(u1) + pick(u2)))


def _first_le(xs: np.ndarray, ys: np.ndarray, d: float) -> np.ndarray:
    """For each x_i, the first j with ``x_i - y_j <= d`` (ys sorted, so the differences
    fall with j); a vectorised binary search on the computed differences themselves, so
    that counting and gathering agree exactly in floating point."""
    lo = np.zeros(xs.size, dtype=np.int64)
    hi = np.full(xs.size, ys.size, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        ok = xs - ys[np.minimum(mid, ys.size - 1)] <= d
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)


def _count_le(xs: np.ndarray, ys: np.ndarray, d: float) -> int:
    """Number of pairs with ``x - y <= d`` (both sorted)."""
    return int((ys.size - _first_le(xs, ys, d)).sum())


def _kth_difference(xs: np.ndarray, ys: np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of the differences ``x_i - y_j`` (both sorted)."""
    N = xs.size * ys.size
    if N <= 2_000_000:
        diffs = (xs[:, None] - ys[None, :]).ravel()
        return float(np.partition(diffs, k - 1)[k - 1])
    lo, hi = float(xs[0] - ys[-1]), float(xs[-1] - ys[0])
    if _count_le(xs, ys, lo) >= k:
        return lo
    # invariant: count(lo) < k <= count(hi)
    c_lo = _count_le(xs, ys, lo)
    for _ in range(200):
        if _count_le(xs, ys, hi) - c_lo <= 4 * (xs.size + ys.size):
            break
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        c_mid = _count_le(xs, ys, mid)
        if c_mid >= k:
            hi = mid
        else:
            lo, c_lo = mid, c_mid
    # the differences in (lo, hi] are few: gather and select among them
    left, right = _first_le(xs, ys, hi), _first_le(xs, ys, lo)
    cand = np.concatenate([xs[i] - ys[left[i] : right[i]] for i in range(xs.size)])
    cand.sort()
    return float(cand[k - c_lo - 1])


def _u_distribution(n1: int, n0: int) -> np.ndarray:
    """Exact null probabilities of U = 0..n1*n0 (no ties), from the Gaussian binomial.

    The counts are the coefficients of prod_{i=1..n1} (1 - q^(n0+i)) / (1 - q^i), computed
    with Python integers (exact).
    """
    size = n1 * n0 + 1
    coef = [0] * size
    coef[0] = 1
    for i in range(1, n1 + 1):
        a = n0 + i
        for j in range(size - 1, a - 1, -1):  # multiply by (1 - q^a)
            coef[j] -= coef[j - a]
        for j in range(i, size):  # divide by (1 - q^i)
            coef[j] += coef[j - i]
    total = math.comb(n1 + n0, n1)
    return np.array([c / total for c in coef])


def _exp(x: float) -> float:
    return math.exp(x) if math.isfinite(x) else (math.inf if x > 0 else 0.0)
