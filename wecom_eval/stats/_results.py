"""Result dataclasses shared by the statistics modules.

Every result is a small frozen dataclass with scalar fields, a ``warnings`` list for
weak-data notes that do not stop the analysis, and ``to_frame()`` returning a tidy one-row
(or one-row-per-comparison) frame with stable snake_case columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

Verdict = Literal["met", "not_yet_shown", "missed"]


def _scalar_row(obj: Any) -> dict[str, Any]:
    """Collect the scalar fields of a result dataclass into one row (warnings joined)."""
    row: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name == "warnings":
            row["warnings"] = "; ".join(value)
        elif isinstance(value, (pd.DataFrame, pd.Series, np.ndarray, dict, list, tuple)):
            continue
        else:
            row[f.name] = value
    return row


@dataclass(frozen=True)
class _Result:
    """Base class: ``to_frame()`` gives one row with every scalar field."""

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame (scalar fields; warnings joined by ``; ``)."""
        return pd.DataFrame([_scalar_row(self)])


@dataclass(frozen=True)
class DidResult(_Result):
    """A difference-in-differences estimate with its inference.

    ``estimate`` is the coefficient on ``treated × post`` (on the log scale when
    ``transform="log"``). ``std_error`` is the standard error the method studentizes with
    (plain OLS for ``classical``, CR1 otherwise). ``ci_low``/``ci_high`` come from the
    chosen ``inference``; for ``wild`` and ``randomization`` they are found by inverting the
    test. ``relative_change = exp(estimate) - 1`` (and the same for the interval ends) when
    the outcome was logged, NaN otherwise. The ``cr1_*`` fields repeat the cluster-robust
    t (G - 1 degrees of freedom) beside the few-cluster method so it is never shown alone.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    inference: str
    n_obs: int
    n_clusters: int
    n_treated_clusters: int
    relative_change: float
    relative_ci_low: float
    relative_ci_high: float
    alpha: float
    outcome: str
    transform: str
    method: str
    n_draws: int
    enumerated: bool
    df: float
    cr1_std_error: float
    cr1_ci_low: float
    cr1_ci_high: float
    cr1_p_value: float
    warnings: list[str] = field(default_factory=list)
    #: The ``target_effect`` tested one-sidedly (NaN when none) and its p-value.
    target_effect: float = math.nan
    target_p_value: float = math.nan

    @property
    def efficiency_gain(self) -> float:
        """``-relative_change``: the share by which the outcome fell (DESIGN §6)."""
        return -self.relative_change if not math.isnan(self.relative_change) else math.nan


@dataclass(frozen=True)
class EventStudyResult(_Result):
    """Effects by weeks since go-live, the overall effect, and the pre-trend test.

    ``effects`` has one row per relative period (``event_time``; negative values are
    pre-periods from the pre-trend regression, 0 and up are effects after go-live).
    """

    effects: pd.DataFrame
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    relative_change: float
    relative_ci_low: float
    relative_ci_high: float
    pretrend_stat: float
    pretrend_df: int
    pretrend_p_value: float
    pretrend_rejects: bool
    pretrend_wild_p_value: float
    inference: str
    method: str
    alpha: float
    n_obs: int
    n_clusters: int
    n_treated_clusters: int
    outcome: str
    transform: str
    warnings: list[str] = field(default_factory=list)
    #: The CR1 F test's p-value (over-rejects with few clusters; shown beside the flag's).
    pretrend_f_p_value: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """Return ``effects``: one row per relative period, with the pre-trend flag beside."""
        out = self.effects.copy()
        out["pretrend_p_value"] = self.pretrend_p_value
        out["pretrend_rejects"] = self.pretrend_rejects
        return out


@dataclass(frozen=True)
class TwoSampleResult(_Result):
    """A comparison of ``comparison`` against ``baseline`` (ratio or shift, with interval)."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    measure: str
    method: str
    n_baseline: int
    n_comparison: int
    baseline: str
    comparison: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TargetResult(_Result):
    """A KPI against its target with the DESIGN §6 verdict.

    ``ci_low`` and ``ci_high`` are each a one-sided ``1 - alpha`` confidence bound (together
    a two-sided ``1 - 2 alpha`` interval, stated in ``confidence``): ``verdict`` is
    ``"met"`` when the bound on the claim side clears the target, ``"missed"`` when the
    bound on the other side is already on the wrong side of it, else ``"not_yet_shown"``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    confidence: float
    target: float
    alternative: str
    verdict: Verdict
    method: str
    n: int
    boot_ci_low: float = math.nan
    boot_ci_high: float = math.nan
    exact_p_value: float = math.nan
    warnings: list[str] = field(default_factory=list)
    #: With clusters: how many, and the design effect (clustered over simple-random variance).
    n_clusters: int = 0
    design_effect: float = math.nan


@dataclass(frozen=True)
class AlphaResult(_Result):
    """Cronbach's alpha with Feldt's F-based interval."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    n: int
    k: int
    null: float
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProportionResult(_Result):
    """A share (such as top-2-box) with its interval."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    successes: int
    n: int
    method: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WaveComparison(_Result):
    """One survey item compared between two waves: mean difference and top-2-box difference."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    mean_baseline: float
    mean_comparison: float
    top2_baseline: float
    top2_comparison: float
    top2_difference: float
    top2_ci_low: float
    top2_ci_high: float
    top2_p_value: float
    n_baseline: int
    n_comparison: int
    baseline: str
    comparison: str
    item: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MultipleTestResult(_Result):
    """Adjusted p-values for a family of tests."""

    labels: list[str]
    p_values: np.ndarray
    p_adjusted: np.ndarray
    reject: np.ndarray
    alpha: float
    method: str
    warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per test: ``label, p_value, p_adjusted, reject, method``."""
        return pd.DataFrame(
            {
                "label": self.labels,
                "p_value": self.p_values,
                "p_adjusted": self.p_adjusted,
                "reject": self.reject,
                "method": self.method,
            }
        )


@dataclass(frozen=True)
class PowerResult(_Result):
    """Simulated power of the planned pilot evaluation and its minimum detectable effect.

    ``estimate`` is the power at ``effect`` with a Monte-Carlo (Wilson) interval in
    ``ci_low``/``ci_high``; ``mde`` is the smallest relative reduction detected with
    probability ``target_power``. ``curve`` holds power by effect size.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    effect: float
    mde: float
    target_power: float
    n_sim: int
    inference: str
    n_departments: int
    n_treated: int
    curve: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    #: Probability that the verdict says "met" by true gain (see :func:`did_power`).
    met: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The shock model simulated: AR(1) lag-1 correlation and standard deviation.
    rho: float = 0.0
    sigma_shock: float = math.nan


@dataclass(frozen=True)
class VarianceComponents(_Result):
    """Standard deviations of the (log) outcome between departments, department-weeks and items."""

    sigma_department: float
    sigma_department_week: float
    sigma_within: float
    mean: float
    n_departments: int
    n_weeks: int
    n_obs: int
    warnings: list[str] = field(default_factory=list)
    #: Department-week shocks as a stationary AR(1): standard deviation and lag-1 correlation
    #: (from the semivariogram; ``rho = 0`` means independent from week to week).
    sigma_ar: float = math.nan
    rho: float = 0.0
    #: Measured semivariogram of the department-week shocks at lags 1, 2, ... weeks.
    semivariogram: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ConfidenceSequenceResult(_Result):
    """An always-valid confidence sequence read at each look.

    ``looks`` has one row per look (``look, n, successes, estimate, cs_low, cs_high`` and,
    with a target, ``verdict``). The top-level ``estimate``/``ci_low``/``ci_high`` are those
    of the last look.
    """

    looks: pd.DataFrame
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    method: str
    warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Return ``looks``: one row per look."""
        return self.looks.copy()
