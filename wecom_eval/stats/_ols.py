"""Weighted least squares on cells, cluster-robust variance and the wild cluster bootstrap.

Why cells: every regressor in the DiD and event-study models (indicators, fixed effects,
cluster-level covariates) is constant within a cell of observations that share the same
regressor values and cluster. OLS on the observations then equals weighted least squares
on the cell means with the cell counts as weights; the cluster scores
``sum_i x_i u_i`` only need the cell sums; and the wild cluster bootstrap, whose
pseudo-outcomes are ``x_i' beta + v_g u_i`` with one weight per cluster, is the same on the
cells. Only the classical variance needs the within-cell sum of squares, which is kept.

The bootstrap for a linear restriction ``c' beta = r`` is written entirely from per-cluster
quantities (MacKinnon 2023, "Fast cluster bootstrap methods for linear regression models",
Econometrics and Statistics 26:52-71; Roodman, MacKinnon, Nielsen & Webb 2019, "Fast and
wild: bootstrap inference in Stata using boottest", Stata Journal 19:4-60): with
``M^-1 = (X'WX)^-1``, ``lambda = M^-1 c``, restricted residuals ``u~``, cluster score vectors
``a_g = X_g' W_g u~_g`` and cluster cross-products ``H_g = X_g' W_g X_g``, a draw of weights
``v`` gives

    c' beta* - r = sum_h v_h lambda' a_h
    s*_g = v_g lambda' a_g - sum_h v_h lambda' H_g M^-1 a_h       (score of c' beta* in g)

so the bootstrap t statistics for all draws are two matrix products of the ``B x G`` weight
matrix with ``G``-vectors and a ``G x G`` matrix. Because ``u~`` is linear in ``r``, so are
these, and the sum of squared scores is a quadratic in ``r``: the p-value at any null value
costs ``O(B)``, which makes confidence intervals by test inversion cheap.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

FloatArray = np.ndarray

#: Webb's six-point distribution (Webb 2023, "Reworking wild bootstrap-based inference for
#: clustered errors", Canadian Journal of Economics 56:839-858): mean 0, variance 1.
WEBB_POINTS = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


@dataclass(frozen=True)
class Cells:
    """Observations collapsed to cells: codes per row, counts, means and within-cell SS."""

    codes: np.ndarray  # cell index of each observation
    first: np.ndarray  # index of one observation of each cell
    w: FloatArray  # observations per cell
    ybar: FloatArray  # mean outcome per cell
    ss_within: float  # sum over cells of sum (y - ybar)^2


def collapse(y: FloatArray, keys: Sequence[np.ndarray]) -> Cells:
    """Collapse observations into cells defined by equal values of every key array."""
    codes = _combined_codes(keys)
    m = int(codes.max()) + 1 if codes.size else 0
    w = np.bincount(codes, minlength=m).astype(float)
    ybar = np.bincount(codes, weights=y, minlength=m) / w
    dev = y - ybar[codes]
    _, first = np.unique(codes, return_index=True)
    return Cells(codes=codes, first=first, w=w, ybar=ybar, ss_within=float(dev @ dev))


def _combined_codes(keys: Sequence[np.ndarray]) -> np.ndarray:
    """One integer code per distinct combination of the keys (sorted order)."""
    combined = np.zeros(len(keys[0]) if keys else 0, dtype=np.int64)
    radix = 1
    for key in keys:
        codes, uniques = pd.factorize(np.asarray(key), sort=True)
        n_levels = max(len(uniques), 1)
        if radix * n_levels >= 2**62:  # too many combinations for one integer: let pandas do it
            frame = pd.DataFrame({f"k{i}": np.asarray(k) for i, k in enumerate(keys)})
            return frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy()
        combined = combined * n_levels + codes
        radix *= n_levels
    return pd.factorize(combined, sort=True)[0]


def dummies(codes: np.ndarray, n_levels: int, prefix: str) -> tuple[FloatArray, list[str]]:
    """Indicator columns for levels 1..L-1 of an integer-coded factor (level 0 omitted)."""
    mat = np.zeros((codes.size, max(n_levels - 1, 0)))
    rows = np.flatnonzero(codes > 0)
    mat[rows, codes[rows] - 1] = 1.0
    return mat, [f"{prefix}[{j}]" for j in range(1, n_levels)]


def independent_columns(X: FloatArray, w: FloatArray, order: Sequence[int], *, tol: float = 1e-9) -> list[int]:
    """Greedy choice of linearly independent columns, in priority ``order``.

    A column is kept when its weighted residual after projecting on the columns already
    kept is larger than ``tol`` times its own norm (classical Gram-Schmidt, applied twice).
    """
    Xs = X * np.sqrt(w)[:, None]
    basis = np.zeros((X.shape[0], 0))
    keep: list[int] = []
    for j in order:
        v = Xs[:, j].copy()
        norm0 = float(np.linalg.norm(v))
        if norm0 == 0.0:
            continue
        for _ in range(2):
            v -= basis @ (basis.T @ v)
        norm = float(np.linalg.norm(v))
        if norm > tol * norm0:
            keep.append(j)
            basis = np.column_stack([basis, v / norm])
    return keep


class WLSFit:
    """Weighted least squares on cells with classical and CR1 cluster-robust variances."""

    def __init__(
        self,
        X: FloatArray,
        w: FloatArray,
        ybar: FloatArray,
        *,
        ss_within: float,
        n_obs: int,
        cluster: np.ndarray | None = None,
        n_clusters: int = 0,
    ) -> None:
        self.X = X
        self.w = w
        self.ybar = ybar
        self.n_obs = int(n_obs)
        self.k = X.shape[1]
        xtwx = X.T @ (X * w[:, None])
        self.Minv = np.linalg.inv(xtwx)
        self.beta = self.Minv @ (X.T @ (w * ybar))
        self.resid = ybar - X @ self.beta
        self.ss_within = float(ss_within)
        self.rss = float(ss_within + (w * self.resid) @ self.resid)
        self.df_resid = self.n_obs - self.k
        self.cluster = cluster
        self.n_clusters = int(n_clusters)
        self._indicator: sparse.csr_matrix | None = None
        self._H: FloatArray | None = None
        if cluster is not None:
            m = X.shape[0]
            self._indicator = sparse.csr_matrix((np.ones(m), (cluster, np.arange(m))), shape=(self.n_clusters, m))

    # -- cluster sums -------------------------------------------------------------------
    def group_sum(self, values: FloatArray) -> FloatArray:
        """Sum rows of ``values`` (cells x p) within clusters -> clusters x p."""
        if self._indicator is None:
            raise ValueError("this fit has no clusters")
        return np.asarray(self._indicator @ values)

    def cluster_scores(self, resid: FloatArray) -> FloatArray:
        """``a_g = sum_{c in g} w_c x_c resid_c`` for every cluster (G x k)."""
        return self.group_sum(self.X * (self.w * resid)[:, None])

    def cluster_crossproducts(self) -> FloatArray:
        """``H_g = X_g' W_g X_g`` for every cluster (G x k x k), computed once."""
        if self._H is None:
            if self.cluster is None:
                raise ValueError("this fit has no clusters")
            H = np.zeros((self.n_clusters, self.k, self.k))
            order = np.argsort(self.cluster, kind="stable")
            bounds = np.searchsorted(self.cluster[order], np.arange(self.n_clusters + 1))
            for g in range(self.n_clusters):
                idx = order[bounds[g] : bounds[g + 1]]
                Xg = self.X[idx]
                H[g] = Xg.T @ (Xg * self.w[idx, None])
            self._H = H
        return self._H

    # -- variances ----------------------------------------------------------------------
    def vcov_classical(self) -> FloatArray:
        """``s^2 (X'WX)^-1`` with ``s^2 = RSS / (n - k)``."""
        return np.asarray(self.rss / self.df_resid * self.Minv)

    @property
    def cr1_factor(self) -> float:
        """Small-sample factor ``G/(G-1) * (n-1)/(n-k)`` (Stata, statsmodels, fixest)."""
        G = self.n_clusters
        return float(G / (G - 1) * (self.n_obs - 1) / (self.n_obs - self.k))

    def vcov_cr1(self) -> FloatArray:
        """CR1: ``factor * M^-1 (sum_g a_g a_g') M^-1``."""
        S = self.cluster_scores(self.resid)
        return np.asarray(self.cr1_factor * self.Minv @ (S.T @ S) @ self.Minv)


