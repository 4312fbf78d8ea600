"""Privacy in one place: small-group suppression, keyed pseudonyms, restricted outputs.

Every breakdown the workbook publishes passes through :func:`suppress`; every identifier
that has to appear in a shared output passes through :func:`pseudonymise`; every named list
(registration stragglers, the points ledger, reconciliation lists) is marked with
:func:`mark_restricted` so that report writers can refuse it (DESIGN §10).

What a cell "describes"
-----------------------
A cell of a breakdown describes the people it is computed over: the denominator of a
rate (the employees of a department for the registration rate, its registered members for
the active rate, its eligible staff for a feature's penetration). That number is the
``size`` column handed to :func:`suppress`. A numerator may be small (three stragglers in
a department of forty); the cell still describes forty people.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from wecom_eval.errors import InputError, Problem
from wecom_eval.plan import RolloutPlan

SMALL_GROUP = "small_group"
COMPLEMENTARY = "complementary"
RESTRICTED_ATTR = "wecom_eval_restricted"
MIN_SALT_LENGTH = 16
PSEUDONYM_PREFIX = "p_"
PSEUDONYM_HEX = 16  # 64 bits: collisions are negligible below tens of millions of identifiers

Reason = Literal["small_group", "complementary"]


# ---- suppression ------------------------------------------------------------------------


def suppress(
    frame: pd.DataFrame,
    *,
    size: str,
    by: Sequence[str],
    min_group_size: int,
    within: Sequence[str] = (),
    subtotals: Sequence[Sequence[str]] = ((),),
    keep: Sequence[str] = (),
    hidden_before: Sequence[bool] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Hide every cell describing fewer than ``min_group_size`` people, and enough siblings.

    Parameters
    ----------
    frame
        A tidy breakdown, one row per cell. It is not modified.
    size
        The column holding the number of people each cell describes (the rate's
        denominator). Cells of size 0 (or missing) describe nobody: they are left as they
        are and play no part in complementary suppression.
    by
        The columns that name a cell among its siblings (``department_id``, …).
    min_group_size
        The privacy floor (``plan.privacy.min_group_size``).
    within
        Columns that split the frame into independent tables (``week``, ``feature``): cells
        in different tables never add up to a common total.
    subtotals
        The sets of siblings whose sum may be published elsewhere. The default ``((),)``
        assumes that all cells of one table add up to a published total (the company-wide
        figure); add ``("branch",)`` when branch subtotals are published too.
    keep
        Further label columns that stay visible in hidden rows (a department's path).
    hidden_before
        Rows already hidden by an earlier step (a KPI function's suppression, a value left
        blank), one flag per row. They count as hidden cells whatever their ``size`` says; a
        missing or zero size counts as 1, the fewest people a hidden cell can describe, so
        that their siblings protect them as much as they could need.

    Returns
    -------
    pandas.DataFrame
        A copy in which every column other than ``by``, ``within``, the subtotal columns and
        ``keep`` is blanked (NA) in hidden rows, with two more columns: ``suppressed``
        (bool) and ``suppression`` (``"small_group"``, ``"complementary"`` or NA).

    Notes
    -----
    Primary suppression hides each cell with ``0 < size < min_group_size``. Then, in every
    set of siblings (each table, and each subtotal within it), as long as the hidden cells
    could be worked out from the total and the visible siblings — exactly one hidden cell,
    or hidden cells that together describe fewer than ``min_group_size`` people — the
    smallest visible sibling is hidden as well (ties broken by the order of ``by``), finer
    subtotals first. This repeats until no set changes. What subtraction can then recover is only the sum of two
    or more hidden cells, describing at least ``min_group_size`` people together.

    Examples
    --------
    >>> t = pd.DataFrame({"department": ["a", "b", "c", "d"], "n": [3, 40, 7, 25],
    ...                   "rate": [1.0, 0.5, 0.7, 0.6]})
    >>> suppress(t, size="n", by=["department"], min_group_size=5)[["department", "rate", "suppression"]]
      department  rate    suppression
    0          a   NaN    small_group
    1          b   0.5           <NA>
    2          c   NaN  complementary
    3          d   0.6           <NA>
    """
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1, got {min_group_size}")
    labels = [*by, *within, *(c for s in subtotals for c in s), *keep]
    missing = [c for c in [size, *labels] if c not in frame.columns]
    if missing:
        raise ValueError(f"suppress(): columns {missing} are not in the frame; it has {list(frame.columns)}")
    out = frame.copy()
    n = len(out)
    sizes = pd.to_numeric(out[size], errors="coerce").fillna(0).to_numpy(dtype=float)
    reason = np.full(n, None, dtype=object)
    before = np.zeros(n, dtype=bool) if hidden_before is None else np.asarray(hidden_before, dtype=bool)
    if before.shape != (n,):
        raise ValueError(f"hidden_before has {before.size} flags for {n} rows")
    sizes = np.where(before & (sizes <= 0), 1.0, sizes)
    hidden = ((sizes > 0) & (sizes < min_group_size)) | before
    reason[hidden] = SMALL_GROUP

    sibling_sets = _sibling_sets(out, within, subtotals)
    _hide_siblings(sibling_sets, sizes, hidden, reason, _rank(out, by), min_group_size)

    measures = [c for c in out.columns if c not in labels]
    if hidden.any():
        for col in measures:
            out[col] = _blank(out[col], hidden)
    out["suppressed"] = hidden
    out["suppression"] = pd.array(reason, dtype="string")
    return out


