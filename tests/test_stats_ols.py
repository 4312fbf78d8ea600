"""The fast wild cluster bootstrap engine against brute-force statsmodels refits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm

from wecom_eval.stats._ols import WildLinearTest, WLSFit, wild_wald_test, wild_weights


def _data(seed: int, G: int = 6, per: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), per)
    X = np.column_stack([np.ones(g.size), rng.normal(size=g.size), rng.normal(size=g.size), (g % 2).astype(float)])
    y = X @ np.array([1.0, 0.3, -0.2, 0.1]) + rng.normal(0, 0.5, G)[g] + rng.normal(size=g.size)
    return y, X, g


def _fit(y: np.ndarray, X: np.ndarray, g: np.ndarray) -> WLSFit:
    return WLSFit(X, np.ones(y.size), y, ss_within=0.0, n_obs=y.size, cluster=g, n_clusters=int(g.max()) + 1)


def _restricted(y: np.ndarray, X: np.ndarray, R: np.ndarray, r: np.ndarray) -> np.ndarray:
    XtX_inv = np.linalg.inv(X.T @ X)
    b = XtX_inv @ X.T @ y
    return b - XtX_inv @ R.T @ np.linalg.solve(R @ XtX_inv @ R.T, R @ b - r)


def test_linear_combination_test_equals_brute_force() -> None:
    # H0: beta1 + beta2 = 0.1, every one of the 2^6 Rademacher vectors, refitting
    # statsmodels OLS with CR1 errors (cov_type="cluster") on each bootstrap sample.
    y, X, g = _data(0)
    c = np.array([0.0, 1.0, 1.0, 0.0])
    V, enumerated, _ = wild_weights(6, 999, "rademacher", np.random.default_rng(0))
    assert enumerated and V.shape == (64, 6)
    test = WildLinearTest(_fit(y, X, g), c, V)
    b_r = _restricted(y, X, c[None, :], np.array([0.1]))
    u = y - X @ b_r

    def t_of(yy: np.ndarray) -> float:
        f = sm.OLS(yy, X).fit(cov_type="cluster", cov_kwds={"groups": g})
        return float((c @ f.params - 0.1) / np.sqrt(c @ f.cov_params() @ c))

    t_obs = t_of(y)
    t_star = [t_of(X @ b_r + np.asarray(s)[g] * u) for s in itertools.product([-1, 1], repeat=6)]
    assert test.pvalue(0.1) == pytest.approx(np.mean(np.abs(t_star) >= abs(t_obs) * (1 - 1e-10)), abs=1e-12)


def test_wald_test_equals_brute_force() -> None:
    y, X, g = _data(1)
    R = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    r = np.zeros(2)
    V, _, _ = wild_weights(6, 999, "rademacher", np.random.default_rng(0))
    stat, p = wild_wald_test(_fit(y, X, g), R, r, V)
    b_r = _restricted(y, X, R, r)
    u = y - X @ b_r

    def wald(yy: np.ndarray) -> float:
        f = sm.OLS(yy, X).fit(cov_type="cluster", cov_kwds={"groups": g})
        d = R @ f.params - r
        return float(d @ np.linalg.solve(R @ f.cov_params() @ R.T, d))

    w_obs = wald(y)
    w_star = [wald(X @ b_r + np.asarray(s)[g] * u) for s in itertools.product([-1, 1], repeat=6)]
    assert stat == pytest.approx(w_obs, rel=1e-9)
    assert p == pytest.approx(np.mean(np.array(w_star) >= w_obs * (1 - 1e-10)), abs=1e-12)


def test_weights() -> None:
    rng = np.random.default_rng(0)
    V, enum, kind = wild_weights(12, 9999, "auto", rng)
    assert kind == "webb" and not enum and V.shape == (9999, 12)
    assert set(np.round(np.unique(V) ** 2, 6)) == {0.5, 1.0, 1.5}
    V, enum, kind = wild_weights(13, 9999, "auto", rng)
    assert kind == "rademacher" and enum and V.shape == (8192, 13)
    assert len({tuple(v) for v in V}) == 8192
    V, enum, _ = wild_weights(4, 9999, "webb", rng)
    assert enum and V.shape == (1296, 4)