# -- wild bootstrap weights -------------------------------------------------------------
def wild_weights(n_clusters: int, n_boot: int, kind: str, rng: np.random.Generator) -> tuple[FloatArray, bool, str]:
    """Weight matrix ``B x G``; enumerate every vector when the support has ``<= n_boot``.

    ``kind`` is ``"rademacher"``, ``"webb"`` or ``"auto"`` (Webb when ``G <= 12``, else
    Rademacher). Returns ``(V, enumerated, kind_used)``.
    """
    G = n_clusters
    if kind == "auto":
        kind = "webb" if G <= 12 else "rademacher"
    if kind == "rademacher":
        if n_boot >= 2**G:
            grid = ((np.arange(2**G)[:, None] >> np.arange(G)[None, :]) & 1).astype(float)
            return 2.0 * grid - 1.0, True, kind
        return rng.integers(0, 2, size=(n_boot, G)) * 2.0 - 1.0, False, kind
    if kind == "webb":
        if n_boot >= 6**G:
            grid = np.array(list(itertools.product(range(6), repeat=G)))
            return WEBB_POINTS[grid], True, kind
        return WEBB_POINTS[rng.integers(0, 6, size=(n_boot, G))], False, kind
    raise ValueError(f"weights must be 'auto', 'rademacher' or 'webb'; got {kind!r}")


