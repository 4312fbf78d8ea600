"""Daily activity (member_days) and feature use (feature_events), generated a week at a time.

``member_days`` has one row per member per calendar day of the window, which is about
36 million rows for a year of 100,000 members, so it is never materialised here: each week
is drawn from its own seeded stream (``(seed, stream, week)``), so a week can be drawn
again, in any order, and comes out the same. The generator makes one pass to record the
realised aggregates (the ground truth) and the feature events; loading draws the weeks
again as Arrow tables.

The model, per member *m* and day *d* after registration (*k* days since it):

* active with probability ``sigmoid(a_m + b_dept + w(d) + r(k))``: ``a_m`` a member's
  propensity, ``b_dept`` a department effect, ``w`` higher on working days than on weekends
  and public holidays, ``r`` a ramp-up over the first weeks;
* minutes of use, when active, log-normal around the member's own median (shorter off
  working days); null for members whose source does not report minutes;
* each feature used on an active day with the member's own probability (some members never
  use a feature; customer management only in eligible departments; approval and
  attendance only once the department has gone live).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STREAM_DAYS = 1
STREAM_FEATURES = 2
MEMBER_DAY_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("userid", pa.string()),
        ("active", pa.bool_()),
        ("minutes", pa.int16()),
        ("source", pa.string()),
    ]
)
FEATURE_EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("userid", pa.string()),
        ("feature", pa.string()),
        ("ts", pa.timestamp("s", tz="Asia/Shanghai")),
        ("count", pa.int32()),
    ]
)
TZ = "Asia/Shanghai"
SOURCE_WITH_MINUTES = "admin_export"
SOURCE_WITHOUT_MINUTES = "api_oper_log"

# feature → (share of members who never use it, mean logit of daily use, extra uses per day, code)
FEATURES: dict[str, tuple[float, float, float, str]] = {
    "approval": (0.08, -1.6, 0.3, "ap"),
    "docs": (0.15, -1.3, 0.8, "dc"),
    "customer": (0.12, -0.9, 1.5, "cu"),
    "attendance": (0.06, 2.2, 0.0, "at"),
    "other": (0.30, -1.8, 0.5, "ot"),
}
WORKING_LOGIT = 0.9
OFF_LOGIT = -2.2


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def ramp(k: np.ndarray) -> np.ndarray:
    """Log-odds added k days after registration: new members start slow, then settle."""
    return -0.8 + 1.4 * (1.0 - np.exp(-k / 14.0))


@dataclass
class ActivityModel:
    seed: int
    start: np.datetime64  # first day of the window
    working: np.ndarray  # bool per day
    userids: pa.Array  # string, one per member
    mem_dept: np.ndarray
    n_dept: int
    act: np.ndarray  # day index of registration (NEVER if none)
    last: np.ndarray  # last day index the member can be active
    leave: np.ndarray  # last day employed (NEVER if still employed)
    base: np.ndarray  # float32 log-odds a_m + b_dept
    log_minutes: np.ndarray  # float32 log of the member's median minutes
    measured: np.ndarray  # bool: source reports minutes
    min_minutes: int
    use_logit: dict[str, np.ndarray]  # float32 per member; -inf where never used or not eligible
    live_from: dict[str, np.ndarray]  # day index from which a feature can be used
    grain: str = "day"
    _sources: pa.Array = field(init=False)

    def __post_init__(self) -> None:
        self._sources = pa.array(np.where(self.measured, SOURCE_WITH_MINUTES, SOURCE_WITHOUT_MINUTES), type=pa.string())

    @property
    def n_days(self) -> int:
        return len(self.working)

    @property
    def n_members(self) -> int:
        return len(self.act)

    def weeks(self) -> list[tuple[int, int]]:
        return [(d0, min(d0 + 7, self.n_days)) for d0 in range(0, self.n_days, 7)]

    # ---- one week of activity ----------------------------------------------------------
    def block(self, d0: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
        """(active, minutes) for days d0..d1-1, each of shape (days, members).

        ``minutes`` is int16: 0 when inactive, the minutes used when active (meaningless
        where the member's source is not measured; the caller masks those to null).
        """
        rng = np.random.default_rng([self.seed, STREAM_DAYS, d0 // 7])
        days = np.arange(d0, d1)[:, None]
        k = (days - self.act[None, :]).astype(np.float32)
        registered = (k >= 0) & (days <= self.last[None, :])
        w = np.where(self.working[d0:d1], WORKING_LOGIT, OFF_LOGIT).astype(np.float32)[:, None]
        logit = self.base[None, :] + w + ramp(np.maximum(k, 0)).astype(np.float32)
        u = rng.random(logit.shape, dtype=np.float32)
        active = registered & (u < sigmoid(logit))
        minutes = np.zeros(active.shape, dtype=np.int16)
        n_active = int(active.sum())
        if n_active:
            idx = np.nonzero(active)
            off = np.where(self.working[d0:d1], 0.0, -0.9).astype(np.float32)[idx[0]]
            grow = (0.25 * (1.0 - np.exp(-k[idx] / 21.0))).astype(np.float32)
            z = rng.standard_normal(n_active, dtype=np.float32)
            mins = np.exp(self.log_minutes[idx[1]] + off + grow + 0.6 * z)
            minutes[idx] = np.clip(np.rint(mins), 1, 720).astype(np.int16)
        return active, minutes

    def table(self, d0: int, d1: int, active: np.ndarray, minutes: np.ndarray) -> pa.Table:
        """The Arrow table of one block, rows ordered by (date, member)."""
        n_d, n_m = active.shape
        date = (self.start + np.arange(d0, d1)).astype("datetime64[D]").astype(np.int32)
        member = np.tile(np.arange(n_m, dtype=np.int64), n_d)
        null = np.tile(~self.measured, n_d)
        return pa.Table.from_arrays(
            [
                pa.array(np.repeat(date, n_m), type=pa.date32()),
                self.userids.take(member),
                pa.array(active.ravel(), type=pa.bool_()),
                pa.array(minutes.ravel(), type=pa.int16(), mask=null),
                self._sources.take(member),
            ],
            schema=MEMBER_DAY_SCHEMA,
        )

    def chunks(self) -> Iterator[pa.Table]:
        for d0, d1 in self.weeks():
            active, minutes = self.block(d0, d1)
            yield self.table(d0, d1, active, minutes)

    def feature_chunks(self) -> Iterator[pa.Table]:
        """``feature_events`` one week at a time, drawn afresh (the same rows as :func:`scan` meets)."""
        for d0, d1 in self.weeks():
            active, _minutes = self.block(d0, d1)
            yield self.features(d0, d1, active).table(self)

    # ---- feature use -------------------------------------------------------------------
    def features(self, d0: int, d1: int, active: np.ndarray) -> FeatureUse:
        """Feature use in one block: one entry per user × feature × day (or × week) used."""
        d_idx, m_idx = np.nonzero(active)  # row-major: by day, then member
        working = self.working[d0 + d_idx]
        parts = []
        for f_no, (feature, (_never, _mean, extra, _code)) in enumerate(FEATURES.items()):
            rng = np.random.default_rng([self.seed, STREAM_FEATURES, d0 // 7, f_no])
            logit = self.use_logit[feature][m_idx]
            ok = np.isfinite(logit) & (d0 + d_idx >= self.live_from[feature][m_idx])
            if feature in ("approval", "attendance"):
                ok &= working
            p = sigmoid(np.where(working, logit, logit - np.float32(1.2)))
            used = ok & (rng.random(len(m_idx), dtype=np.float32) < p)
            members, days = m_idx[used], d0 + d_idx[used]
            if self.grain == "week":
                members, first, uses = np.unique(members, return_index=True, return_counts=True)
                days = days[first]  # the first use in the week (rows are ordered by day)
                count = uses + rng.poisson(extra * uses)
            else:
                count = 1 + rng.poisson(extra, size=len(members))
            n = len(members)
            if feature == "attendance":
                seconds = 8 * 3600 + rng.integers(0, 5400, n)
            else:
                seconds = 9 * 3600 + (rng.beta(2.0, 2.2, n) * 9 * 3600).astype(np.int64)
            parts.append(
                FeatureUse(
                    members.astype(np.int32),
                    np.full(n, f_no, dtype=np.int8),
                    days.astype(np.int32),
                    seconds.astype(np.int32),
                    count.astype(np.int32),
                )
            )
        return FeatureUse.concat(parts)


@dataclass
class FeatureUse:
    """Feature events as compact arrays (member row, feature number, day index, seconds, count).

    About 17 bytes a row; the string columns of ``feature_events`` are built from these only
    when a frame or an Arrow table is asked for.
    """

    member: np.ndarray
    feature: np.ndarray
    day: np.ndarray
    seconds: np.ndarray
    count: np.ndarray

    @classmethod
    def concat(cls, parts: list[FeatureUse]) -> FeatureUse:
        if not parts:
            z = np.zeros(0, dtype=np.int32)
            return cls(z, z.astype(np.int8), z, z, z)
        member, feature, day, seconds, count = (
            np.concatenate([getattr(p, a) for p in parts]) for a in ("member", "feature", "day", "seconds", "count")
        )
        return cls(member, feature, day, seconds, count)

    def __len__(self) -> int:
        return len(self.member)

    def _columns(self, model: ActivityModel) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
        """(event_id, userid, feature) as large_string and the local timestamps."""
        days = (model.start + np.arange(model.n_days)).astype("datetime64[D]")
        day_strings = pc.replace_substring(
            pa.array(np.datetime_as_string(days).astype(object), type=pa.large_string()), "-", ""
        )
        names = pa.array(list(FEATURES), type=pa.large_string())
        codes = pa.array([v[3] for v in FEATURES.values()], type=pa.large_string())
        uid = model.userids.cast(pa.large_string()).take(pa.array(self.member))
        feature = pa.array(self.feature.astype(np.int32))
        event_id = pc.binary_join_element_wise(
            uid, codes.take(feature), day_strings.take(pa.array(self.day)), pa.scalar("-", pa.large_string())
        )
        local = (model.start + self.day.astype(np.int64)).astype("datetime64[s]") + self.seconds.astype(
            "timedelta64[s]"
        )
        return event_id, uid, names.take(feature), local

    def frame(self, model: ActivityModel) -> pd.DataFrame:
        """The rows as a frame (string columns wrap Arrow memory, no copy)."""
        event_id, uid, feature, local = self._columns(model)
        return pd.DataFrame(
            {
                "event_id": pd.Series(event_id, dtype="str"),
                "userid": pd.Series(uid, dtype="str"),
                "feature": pd.Series(feature, dtype="str"),
                "ts": pd.DatetimeIndex(local).tz_localize(TZ),
                "count": self.count,
            }
        )

    def table(self, model: ActivityModel) -> pa.Table:
        """The rows as an Arrow table with the canonical column types."""
        event_id, uid, feature, local = self._columns(model)
        utc = local.astype(np.int64) - 8 * 3600
        return pa.Table.from_arrays(
            [
                event_id,
                uid,
                feature,
                pa.array(utc, type=pa.int64()).cast(pa.timestamp("s", tz=TZ)),
                pa.array(self.count, type=pa.int32()),
            ],
            names=FEATURE_EVENT_SCHEMA.names,
        )


@dataclass
class Aggregates:
    """Realised daily counts per department (rows: days, columns: department rows)."""

    registered: np.ndarray
    active: np.ndarray
    registered_measured: np.ndarray
    engaged: np.ndarray

    @classmethod
    def empty(cls, n_days: int, n_dept: int) -> Aggregates:
        shape = (n_days, n_dept)
        return cls(*(np.zeros(shape, dtype=np.int64) for _ in range(4)))


@dataclass
class FeatureSummary:
    """What the ground truth needs of the feature events, kept while they stream past."""

    events: int  # rows of feature_events
    used: np.ndarray  # bool (feature number, member row): used on a day of the penetration window


Week = Callable[[int, pa.Table, pa.Table], None]  # (week number from 0, member_days, feature_events)


def scan(
    model: ActivityModel, window: tuple[int, int], on_week: Week | None = None
) -> tuple[Aggregates, FeatureSummary]:
    """One pass over every week: the realised aggregates and a summary of the feature use.

    ``window`` is the penetration window (first and last day index, both included).
    ``on_week`` is handed each week's ``member_days`` and ``feature_events`` as Arrow tables
    (to land them); nothing of a week is kept after it.
    """
    agg = Aggregates.empty(model.n_days, model.n_dept)
    summary = FeatureSummary(0, np.zeros((len(FEATURES), model.n_members), dtype=bool))
    lo, hi = window
    for d0, d1 in model.weeks():
        active, minutes = model.block(d0, d1)
        days = np.arange(d0, d1)[:, None]
        registered = (days >= model.act[None, :]) & (days <= model.leave[None, :])
        engaged = active & (minutes >= model.min_minutes) & model.measured[None, :]
        for i in range(d1 - d0):

            def bc(w: np.ndarray) -> np.ndarray:
                return np.bincount(model.mem_dept, weights=w, minlength=model.n_dept)

            agg.registered[d0 + i] = bc(registered[i])
            agg.active[d0 + i] = bc(active[i])
            agg.registered_measured[d0 + i] = bc(registered[i] & model.measured)
            agg.engaged[d0 + i] = bc(engaged[i])
        uses = model.features(d0, d1, active)
        inside = (uses.day >= lo) & (uses.day <= hi)
        summary.used[uses.feature[inside], uses.member[inside]] = True
        summary.events += len(uses)
        if on_week is not None:
            on_week(d0 // 7, model.table(d0, d1, active, minutes), uses.table(model))
    return agg, summary
