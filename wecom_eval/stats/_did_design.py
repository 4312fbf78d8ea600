"""The difference-in-differences regression of :func:`wecom_eval.stats.did`, built from tidy rows.

Rows are checked (indicators, missing values, the four before/after cells), collapsed to
cells of identical regressors, and turned into a weighted least-squares fit whose columns
are the intercept, the fixed effects, the covariates, the treated and post main effects
(dropped when a fixed effect absorbs them) and the effect ``treated:post``. The clusters'
treatment status is kept for randomization inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._checks import binary_column, numeric_column, positive_for_log
from ._ols import Cells, WLSFit, collapse, dummies, independent_columns


@dataclass(frozen=True)
class Design:
    """The DiD regression collapsed to cells, with what randomization inference needs."""

    fit: WLSFit
    names: list[str]
    j_d: int  # column of treated x post
    j_t: int | None  # column of the treated main effect (None when absorbed)
    post: np.ndarray  # per cell
    treated: np.ndarray  # per cell
    d_actual: np.ndarray  # per cell
    cluster: np.ndarray | None  # per cell, codes 0..G-1
    n_clusters: int
    treated_by_cluster: np.ndarray | None  # per cluster: 0/1, NaN if mixed
    n_treated_clusters: int
    n_control_clusters: int


@dataclass(frozen=True)
class _Rows:
    """The columns the regression uses, as arrays, rows with a missing value dropped."""

    y: np.ndarray
    t: np.ndarray
    p: np.ndarray
    covs: list[np.ndarray]
    fe_codes: list[np.ndarray]
    cl_codes: np.ndarray | None
    index: pd.Index


@dataclass(frozen=True)
class _Clusters:
    """Cluster count, each cluster's treatment (NaN when mixed) and treated/control counts."""

    n: int
    treated_by_cluster: np.ndarray | None
    n_treated: int
    n_control: int


def build_design(
    data: pd.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    cluster: str | None,
    transform: str,
    fe: list[str],
    covariates: list[str],
    warnings: list[str],
) -> Design:
    """Check the rows, collapse them to cells and fit the DiD regression (misuse: ``ValueError``)."""
    rows = _read_rows(data, outcome, treated, post, cluster, fe, covariates, warnings)
    y = rows.y
    if y.size == 0:
        raise ValueError("no rows left after dropping missing values; check the columns")
    if np.isinf(y).any():
        raise ValueError(f"outcome={outcome!r} has infinite values; drop them first")
    if transform == "log":
        positive_for_log(y, outcome, rows.index)
        y = np.log(y)
    _check_cells(rows.t, rows.p, treated, post)

    keys: list[np.ndarray] = [] if rows.cl_codes is None else [rows.cl_codes]
    keys += [rows.t, rows.p, *rows.covs, *rows.fe_codes]
    cells = collapse(y, keys)
    f = cells.first
    t_c, p_c = rows.t[f], rows.p[f]
    X, names, j_d, j_t = _design_matrix(cells, rows, fe, covariates, treated, post)
    clusters = _clusters(rows, cluster, warnings)
    cluster_c = None if rows.cl_codes is None else rows.cl_codes[f]
    fit = WLSFit(
        X,
        cells.w,
        cells.ybar,
        ss_within=cells.ss_within,
        n_obs=y.size,
        cluster=cluster_c,
        n_clusters=clusters.n,
    )
    return Design(
        fit=fit,
        names=names,
        j_d=j_d,
        j_t=j_t,
        post=p_c,
        treated=t_c,
        d_actual=t_c * p_c,
        cluster=cluster_c,
        n_clusters=clusters.n,
        treated_by_cluster=clusters.treated_by_cluster,
        n_treated_clusters=clusters.n_treated,
        n_control_clusters=clusters.n_control,
    )


def _read_rows(
    data: pd.DataFrame,
    outcome: str,
    treated: str,
    post: str,
    cluster: str | None,
    fe: list[str],
    covariates: list[str],
    warnings: list[str],
) -> _Rows:
    """The regression's columns as arrays; rows with a missing value are dropped (and counted)."""
    y = numeric_column(data, outcome, "outcome")
    t = binary_column(data, treated, "treated")
    p = binary_column(data, post, "post")
    covs = [numeric_column(data, c, "covariates") for c in covariates]
    missing = np.isnan(y) | np.isnan(t) | np.isnan(p)
    for c in covs:
        missing |= np.isnan(c)
    fe_codes: list[np.ndarray] = []
    for col in fe:
        codes, _ = pd.factorize(data[col], sort=True)
        missing |= codes < 0
        fe_codes.append(codes)
    cl_codes = None
    if cluster is not None:
        cl_codes, _ = pd.factorize(data[cluster], sort=True)
        missing |= cl_codes < 0
    if not missing.any():
        return _Rows(y, t, p, covs, fe_codes, cl_codes, data.index)
    warnings.append(f"dropped {int(missing.sum())} row(s) with a missing value")
    keep = ~missing
    return _Rows(
        y[keep],
        t[keep],
        p[keep],
        [c[keep] for c in covs],
        [pd.factorize(c[keep], sort=True)[0] for c in fe_codes],
        None if cl_codes is None else pd.factorize(cl_codes[keep], sort=True)[0],
        data.index[keep],
    )


