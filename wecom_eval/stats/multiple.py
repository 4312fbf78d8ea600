"""Adjusting a report's family of tests: Holm (family-wise) and Benjamini-Hochberg (FDR)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._checks import check_alpha
from ._results import MultipleTestResult


def _family(p_values: Any, labels: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if isinstance(p_values, Mapping):
        labs = [str(k) for k in p_values]
        arr = np.asarray(list(p_values.values()), dtype=float)
    elif isinstance(p_values, pd.Series):
        labs = [str(k) for k in p_values.index]
        arr = p_values.to_numpy(dtype=float)
    else:
        arr = np.asarray(p_values, dtype=float).ravel()
        labs = [str(i) for i in range(arr.size)]
    if labels is not None:
        if len(labels) != arr.size:
            raise ValueError(f"labels has {len(labels)} entries for {arr.size} p-values")
        labs = [str(x) for x in labels]
    if arr.size == 0:
        raise ValueError("p_values is empty")
    bad = arr[~np.isnan(arr) & ((arr < 0) | (arr > 1))]
    if bad.size:
        raise ValueError(f"p-values must lie in [0, 1]; found {bad[0]!r}")
    return arr, labs


def _adjust(p_values: Any, labels: Sequence[str] | None, alpha: float, method: str) -> MultipleTestResult:
    alpha = check_alpha(alpha)
    arr, labs = _family(p_values, labels)
    ok = ~np.isnan(arr)
    warnings = []
    if not ok.all():
        warnings.append(f"{int((~ok).sum())} missing p-value(s) left out of the family")
    p = arr[ok]
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj_sorted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adj_sorted = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
    adj_sorted = np.minimum(adj_sorted, 1.0)
    adj = np.empty(m)
    adj[order] = adj_sorted
    full = np.full(arr.size, np.nan)
    full[ok] = adj
    reject = np.zeros(arr.size, dtype=bool)
    reject[ok] = adj <= alpha
    return MultipleTestResult(
        labels=labs, p_values=arr, p_adjusted=full, reject=reject, alpha=alpha, method=method, warnings=warnings
    )


def holm(p_values: Any, *, alpha: float = 0.05, labels: Sequence[str] | None = None) -> MultipleTestResult:
    r"""Holm's step-down adjustment (controls the family-wise error rate).

    Parameters
    ----------
    p_values : array-like, Series or mapping
        The family's p-values; a Series index or mapping keys become the labels. Missing
        values are left out of the family.
    alpha : float
        Family-wise error rate.
    labels : sequence of str, optional
        Names of the tests.

    Returns
    -------
    MultipleTestResult
        ``p_adjusted`` and ``reject`` in the input order; ``to_frame()`` gives one row per
        test.

    Notes
    -----
    With sorted p-values :math:`p_{(1)} \le \dots \le p_{(m)}`:
    :math:`\tilde p_{(i)} = \min\{1, \max_{j \le i} (m - j + 1) p_{(j)}\}`.

    References
    ----------
    Holm (1979), A simple sequentially rejective multiple test procedure, Scandinavian
    Journal of Statistics 6:65-70.

    Examples
    --------
    >>> from wecom_eval import stats
    >>> r = stats.holm({"active": 0.01, "penetration": 0.04, "satisfaction": 0.03})
    >>> r.p_adjusted.round(3).tolist(), r.reject.tolist()
    ([0.03, 0.06, 0.06], [True, False, False])
    """
    return _adjust(p_values, labels, alpha, "holm")


def benjamini_hochberg(
    p_values: Any, *, alpha: float = 0.05, labels: Sequence[str] | None = None
) -> MultipleTestResult:
    r"""Benjamini-Hochberg step-up adjustment (controls the false discovery rate).

    Parameters
    ----------
    p_values, alpha, labels
        As in :func:`holm`; ``alpha`` is the false discovery rate.

    Returns
    -------
    MultipleTestResult
        Adjusted p-values (q-values) and rejections in the input order.

    Notes
    -----
    :math:`\tilde p_{(i)} = \min\{1, \min_{j \ge i} \tfrac{m}{j} p_{(j)}\}`. Valid under
    independence or positive dependence of the tests.

    References
    ----------
    Benjamini & Hochberg (1995), Controlling the false discovery rate, JRSS B 57:289-300.

    Examples
    --------
    >>> from wecom_eval import stats
    >>> r = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    >>> r.p_adjusted.round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    return _adjust(p_values, labels, alpha, "benjamini_hochberg")
