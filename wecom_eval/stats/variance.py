"""Variance components of the outcome: the planning inputs of :func:`~wecom_eval.stats.did_power`.

Measured on the baseline (pre-rollout) approvals: how much turnaround varies between
departments, from week to week within a department (and how much of a week's shock carries
over to the next), and between single approvals.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from ._checks import check_choice, check_columns, check_frame, numeric_column, positive_for_log
from ._ols import WLSFit, collapse, dummies
from ._results import VarianceComponents


def variance_components(
    data: pd.DataFrame,
    *,
    outcome: str,
    department: str,
    week: str,
    transform: Literal["none", "log"] = "log",
) -> VarianceComponents:
    r"""Department, department-week and within-week standard deviations of the outcome.

    Use the baseline (pre-rollout) approvals: these are the inputs :func:`did_power`
    needs.

    Parameters
    ----------
    data : DataFrame
        One row per observation (approval) with its department and week.
    outcome, department, week : str
        Column names.
    transform : {"log", "none"}
        Scale of the components (log for durations, as in :func:`did`).

    Returns
    -------
    VarianceComponents
        ``sigma_department, sigma_department_week, sigma_within`` (method of moments,
        truncated at 0), the mean, and counts.

    Notes
    -----
    Model: :math:`y_{idt} = \mu + a_d + b_t + c_{dt} + \varepsilon_{idt}`.
    :math:`\hat\sigma^2_\varepsilon` is the pooled within-cell variance. The additive fit of
    the cell means on department and week effects leaves residual mean square
    :math:`\mathrm{RMS} \approx \sigma^2_c + \overline{\sigma^2_\varepsilon/m}`, so
    :math:`\hat\sigma^2_c = \mathrm{RMS} - \hat\sigma^2_\varepsilon\,\overline{1/m}`; the
    department component is the variance of the department effects minus their sampling
    variance.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from wecom_eval import stats
    >>> rng = np.random.default_rng(0)
    >>> d = np.repeat(np.arange(12), 8 * 50); w = np.tile(np.repeat(np.arange(8), 50), 12)
    >>> a = rng.normal(0, 0.4, 12)[d]; c = rng.normal(0, 0.2, (12, 8))[d, w]
    >>> df = pd.DataFrame({"dept": d, "week": w,
    ...                    "hours": np.exp(3 + a + c + rng.normal(0, 0.9, d.size))})
    >>> vc = stats.variance_components(df, outcome="hours", department="dept", week="week")
    >>> round(vc.sigma_within, 2), round(vc.sigma_department_week, 2)
    (0.9, 0.18)
    """
    data = check_frame(data)
    check_columns(data, outcome=outcome, department=department, week=week)
    check_choice(transform, "transform", ("none", "log"))
    y = numeric_column(data, outcome, "outcome")
    d_codes, _ = pd.factorize(data[department], sort=True)
    w_codes, _ = pd.factorize(data[week], sort=True)
    keep = ~np.isnan(y) & (d_codes >= 0) & (w_codes >= 0)
    y, d_codes, w_codes = y[keep], d_codes[keep], w_codes[keep]
    if transform == "log":
        positive_for_log(y, outcome, data.index[keep])
        y = np.log(y)
    warnings: list[str] = []
    cells = collapse(y, [d_codes, w_codes])
    f = cells.first
    D, W = int(d_codes.max()) + 1, int(w_codes.max()) + 1
    n_cells = f.size
    df_within = y.size - n_cells
    if df_within < 1 or D < 2 or W < 2:
        raise ValueError(
            "need at least 2 departments, 2 weeks and repeated observations "
            "within department-weeks to separate the components"
        )
    s2_within = cells.ss_within / df_within
    Dm, _ = dummies(d_codes[f], D, "d")
    Wm, _ = dummies(w_codes[f], W, "w")
    X = np.column_stack([np.ones(n_cells), Dm, Wm])
    ones = np.ones(n_cells)
    fit = WLSFit(X, ones, cells.ybar, ss_within=0.0, n_obs=n_cells)
    df_resid = n_cells - X.shape[1]
    inv_m = float(np.mean(1.0 / cells.w))
    s2_dw = (fit.rss / df_resid - s2_within * inv_m) if df_resid > 0 else math.nan
    if not math.isfinite(s2_dw):
        warnings.append("one cell per department and week pair is not enough for the department-week component")
        s2_dw = 0.0
    dept_eff = np.r_[0.0, fit.beta[1:D]]
    # sampling variance of a department effect ~ (s2_dw + s2_within / m) / weeks * 2 / ...
    per_dept_cells = np.bincount(d_codes[f], minlength=D)
    noise = np.mean((max(s2_dw, 0.0) + s2_within * inv_m) / per_dept_cells)
    s2_d = float(np.var(dept_eff - dept_eff.mean(), ddof=1) - noise)
    for name, val in (("department", s2_d), ("department-week", s2_dw)):
        if val < 0:
            warnings.append(f"the {name} component is estimated below zero and set to 0")
    if D < 6 or W < 4:
        warnings.append(f"{D} departments and {W} weeks: the components are rough")
    grid_mean = np.full((D, W), np.nan)
    grid_n = np.zeros((D, W))
    grid_mean[d_codes[f], w_codes[f]] = cells.ybar
    grid_n[d_codes[f], w_codes[f]] = cells.w
    sigma_ar, rho, gammas = _persistence(grid_mean, grid_n, s2_within)
    if W < 3:
        warnings.append(
            "fewer than 3 baseline weeks: persistence from week to week cannot be "
            "estimated and is taken as none (power may be overstated)"
        )
    return VarianceComponents(
        sigma_department=math.sqrt(max(s2_d, 0.0)),
        sigma_department_week=math.sqrt(max(s2_dw, 0.0)),
        sigma_within=math.sqrt(s2_within),
        mean=float(y.mean()),
        n_departments=D,
        n_weeks=W,
        n_obs=int(y.size),
        warnings=warnings,
        sigma_ar=sigma_ar,
        rho=rho,
        semivariogram=gammas,
    )


def _persistence(means: np.ndarray, counts: np.ndarray, s2_within: float) -> tuple[float, float, list[float]]:
    r"""Standard deviation and lag-1 correlation of AR(1) department-week shocks, and the semivariogram.

    From the semivariogram of the department-week means centred on each week's mean (which
    removes week shocks; differencing removes department levels):
    :math:`\hat\gamma_k = \overline{\tfrac{G_t}{G_t-1}\tfrac12 (r_{g,t+k}-r_{g,t})^2}
    - \overline{\tfrac12\sigma^2_w(1/m_{g,t}+1/m_{g,t+k})}`, fitted by weighted least
    squares to :math:`\sigma^2(1-\rho^k)` over a grid of :math:`\rho \in [0, 0.98]`
    (:math:`\rho = 0`: independent shocks).
    """
    G, W = means.shape
    if W < 2 or G < 2:
        return math.nan, 0.0, []
    centred = means - np.nanmean(means, axis=0, keepdims=True)
    present = np.sum(~np.isnan(means), axis=0)  # departments seen in each week
    factor = np.where(present > 1, present / np.maximum(present - 1, 1), np.nan)[None, :]
    inv = np.where(counts > 0, 1.0 / np.maximum(counts, 1), np.nan)
    gam, npairs = [], []
    for k in range(1, W):
        d = centred[:, k:] - centred[:, :-k]
        scale = 0.5 * (factor[:, k:] + factor[:, :-k])
        noise = s2_within * (inv[:, k:] + inv[:, :-k])
        ok = ~np.isnan(d) & ~np.isnan(noise) & ~np.isnan(scale + d)
        if ok.sum() == 0:  # no department spans this many weeks
            break
        gam.append(0.5 * float(np.mean((scale * d * d)[ok])) - 0.5 * float(np.mean(noise[ok])))
        npairs.append(float(ok.sum()))
    if not gam:
        return math.nan, 0.0, []
    g_k, n_k = np.array(gam), np.array(npairs)
    lags = np.arange(1, g_k.size + 1)
    best = (math.inf, 0.0, 0.0)
    for rho in np.linspace(0.0, 0.98, 99) if g_k.size >= 2 else [0.0]:
        f = 1.0 - rho**lags
        s2 = max(float(np.sum(n_k * g_k * f) / np.sum(n_k * f * f)), 0.0)
        sse = float(np.sum(n_k * (g_k - s2 * f) ** 2))
        if sse < best[0] - 1e-15:
            best = (sse, s2, float(rho))
    return math.sqrt(best[1]), best[2], [float(g) for g in g_k]
