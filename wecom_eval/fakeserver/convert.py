"""Tables and times as the fake WeCom indexes them: frames from any table shape, Unix seconds,
CST day numbers, stable hashes and per-user slices of sorted arrays."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wecom_eval.wecom.windows import DAY

TZ = "Asia/Shanghai"
_OFFSET = 8 * 3600  # China Standard Time
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def as_frame(value: Any) -> pd.DataFrame:
    """A pandas frame from a frame, an Arrow table or an iterable of either."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pa.Table):
        frame: pd.DataFrame = value.to_pandas()
        return frame
    parts = [as_frame(v) for v in value]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def canonical_tables(org: Any) -> dict[str, Any]:
    """The tables of ``org``: a mapping, or an object with ``.tables`` (and member-day chunks)."""
    if isinstance(org, Mapping):
        return dict(org)
    tables = dict(getattr(org, "tables", {}))
    if "member_days" not in tables:
        for name in ("member_days_chunks", "member_days_frame"):
            method = getattr(org, name, None)
            if method is not None:
                tables["member_days"] = method()
                break
    if not tables:
        raise TypeError(f"expected canonical tables (a mapping or an object with .tables), got {type(org).__name__}")
    return tables


def epoch_seconds(values: Any) -> np.ndarray:
    """Unix seconds (float, NaN when missing) of timestamps; naive ones are read as Asia/Shanghai."""
    s = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce", format="mixed")
        if not pd.api.types.is_datetime64_any_dtype(s):  # mixed offsets come back as objects
            s = pd.to_datetime(pd.Series(values), errors="coerce", utc=True)
    if getattr(s.dt, "tz", None) is None:
        s = s.dt.tz_localize(TZ, ambiguous="NaT", nonexistent="NaT")
    seconds = (s.dt.tz_convert("UTC") - _EPOCH) / pd.Timedelta(seconds=1)
    return np.floor(seconds.to_numpy(dtype=float, na_value=np.nan))


def day_numbers(values: Any) -> np.ndarray:
    """Days since 1970-01-01 of dates (the calendar date as written, no time zone)."""
    s = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return ((s.dt.normalize() - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)


def cst_day(ts: np.ndarray) -> np.ndarray:
    """CST day numbers (days since 1970-01-01) of Unix seconds."""
    return (ts.astype(np.int64) + _OFFSET) // DAY


def day_midnight(day: np.ndarray | int) -> np.ndarray | int:
    """Unix seconds of 00:00 CST of day numbers."""
    return day * DAY - _OFFSET


def stable_int(*parts: object) -> int:
    """A deterministic integer from values (Python's ``hash`` changes between runs)."""
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Slices:
    """Rows grouped by user: ``index[userid] = (start, stop)`` into arrays sorted by (user, time)."""

    index: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, users: np.ndarray) -> Slices:
        if not len(users):
            return cls({})
        change = np.flatnonzero(users[1:] != users[:-1]) + 1
        starts = np.concatenate([[0], change])
        stops = np.concatenate([change, [len(users)]])
        return cls({str(users[a]): (int(a), int(b)) for a, b in zip(starts, stops, strict=True)})


__all__ = [
    "TZ",
    "Slices",
    "as_frame",
    "canonical_tables",
    "cst_day",
    "day_midnight",
    "day_numbers",
    "epoch_seconds",
    "stable_int",
]
