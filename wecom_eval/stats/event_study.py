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
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import check_alpha, check_choice, check_columns, check_count, check_frame
from ._ols import WLSFit, wild_wald_test, wild_weights
from ._results import EventStudyResult
from ._staggered import Panel, fit_with_indicators, infer_contrast, read_panel

_EFFECT_COLUMNS = [
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
    panel = read_panel(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        first_treated=first_treated,
        cluster=cluster,
        transform=transform,
        min_clusters=4 if inference == "wild" else 2,
        inference=inference,
        warnings=warnings,
    )
    G, G1 = panel.n_clusters, panel.n_treated_clusters
    V, enumerated, kind = wild_weights(G, n_boot, weights, np.random.default_rng(seed))
    contrast = _Contrast(inference, V, alpha, G)
    rows, overall = _post_effects(panel, contrast, lags, warnings)
    pre = _pretrends(panel, contrast, leads, warnings)
    rejects = _pretrend_flag(pre.p_value, pretrend_alpha, warnings)
    if G < 10 or G1 < 3:
        warnings.append(f"{G} clusters, {G1} of which go live: intervals rest on few clusters")

    rel_fn = np.expm1 if transform == "log" else (lambda v: math.nan)
    return EventStudyResult(
        effects=_effects_frame(pre.rows + rows, transform),
        estimate=overall["estimate"],
        std_error=overall["std_error"],
        ci_low=overall["ci_low"],
        ci_high=overall["ci_high"],
        p_value=overall["p_value"],
        relative_change=float(rel_fn(overall["estimate"])),
        relative_ci_low=float(rel_fn(overall["ci_low"])),
        relative_ci_high=float(rel_fn(overall["ci_high"])),
        pretrend_stat=float(pre.stat),
        pretrend_df=int(pre.df),
        pretrend_p_value=float(pre.p_value),
        pretrend_rejects=rejects,
        pretrend_wild_p_value=float(pre.wild_p_value),
        pretrend_f_p_value=float(pre.f_p_value),
        inference=inference,
        method=_method(inference, kind, enumerated, V.shape[0], G),
        alpha=alpha,
        n_obs=int(panel.y.size),
        n_clusters=G,
        n_treated_clusters=G1,
        outcome=outcome,
        transform=transform,
        warnings=warnings,
    )


class _Contrast(NamedTuple):
    """How a contrast of coefficients is tested: the method, the wild weights, the level, G."""

    inference: str
    V: np.ndarray
    alpha: float
    n_clusters: int

    def row(self, fit: WLSFit, c: np.ndarray) -> dict[str, float]:
        return infer_contrast(fit, c, self.inference, self.V, self.alpha, self.n_clusters)


Row = dict[str, float | int | str]


def _post_effects(
    panel: Panel, contrast: _Contrast, lags: int | None, warnings: list[str]
) -> tuple[list[Row], dict[str, float]]:
    """One row per event time after go-live, and the overall effect (cells weighted by their observations)."""
    sel, treated_obs, ft, tv = panel.in_post_sample, panel.treated_obs, panel.ft, panel.tv
    post_fit, post_cols, cells_post = fit_with_indicators(
        panel.y[sel],
        panel.u_codes[sel],
        tv[sel],
        panel.cl_codes[sel],
        panel.n_clusters,
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
    event_times = sorted({int(t - g) for (g, t) in post_cols})
    if lags is not None:
        event_times = [e for e in event_times if e <= lags]
    col_e = np.array([int(t - g) for (g, t) in post_cols])
    col_w = np.array([cells_post[lab][0] for lab in post_cols], dtype=float)
    col_u = [cells_post[lab][1] for lab in post_cols]

    def combo(mask: np.ndarray) -> np.ndarray:
        c = np.zeros(post_fit.k)
        wts = np.where(mask, col_w, 0.0)
        c[post_fit.k - len(post_cols) :] = wts / wts.sum()
        return c

    rows: list[Row] = []
    for e in event_times:
        mask = col_e == e
        units = set().union(*[col_u[j] for j in np.flatnonzero(mask)])
        rows.append(
            {
                "event_time": e,
                "period": "post",
                **contrast.row(post_fit, combo(mask)),
                "n_obs": int(col_w[mask].sum()),
                "n_units": len(units),
            }
        )
    overall_mask = col_e <= (lags if lags is not None else col_e.max())
    return rows, contrast.row(post_fit, combo(overall_mask))


class _Pretrend(NamedTuple):
    """The pre-go-live points and the joint test that they are zero."""

    rows: list[Row]
    stat: float = math.nan  # CR1 F = Wald / q
    df: int = 0
    p_value: float = math.nan  # the wild bootstrap Wald test decides the flag
    wild_p_value: float = math.nan
    f_p_value: float = math.nan


def _pretrends(panel: Panel, contrast: _Contrast, leads: int, warnings: list[str]) -> _Pretrend:
    """Pre-trends on the untreated observations: one indicator per event time -leads..-1, tested jointly."""
    untreated = ~panel.treated_obs
    rel = panel.tv - panel.ft
    lead_labels: list[tuple[float, ...]] = [(float(e),) for e in range(-leads, 0) if np.any(untreated & (rel == e))]
    if not (leads and lead_labels):
        warnings.append("no pre-go-live periods to test for pre-trends (leads=0 or no data)")
        return _Pretrend([])
    G = panel.n_clusters
    pre_fit, pre_cols, cells_pre = fit_with_indicators(
        panel.y[untreated],
        panel.u_codes[untreated],
        panel.tv[untreated],
        panel.cl_codes[untreated],
        G,
        labels=lead_labels,
        member=lambda ftc, tc, lab: (tc - ftc) == lab[0],
        ft=panel.ft[untreated],
        warnings=warnings,
        what="pre-go-live period",
    )
    q = len(pre_cols)
    if not q:
        return _Pretrend([])
    R = np.zeros((q, pre_fit.k))
    R[:, pre_fit.k - q :] = np.eye(q)
    diff = R @ pre_fit.beta
    stat = float(diff @ np.linalg.solve(R @ pre_fit.vcov_cr1() @ R.T, diff)) / q
    p_wild = wild_wald_test(pre_fit, R, np.zeros(q), contrast.V)[1]
    rows: list[Row] = []
    for j, lab in enumerate(pre_cols):
        c = np.zeros(pre_fit.k)
        c[pre_fit.k - q + j] = 1.0
        rows.append(
            {
                "event_time": int(lab[0]),
                "period": "pre",
                **contrast.row(pre_fit, c),
                "n_obs": int(cells_pre[lab][0]),
                "n_units": len(cells_pre[lab][1]),
            }
        )
    return _Pretrend(rows, stat, q, p_wild, p_wild, float(sps.f.sf(stat, q, G - 1)))


def _method(inference: str, kind: str, enumerated: bool, n_draws: int, G: int) -> str:
    how = f"CR1 cluster-robust, t with {G - 1} df"
    if inference == "wild":
        how = f"restricted wild cluster bootstrap ({kind} weights, {'all' if enumerated else 'random'} {n_draws} draws)"
    return f"extended two-way fixed effects (not-yet-live controls); {how}"


def _pretrend_flag(p_value: float, pretrend_alpha: float, warnings: list[str]) -> bool:
    """Whether the pre-trend test rejects at ``pretrend_alpha`` (with a warning saying so)."""
    rejects = bool(p_value < pretrend_alpha) if math.isfinite(p_value) else False
    if rejects:
        warnings.append(
            f"pre-trend test rejects (p = {p_value:.3f} < {pretrend_alpha}): departments were "
            "already drifting apart before go-live, so the effect estimates may be biased"
        )
    return rejects


def _effects_frame(rows: list[Row], transform: str) -> pd.DataFrame:
    """The effects table: pre rows then post rows, with relative changes on the log scale."""
    effects = pd.DataFrame(rows)
    for col, src in (("relative_change", "estimate"), ("relative_ci_low", "ci_low"), ("relative_ci_high", "ci_high")):
        effects[col] = np.expm1(effects[src]) if transform == "log" else np.nan
    return effects[_EFFECT_COLUMNS].reset_index(drop=True)
