"""Simulated rollouts for checking the statistics (used by benchmarks/sim_stats.py and tests).

The data-generating process mirrors what makes pilot evaluation hard: few departments of
uneven size, department-level random effects, department-specific shifts at the go-live
period and week to week, and heavy-tailed (log-normal) approval turnaround.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd


def simulate_rollout(
    rng: np.random.Generator,
    *,
    n_departments: int = 12,
    n_treated: int = 3,
    weeks_pre: int = 6,
    weeks_post: int = 6,
    reduction: float = 0.0,
    pilots: Literal["random", "largest", "smallest"] = "random",
    sigma_department: float = 0.4,
    sigma_week: float = 0.1,
    sigma_department_period: float = 0.15,
    sigma_department_week: float = 0.15,
    sigma_within: float = 0.9,
    approvals_per_staff_week: float = 0.6,
    staff: np.ndarray | None = None,
    rho: float = 0.0,
) -> pd.DataFrame:
    """One simulated pilot: approvals with ``dept, week, post, pilot, hours``.

    Turnaround is log-normal: ``log hours = log 24 + a_d + b_t + c_{d,post} + e_{dt} + eps``
    with the standard deviations given, and pilot approvals after go-live take
    ``1 - reduction`` times as long. Department staff are ``5 + LogNormal(log 25, 0.7)``
    unless ``staff`` gives them. ``rho`` makes the department-week shocks ``e_{dt}`` a
    stationary AR(1) (persistence from week to week) with the same standard deviation.
    """
    G, T = n_departments, weeks_pre + weeks_post
    if staff is None:
        staff = 5 + np.round(rng.lognormal(np.log(25), 0.7, G))
    staff = np.asarray(staff, dtype=float)
    order = np.argsort(staff)
    treated = np.zeros(G, dtype=bool)
    if pilots == "random":
        treated[rng.choice(G, n_treated, replace=False)] = True
    elif pilots == "largest":
        treated[order[-n_treated:]] = True
    else:
        treated[order[:n_treated]] = True
    counts = rng.poisson(staff[:, None] * approvals_per_staff_week, size=(G, T)) + 1
    dept = np.repeat(np.repeat(np.arange(G), T), counts.ravel())
    week = np.repeat(np.tile(np.arange(T), G), counts.ravel())
    post = (week >= weeks_pre).astype(int)
    a = rng.normal(0, sigma_department, G)
    b = rng.normal(0, sigma_week, T)
    c = rng.normal(0, sigma_department_period, (G, 2))
    e = ar1(rng, (G, T), sigma_department_week, rho)
    log_h = np.log(24.0) + a[dept] + b[week] + c[dept, post] + e[dept, week] + rng.normal(0, sigma_within, dept.size)
    hours = np.exp(log_h) * np.where(treated[dept] & (post == 1), 1.0 - reduction, 1.0)
    return pd.DataFrame({"dept": dept, "week": week, "post": post, "pilot": treated[dept].astype(int), "hours": hours})


def simulate_weekly_shares(
    rng: np.random.Generator,
    *,
    share: float = 0.6,
    weeks: int = 10,
    low: int = 80,
    high: int = 250,
) -> tuple[np.ndarray, np.ndarray]:
    """Weekly successes and trials of a KPI whose true share never changes."""
    n = rng.integers(low, high, size=weeks)
    return rng.binomial(n, share), n


def ar1(rng: np.random.Generator, shape: tuple[int, int], sd: float, rho: float) -> np.ndarray:
    """Rows of stationary AR(1) series with standard deviation ``sd`` and lag-1 correlation ``rho``."""
    shocks = rng.normal(0, sd, shape)
    out = np.empty(shape)
    out[:, 0] = shocks[:, 0]
    scale = np.sqrt(1.0 - rho * rho)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + scale * shocks[:, t]
    return out
