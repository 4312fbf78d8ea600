"""Staggered adoption: effects by weeks since go-live, with a pre-trend test.

Departments go live in different weeks. A plain two-way fixed-effects regression with one
treatment dummy mixes already-treated departments into the controls and can even flip the
sign of the effect when effects grow over time (Goodman-Bacon 2021). We therefore use the
extended two-way fixed effects regression of Wooldridge (2021), which gives every
(go-live cohort, week) cell after go-live its own coefficient, so that the controls are only
departments not yet live (or never live) and each department's own weeks before go-live.
It equals the imputation estimator of Borusyak, Jaravel & Spiess (2024). Pre-trends are
tested as Borusyak et al. recommend, on the untreated observations alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import (
    check_alpha,
    check_choice,
    check_columns,
    check_count,
    check_frame,
    numeric_column,
    positive_for_log,
)
from ._ols import (
    WildLinearTest,
    WLSFit,
    collapse,
    dummies,
    independent_columns,
    invert_test,
    wild_wald_test,
    wild_weights,
)
from ._results import EventStudyResult


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    cluster: str | None = None,
    transform: Literal["none", "log"] = "none",
    leads: int = 4,
    lags: int | None = None,
    inference: Literal["wild", "cluster"] = "wild",
    n_boot: int = 9999,
    alpha: float = 0.05,
    pretrend_alpha: float = 0.10,
    seed: int = 0,
    weights: Literal["auto", "rademacher", "webb"] = "auto",
) -> EventStudyResult:
    r"""Event study for staggered go-live dates, with not-yet-live departments as controls.

    Parameters
    ----------
    data : DataFrame
        One row per observation (an approval, a department-week, ...).
    outcome : str
        Outcome column (turnaround, in hours).
    unit : str
        The unit that goes live (department).
    time : str
        Integer period of the observation (rollout week; baseline weeks may be <= 0).
    first_treated : str
        The unit's go-live period, in the units of ``time``; missing (NaN) for a unit that
        never goes live in the data. Must be constant within each unit.
    cluster : str, optional
        Cluster column; defaults to ``unit``.
    transform : {"none", "log"}
        ``"log"`` logs the outcome first (values must be > 0); relative changes are then
        ``exp(effect) - 1``.
    leads : int
        Number of pre-go-live periods (event times -leads .. -1) in the pre-trend test.
    lags : int, optional
        Largest event time reported and pooled into the overall effect (default: all).
    inference : {"wild", "cluster"}
        ``wild``: restricted wild cluster bootstrap (Webb weights for G <= 12), intervals by
        test inversion (and a bootstrap Wald p-value for the pre-trends beside the F test).
        ``cluster``: CR1 with t (and F) on G - 1 degrees of freedom.
    n_boot, alpha, seed, weights
        As in :func:`did`.
    pretrend_alpha : float
        Level at which the pre-trend test is flagged (0.10: pre-tests have little power, so
        flag early).

    Returns
    -------
    EventStudyResult
        ``effects`` (one row per event time: ``event_time, period, estimate, std_error,
        ci_low, ci_high, p_value, relative_change, relative_ci_low, relative_ci_high,
        n_obs, n_units``), the overall effect after go-live (``estimate`` ...), and
        ``pretrend_stat`` (F), ``pretrend_df``, ``pretrend_p_value`` (the wild bootstrap
        Wald test that decides the flag, also ``pretrend_wild_p_value``),
        ``pretrend_f_p_value`` (CR1 F) and ``pretrend_rejects``.

    Raises
    ------
    ValueError
        Missing columns, a go-live period that differs within a unit, no unit that goes
        live, no untreated observations, non-positive outcomes under log, or fewer than 4
        clusters for the wild bootstrap (2 for CR1).

    Notes
    -----
    Effects (Wooldridge 2021): fit

    .. math:: y_{it} = \alpha_i + \lambda_t + \sum_{g}\sum_{s \ge g}
              \tau_{gs}\,1[G_i = g,\ t = s] + u_{it}

    on all observations in periods where some unit is still untreated, and report
    :math:`\tau_e = \sum_g w_{g,e}\tau_{g,g+e}` with weights proportional to the
    observations in each cell. Pre-trends (Borusyak, Jaravel & Spiess 2024, test 1): on the
    untreated observations only, fit
    :math:`y_{it} = \alpha_i + \lambda_t + \sum_{e=-L}^{-1}\gamma_e 1[t - G_i = e] + u_{it}`
    and test :math:`\gamma_{-L} = \dots = \gamma_{-1} = 0`; the :math:`\gamma_e` are the
    pre-period points of the event-study plot (relative to weeks before ``-leads``). The
    flag uses the restricted wild cluster bootstrap of the CR1 Wald statistic (WCR, the
    same weights as the effects; Roodman et al. 2019), whose size holds with few clusters
    (``benchmarks/sim_stats.py``: 12 departments under parallel trends); the CR1
    :math:`F = W/q` on :math:`(q, G-1)` degrees of freedom, which over-rejects with few
    clusters, is reported beside it (``pretrend_stat``, ``pretrend_f_p_value``).

    References
    ----------
    Wooldridge (2021), Two-way fixed effects, the two-way Mundlak regression, and
    difference-in-differences estimators, SSRN 3906345.
    Borusyak, Jaravel & Spiess (2024), Revisiting event-study designs: robust and efficient
    estimation, Review of Economic Studies 91:3253-3285.
    Goodman-Bacon (2021), Difference-in-differences with variation in treatment timing,
    Journal of Econometrics 225:254-277.
    Roth (2022), Pretest with caution, AER: Insights 4:305-322.

    Examples
    --------
    Eight departments going live in weeks 3, 5 and 7 (two never in the window), a 30 %
    faster turnaround after go-live:

    >>> import numpy as np, pandas as pd
    >>> from wecom_eval import stats
    >>> rng = np.random.default_rng(3)
    >>> live = {0: 3, 1: 3, 2: 5, 3: 5, 4: 7, 5: 7, 6: np.nan, 7: np.nan}
    >>> rows = []
    >>> for d, g in live.items():
    ...     level = rng.normal(0, 0.3)
    ...     for week in range(1, 11):
    ...         shock = rng.normal(0, 0.05)
    ...         for _ in range(30):
    ...             after = not np.isnan(g) and week >= g
    ...             logh = 3 + level + shock + rng.normal(0, 0.5) + (np.log(0.7) if after else 0)
    ...             rows.append((d, week, g, np.exp(logh)))
    >>> df = pd.DataFrame(rows, columns=["dept", "week", "go_live", "hours"])
    >>> es = stats.event_study(df, outcome="hours", unit="dept", time="week",
    ...                        first_treated="go_live", transform="log", leads=2, n_boot=999)
    >>> round(es.relative_change, 1), es.pretrend_rejects
    (-0.3, False)
    >>> es.effects[["event_time", "period"]].head(3).to_records(index=False).tolist()
    [(-2, 'pre'), (-1, 'pre'), (0, 'post')]
    """
    data = check_frame(data)
    check_columns(data, outcome=outcome, unit=unit, time=time, first_treated=first_treated, cluster=cluster)
    check_choice(transform, "transform", ("none", "log"))
    check_choice(inference, "inference", ("wild", "cluster"))
    check_choice(weights, "weights", ("auto", "rademacher", "webb"))
    alpha = check_alpha(alpha)
    pretrend_alpha = check_alpha(pretrend_alpha, "pretrend_alpha")
    n_boot = check_count(n_boot, "n_boot", 99)
    leads = check_count(leads, "leads", 0)
    if lags is not None:
        lags = check_count(lags, "lags", 0)
    warnings: list[str] = []

    y = numeric_column(data, outcome, "outcome")
    tv = numeric_column(data, time, "time")
    ft = numeric_column(data, first_treated, "first_treated")
    ft = np.where(np.isinf(ft), np.nan, ft)
    u_codes, _ = pd.factorize(data[unit], sort=True)
    cl_codes, _ = pd.factorize(data[cluster if cluster is not None else unit], sort=True)
    missing = np.isnan(y) | np.isnan(tv) | (u_codes < 0) | (cl_codes < 0)
    if missing.any():
        warnings.append(f"dropped {int(missing.sum())} row(s) with a missing value")
    keep = ~missing
    index = data.index[keep]
    y, tv, ft = y[keep], tv[keep], ft[keep]
    u_codes = pd.factorize(u_codes[keep], sort=True)[0]
    cl_codes = pd.factorize(cl_codes[keep], sort=True)[0]
    if y.size == 0:
        raise ValueError("no rows left after dropping missing values")
    if np.any(tv != np.round(tv)):
        raise ValueError(
            f"time={time!r} must hold whole periods (e.g. the rollout week number); convert dates to week numbers first"
        )
    _check_constant_within(ft, u_codes, first_treated, unit)
    if transform == "log":
        positive_for_log(y, outcome, index)
        y = np.log(y)
    if np.all(np.isnan(ft)):
        raise ValueError(f"no unit goes live: {first_treated!r} is missing for every row")

    treated_obs = ~np.isnan(ft) & (tv >= ft)
    times = np.unique(tv)
    untreated_at = {t: bool(np.any(~treated_obs & (tv == t))) for t in times}
    in_post_sample = np.array([untreated_at[t] for t in tv])
    if (~in_post_sample).any():
        dropped = sorted({int(t) for t in tv[~in_post_sample]})
        warnings.append(f"period(s) {dropped} dropped: every unit is live there, so nothing is left to compare with")
    if not np.any(treated_obs & in_post_sample):
        raise ValueError(
            "no treated observation has a not-yet-live comparison in the same period; the effect is not identified"
        )

    G = int(cl_codes.max()) + 1
    min_g = 4 if inference == "wild" else 2
    if min_g > G:
        raise ValueError(
            f"inference={inference!r} needs at least {min_g} clusters; got {G}. Add "
            "departments or use a coarser question."
        )
    cl_first_live = pd.Series(ft).groupby(cl_codes).max()
    G1 = int(cl_first_live.notna().sum())
    rng = np.random.default_rng(seed)
    V, enumerated, kind = wild_weights(G, n_boot, weights, rng)

    # -- effects after go-live --------------------------------------------------------
    sel = in_post_sample
    post_fit, post_cols, cells_post = _fit_with_indicators(
        y[sel],
        u_codes[sel],
        tv[sel],
        cl_codes[sel],
        G,
        labels=[
            (g, t)
            for g, t in sorted(
                {(float(a), float(b)) for a, b in zip(ft[sel & treated_obs], tv[sel & treated_obs], strict=True)}
            )
        ],
        member=lambda ftc, tc, lab: (ftc == lab[0]) & (tc == lab[1]),
        ft=ft[sel],
        warnings=warnings,
        what="go-live cohort x week",
    )
    rows: list[dict[str, float | int | str]] = []
    event_times = sorted({int(t - g) for (g, t) in post_cols})
    if lags is not None:
        event_times = [e for e in event_times if e <= lags]
    col_e = np.array([int(t - g) for (g, t) in post_cols])
    col_w = np.array([cells_post[lab][0] for lab in post_cols], dtype=float)
    col_u = [cells_post[lab][1] for lab in post_cols]

    def combo(mask: np.ndarray, fit: WLSFit, n_cols: int) -> np.ndarray:
        c = np.zeros(fit.k)
        wts = np.where(mask, col_w, 0.0)
        c[fit.k - n_cols :] = wts / wts.sum()
        return c

    for e in event_times:
        mask = col_e == e
        c = combo(mask, post_fit, len(post_cols))
        units = set().union(*[col_u[j] for j in np.flatnonzero(mask)])
        rows.append(
            {
                "event_time": e,
                "period": "post",
                **_infer(post_fit, c, inference, V, alpha, G),
                "n_obs": int(col_w[mask].sum()),
                "n_units": len(units),
            }
        )
    overall_mask = col_e <= (lags if lags is not None else col_e.max())
    overall = _infer(post_fit, combo(overall_mask, post_fit, len(post_cols)), inference, V, alpha, G)

    # -- pre-trends on the untreated observations ----------------------------------------
    pre_rows: list[dict[str, float | int | str]] = []
    stat, q, p_pre, p_pre_wild, p_pre_f = math.nan, 0, math.nan, math.nan, math.nan
    untreated = ~treated_obs
    rel = tv - ft
    lead_labels: list[tuple[float, ...]] = [(float(e),) for e in range(-leads, 0) if np.any(untreated & (rel == e))]
    if leads and lead_labels:
        pre_fit, pre_cols, cells_pre = _fit_with_indicators(
            y[untreated],
            u_codes[untreated],
            tv[untreated],
            cl_codes[untreated],
            G,
            labels=lead_labels,
            member=lambda ftc, tc, lab: (tc - ftc) == lab[0],
            ft=ft[untreated],
            warnings=warnings,
            what="pre-go-live period",
        )
        q = len(pre_cols)
        if q:
            R = np.zeros((q, pre_fit.k))
            R[:, pre_fit.k - q :] = np.eye(q)
            diff = R @ pre_fit.beta
            wald = float(diff @ np.linalg.solve(R @ pre_fit.vcov_cr1() @ R.T, diff))
            stat = wald / q
            p_pre_f = float(sps.f.sf(stat, q, G - 1))
            p_pre_wild = wild_wald_test(pre_fit, R, np.zeros(q), V)[1]
            p_pre = p_pre_wild
            for j, lab in enumerate(pre_cols):
                c = np.zeros(pre_fit.k)
                c[pre_fit.k - q + j] = 1.0
                pre_rows.append(
                    {
                        "event_time": int(lab[0]),
                        "period": "pre",
                        **_infer(pre_fit, c, inference, V, alpha, G),
                        "n_obs": int(cells_pre[lab][0]),
                        "n_units": len(cells_pre[lab][1]),
                    }
                )
    else:
        warnings.append("no pre-go-live periods to test for pre-trends (leads=0 or no data)")
    rejects = bool(p_pre < pretrend_alpha) if math.isfinite(p_pre) else False
    if rejects:
        warnings.append(
            f"pre-trend test rejects (p = {p_pre:.3f} < {pretrend_alpha}): departments were "
            "already drifting apart before go-live, so the effect estimates may be biased"
        )
    if G < 10 or G1 < 3:
        warnings.append(f"{G} clusters, {G1} of which go live: intervals rest on few clusters")

    effects = pd.DataFrame(pre_rows + rows)
    for col in ("relative_change", "relative_ci_low", "relative_ci_high"):
        src = {"relative_change": "estimate", "relative_ci_low": "ci_low", "relative_ci_high": "ci_high"}[col]
        effects[col] = np.expm1(effects[src]) if transform == "log" else np.nan
    effects = effects[
        [
            "event_time",
            "period",
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "p_value",
            "relative_change",
            "relative_ci_low",
            "relative_ci_high",
            "n_obs",
            "n_units",
        ]
    ]
    how = (
        f"restricted wild cluster bootstrap ({kind} weights, {'all' if enumerated else 'random'} {V.shape[0]} draws)"
        if inference == "wild"
        else f"CR1 cluster-robust, t with {G - 1} df"
    )
    rel_fn = np.expm1 if transform == "log" else (lambda v: math.nan)
    return EventStudyResult(
        effects=effects.reset_index(drop=True),
        estimate=overall["estimate"],
        std_error=overall["std_error"],
        ci_low=overall["ci_low"],
        ci_high=overall["ci_high"],
        p_value=overall["p_value"],
        relative_change=float(rel_fn(overall["estimate"])),
        relative_ci_low=float(rel_fn(overall["ci_low"])),
        relative_ci_high=float(rel_fn(overall["ci_high"])),
        pretrend_stat=float(stat),
        pretrend_df=int(q),
        pretrend_p_value=float(p_pre),
        pretrend_rejects=rejects,
        pretrend_wild_p_value=float(p_pre_wild),
        pretrend_f_p_value=float(p_pre_f),
        inference=inference,
        method=f"extended two-way fixed effects (not-yet-live controls); {how}",
        alpha=alpha,
        n_obs=int(y.size),
        n_clusters=G,
        n_treated_clusters=G1,
        outcome=outcome,
        transform=transform,
        warnings=warnings,
    )


def _check_constant_within(ft: np.ndarray, units: np.ndarray, col: str, unit: str) -> None:
    frame = pd.DataFrame({"u": units, "ft": np.where(np.isnan(ft), -np.inf, ft)})
    n = frame.groupby("u")["ft"].nunique()
    if (n > 1).any():
        raise ValueError(
            f"first_treated={col!r} must be the same on every row of a {unit!r}; it varies "
            f"for {int((n > 1).sum())} unit(s). Give each department one go-live period."
        )


def _fit_with_indicators(
    y: np.ndarray,
    u: np.ndarray,
    tv: np.ndarray,
    cl: np.ndarray,
    G: int,
    *,
    labels: list[tuple[float, ...]],
    member: Callable[[np.ndarray, np.ndarray, tuple[float, ...]], np.ndarray],
    ft: np.ndarray,
    warnings: list[str],
    what: str,
) -> tuple[WLSFit, list[tuple[float, ...]], dict[tuple[float, ...], tuple[float, set[int]]]]:
    """Unit and period fixed effects plus one indicator per label (kept when identified)."""
    u_c, u_n = pd.factorize(u, sort=True)[0], len(np.unique(u))
    t_c = pd.factorize(tv, sort=True)[0]
    cells = collapse(y, [cl, u_c, t_c])
    f = cells.first
    ft_c, tv_c = ft[f], tv[f]
    m = f.size
    U, Td = dummies(u_c[f], u_n, "unit"), dummies(t_c[f], int(t_c.max()) + 1, "time")
    nuis = np.column_stack([np.ones(m), U[0], Td[0]])
    ind = np.column_stack([member(ft_c, tv_c, lab).astype(float) for lab in labels])
    X_all = np.column_stack([nuis, ind])
    n_nuis = nuis.shape[1]
    kept = independent_columns(X_all, cells.w, list(range(n_nuis)))
    kept = independent_columns(X_all, cells.w, kept + list(range(n_nuis, X_all.shape[1])))
    kept_ind = [j for j in kept if j >= n_nuis]
    if len(kept_ind) < len(labels):
        warnings.append(f"{len(labels) - len(kept_ind)} {what} indicator(s) not identified and left out")
    X = X_all[:, [j for j in kept if j < n_nuis] + kept_ind]
    fit = WLSFit(X, cells.w, cells.ybar, ss_within=cells.ss_within, n_obs=y.size, cluster=cl[f], n_clusters=G)
    cols = [labels[j - n_nuis] for j in kept_ind]
    info = {}
    for j, lab in zip(kept_ind, cols, strict=True):
        mask = X_all[:, j] > 0
        info[lab] = (float(cells.w[mask].sum()), set(u_c[f][mask].tolist()))
    return fit, cols, info


def _infer(fit: WLSFit, c: np.ndarray, inference: str, V: np.ndarray, alpha: float, G: int) -> dict[str, float]:
    """Estimate, CR1 SE, interval and p-value of ``c' beta``."""
    est = float(c @ fit.beta)
    se = float(math.sqrt(max(c @ fit.vcov_cr1() @ c, 0.0)))
    if inference == "wild":
        test = WildLinearTest(fit, c, V)
        p = test.pvalue(0.0)
        lo, hi = invert_test(test.pvalue, est, se, alpha)
    else:
        q = float(sps.t.ppf(1 - alpha / 2, G - 1))
        lo, hi = est - q * se, est + q * se
        p = float(2 * sps.t.sf(abs(est) / se, G - 1)) if se > 0 else math.nan
    return {"estimate": est, "std_error": se, "ci_low": float(lo), "ci_high": float(hi), "p_value": float(p)}