def _rank(frame: pd.DataFrame, by: Sequence[str]) -> np.ndarray:
    """Each row's place in the order of ``by`` (ties keep the frame's order)."""
    n = len(frame)
    order = np.arange(n)
    if by:
        order = frame.reset_index(drop=True).sort_values(list(by), kind="stable").index.to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def _sibling_sets(frame: pd.DataFrame, within: Sequence[str], subtotals: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Row positions of every set of siblings with a publishable sum, finest subtotals first."""
    n = len(frame)
    sibling_sets: list[np.ndarray] = []
    # finest subtotals first: a cell hidden to protect a branch often protects the company total too
    for spec in sorted(subtotals, key=len, reverse=True):
        keys = [*within, *spec]
        groups: list[np.ndarray] = (
            [
                np.asarray(g)
                for g in frame.reset_index(drop=True).groupby(keys, dropna=False, sort=False).indices.values()
            ]
            if keys
            else [np.arange(n)]
        )
        sibling_sets.extend(np.asarray(g) for g in groups if len(g) > 1)
    return sibling_sets


def _hide_siblings(
    sibling_sets: list[np.ndarray],
    sizes: np.ndarray,
    hidden: np.ndarray,
    reason: np.ndarray,
    rank: np.ndarray,
    min_group_size: int,
) -> None:
    """Complementary suppression, in place: hide the smallest visible sibling until no hidden cell can be recovered."""
    changed = True
    while changed:
        changed = False
        for members in sibling_sets:
            live = members[sizes[members] > 0]
            h = live[hidden[live]]
            v = live[~hidden[live]]
            if not len(h) or not len(v):
                continue
            if len(h) == 1 or sizes[h].sum() < min_group_size:
                pick = v[np.lexsort((rank[v], sizes[v]))[0]]
                hidden[pick] = True
                reason[pick] = COMPLEMENTARY
                changed = True


def _blank(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """``values`` with ``mask`` rows set to NA, in a dtype that can hold NA."""
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("boolean")
    elif pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        values = values.astype("Int64")
    elif values.dtype == object:
        return values.mask(mask, None)
    return values.mask(mask)


def floor(plan: RolloutPlan, *, text: bool = False) -> int:
    """The plan's privacy floor: ``min_group_size`` (or ``min_group_size_text`` for free text)."""
    return plan.privacy.min_group_size_text if text else plan.privacy.min_group_size


# ---- pseudonyms -------------------------------------------------------------------------


def salt(plan: RolloutPlan) -> bytes:
    """The pseudonymisation key, from the environment variable the plan names.

    Raises
    ------
    InputError
        When the variable is unset or shorter than 16 characters. The message names the
        variable, never its value.
    """
    name = plan.privacy.salt_env
    value = os.environ.get(name, "")
    if len(value) < MIN_SALT_LENGTH:
        got = "unset" if not value else f"{len(value)} characters"
        raise InputError(
            "pseudonymisation key",
            [
                Problem(
                    f"environment variable {name}",
                    got,
                    f"a secret of at least {MIN_SALT_LENGTH} characters",
                    f"Set it once and keep it (pseudonyms stay stable across runs only with the same key), "
                    f"e.g. export {name}=$(python -c 'import secrets; print(secrets.token_hex(32))').",
                )
            ],
        )
    return value.encode("utf-8")


def keyed_token(value: str, key: bytes, *, prefix: str = PSEUDONYM_PREFIX, digits: int = PSEUDONYM_HEX) -> str:
    """``prefix`` + the first ``digits`` hex digits of HMAC-SHA256(key, value): the one keyed hash
    behind every pseudonym (report identifiers here, respondent ids at survey ingest and in the demo).

    Examples
    --------
    >>> keyed_token("zhangsan", b"a-long-secret-salt", prefix="r", digits=15)
    'rfb995d08e866530'
    """
    return prefix + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:digits]


