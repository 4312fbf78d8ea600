"""The staggered-adoption panel of :func:`wecom_eval.stats.event_study` and its regressions.

Rows are checked and turned into arrays (go-live period per unit, treated observations,
periods that still hold a not-yet-live comparison); each regression has unit and period
fixed effects plus one indicator per label (a go-live cohort x week, or a pre-go-live event
time), collapsed to cells; a contrast of its coefficients gets a CR1 or wild-bootstrap
interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._checks import numeric_column, positive_for_log
from ._ols import WildLinearTest, WLSFit, collapse, dummies, independent_columns, invert_test


@dataclass(frozen=True)
class Panel:
    """The event study's rows as arrays, missing values dropped, outcome transformed."""

    y: np.ndarray
    tv: np.ndarray  # period
    ft: np.ndarray  # the unit's go-live period, NaN when never live
    u_codes: np.ndarray
    cl_codes: np.ndarray
    treated_obs: np.ndarray  # live at the time of the row
    in_post_sample: np.ndarray  # the period still holds a not-yet-live comparison
    n_clusters: int
    n_treated_clusters: int


def read_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    cluster: str | None,
    transform: str,
    min_clusters: int,
    inference: str,
    warnings: list[str],
) -> Panel:
    """Check the rows (``ValueError`` naming the column and the fix) and read them into a :class:`Panel`."""
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
    treated_obs, in_post_sample = _comparable(tv, ft, warnings)
    G = int(cl_codes.max()) + 1
    if min_clusters > G:
        raise ValueError(
            f"inference={inference!r} needs at least {min_clusters} clusters; got {G}. Add "
            "departments or use a coarser question."
        )
    G1 = int(pd.Series(ft).groupby(cl_codes).max().notna().sum())
    return Panel(y, tv, ft, u_codes, cl_codes, treated_obs, in_post_sample, G, G1)


def _comparable(tv: np.ndarray, ft: np.ndarray, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows live at their period, and rows whose period still holds a not-yet-live row."""
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
    return treated_obs, in_post_sample


def _check_constant_within(ft: np.ndarray, units: np.ndarray, col: str, unit: str) -> None:
    frame = pd.DataFrame({"u": units, "ft": np.where(np.isnan(ft), -np.inf, ft)})
    n = frame.groupby("u")["ft"].nunique()
    if (n > 1).any():
        raise ValueError(
            f"first_treated={col!r} must be the same on every row of a {unit!r}; it varies "
            f"for {int((n > 1).sum())} unit(s). Give each department one go-live period."
        )


def fit_with_indicators(
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


def infer_contrast(fit: WLSFit, c: np.ndarray, inference: str, V: np.ndarray, alpha: float, G: int) -> dict[str, float]:
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
