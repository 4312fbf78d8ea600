"""Randomization inference for :func:`wecom_eval.stats.did` (and :func:`~wecom_eval.stats.did_power`).

Which clusters were treated is treated as random: the test statistic is recomputed for
every assignment of the same number of treated clusters (all of them when few, else a
random sample that keeps the actual one) and the p-value is the share at least as extreme
as the actual statistic. Two statistics: the CR1 t of the DiD regression (MacKinnon & Webb
2020) and each cluster's before-after change standardised for its size (Ferman & Pinto
2019). Intervals invert the test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations

import numpy as np
from scipy import sparse

from ._did_design import Design
from ._ols import invert_test


def _few_assignments(G: int, G1: int, alpha: float, *, auto: bool, warnings: list[str]) -> None:
    """Too few assignments to reach ``alpha``: a warning under ``auto``, else an error."""
    n_assign = math.comb(G, G1)
    if 1.0 / n_assign <= alpha:
        return
    if auto:
        warnings.append(
            f"only {n_assign} possible assignments: the p-value cannot fall below "
            f"{1 / n_assign:.3f}, so nothing can be shown at alpha={alpha}"
        )
        return
    raise ValueError(
        f"randomization inference with {G1} treated of {G} clusters has only "
        f"{n_assign} possible assignments, so its p-value can never be below "
        f"{1 / n_assign:.3f} > alpha={alpha}. Add control departments or use "
        "inference='wild' (and read it with care)."
    )


def assignments(t_cl: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, bool, int]:
    """Treated indicators per assignment (rows), whether enumerated, and the actual row."""
    actual = t_cl.astype(bool)
    G, G1 = actual.size, int(actual.sum())
    n_assign = math.comb(G, G1)
    if n_assign <= n_boot:
        T = np.zeros((n_assign, G))
        for i, idx in enumerate(combinations(range(G), G1)):
            T[i, list(idx)] = 1.0
        enumerated = True
    else:
        keys = rng.random((n_boot, G))
        ranks = np.argsort(keys, axis=1)[:, :G1]
        T = np.zeros((n_boot + 1, G))
        T[0, actual] = 1.0
        np.put_along_axis(T[1:], ranks, 1.0, axis=1)
        enumerated = False
    actual_row = int(np.flatnonzero((actual.astype(float) == T).all(axis=1))[0])
    return T, enumerated, actual_row


def cluster_changes(design: Design) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Per cluster: before-after change of the mean and ``1/n_before + 1/n_after``, and the
    pooled within-cell variance; None unless the design is the plain 2 x 2 with every
    cluster observed before and after."""
    fit, cl = design.fit, design.cluster
    plain = fit.k == 4 and design.names[0] == "intercept" and design.names[3] == ":".join(design.names[1:3])
    if cl is None or not plain or design.j_t is None or fit.X.shape[0] != 2 * design.n_clusters:
        return None
    G = design.n_clusters
    n = np.zeros((G, 2))
    mean = np.zeros((G, 2))
    post = design.post.astype(int)
    n[cl, post] = fit.w
    mean[cl, post] = fit.ybar
    if np.any(n == 0):
        return None
    df_within = fit.n_obs - fit.X.shape[0]
    s2_within = fit.ss_within / df_within if df_within > 0 else 0.0
    return mean[:, 1] - mean[:, 0], 1.0 / n[:, 0] + 1.0 / n[:, 1], float(s2_within)


