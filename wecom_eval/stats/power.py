"""What can the pilot prove? Power and minimum detectable effect by fast simulation.

Shown at launch so that everyone knows, before the pilot starts, how large an efficiency
gain the evaluation can tell apart from department-to-department noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
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
from ._ols import WLSFit, collapse, dummies
from ._results import PowerResult, VarianceComponents
from .targets import wilson_bounds

_MAX_ASSIGNMENTS = 2000


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


def shock_variance(
    weeks_pre: int, weeks_post: int, sigma: float, rho: float, semivariogram: Sequence[float] = ()
) -> float:
    r"""Variance of (mean after − mean before) of stationary AR(1) shocks with SD ``sigma``.

    With a measured ``semivariogram`` (:math:`\gamma_k` for lags 1, 2, ...) the variance is
    :math:`-c'\Gamma c`, :math:`\Gamma_{st} = \gamma_{|s-t|}`, using the measured values
    where they exist and the AR(1) :math:`\sigma^2(1-\rho^k)` beyond (it is linear in the
    :math:`\gamma_k`, so unbiased ones give an unbiased variance), truncated at 0.

    >>> round(shock_variance(4, 4, 0.2, 0.0), 6)  # independent: sigma^2 (1/4 + 1/4)
    0.02
    >>> round(shock_variance(4, 4, 0.2, 0.5), 4)  # half carried over to the next week
    0.0325
    """
    T = weeks_pre + weeks_post
    c = np.r_[np.full(weeks_pre, -1.0 / weeks_pre), np.full(weeks_post, 1.0 / weeks_post)]
    lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
    if len(semivariogram) == 0:
        return float(sigma * sigma * c @ (rho**lag) @ c)
    shape = 1.0 - rho ** np.arange(T, dtype=float)
    gamma = sigma * sigma * shape
    known = min(len(semivariogram), T - 1)
    gamma[1 : known + 1] = np.asarray(semivariogram, dtype=float)[:known]
    gamma[0] = 0.0
    return max(float(-(c @ gamma[lag] @ c)), 0.0)


def did_power(
    *,
    n_departments: int,
    n_treated: int,
    staff: int | Sequence[int],
    approvals_per_staff_week: float,
    weeks_pre: int,
    weeks_post: int,
    sigma_department_week: float = 0.15,
    sigma_within: float = 0.9,
    rho: float = 0.0,
    components: VarianceComponents | None = None,
    effect: float = 0.30,
    alpha: float = 0.05,
    target_power: float = 0.8,
    inference: Literal["auto", "randomization", "randomization_sized", "cluster"] = "auto",
    pilots: Sequence[int] | None = None,
    n_sim: int = 1000,
    seed: int = 0,
    target: float = 0.30,
    met_gains: Sequence[float] = (0.30, 0.40, 0.50),
    met_alpha: float = 0.05,
    max_weeks: int = 52,
) -> PowerResult:
    r"""Power, minimum detectable effect and the chance of a "met" verdict, by vectorised simulation.

    Parameters
    ----------
    n_departments, n_treated : int
        Departments in the evaluation and how many of them pilot.
    staff : int or sequence of int
        Staff per department (one number for all, or one per department).
    approvals_per_staff_week : float
        Approvals each staff member starts per week.
    weeks_pre, weeks_post : int
        Weeks observed before and after go-live.
    sigma_department_week, sigma_within, rho : float
        Standard deviation (log scale) of department-week shocks, their lag-1 correlation
        from week to week (a stationary AR(1); 0 = independent), and the standard deviation
        of single approvals around their department-week mean; ``components`` (from
        :func:`variance_components`) overrides all three.
    effect : float
        Relative reduction in turnaround to evaluate (0.30 = 30 % faster).
    alpha : float
        Level of the two-sided test of "no effect".
    target_power : float
        Power that defines the minimum detectable effect.
    inference : {"auto", "randomization", "randomization_sized", "cluster"}
        The test whose power is simulated; ``auto`` follows :func:`did` on the plain 2 x 2
        design (``randomization_sized`` when at least 40 assignments exist, else CR1 with a
        warning that it is optimistic).
    pilots : sequence of int, optional
        Indices of the pilot departments in ``staff`` (default: the first ``n_treated``).
    n_sim : int
        Simulated rollouts.
    seed : int
        Random seed (the same noise is reused across effect sizes).
    target, met_gains, met_alpha, max_weeks
        The efficiency target (0.30), the true gains at which to give the probability that
        the verdict says "met" (its one-sided ``1 - met_alpha`` bound on the gain clears
        ``target``, as the reports decide), and the longest after-period searched for the
        weeks that give that probability ``target_power``.

    Returns
    -------
    PowerResult
        ``estimate`` (power at ``effect``) with a Monte-Carlo Wilson interval, ``mde``,
        ``curve`` (power by effect size) and ``met``: one row per gain in ``met_gains`` with
        ``gain``, ``p_met`` (at ``weeks_post``) and ``weeks_for_target_power`` (after-weeks
        needed for ``p_met >= target_power``; NaN when not reached within ``max_weeks``).

    Notes
    -----
    Department levels and common week shocks cancel in the difference-in-differences, so
    each simulated rollout draws each department's before-after change of mean log
    turnaround, :math:`\Delta_g = s_g + e_g + \log(1-r)\,T_g` with the shock part
    :math:`s_g \sim N(0, c'\Sigma c)` — :math:`\Sigma_{st} = \sigma^2_c\rho^{|s-t|}`
    the AR(1) covariance of the department's weekly shocks and :math:`c` the contrast
    "mean after minus mean before" (:func:`shock_variance`): shocks that persist from week
    to week do not average out over the weeks, which is why treating them as independent
    overstates power — and the sampling part
    :math:`e_g \sim N(0, \sigma^2_\varepsilon(1/n_{g,0} + 1/n_{g,1}))`. The test is then
    run on these changes exactly as :func:`did` runs it on approval-level data:
    ``randomization_sized`` standardises them (:func:`wecom_eval.stats.did.sized_statistics`),
    ``randomization`` uses the CR1 t (:func:`ri_t_statistics`); p-values come for every
    rollout and every assignment at once (a matrix product). "Met" at a true gain
    :math:`g` is the test of :math:`\beta_0 = \log(1-\text{target})` rejecting at
    ``2 * met_alpha`` two-sided with the estimate beyond it, i.e. the one-sided bound
    clearing the target: at :math:`g` = target it happens at most ``met_alpha`` of the time.

    Examples
    --------
    Twelve departments of 30 staff, three pilots, two approvals per person per week:

    >>> from wecom_eval import stats
    >>> pw = stats.did_power(n_departments=12, n_treated=3, staff=30,
    ...                      approvals_per_staff_week=2, weeks_pre=4, weeks_post=4,
    ...                      n_sim=400)
    >>> pw.inference, bool(pw.estimate > 0.8), bool(0.1 < pw.mde < 0.3)
    ('randomization_sized', True, True)
    >>> met = pw.met.set_index("gain")["p_met"]
    >>> bool(met[0.3] <= 0.08), bool(met[0.3] < met[0.4] < met[0.5])
    (True, True)
    """
    G = check_count(n_departments, "n_departments", 2)
    G1 = check_count(n_treated, "n_treated", 1)
    if G1 >= G:
        raise ValueError(
            f"n_treated ({G1}) must be below n_departments ({G}): the comparison needs control departments"
        )
    weeks_pre = check_count(weeks_pre, "weeks_pre", 1)
    weeks_post = check_count(weeks_post, "weeks_post", 1)
    n_sim = check_count(n_sim, "n_sim", 50)
    alpha = check_alpha(alpha)
    met_alpha = check_alpha(met_alpha, "met_alpha")
    check_choice(inference, "inference", ("auto", "randomization", "randomization_sized", "cluster"))
    if not 0.0 <= effect < 1.0:
        raise ValueError(f"effect is a relative reduction in [0, 1) (0.3 = 30 % faster); got {effect!r}")
    if not 0.0 < target_power < 1.0:
        raise ValueError(f"target_power must be in (0, 1); got {target_power!r}")
    if approvals_per_staff_week <= 0:
        raise ValueError("approvals_per_staff_week must be positive")
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho is a lag-1 correlation in [0, 1); got {rho!r}")
    staff_arr = (
        np.broadcast_to(np.asarray(staff, dtype=float), (G,)).copy()
        if np.ndim(staff) == 0
        else np.asarray(staff, dtype=float)
    )
    if staff_arr.size != G or np.any(staff_arr < 1):
        raise ValueError(
            f"staff must be one positive number or {G} of them (one per department); got {np.asarray(staff).tolist()}"
        )
    gammas: Sequence[float] = ()
    if components is not None:
        sigma_department_week = (
            components.sigma_ar if math.isfinite(components.sigma_ar) else components.sigma_department_week
        )
        rho = components.rho
        sigma_within = components.sigma_within
        gammas = components.semivariogram
    m = np.maximum(1.0, np.round(staff_arr * approvals_per_staff_week))
    pilot_idx = list(range(G1)) if pilots is None else [int(i) for i in pilots]
    if len(set(pilot_idx)) != G1 or not all(0 <= i < G for i in pilot_idx):
        raise ValueError(f"pilots must be {G1} distinct department indices in 0..{G - 1}")
    actual = np.zeros(G)
    actual[pilot_idx] = 1.0
    warnings: list[str] = []

    n_assign = math.comb(G, G1)
    if inference == "auto":
        inference = "randomization_sized" if n_assign >= 40 else "cluster"
        if inference == "cluster":
            warnings.append(
                f"only {n_assign} possible pilot assignments: the report would use the wild "
                "bootstrap; CR1 power shown here is optimistic (CR1 over-rejects)"
            )
    if inference.startswith("randomization") and n_assign * alpha < 1:
        raise ValueError(f"randomization inference with {G1} of {G} cannot reject at alpha={alpha}")
    rng = np.random.default_rng(seed)
    z_shock = rng.normal(size=(n_sim, G))
    z_noise = rng.normal(size=(n_sim, G))
    if inference.startswith("randomization"):
        if n_assign <= _MAX_ASSIGNMENTS:
            A = np.zeros((n_assign, G))
            for i, idx in enumerate(combinations(range(G), G1)):
                A[i, list(idx)] = 1.0
        else:
            A = np.zeros((_MAX_ASSIGNMENTS, G))
            keys = rng.random((_MAX_ASSIGNMENTS - 1, G))
            np.put_along_axis(A[1:], np.argsort(keys, axis=1)[:, :G1], 1.0, axis=1)
            A[0] = actual
            warnings.append(f"randomization p-values from {_MAX_ASSIGNMENTS} sampled assignments")
        actual_row = int(np.flatnonzero((actual == A).all(axis=1))[0])
    else:
        A = actual[None, :]
        actual_row = 0

    def changes(post_weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Before-after changes without effect (n_sim x G) and 1/n_0 + 1/n_1 per department."""
        h = 1.0 / (m * weeks_pre) + 1.0 / (m * post_weeks)
        v = shock_variance(weeks_pre, post_weeks, sigma_department_week, rho, gammas)
        return z_shock * math.sqrt(v) + z_noise * np.sqrt(sigma_within**2 * h)[None, :], h

    def p_values(delta: np.ndarray, h: np.ndarray, post_weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided p-value of "no effect" per rollout and the sign of the actual statistic."""
        if inference == "randomization_sized":
            from .did import sized_statistics

            C = A / G1 - (1.0 - A) / (G - G1)
            t = sized_statistics(delta, h, sigma_within**2, C)
        else:
            n_obs = float(m.sum() * (weeks_pre + post_weeks))
            cfac = G / (G - 1) * (n_obs - 1) / (n_obs - 4)
            t = ri_t_statistics(delta, m, A, cfac)
        t_act = t[:, actual_row]
        if inference.startswith("randomization"):
            p = np.mean(np.abs(t) >= np.abs(t_act)[:, None] * (1 - 1e-10), axis=1)
        else:
            p = 2 * sps.t.sf(np.abs(t_act), G - 1)
        return p, np.sign(t_act)

    delta0, h0 = changes(weeks_post)

    def power_at(r: float) -> float:
        p, _ = p_values(delta0 + math.log1p(-r) * actual[None, :], h0, weeks_post)
        return float(np.mean(p <= alpha))

    def met_at(gain: float, post_weeks: int, base: tuple[np.ndarray, np.ndarray] | None = None) -> float:
        delta, h = base if base is not None else changes(post_weeks)
        shift = math.log1p(-gain) - math.log1p(-target)  # the test of beta0 = log(1 - target)
        p, sign = p_values(delta + shift * actual[None, :], h, post_weeks)
        return float(np.mean((p <= 2 * met_alpha) & (sign < 0)))

    pw = power_at(effect)
    lo, hi = wilson_bounds(int(round(pw * n_sim)), n_sim, 0.025)
    grid = np.round(np.arange(0.0, 0.61, 0.05), 2)
    curve = pd.DataFrame({"effect": grid, "power": [power_at(float(r)) for r in grid]})
    mde = _mde(power_at, target_power)
    if not math.isfinite(mde):
        warnings.append(
            f"even a 95 % reduction is detected less than {target_power:.0%} of "
            "the time: the design cannot show the target"
        )
    met_rows = []
    for gain in met_gains:
        p_met = met_at(float(gain), weeks_post, (delta0, h0))
        weeks_needed = math.nan
        if gain > target:
            for wk in range(1, max_weeks + 1):
                if met_at(float(gain), wk) >= target_power:
                    weeks_needed = float(wk)
                    break
        met_rows.append({"gain": float(gain), "p_met": p_met, "weeks_for_target_power": weeks_needed})
    return PowerResult(
        estimate=pw,
        ci_low=lo,
        ci_high=hi,
        p_value=math.nan,
        alpha=alpha,
        effect=effect,
        mde=mde,
        target_power=target_power,
        n_sim=n_sim,
        inference=inference,
        n_departments=G,
        n_treated=G1,
        curve=curve,
        warnings=warnings,
        met=pd.DataFrame(met_rows, columns=["gain", "p_met", "weeks_for_target_power"]),
        rho=rho,
        sigma_shock=sigma_department_week,
    )


def ri_t_statistics(delta: np.ndarray, m: np.ndarray, A: np.ndarray, cfac: float) -> np.ndarray:
    """CR1 t statistics of the 2x2 DiD for every rollout (rows of ``delta``) and assignment.

    ``delta``: (S, G) before-after change of each cluster's mean; ``m``: (G,) observations
    per cluster-week; ``A``: (P, G) 0/1 treated indicators. Returns (S, P).
    """
    dm, d2m2 = delta * m, delta**2 * m**2
    MT, MC = A @ m, (1 - A) @ m
    sum_t = dm @ A.T
    bar_t = sum_t / MT
    bar_c = (dm.sum(axis=1)[:, None] - sum_t) / MC
    m2 = m**2
    ss_t = (d2m2 @ A.T - 2 * bar_t * ((delta * m2) @ A.T) + bar_t**2 * (A @ m2)) / MT**2
    ss_c = (d2m2 @ (1 - A).T - 2 * bar_c * ((delta * m2) @ (1 - A).T) + bar_c**2 * ((1 - A) @ m2)) / MC**2
    se = np.sqrt(cfac * np.maximum(ss_t + ss_c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, (bar_t - bar_c) / se, 0.0)


def _mde(power_at: Callable[[float], float], target: float) -> float:
    """Smallest relative reduction with power >= target, by bisection on [0, 0.95]."""
    if power_at(0.95) < target:
        return math.inf
    lo, hi = 0.0, 0.95
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        if power_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    return round(hi, 3)