class WildLinearTest:
    """Restricted wild cluster bootstrap (WCR-C) test of ``c' beta = r`` for any ``r``.

    Construct once (cost ``O(B G^2)``); :meth:`pvalue` is then ``O(B)`` per null value.
    The p-value is symmetric: the share of draws with ``|t*| >= |t|``.
    """

    def __init__(self, fit: WLSFit, c: FloatArray, V: FloatArray) -> None:
        Minv = fit.Minv
        lam = Minv @ c
        denom = float(c @ lam)
        xi = fit.X @ lam / denom  # restricted residuals are resid + d * xi, d = c'b - r
        A0 = fit.cluster_scores(fit.resid)
        A1 = fit.cluster_scores(xi)
        e0, e1 = A0 @ lam, A1 @ lam
        H = fit.cluster_crossproducts()
        F = np.einsum("gij,j->gi", H, lam) @ Minv
        M0 = np.diag(e0) - F @ A0.T
        M1 = np.diag(e1) - F @ A1.T
        VM0, VM1 = V @ M0.T, V @ M1.T
        self._ve0, self._ve1 = V @ e0, V @ e1
        self._s00 = np.einsum("bg,bg->b", VM0, VM0)
        self._s01 = np.einsum("bg,bg->b", VM0, VM1)
        self._s11 = np.einsum("bg,bg->b", VM1, VM1)
        self.estimate = float(c @ fit.beta)
        self.std_error = float(math.sqrt(c @ fit.vcov_cr1() @ c))
        self.cfac = fit.cr1_factor
        self.n_draws = V.shape[0]

    def pvalue(self, r: float) -> float:
        """Bootstrap p-value of ``H0: c' beta = r``."""
        d = self.estimate - r
        if self.std_error == 0.0:
            return 1.0 if d == 0 else 0.0
        t_obs = abs(d) / self.std_error
        num = self._ve0 + d * self._ve1
        ss = np.maximum(self._s00 + 2.0 * d * self._s01 + d * d * self._s11, 0.0)
        se = np.sqrt(self.cfac * ss)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_b = np.where(se > 0, np.abs(num) / se, np.where(num == 0, 0.0, np.inf))
        return float(np.mean(t_b >= t_obs * (1.0 - 1e-10)))


def wild_wald_test(fit: WLSFit, R: FloatArray, r: FloatArray, V: FloatArray) -> tuple[float, float]:
    """Restricted wild cluster bootstrap Wald test of ``R beta = r`` (q restrictions).

    Returns ``(wald, p_value)`` where ``wald`` uses the CR1 covariance and the p-value is the
    share of bootstrap Wald statistics (each with its own CR1 covariance) at least as large.
    """
    R = np.atleast_2d(R)
    Minv, beta = fit.Minv, fit.beta
    RM = R @ Minv
    diff = R @ beta - r
    beta_r = beta - Minv @ R.T @ np.linalg.solve(RM @ R.T, diff)
    A = fit.cluster_scores(fit.ybar - fit.X @ beta_r)
    E = A @ RM.T  # G x q
    H = fit.cluster_crossproducts()
    F = np.einsum("qi,gij,jl->gql", RM, H, Minv)
    FA = np.einsum("gql,hl->gqh", F, A)
    num = V @ E  # B x q
    S = V[:, :, None] * E[None, :, :] - np.einsum("bh,gqh->bgq", V, FA)
    Vb = fit.cr1_factor * np.einsum("bgq,bgs->bqs", S, S)
    try:
        sol = np.linalg.solve(Vb, num[..., None])[..., 0]
    except np.linalg.LinAlgError:
        sol = np.einsum("bqs,bs->bq", np.linalg.pinv(Vb), num)
    w_boot = np.einsum("bq,bq->b", num, sol)
    Vr = R @ fit.vcov_cr1() @ R.T
    w_obs = float(diff @ np.linalg.solve(Vr, diff))
    return w_obs, float(np.mean(w_boot >= w_obs * (1.0 - 1e-10)))


def invert_test(pvalue: Callable[[float], float], estimate: float, scale: float, alpha: float) -> tuple[float, float]:
    """Confidence interval ``{r : p(r) > alpha}`` by bracketing and bisection.

    Starts at the estimate (where ``p = 1``), steps outward by ``scale`` doubling until the
    p-value drops to ``alpha`` or below, then bisects to ``1e-8 * scale``. An end that is
    never reached is infinite.
    """
    if not math.isfinite(scale) or scale <= 0:
        scale = max(abs(estimate), 1.0) * 0.1

    def end(direction: float) -> float:
        inside, step = estimate, scale
        outside = estimate + direction * step
        for _ in range(60):
            if pvalue(outside) <= alpha:
                break
            inside = outside
            step *= 2.0
            outside = estimate + direction * step
        else:
            return direction * math.inf
        for _ in range(80):
            mid = 0.5 * (inside + outside)
            if pvalue(mid) > alpha:
                inside = mid
            else:
                outside = mid
            if abs(outside - inside) <= 1e-8 * scale:
                break
        return 0.5 * (inside + outside)

    return end(-1.0), end(1.0)