def sized_statistics(delta: np.ndarray, h: np.ndarray, s2_within: float, C: np.ndarray) -> np.ndarray:
    """Size-standardised treated-minus-control contrasts for every row of ``delta`` and assignment.

    ``delta``: (S, G) before-after changes under the null; ``h``: (G,) ``1/n_0 + 1/n_1``;
    ``C``: (P, G) contrast rows (``1/G1`` on treated, ``-1/G0`` on control clusters). The
    shock variance ``A`` is estimated per row from the spread of the changes (method of
    moments, truncated at 0); returns (S, P).
    """
    G = delta.shape[1]
    noise = s2_within * h
    A = np.maximum(np.var(delta, axis=1, ddof=1) - noise.mean(), 0.0)
    v = A[:, None] + noise[None, :]
    v = np.where(v > 0, v, 1.0)
    w = 1.0 / v
    centre = (delta * w).sum(axis=1, keepdims=True) / w.sum(axis=1, keepdims=True)
    z = (delta - centre) / np.sqrt(v)
    if G < 2:
        return np.zeros((delta.shape[0], C.shape[0]))
    return np.asarray(z @ C.T)


def randomization(
    design: Design,
    *,
    sized: bool,
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
    cluster: str | None,
    warnings: list[str],
    auto: bool = False,
) -> tuple[float, float, float, int, bool, Callable[[float], float]]:
    """Randomization inference on size-standardised changes (``sized``, Ferman & Pinto) or on
    the CR1 t; returns p, ci, draws, enumerated, p(b0)."""
    t_cl = design.treated_by_cluster
    parts = cluster_changes(design) if sized else None
    if sized and (parts is None or t_cl is None or np.isnan(t_cl).any()):
        raise ValueError(
            "inference='randomization_sized' needs the plain 2 x 2 design (no fe or covariates), "
            f"treatment constant within each cluster of {cluster!r}, and every cluster observed "
            "both before and after; use inference='randomization' or 'wild'"
        )
    if t_cl is None or np.isnan(t_cl).any():
        raise ValueError(
            "inference='randomization' permutes which clusters are treated, so treatment "
            f"must be constant within each cluster of {cluster!r}; use inference='wild'"
        )
    _few_assignments(design.n_clusters, design.n_treated_clusters, alpha, auto=auto, warnings=warnings)
    T, enumerated, actual_row = assignments(t_cl, n_boot, rng)
    if parts is not None:
        pvalue, centre, se = _sized_test(design, parts, t_cl, T, actual_row)
    else:
        pvalue, centre, se = _t_test(design, T, actual_row)
    lo, hi = invert_test(pvalue, centre, se, alpha)
    return pvalue(0.0), lo, hi, T.shape[0] - (0 if enumerated else 1), enumerated, pvalue


def _sized_test(
    design: Design,
    parts: tuple[np.ndarray, np.ndarray, float],
    t_cl: np.ndarray,
    T: np.ndarray,
    actual_row: int,
) -> tuple[Callable[[float], float], float, float]:
    """p(b0) of the size-standardised contrast, the centre of its interval (p = 1) and a scale."""
    delta, h, s2w = parts
    G, G1 = design.n_clusters, design.n_treated_clusters
    C = T / G1 - (1.0 - T) / (G - G1)
    d = t_cl.astype(float)

    def pvalue(b0: float) -> float:
        stat = np.abs(sized_statistics((delta - b0 * d)[None, :], h, s2w, C)[0])
        return float(np.mean(stat >= stat[actual_row] * (1.0 - 1e-10)))

    def contrast(b0: float) -> float:
        return float(sized_statistics((delta - b0 * d)[None, :], h, s2w, C)[0, actual_row])

    beta = float(design.fit.beta[design.j_d])
    se = float(math.sqrt(max(design.fit.vcov_cr1()[design.j_d, design.j_d], 0.0)))
    centre = beta
    span = 10.0 * (se if se > 0 else max(abs(beta), 1.0))
    lo_b, hi_b = beta - span, beta + span
    if contrast(lo_b) > 0 > contrast(hi_b):  # where the standardised contrast is zero: p = 1
        for _ in range(100):
            mid = 0.5 * (lo_b + hi_b)
            lo_b, hi_b = (mid, hi_b) if contrast(mid) > 0 else (lo_b, mid)
        centre = 0.5 * (lo_b + hi_b)
    return pvalue, centre, se


