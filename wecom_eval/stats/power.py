"""What can the pilot prove? Power and minimum detectable effect by fast simulation.

Shown at launch so that everyone knows, before the pilot starts, how large an efficiency
gain the evaluation can tell apart from department-to-department noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import check_alpha, check_choice, check_count
from ._randomization import assignments, sized_statistics
from ._results import PowerResult, VarianceComponents
from .targets import wilson_bounds

_MAX_ASSIGNMENTS = 2000


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
        :func:`~wecom_eval.stats.variance_components`) overrides all three.
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
    ``randomization_sized`` standardises them (:func:`wecom_eval.stats._randomization.sized_statistics`),
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
    n_sim, alpha, met_alpha = _check_test(n_sim, alpha, met_alpha, inference, effect, target_power)
    plan = _plan(
        n_departments=G,
        n_treated=G1,
        staff=staff,
        approvals_per_staff_week=approvals_per_staff_week,
        weeks_pre=weeks_pre,
        weeks_post=weeks_post,
        sigma_shock=sigma_department_week,
        sigma_within=sigma_within,
        rho=rho,
        components=components,
        pilots=pilots,
    )
    warnings: list[str] = []
    sim = _Simulation(plan, inference, alpha=alpha, n_sim=n_sim, seed=seed, warnings=warnings)

    pw = sim.power_at(effect)
    lo, hi = wilson_bounds(int(round(pw * n_sim)), n_sim, 0.025)
    grid = np.round(np.arange(0.0, 0.61, 0.05), 2)
    curve = pd.DataFrame({"effect": grid, "power": [sim.power_at(float(r)) for r in grid]})
    mde = _mde(sim.power_at, target_power, warnings)
    met = sim.met_table(met_gains, target, met_alpha, target_power=target_power, max_weeks=max_weeks)
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
        inference=sim.inference,
        n_departments=plan.n_departments,
        n_treated=plan.n_treated,
        curve=curve,
        warnings=warnings,
        met=met,
        rho=plan.rho,
        sigma_shock=plan.sigma_shock,
    )


def _check_test(
    n_sim: int, alpha: float, met_alpha: float, inference: str, effect: float, target_power: float
) -> tuple[int, float, float]:
    """Check the arguments of the simulated test; ``n_sim``, ``alpha`` and ``met_alpha`` as numbers."""
    n_sim = check_count(n_sim, "n_sim", 50)
    alpha = check_alpha(alpha)
    met_alpha = check_alpha(met_alpha, "met_alpha")
    check_choice(inference, "inference", ("auto", "randomization", "randomization_sized", "cluster"))
    if not 0.0 <= effect < 1.0:
        raise ValueError(f"effect is a relative reduction in [0, 1) (0.3 = 30 % faster); got {effect!r}")
    if not 0.0 < target_power < 1.0:
        raise ValueError(f"target_power must be in (0, 1); got {target_power!r}")
    return n_sim, alpha, met_alpha


@dataclass(frozen=True)
class _Plan:
    """The checked design of :func:`did_power`: departments, pilots, sizes and noise."""

    n_departments: int
    n_treated: int
    m: np.ndarray  # approvals per department-week
    actual: np.ndarray  # 0/1 per department: the pilots
    weeks_pre: int
    weeks_post: int
    sigma_shock: float
    sigma_within: float
    rho: float
    semivariogram: Sequence[float]


def _plan(
    *,
    n_departments: int,
    n_treated: int,
    staff: int | Sequence[int],
    approvals_per_staff_week: float,
    weeks_pre: int,
    weeks_post: int,
    sigma_shock: float,
    sigma_within: float,
    rho: float,
    components: VarianceComponents | None,
    pilots: Sequence[int] | None,
) -> _Plan:
    """Check the sizes and noise (``ValueError`` naming the parameter) and apply ``components``.

    The counts arrive checked by :func:`did_power`.
    """
    G, G1 = n_departments, n_treated
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
        sigma_shock = components.sigma_ar if math.isfinite(components.sigma_ar) else components.sigma_department_week
        rho = components.rho
        sigma_within = components.sigma_within
        gammas = components.semivariogram
    pilot_idx = list(range(G1)) if pilots is None else [int(i) for i in pilots]
    if len(set(pilot_idx)) != G1 or not all(0 <= i < G for i in pilot_idx):
        raise ValueError(f"pilots must be {G1} distinct department indices in 0..{G - 1}")
    actual = np.zeros(G)
    actual[pilot_idx] = 1.0
    m = np.maximum(1.0, np.round(staff_arr * approvals_per_staff_week))
    return _Plan(G, G1, m, actual, weeks_pre, weeks_post, sigma_shock, sigma_within, rho, gammas)


class _Simulation:
    """Simulated rollouts of a plan; the test of :func:`did` on each, under any true effect.

    The noise is drawn once and reused across effect sizes and after-periods.
    """

    def __init__(
        self, plan: _Plan, inference: str, *, alpha: float, n_sim: int, seed: int, warnings: list[str]
    ) -> None:
        G, G1 = plan.n_departments, plan.n_treated
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
        self.plan, self.inference, self.alpha = plan, inference, alpha
        rng = np.random.default_rng(seed)
        self.z_shock = rng.normal(size=(n_sim, G))
        self.z_noise = rng.normal(size=(n_sim, G))
        self.A, self.actual_row = plan.actual[None, :], 0
        if inference.startswith("randomization"):
            # every assignment when there are at most _MAX_ASSIGNMENTS, else the actual one and
            # _MAX_ASSIGNMENTS - 1 random ones
            n_rows = n_assign if n_assign <= _MAX_ASSIGNMENTS else _MAX_ASSIGNMENTS - 1
            self.A, enumerated, self.actual_row = assignments(plan.actual, n_rows, rng)
            if not enumerated:
                warnings.append(f"randomization p-values from {_MAX_ASSIGNMENTS} sampled assignments")
        self.base = self.changes(plan.weeks_post)

    def changes(self, post_weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Before-after changes without effect (n_sim x G) and 1/n_0 + 1/n_1 per department."""
        plan = self.plan
        h = 1.0 / (plan.m * plan.weeks_pre) + 1.0 / (plan.m * post_weeks)
        v = shock_variance(plan.weeks_pre, post_weeks, plan.sigma_shock, plan.rho, plan.semivariogram)
        return self.z_shock * math.sqrt(v) + self.z_noise * np.sqrt(plan.sigma_within**2 * h)[None, :], h

    def p_values(self, delta: np.ndarray, h: np.ndarray, post_weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided p-value of "no effect" per rollout and the sign of the actual statistic."""
        plan, A = self.plan, self.A
        G, G1 = plan.n_departments, plan.n_treated
        if self.inference == "randomization_sized":
            C = A / G1 - (1.0 - A) / (G - G1)
            t = sized_statistics(delta, h, plan.sigma_within**2, C)
        else:
            n_obs = float(plan.m.sum() * (plan.weeks_pre + post_weeks))
            cfac = G / (G - 1) * (n_obs - 1) / (n_obs - 4)
            t = ri_t_statistics(delta, plan.m, A, cfac)
        t_act = t[:, self.actual_row]
        if self.inference.startswith("randomization"):
            p = np.mean(np.abs(t) >= np.abs(t_act)[:, None] * (1 - 1e-10), axis=1)
        else:
            p = 2 * sps.t.sf(np.abs(t_act), G - 1)
        return p, np.sign(t_act)

    def power_at(self, r: float) -> float:
        """Share of rollouts whose test rejects "no effect" when turnaround falls by ``r``."""
        delta, h = self.base
        p, _ = self.p_values(delta + math.log1p(-r) * self.plan.actual[None, :], h, self.plan.weeks_post)
        return float(np.mean(p <= self.alpha))

    def met_at(self, gain: float, target: float, met_alpha: float, post_weeks: int) -> float:
        """Share of rollouts, observed ``post_weeks`` after go-live, whose verdict says "met"."""
        delta, h = self.base if post_weeks == self.plan.weeks_post else self.changes(post_weeks)
        shift = math.log1p(-gain) - math.log1p(-target)  # the test of beta0 = log(1 - target)
        p, sign = self.p_values(delta + shift * self.plan.actual[None, :], h, post_weeks)
        return float(np.mean((p <= 2 * met_alpha) & (sign < 0)))

    def met_table(
        self, gains: Sequence[float], target: float, met_alpha: float, *, target_power: float, max_weeks: int
    ) -> pd.DataFrame:
        """Per true gain: the chance of "met" now, and the after-weeks that make it ``target_power``."""
        rows = []
        for gain in gains:
            p_met = self.met_at(float(gain), target, met_alpha, self.plan.weeks_post)
            weeks_needed = math.nan
            if gain > target:
                for wk in range(1, max_weeks + 1):
                    if self.met_at(float(gain), target, met_alpha, wk) >= target_power:
                        weeks_needed = float(wk)
                        break
            rows.append({"gain": float(gain), "p_met": p_met, "weeks_for_target_power": weeks_needed})
        return pd.DataFrame(rows, columns=["gain", "p_met", "weeks_for_target_power"])


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


def _mde(power_at: Callable[[float], float], target: float, warnings: list[str]) -> float:
    """Smallest relative reduction with power >= target, by bisection on [0, 0.95]."""
    if power_at(0.95) < target:
        warnings.append(
            f"even a 95 % reduction is detected less than {target:.0%} of the time: the design cannot show the target"
        )
        return math.inf
    lo, hi = 0.0, 0.95
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        if power_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    return round(hi, 3)
