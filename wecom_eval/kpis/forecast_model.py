"""The forecast model: a pooled Bass curve per department, simulated to each target's deadline.

The forecasts of the reports (:mod:`wecom_eval.kpis.forecast`) read the warehouse and call
:func:`project` and :func:`summarise`; this module holds the model and its scoring.

The model (``MODEL``)
---------------------
Each department's figure follows a diffusion curve from the day it goes live, the Bass model
(Bass 1969) with a fixed imitation ratio:

    y(τ) = b + (K − b) · F(τ),   F(τ) = (1 − e^(−cτ)) / (1 + Q e^(−cτ)),   τ = days since go-live

``K`` is the department's ceiling, ``c`` its speed (``p + q`` in Bass's notation), ``Q = q/p``
the curve's S-shape (fixed per KPI: registration follows a steep S, as people register within
days of go-live; use and penetration rise more evenly) and ``b`` its level on the go-live day (early
adopters: its last figure before go-live, else 0; for the engaged rate, which starts among
the first registered, a fixed share of the ceiling).

Departments share strength (partial pooling, Gelman & Hill 2007, ch. 12): ``(logit K, log c)``
of each department is drawn around a company-wide mean with a between-department spread. The
mean is estimated by empirical Bayes from the departments already live (a precision-weighted
average of their posterior means, shrunk to the KPI's prior mean), each department's posterior
is computed on a grid, and departments not yet live take the company-wide distribution, with
one shared draw of the mean per simulation so that their uncertainty adds up rather than
averaging out. Each weekly figure is read with binomial noise plus a process noise
(:class:`Settings`). The company figure at the deadline is the weighted average of the
departments' simulated figures (weights: roster for registration, measured staff for the
engaged rate, eligible staff for penetration), and the prediction interval is the central
``level`` share of the simulations.

The prior means, spreads and process noise per KPI were chosen on simulated rollouts of the
demo generator (seeds 1–30), and a recalibration of the interval (Kuleshov et al. 2018) on
seeds 1001–1200: its distances from the median are scaled, per KPI and weeks of data, by the
factor that made 80 % of those rollouts' realised values fall inside (:class:`Settings`
``scale``). The
model's own intervals were too wide for the engaged rate (its ceiling and speed are hard to
tell apart early) and too narrow for penetration. Both are checked on seeds 2001–2200 by
``benchmarks/calibrate_forecast.py``: the 80 % intervals made at weeks 2, 3 and 4 cover the
realised deadline value in 75–85 % of rollouts and score better than the naive baseline.

The naive baseline (``NAIVE``)
------------------------------
The company's line through the last two weekly figures, extended to the deadline (the drift
method, Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.2), with
the drift method's interval ``± z · σ · √(h (1 + h / T))`` where σ is the standard deviation of
the weekly changes seen so far (the one change itself when there is only one), ``h`` the weeks
ahead and ``T`` the number of weekly figures.

Scoring
-------
:func:`interval_score` is the interval score of Gneiting & Raftery (2007, eq. 43): the width
plus ``2/α`` times the distance by which the realised value falls outside. Lower is better.

References
----------
Kuleshov, V., Fenner, N., Ermon, S. (2018). Accurate uncertainties for deep learning using
calibrated regression. *ICML*. Bass, F. M. (1969). A new product growth model for consumer
durables. *Management Science* 15(5), 215–227. Gelman, A., Hill, J. (2007). *Data Analysis
Using Regression and Multilevel/Hierarchical Models*. Gneiting, T., Raftery, A. E. (2007).
Strictly proper scoring rules, prediction, and estimation. *JASA* 102(477), 359–378.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.kpis.forecast_summary import LEVEL, MIN_WEEKS, interval_score, naive, summarise

MODEL = "bass_pooled"
NAIVE = "naive_drift"
Q = 2.0
TARGETS: tuple[str, ...] = ("registration", "daily_active", "feature_penetration")
HORIZON_DAYS = 182  # how far past the deadline the reach date is looked for
_GRID = 41


@dataclass(frozen=True)
class Settings:
    """A KPI's prior and noise: ``(logit K, log c)`` prior mean ``mean``, the uncertainty of the
    company-wide mean ``mean_sd``, the between-department spread ``spread``, the process noise
    ``noise`` of a weekly figure around its curve, ``start`` (the go-live level as a share of the
    ceiling, or None to read it from the data), ``anchor`` (the figure is cumulative, so the
    projection starts from the latest figure, see :func:`_path`), ``q`` (the Bass ratio ``Q``) and
    ``shared`` (the share of the process noise's variance common to every department in a
    simulation: company-wide events) and ``scale``, the recalibration factors applied to the
    interval's distances from the median (Kuleshov et al. 2018) after 2, 3, 4 … weekly figures
    (the last one from then on), set on the tuning seeds (module docstring)."""

    mean: tuple[float, float]
    mean_sd: tuple[float, float]
    spread: tuple[float, float]
    noise: float
    start: float | None = None
    anchor: bool = True
    q: float = 2.0
    shared: float = 0.5
    scale: tuple[float, ...] = (1.0,)


SETTINGS: dict[str, Settings] = {
    "registration": Settings(
        mean=(3.0, math.log(0.55)), mean_sd=(1.0, 0.6), spread=(0.8, 0.6), noise=0.06, q=30.0, scale=(0.99, 1.07, 0.85)
    ),
    "daily_active": Settings(
        mean=(0.45, math.log(1 / 10)),
        mean_sd=(0.6, 0.6),
        spread=(0.5, 0.5),
        noise=0.025,
        start=0.6,
        anchor=False,
        scale=(0.16, 0.19, 0.22),
    ),
    "feature_penetration": Settings(
        mean=(1.8, math.log(1 / 14)), mean_sd=(0.9, 0.6), spread=(0.6, 0.5), noise=0.07, scale=(0.30, 0.35, 0.52)
    ),
}


# ---- the curve and the grid posterior -------------------------------------------------------


def bass_share(tau: np.ndarray, speed: np.ndarray, *, q: float = Q) -> np.ndarray:
    """The Bass adoption share ``F(τ)`` (0 at τ ≤ 0, tending to 1), broadcasting ``tau`` and ``speed``.

    >>> round(float(bass_share(np.array(10.0), np.array(0.1), q=0.0)), 4)  # 1 − e^(−1)
    0.6321
    >>> float(bass_share(np.array(-3.0), np.array(0.1)))
    0.0
    """
    t = np.maximum(np.asarray(tau, dtype=float), 0.0)
    e = np.asarray(np.multiply(-np.asarray(speed, dtype=float), t))
    np.exp(e, out=e)
    out: np.ndarray = np.subtract(1.0, e, out=np.empty_like(e))  # (1 − e) / (1 + q·e), in place
    np.multiply(e, q, out=e)
    np.add(e, 1.0, out=e)
    np.divide(out, e, out=out)
    return out


def _clock(working: np.ndarray | None, until_day: int) -> np.ndarray:
    """``clock[d]``: working days from day 1 through day ``d`` (every day counts without a calendar)."""
    if working is None:
        return np.arange(until_day + 1, dtype=float)
    if len(working) < until_day:
        raise ValueError(f"working covers {len(working)} days; the forecast needs {until_day}")
    return np.concatenate([[0.0], np.cumsum(np.asarray(working[:until_day], dtype=float))])


def _path(u: _Unit, days: np.ndarray, theta: np.ndarray, last_day: int, s: Settings, clock: np.ndarray) -> np.ndarray:
    """A department's simulated curve over ``days`` (draws × days). With ``s.anchor`` the curve
    starts from the latest figure and adds the share of the remaining growth the curve still
    expects (the figure is cumulative and read exactly); otherwise it is the curve itself.

    Days with the same working-day clock (a weekend and the Friday before it) have the same
    curve: it is computed once per clock value and copied to each of them."""
    logit_k, log_c = theta[:, :1], theta[:, 1:]
    ticks, each = np.unique(clock[days] - clock[u.go_live - 1], return_inverse=True)
    return _ticks_path(u, ticks[None, :], logit_k, log_c, last_day, s, clock)[:, each]


def _ticks_path(
    u: _Unit, tau: np.ndarray, logit_k: np.ndarray, log_c: np.ndarray, last_day: int, s: Settings, clock: np.ndarray
) -> np.ndarray:
    base = u.base if np.isfinite(u.base) else 0.0
    if not (s.anchor and np.isfinite(u.now)):
        return _curve(tau, logit_k, log_c, base, s)
    k = np.maximum(1.0 / (1.0 + np.exp(-logit_k)), u.now)
    c = np.exp(log_c)
    f_now = bass_share(np.array(clock[last_day] - clock[u.go_live - 1]), c, q=s.q)
    out = bass_share(tau, c, q=s.q)  # now + (k − now) · clip((F − F_now) / max(1 − F_now, 1e-9), 0, 1), in place
    np.subtract(out, f_now, out=out)
    np.divide(out, np.maximum(1.0 - f_now, 1e-9), out=out)
    np.clip(out, 0.0, 1.0, out=out)
    np.multiply(out, k - u.now, out=out)
    np.add(out, u.now, out=out)
    return out


def _curve(
    tau: np.ndarray, logit_k: np.ndarray, log_c: np.ndarray, base: np.ndarray | float, s: Settings
) -> np.ndarray:
    k = 1.0 / (1.0 + np.exp(-logit_k))
    b = k * s.start if s.start is not None else np.minimum(base, k)
    out = bass_share(tau, np.exp(log_c), q=s.q)  # b + (k − b) · F, in place
    np.multiply(out, k - b, out=out)
    np.add(out, b, out=out)
    return out


@dataclass
class _Unit:
    unit: Any
    go_live: int
    weight: float
    base: float
    tau: np.ndarray
    value: np.ndarray
    n: np.ndarray
    now: float  # latest figure
    size: float  # people behind the latest figure

    @property
    def live(self) -> bool:
        return bool(len(self.tau))


def _units(history: pd.DataFrame, units: pd.DataFrame, clock: np.ndarray) -> list[_Unit]:
    out = []
    h_all = history.loc[history["value"].notna() & (history["n"] > 0)].sort_values("day") if len(history) else history
    by_unit = dict(iter(h_all.groupby("unit"))) if len(h_all) else {}
    for unit, go_live, weight in zip(units["unit"], units["go_live_day"], units["weight"], strict=True):
        h = by_unit.get(unit)
        day = h["day"].to_numpy(dtype=float) if h is not None else np.zeros(0)
        value = h["value"].to_numpy(dtype=float) if h is not None else np.zeros(0)
        n = h["n"].to_numpy(dtype=float) if h is not None else np.zeros(0)
        after = day >= go_live
        before = ~after
        out.append(
            _Unit(
                unit,
                int(go_live),
                float(weight),
                float(value[before][-1]) if before.any() else 0.0,
                clock[day[after].astype(int)] - clock[int(go_live) - 1],
                value[after],
                n[after],
                float(value[-1]) if len(value) else math.nan,
                float(n[-1]) if len(n) else 0.0,
            )
        )
    return out


def _grid(centre: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.linspace(centre[0] - 4 * sd[0], centre[0] + 4 * sd[0], _GRID)
    c = np.linspace(centre[1] - 4 * sd[1], centre[1] + 4 * sd[1], _GRID)
    ga, gc = np.meshgrid(a, c, indexing="ij")
    return ga.ravel(), gc.ravel()


def _posterior(
    u: _Unit, prior_mean: np.ndarray, prior_sd: np.ndarray, s: Settings, grid: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Normalised posterior weights of one live department over the grid."""
    ga, gc = grid
    logp = -0.5 * (((ga - prior_mean[0]) / prior_sd[0]) ** 2 + ((gc - prior_mean[1]) / prior_sd[1]) ** 2)
    y = _curve(u.tau[None, :], ga[:, None], gc[:, None], u.base, s)
    var = np.clip(y * (1 - y), 1e-4, None) / u.n[None, :] + s.noise**2
    logp = logp + np.sum(-0.5 * (u.value[None, :] - y) ** 2 / var - 0.5 * np.log(var), axis=1)
    w = np.exp(logp - logp.max())
    out: np.ndarray = w / w.sum()
    return out