def pseudonymise(values: Iterable[object] | pd.Series, plan: RolloutPlan, *, key: bytes | None = None) -> pd.Series:
    """Replace identifiers by keyed pseudonyms (HMAC-SHA256), stable across runs.

    Parameters
    ----------
    values
        Identifiers (userids, employee ids, respondent ids). Missing values stay missing.
    plan
        The plan, whose ``privacy.salt_env`` names the environment variable holding the key.
    key
        The key itself, for tests; by default it is read with :func:`salt`.

    Returns
    -------
    pandas.Series
        ``p_`` followed by 16 hex digits per value (same index as ``values`` when it is a
        Series). The same identifier and key always give the same pseudonym; without the
        key a pseudonym cannot be traced back or recomputed.

    Examples
    --------
    >>> from wecom_eval.plan import load_plan  # doctest: +SKIP
    >>> pseudonymise(["u001", None], plan, key=b"0123456789abcdef").tolist()  # doctest: +SKIP
    ['p_…', None]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    secret = salt(plan) if key is None else key
    if len(secret) < MIN_SALT_LENGTH:
        raise ValueError(f"the pseudonymisation key must be at least {MIN_SALT_LENGTH} bytes")
    present = series.notna()
    uniques = pd.unique(series[present].astype(str))
    tokens = {u: keyed_token(u, secret) for u in uniques}
    values_out = [tokens[str(v)] if p else None for v, p in zip(series.tolist(), present.tolist(), strict=True)]
    return pd.Series(values_out, index=series.index, dtype=object)


# ---- restricted outputs ------------------------------------------------------------------


def mark_restricted(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    """Mark a frame of named, person-level rows as restricted (never for meeting reports).

    The mark lives in ``frame.attrs`` (kept by copies); report writers call
    :func:`is_restricted` and refuse such frames.
    """
    frame.attrs[RESTRICTED_ATTR] = reason
    return frame


def is_restricted(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` was marked by :func:`mark_restricted`."""
    return bool(frame.attrs.get(RESTRICTED_ATTR))


__all__ = [
    "COMPLEMENTARY",
    "SMALL_GROUP",
    "floor",
    "is_restricted",
    "mark_restricted",
    "pseudonymise",
    "salt",
    "suppress",
]
