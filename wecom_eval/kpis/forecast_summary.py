"""The forecast's summaries and scores: the median and interval at the deadline, the reach date,
the naive baseline and the interval score (:mod:`wecom_eval.kpis.forecast_model` describes them)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

LEVEL = 0.8
MIN_WEEKS = 2  # weekly company figures needed before a forecast is made


def interval_score(
    low: float | np.ndarray, high: float | np.ndarray, value: float | np.ndarray, *, alpha: float = 1 - LEVEL
) -> float | np.ndarray:
    """Gneiting & Raftery (2007, eq. 43) interval score of a central (1 − alpha) interval.

    >>> interval_score(0.4, 0.6, 0.5), interval_score(0.4, 0.6, 0.7, alpha=0.2)  # 0.2; 0.2 + 10 × 0.1
    (0.2, 1.2)
    """
    lo, hi, x = (np.asarray(v, dtype=float) for v in (low, high, value))
    score = (hi - lo) + 2.0 / alpha * (np.maximum(lo - x, 0) + np.maximum(x - hi, 0))
    return float(score) if score.ndim == 0 else score


def naive(weekly: Sequence[float], *, weeks_ahead: float, level: float = LEVEL) -> tuple[float, float, float]:
    """The naive baseline: the last two weekly figures' line extended ``weeks_ahead``, with the drift
    method's interval (module docstring), clipped to [0, 1]. Returns (point, low, high).

    >>> naive([0.1, 0.3], weeks_ahead=1)[0]  # 0.3 + 0.2
    0.5
    """
    v = np.asarray([x for x in weekly if x is not None and np.isfinite(x)], dtype=float)
    if len(v) < MIN_WEEKS:
        raise ValueError(f"the naive baseline needs {MIN_WEEKS} weekly figures, got {len(v)}")
    changes = np.diff(v)
    point = v[-1] + changes[-1] * weeks_ahead
    sigma = float(np.std(changes, ddof=1)) if len(changes) > 1 else abs(float(changes[-1]))
    half = sps.norm.ppf(0.5 + level / 2) * sigma * math.sqrt(weeks_ahead * (1 + weeks_ahead / len(v)))
    return float(np.clip(point, 0, 1)), float(np.clip(point - half, 0, 1)), float(np.clip(point + half, 0, 1))


def _first_median_at_least(path: np.ndarray, floor: float) -> int | None:
    """The first column whose median (``np.median`` over the draws) is at least ``floor``, counted.

    More than half of the draws at least ``floor`` puts the median there; fewer than half
    (half of an odd count) keeps it below. Only with exactly half of an even count does the
    median (the mean of the two middle draws) need computing."""
    if np.isnan(path).any():
        hits = np.nonzero(np.median(path, axis=0) >= floor)[0]
        return int(hits[0]) if len(hits) else None
    half = path.shape[0] // 2
    count = np.count_nonzero(path >= floor, axis=0)
    for col in np.nonzero(count >= half if path.shape[0] % 2 == 0 else count > half)[0]:
        if count[col] > half or np.median(path[:, col]) >= floor:
            return int(col)
    return None


def summarise(
    path: np.ndarray,
    days: np.ndarray,
    *,
    deadline_day: int,
    last_day: int,
    now: float,
    target: float,
    level: float = LEVEL,
    scale: float = 1.0,
) -> dict[str, Any]:
    """The forecast of one series of simulated paths (draws × days): ``at_deadline`` (median),
    ``pi_low``, ``pi_high``, ``level``, ``reach_day`` (first day the median path reaches the
    target; ``last_day`` when already there; None when not within the horizon) and
    ``needed_per_week`` (the share still missing ÷ weeks left; 0 when already there)."""
    col = int(np.searchsorted(days, deadline_day))
    at = path[:, col]
    lo, hi = np.quantile(at, [0.5 - level / 2, 0.5 + level / 2])
    mid = float(np.median(at))
    lo, hi = max(mid - scale * (mid - lo), 0.0), min(mid + scale * (hi - mid), 1.0)
    if now >= target:
        reach: int | None = last_day
    else:
        hit = _first_median_at_least(path, target - 1e-9)
        reach = None if hit is None else int(days[hit])
    weeks_left = (deadline_day - last_day) / 7
    return {
        "at_deadline": mid,
        "pi_low": float(lo),
        "pi_high": float(hi),
        "level": level,
        "reach_day": reach,
        "needed_per_week": max(target - now, 0.0) / weeks_left,
    }


__all__ = ["LEVEL", "MIN_WEEKS", "interval_score", "naive", "summarise"]
