"""Survey statistics: scale reliability, top-2-box shares and wave-over-wave change."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import check_alpha, check_columns, check_count, check_frame, finite_array
from ._results import AlphaResult, ProportionResult, WaveComparison
from .targets import wilson_bounds


def cronbach_alpha(items: pd.DataFrame, *, alpha: float = 0.05, null: float = 0.0) -> AlphaResult:
    r"""Cronbach's alpha of a multi-item scale, with Feldt's confidence interval.

    Parameters
    ----------
    items : DataFrame
        Wide frame: one row per respondent, one column per item (numeric scores). Rows with
        a missing answer are left out (listwise). Survey answers stored long
        (``wave, respondent_id, item, score``) can be widened with
        ``long.pivot(index="respondent_id", columns="item", values="score")``.
    alpha : float
        1 - confidence level of the two-sided interval (not to be confused with the
        coefficient).
    null : float
        Value tested by ``p_value`` (one-sided, H1: coefficient > null).

    Returns
    -------
    AlphaResult
        ``estimate, ci_low, ci_high, p_value``, ``n`` respondents, ``k`` items, warnings.

    Raises
    ------
    ValueError
        Fewer than 2 items or 2 complete respondents, non-numeric items.

    Notes
    -----
    :math:`\hat\alpha = \frac{k}{k-1}\left(1 - \frac{\sum_j s_j^2}{s_T^2}\right)` with item
    variances :math:`s_j^2` and the variance :math:`s_T^2` of the total score (ddof = 1).
    Feldt (1965; Feldt, Woodruff & Salih 1987, formulas 6-7): with
    :math:`F_q` the q-quantile of :math:`F(n-1, (n-1)(k-1))`, the interval is
    :math:`[1 - (1-\hat\alpha) F_{1-a/2},\ 1 - (1-\hat\alpha) F_{a/2}]` and
    :math:`(1-\alpha_0)/(1-\hat\alpha) \sim F(n-1,(n-1)(k-1))` under
    :math:`\alpha = \alpha_0` gives the p-value.

    References
    ----------
    Cronbach (1951), Coefficient alpha and the internal structure of tests,
    Psychometrika 16:297-334.
    Feldt, Woodruff & Salih (1987), Statistical inference for coefficient alpha, Applied
    Psychological Measurement 11:93-103.

    Examples
    --------
    >>> import pandas as pd
    >>> from wecom_eval import stats
    >>> items = pd.DataFrame({"q1": [4, 5, 3, 4, 2, 5], "q2": [4, 4, 3, 5, 2, 5],
    ...                       "q3": [5, 5, 2, 4, 3, 4]})
    >>> r = stats.cronbach_alpha(items)
    >>> round(r.estimate, 4), r.n, r.k
    (0.8788, 6, 3)
    """
    items = check_frame(items, "items")
    alpha = check_alpha(alpha)
    if items.shape[1] < 2:
        raise ValueError(f"items needs at least 2 item columns; got {items.shape[1]}")
    non_numeric = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if non_numeric:
        raise ValueError(f"item columns must be numeric scores; {non_numeric} are not")
    warnings: list[str] = []
    complete = items.dropna()
    if len(complete) < len(items):
        warnings.append(f"left out {len(items) - len(complete)} respondent(s) with a missing answer (listwise)")
    n, k = complete.shape
    if n < 2:
        raise ValueError(f"need at least 2 respondents with every item answered; got {n}")
    mat = complete.to_numpy(dtype=float)
    item_var = mat.var(axis=0, ddof=1)
    total_var = mat.sum(axis=1).var(ddof=1)
    if total_var == 0:
        raise ValueError("every respondent has the same total score; alpha is undefined")
    if np.any(item_var == 0):
        warnings.append("an item has no variance (everyone gave the same answer)")
    est = k / (k - 1) * (1 - item_var.sum() / total_var)
    d1, d2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - est) * float(sps.f.ppf(1 - alpha / 2, d1, d2))
    hi = 1 - (1 - est) * float(sps.f.ppf(alpha / 2, d1, d2))
    p = float(sps.f.sf((1 - null) / (1 - est), d1, d2)) if est < 1 else 0.0
    if n < 30:
        warnings.append(f"only {n} complete respondents: the interval is wide")
    if est < 0:
        warnings.append("negative alpha: items may be reverse-coded or measure different things")
    return AlphaResult(
        estimate=float(est),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=p,
        alpha=alpha,
        n=int(n),
        k=int(k),
        null=float(null),
        warnings=warnings,
    )


def top2box(
    scores: Any,
    *,
    scale_max: int = 5,
    alpha: float = 0.05,
    null: float | None = None,
) -> ProportionResult:
    r"""Share of answers in the top two boxes (4-5 on a 1-5 scale) with a Wilson interval.

    Parameters
    ----------
    scores : array-like or Series
        Answers on a 1..``scale_max`` scale; missing answers are dropped.
    scale_max : int
        Top of the scale.
    alpha : float
        1 - confidence level (two-sided).
    null : float, optional
        If given, ``p_value`` is the two-sided exact binomial test of share = ``null``.

    Returns
    -------
    ProportionResult
        ``estimate, ci_low, ci_high, p_value`` (NaN without ``null``), counts, warnings.

    Notes
    -----
    Two-sided Wilson interval with :math:`z = \Phi^{-1}(1-\alpha/2)`.

    References
    ----------
    Wilson (1927), JASA 22:209-212.

    Examples
    --------
    >>> from wecom_eval import stats
    >>> r = stats.top2box([5, 4, 3, 5, 2, 4, 4, 5, 1, 4])
    >>> r.estimate, round(r.ci_low, 3), round(r.ci_high, 3)
    (0.7, 0.397, 0.892)
    """
    alpha = check_alpha(alpha)
    scale_max = check_count(scale_max, "scale_max", 2)
    x = finite_array(scores, "scores")
    if np.any((x < 1) | (x > scale_max) | (x != np.round(x))):
        bad = x[(x < 1) | (x > scale_max) | (x != np.round(x))][0]
        raise ValueError(f"scores must be whole numbers from 1 to {scale_max}; found {bad!r}")
    s, n = int(np.sum(x >= scale_max - 1)), int(x.size)
    lo, hi = wilson_bounds(s, n, alpha / 2)
    p = float(sps.binomtest(s, n, null).pvalue) if null is not None else math.nan
    warnings = [f"only {n} answers: the interval is wide"] if n < 30 else []
    return ProportionResult(
        estimate=s / n,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        alpha=alpha,
        successes=s,
        n=n,
        method="Wilson score",
        warnings=warnings,
    )


def compare_waves(
    data: pd.DataFrame,
    *,
    baseline: Any,
    comparison: Any,
    item: Any = None,
    wave: str = "wave",
    score: str = "score",
    item_column: str = "item",
    respondent: str | None = "respondent_id",
    scale_max: int = 5,
    alpha: float = 0.05,
) -> WaveComparison:
    r"""Change of one survey item between two waves: mean and top-2-box share.

    Parameters
    ----------
    data : DataFrame
        Long answers (``wave, respondent_id, item, score``; the column names are
        parameters).
    baseline, comparison : object
        The two wave labels; differences are comparison minus baseline.
    item : object, optional
        Item to compare (a value of ``item_column``); None when ``data`` holds one item.
    wave, score, item_column, respondent : str
        Column names (``respondent=None`` if there is no respondent id).
    scale_max : int
        Top of the answer scale.
    alpha : float
        Two-sided level.

    Returns
    -------
    WaveComparison
        ``estimate`` = difference of means with Welch interval and p-value; the
        top-2-box shares, their difference with Newcombe's hybrid score interval and a
        two-proportion score-test p-value.

    Notes
    -----
    Mean difference: Welch t (see :func:`welch_log`, on the raw scores). Top-2-box
    difference :math:`d = p_1 - p_0` with Newcombe's interval (method 10):
    :math:`[d - \sqrt{(p_1-l_1)^2 + (u_0-p_0)^2},\ d + \sqrt{(u_1-p_1)^2 + (p_0-l_0)^2}]`
    from the Wilson intervals :math:`(l_j, u_j)`; p-value from the pooled z test
    :math:`z = d/\sqrt{\bar p(1-\bar p)(1/n_1 + 1/n_0)}`. Both treat the waves as
    independent samples; a warning says when respondents answered both.

    References
    ----------
    Newcombe (1998), Interval estimation for the difference between independent
    proportions, Statistics in Medicine 17:873-890.

    Examples
    --------
    >>> import pandas as pd
    >>> from wecom_eval import stats
    >>> df = pd.DataFrame({"wave": ["Q1"] * 6 + ["Q2"] * 6,
    ...                    "score": [3, 4, 2, 4, 3, 5, 4, 5, 4, 5, 3, 5]})
    >>> r = stats.compare_waves(df, baseline="Q1", comparison="Q2", respondent=None)
    >>> round(r.estimate, 3), round(r.top2_difference, 3)
    (0.833, 0.333)
    """
    data = check_frame(data)
    alpha = check_alpha(alpha)
    check_columns(data, wave=wave, score=score, respondent=respondent if respondent in data.columns else None)
    if item is not None:
        check_columns(data, item_column=item_column)
        data = data[data[item_column] == item]
        if data.empty:
            raise ValueError(f"item={item!r} has no answers in column {item_column!r}")
    warnings: list[str] = []
    samples = []
    for lab in (comparison, baseline):
        sub = data[data[wave] == lab]
        if sub.empty:
            raise ValueError(f"wave {lab!r} has no answers in column {wave!r}")
        samples.append(finite_array(sub[score], f"scores of wave {lab!r}", min_size=2))
    if respondent is not None and respondent in data.columns:
        both = set(data.loc[data[wave] == baseline, respondent]) & set(data.loc[data[wave] == comparison, respondent])
        if both:
            warnings.append(
                f"{len(both)} respondent(s) answered both waves; the tests assume independent "
                "samples and are conservative for a panel"
            )
    x1, x0 = samples
    tt = sps.ttest_ind(x1, x0, equal_var=False)
    ci = tt.confidence_interval(confidence_level=1 - alpha)
    s1, s0 = int(np.sum(x1 >= scale_max - 1)), int(np.sum(x0 >= scale_max - 1))
    n1, n0 = x1.size, x0.size
    p1, p0 = s1 / n1, s0 / n0
    l1, u1 = wilson_bounds(s1, n1, alpha / 2)
    l0, u0 = wilson_bounds(s0, n0, alpha / 2)
    d = p1 - p0
    d_lo = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    d_hi = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pool = (s1 + s0) / (n1 + n0)
    se0 = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0))
    p_top = float(2 * sps.norm.sf(abs(d) / se0)) if se0 > 0 else 1.0
    if min(n1, n0) < 30:
        warnings.append("fewer than 30 answers in a wave: intervals are wide")
    return WaveComparison(
        estimate=float(x1.mean() - x0.mean()),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(tt.pvalue),
        alpha=alpha,
        mean_baseline=float(x0.mean()),
        mean_comparison=float(x1.mean()),
        top2_baseline=p0,
        top2_comparison=p1,
        top2_difference=d,
        top2_ci_low=d_lo,
        top2_ci_high=d_hi,
        top2_p_value=p_top,
        n_baseline=int(n0),
        n_comparison=int(n1),
        baseline=str(baseline),
        comparison=str(comparison),
        item=str(item) if item is not None else "",
        warnings=warnings,
    )
