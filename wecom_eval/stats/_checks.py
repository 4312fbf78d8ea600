"""Argument checks shared by the statistics functions.

Misuse raises ``ValueError`` (or ``TypeError`` for a wrong kind of object) with a message
that names the parameter, the bad value, what was expected and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def check_frame(data: Any, name: str = "data") -> pd.DataFrame:
    """Return ``data`` if it is a DataFrame, else raise ``TypeError``."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"{name} must be a pandas DataFrame in long format (one row per observation); got {type(data).__name__}"
        )
    return data


def check_columns(data: pd.DataFrame, **columns: str | Sequence[str] | None) -> None:
    """Raise ``ValueError`` naming the parameter when a column is not in ``data``."""
    have = list(data.columns)
    for param, value in columns.items():
        if value is None:
            continue
        names = [value] if isinstance(value, str) else list(value)
        for col in names:
            if col not in data.columns:
                raise ValueError(
                    f"{param}={col!r} is not a column of data; the columns are {have[:30]}"
                    + (" …" if len(have) > 30 else "")
                    + ". Pass the name of an existing column."
                )


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """``alpha`` must be a number strictly between 0 and 0.5."""
    if not isinstance(alpha, (int, float)) or not 0.0 < float(alpha) < 0.5:
        raise ValueError(f"{name} must be between 0 and 0.5 (e.g. 0.05); got {alpha!r}")
    return float(alpha)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return str(value)


def check_count(value: Any, name: str, minimum: int) -> int:
    """An integer parameter with a lower bound (such as ``n_boot``); 640.0 counts as 640."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}")
    return int(value)


def numeric_column(data: pd.DataFrame, column: str, param: str) -> np.ndarray:
    """The column as float64, raising ``ValueError`` for text that is not a number."""
    series = data[column]
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad):
            raise ValueError(
                f"{param}={column!r} must be numeric; row {bad.index[0]!r} holds {bad.iloc[0]!r}"
                f" ({len(bad)} such rows). Convert the column to numbers first."
            )
        series = converted
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(float)
    if not pd.api.types.is_numeric_dtype(series):
        raise ValueError(f"{param}={column!r} must be numeric; its dtype is {series.dtype}")
    return series.to_numpy(dtype=float, na_value=np.nan)


def binary_column(data: pd.DataFrame, column: str, param: str) -> np.ndarray:
    """A 0/1 indicator from a bool or 0/1 numeric column (NaN kept as NaN)."""
    values = numeric_column(data, column, param)
    present = values[~np.isnan(values)]
    bad = present[(present != 0.0) & (present != 1.0)]
    if bad.size:
        raise ValueError(
            f"{param}={column!r} must be an indicator (True/False or 0/1); found value {bad[0]!r}."
            " Recode it, e.g. data[col] == 'pilot'."
        )
    return values


def positive_for_log(values: np.ndarray, column: str, index: pd.Index) -> None:
    """Raise ``ValueError`` when a value to be logged is zero or negative."""
    bad = np.flatnonzero(values <= 0)
    if bad.size:
        first = bad[0]
        raise ValueError(
            f"transform='log' needs positive values, but outcome={column!r} has {bad.size} "
            f"value(s) <= 0 (first at row {index[first]!r}: {values[first]!r}). Durations of "
            "zero usually mean a missing finish time or a clock resolution problem: drop or "
            "fix those rows (e.g. clip to the recording resolution) before calling."
        )


def finite_array(values: Any, name: str, *, min_size: int = 1) -> np.ndarray:
    """A 1-D float array without NaN (dropped) with at least ``min_size`` values."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[~np.isnan(arr)]
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values; remove them first")
    if arr.size < min_size:
        raise ValueError(f"{name} needs at least {min_size} non-missing values; got {arr.size}")
    return np.asarray(arr)