def _check_cells(t: np.ndarray, p: np.ndarray, treated: str, post: str) -> None:
    """Every one of the four treated/control x before/after cells must hold rows."""
    for tv, pv, label in (
        (1, 0, "treated before"),
        (1, 1, "treated after"),
        (0, 0, "control before"),
        (0, 1, "control after"),
    ):
        if not np.any((t == tv) & (p == pv)):
            who = "treated" if tv else "control"
            raise ValueError(
                f"no observations in the {label} cell ({treated}={tv}, {post}={pv}); a "
                f"difference-in-differences needs {who} rows both before and after. Check "
                "the go-live dates and the pilot flag."
            )


def _design_matrix(
    cells: Cells, rows: _Rows, fe: list[str], covariates: list[str], treated: str, post: str
) -> tuple[np.ndarray, list[str], int, int | None]:
    """The identified columns per cell, their names, and the columns of the effect and of ``treated``."""
    f = cells.first
    t_c, p_c = rows.t[f], rows.p[f]
    # priority for keeping columns: intercept, fixed effects, covariates, then the treated
    # and post main effects (dropped when a fixed effect absorbs them), then the effect
    cols: list[np.ndarray] = [np.ones(f.size)]
    names = ["intercept"]
    for col, codes in zip(fe, rows.fe_codes, strict=True):
        mat, nm = dummies(codes[f], int(codes.max()) + 1, col)
        cols += list(mat.T)
        names += nm
    cols += [c[f] for c in rows.covs]
    names += list(covariates)
    j_t_all = len(cols)
    cols += [t_c, p_c, t_c * p_c]
    names += [treated, post, f"{treated}:{post}"]
    X_all = np.column_stack(cols)
    j_d_all = X_all.shape[1] - 1
    kept = independent_columns(X_all, cells.w, list(range(j_d_all)))
    kept_with_d = independent_columns(X_all, cells.w, kept + [j_d_all])
    if j_d_all not in kept_with_d:
        raise ValueError(
            f"the effect {treated}:{post} is not identified: it is a combination of the "
            f"fixed effects {fe} and covariates {list(covariates)}. Remove the fixed effect "
            "that varies at the treated-by-period level."
        )
    j_t = kept_with_d.index(j_t_all) if j_t_all in kept_with_d else None
    return X_all[:, kept_with_d], [names[j] for j in kept_with_d], len(kept_with_d) - 1, j_t


def _clusters(rows: _Rows, cluster: str | None, warnings: list[str]) -> _Clusters:
    """Treated and control clusters; warns on mixed clusters and on clusters seen on one side only."""
    t, p, cl_codes = rows.t, rows.p, rows.cl_codes
    if cl_codes is None:
        return _Clusters(0, None, int(np.any(t == 1)), int(np.any(t == 0)))
    G = int(cl_codes.max()) + 1
    tmax = np.full(G, -np.inf)
    tmin = np.full(G, np.inf)
    np.maximum.at(tmax, cl_codes, t)
    np.minimum.at(tmin, cl_codes, t)
    t_by_cluster = np.where(tmax == tmin, tmax, np.nan)
    G1 = int(np.sum(tmax == 1))
    G0 = int(np.sum(tmin == 0))
    if G1 == 0 or G0 == 0:
        raise ValueError(
            f"every cluster of {cluster!r} is {'treated' if G0 == 0 else 'control'}; "
            "a difference-in-differences needs at least one treated and one control "
            "cluster"
        )
    n_mixed = int(np.isnan(t_by_cluster).sum())
    if n_mixed:
        warnings.append(
            f"{n_mixed} cluster(s) hold both treated and control rows; treatment is usually assigned by department"
        )
    has_pre = np.bincount(cl_codes, weights=(p == 0).astype(float), minlength=G) > 0
    has_post = np.bincount(cl_codes, weights=p, minlength=G) > 0
    if not (has_pre.all() and has_post.all()):
        warnings.append(
            f"{int((~has_pre).sum())} cluster(s) have no rows before and "
            f"{int((~has_post).sum())} none after; they add little to the comparison"
        )
    return _Clusters(G, t_by_cluster, G1, G0)