def _t_test(design: Design, T: np.ndarray, actual_row: int) -> tuple[Callable[[float], float], float, float]:
    """p(b0) of the RI t over the assignments ``T``, the estimate and its CR1 standard error."""
    b_y, b_d, s_yy, s_yd, s_dd = _ri_statistics(design, T)
    cfac = design.fit.cr1_factor

    def pvalue(b0: float) -> float:
        num = b_y - b0 * b_d
        ss = np.maximum(s_yy - 2.0 * b0 * s_yd + b0 * b0 * s_dd, 0.0)
        se = np.sqrt(cfac * ss)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, np.abs(num) / se, np.where(num == 0, 0.0, np.inf))
        t_actual = t[actual_row]
        return float(np.mean(t >= t_actual * (1.0 - 1e-10)))

    beta = float(design.fit.beta[design.j_d])
    se = float(math.sqrt(design.fit.vcov_cr1()[design.j_d, design.j_d]))
    return pvalue, beta, se


def _ri_statistics(design: Design, T: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each assignment row of ``T``: the pieces of the RI t statistic, linear in b0.

    With outcome ``y - b0 * D_actual`` the placebo coefficient is ``b_y - b0 b_d`` and the
    cluster scores are ``S_y - b0 S_d``; we return ``b_y, b_d`` and the sums of squares
    ``S_y.S_y, S_y.S_d, S_d.S_d`` per assignment.
    """
    fit = design.fit
    X0, w, ybar = fit.X, fit.w, fit.ybar
    m, k = X0.shape
    G = design.n_clusters
    cl = design.cluster
    if cl is None:
        raise ValueError("randomization inference needs clusters")
    ind = sparse.csr_matrix((np.ones(m), (np.arange(m), cl)), shape=(m, G))
    e_d = np.zeros(k)
    e_d[design.j_d] = 1.0
    out = [np.empty(T.shape[0]) for _ in range(5)]
    chunk = max(1, int(2e7 // max(m * k, 1)))
    for start in range(0, T.shape[0], chunk):
        Tc = T[start : start + chunk][:, cl]  # P x m
        P = Tc.shape[0]
        Xb = np.broadcast_to(X0, (P, m, k)).copy()
        Xb[:, :, design.j_d] = Tc * design.post
        if design.j_t is not None:
            Xb[:, :, design.j_t] = Tc
        Xw = Xb * w[None, :, None]
        xtwx = np.einsum("pmi,pmj->pij", Xw, Xb)
        rhs = np.stack(
            [Xw.transpose(0, 2, 1) @ ybar, Xw.transpose(0, 2, 1) @ design.d_actual, np.broadcast_to(e_d, (P, k))],
            axis=2,
        )
        try:
            sol = np.linalg.solve(xtwx, rhs)
        except np.linalg.LinAlgError:  # a placebo main effect collinear with a fixed effect
            sol = np.linalg.pinv(xtwx) @ rhs
        coef_y, coef_d, lam = sol[:, :, 0], sol[:, :, 1], sol[:, :, 2]
        res_y = ybar[None, :] - np.einsum("pmk,pk->pm", Xb, coef_y)
        res_d = design.d_actual[None, :] - np.einsum("pmk,pk->pm", Xb, coef_d)
        a = w[None, :] * np.einsum("pmk,pk->pm", Xb, lam)
        S_y = np.asarray((a * res_y) @ ind)
        S_d = np.asarray((a * res_d) @ ind)
        sl = slice(start, start + P)
        out[0][sl] = coef_y[:, design.j_d]
        out[1][sl] = coef_d[:, design.j_d]
        out[2][sl] = np.einsum("pg,pg->p", S_y, S_y)
        out[3][sl] = np.einsum("pg,pg->p", S_y, S_d)
        out[4][sl] = np.einsum("pg,pg->p", S_d, S_d)
    return tuple(out)