@dataclass
class Projection:
    """Simulated figures: ``days`` (day numbers from the plan's start, day 1 = start date),
    ``company`` (draws × days), ``units`` ({unit: draws × days}) and each unit's weight."""

    days: np.ndarray
    company: np.ndarray
    units: dict[Any, np.ndarray]
    weights: dict[Any, float]


def project(
    history: pd.DataFrame,
    units: pd.DataFrame,
    *,
    kpi: str,
    last_day: int,
    until_day: int,
    keep: Sequence[int] = (),
    working: np.ndarray | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> Projection:
    """Simulate each department's and the company's figure from ``last_day + 1`` to ``until_day``.

    Parameters
    ----------
    history
        One row per department and day observed: ``unit``, ``day`` (day number, 1 = the plan's
        start), ``value`` (share), ``n`` (people the share is of).
    units
        One row per department: ``unit``, ``go_live_day``, ``weight`` (its weight in the
        company figure).
    kpi
        ``registration``, ``daily_active`` or ``feature_penetration`` (picks :data:`SETTINGS`).
    last_day, until_day, keep
        The last day observed and the last day simulated: daily for 120 days, then weekly,
        plus the days in ``keep`` (the deadline).
    working
        Whether each day from day 1 to ``until_day`` (and to the last go-live or figure, when
        later) is a working day: the curves run on
        working days (people register and use WeCom at work), so a weekend adds nothing.
        None counts every day.
    """
    if kpi not in SETTINGS:
        raise ValueError(f"kpi={kpi!r}: use one of {', '.join(SETTINGS)}")
    s = SETTINGS[kpi]
    rng = np.random.default_rng(seed)
    mean0, mean_sd, spread = (np.array(x, dtype=float) for x in (s.mean, s.mean_sd, s.spread))
    last_needed = max([until_day, *units["go_live_day"].astype(int), *history.get("day", pd.Series([], dtype=int))])
    clock = _clock(working, int(last_needed))
    members = [u for u in _units(history, units, clock) if u.weight > 0]
    live = [u for u in members if u.live]

    # Empirical Bayes: the company-wide mean from the live departments' first-pass posteriors.
    wide = np.sqrt(mean_sd**2 + spread**2)
    grid = _grid(mean0, wide)
    precision, weighted = 1.0 / mean_sd**2, mean0 / mean_sd**2
    for u in live:
        w = _posterior(u, mean0, wide, s, grid)
        m = np.array([w @ grid[0], w @ grid[1]])
        v = np.array([w @ (grid[0] - m[0]) ** 2, w @ (grid[1] - m[1]) ** 2])
        precision = precision + 1.0 / (spread**2 + v)
        weighted = weighted + m / (spread**2 + v)
    mean_hat, mean_var = weighted / precision, 1.0 / precision

    # Daily for four months (reach dates to the day), weekly after; the deadline always included.
    days = np.unique(
        np.concatenate(
            [
                np.arange(last_day + 1, min(until_day, last_day + 120) + 1),
                np.arange(last_day + 127, until_day + 1, 7),
                [until_day],
                list(keep),
            ]
        )
    )
    days = days[(days > last_day) & (days <= until_day)].astype(int)
    company = np.zeros((draws, len(days)))
    out: dict[Any, np.ndarray] = {}
    shared = mean_hat + rng.standard_normal((draws, 2)) * np.sqrt(mean_var)  # one company mean per draw
    common = rng.standard_normal((draws, 1))  # the company-wide part of each draw's deviation
    grid = _grid(mean_hat, np.sqrt(spread**2 + mean_var))
    step = np.array([grid[0][_GRID] - grid[0][0], grid[1][1] - grid[1][0]])
    total = sum(u.weight for u in members)
    ahead = np.sqrt(np.maximum(days - last_day, 7) / 28.0)[None, :]  # process noise grows with the horizon
    scratch = np.empty_like(company)
    for u in members:
        if u.live:
            w = _posterior(u, mean_hat, spread, s, grid)
            pick = rng.choice(len(w), size=draws, p=w)
            theta = np.column_stack([grid[0][pick], grid[1][pick]])
            theta = theta + (rng.random((draws, 2)) - 0.5) * step  # spread within the grid cell
            # The posterior leans on the company mean as much as the prior outweighs the data:
            # move it with the draw's company mean (d posterior mean / d prior mean = v_post / v_prior).
            var = np.array([w @ (grid[0] - w @ grid[0]) ** 2, w @ (grid[1] - w @ grid[1]) ** 2])
            theta = theta + (shared - mean_hat) * np.clip(var / spread**2, 0.0, 1.0)
        else:
            theta = shared + rng.standard_normal((draws, 2)) * spread
        y = _path(u, days, theta, last_day, s, clock)
        shock = math.sqrt(s.shared) * common + math.sqrt(1 - s.shared) * rng.standard_normal((draws, 1))
        out[u.unit] = y = _noisy(y, shock, ahead, max(u.size, 1.0), s.noise, u.now if s.anchor else math.nan)
        company += np.multiply(y, u.weight / total, out=scratch)
    return Projection(days, company, out, {u.unit: u.weight for u in members})


def _noisy(y: np.ndarray, shock: np.ndarray, ahead: np.ndarray, size: float, noise: float, floor: float) -> np.ndarray:
    """``clip(y + shock · sd, 0, 1)`` with ``sd = sqrt(clip(y(1 − y), 0) / size) · min(ahead, 1) + noise ·
    ahead`` (one deviation per draw), then at least ``floor`` when finite (a cumulative figure does
    not fall back); in place of temporaries, the same operations in the same order."""
    sd = np.subtract(1.0, y)
    np.multiply(y, sd, out=sd)
    np.clip(sd, 0, None, out=sd)
    np.divide(sd, size, out=sd)
    np.sqrt(sd, out=sd)
    np.multiply(sd, np.minimum(ahead, 1.0), out=sd)
    np.add(sd, noise * ahead, out=sd)
    np.multiply(shock, sd, out=sd)
    np.add(y, sd, out=y)
    np.clip(y, 0.0, 1.0, out=y)
    if np.isfinite(floor):
        np.maximum(y, floor, out=y)
    return y


__all__ = [
    "HORIZON_DAYS",
    "LEVEL",
    "MIN_WEEKS",
    "MODEL",
    "NAIVE",
    "SETTINGS",
    "TARGETS",
    "Projection",
    "Settings",
    "bass_share",
    "interval_score",
    "naive",
    "project",
    "summarise",
]
