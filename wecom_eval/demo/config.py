"""The demo organisation's parameters: size, window, shares and the true effects it plants."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_BRANCHES: tuple[str, ...] = ("华东分公司", "华南分公司", "西南分公司", "华北分公司")


class DemoConfig(BaseModel):
    """Everything that shapes a demo organisation. Same config (and plan) → same data.

    The data window is ``baseline_weeks`` before the plan's ``start_date`` (day 1 of the
    rollout) plus ``rollout_weeks`` from it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 20260302
    employees: int = Field(
        default=1200, ge=100, le=2_000_000, description="roster size (everyone employed at some time in the window)"
    )
    baseline_weeks: int = Field(default=8, ge=0, le=104)
    rollout_weeks: int = Field(default=12, ge=1, le=104)

    # ---- structure ---------------------------------------------------------------
    company_name: str = "示例集团"
    branches: tuple[str, ...] = Field(default=DEFAULT_BRANCHES, description="level-1 units beside 总部 (headquarters)")
    no_minutes_branch: str | None = Field(
        default="西南分公司",
        description="a branch whose activity source has no minutes of use (engaged rate: not measured)",
    )
    small_department_size: int = Field(
        default=3, ge=1, description="size of the one department kept under the privacy floor"
    )

    # ---- roster and registration -------------------------------------------------
    joiner_share: float = Field(default=0.06, ge=0, le=0.5, description="share of the roster hired in the window")
    leaver_share: float = Field(default=0.05, ge=0, le=0.5, description="share of the roster leaving in the window")
    straggler_share: float = Field(default=0.02, ge=0, le=0.5, description="share of members who never register")
    early_adopter_share: float = Field(
        default=0.04, ge=0, le=1, description="non-pilot members who register before their go-live"
    )
    disabled_share: float = Field(default=0.003, ge=0, le=0.1)
    registration_pace: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="multiplies every department's registration delay after go-live "
        "(2 = twice as slow; varied by the forecast calibration)",
    )

    # ---- feature events ----------------------------------------------------------
    feature_grain: Literal["auto", "day", "week"] = Field(
        default="auto",
        description="one feature_events row per user × feature × day used, or × week used "
        "(auto: day up to 20 million member-days, else week)",
    )

    # ---- approvals: the planted effects ------------------------------------------
    approvals_per_working_day: float = Field(
        default=0.08, gt=0, le=5, description="approvals filed per employee per working day"
    )
    legacy_median_hours: float = Field(default=48.0, gt=0, description="median turnaround in the legacy system")
    turnaround_sigma: float = Field(default=0.8, gt=0, le=3, description="sd of log turnaround within a department")
    department_sigma: float = Field(default=0.25, ge=0, le=2, description="sd of department effects on log turnaround")
    pilot_effect: float = Field(
        default=0.55, gt=0, le=2, description="turnaround factor at go-live in pilot departments (0.55 = −45 %)"
    )
    other_effect: float = Field(
        default=0.85, gt=0, le=2, description="turnaround factor at go-live in the other departments"
    )
    drift_per_28_days: float = Field(
        default=0.98, gt=0, le=2, description="company-wide turnaround factor per 28 days (a slow drift)"
    )

    # ---- surveys ---------------------------------------------------------------
    survey_weeks: tuple[int, ...] = Field(
        default=(4, 12), description="satisfaction waves close at the end of these rollout weeks"
    )
    response_rate: float = Field(default=0.65, gt=0, le=1)
    item_nonresponse: float = Field(default=0.03, ge=0, lt=1)

    @model_validator(mode="after")
    def _coherent(self) -> DemoConfig:
        if self.no_minutes_branch is not None and self.no_minutes_branch not in self.branches:
            raise ValueError(
                f"no_minutes_branch {self.no_minutes_branch!r} is not one of the branches "
                f"{list(self.branches)}; name a branch or set it to null"
            )
        if len(set(self.branches)) != len(self.branches) or "总部" in self.branches:
            raise ValueError("branches must be distinct and must not include 总部 (headquarters is always there)")
        return self

    @property
    def window_weeks(self) -> int:
        return self.baseline_weeks + self.rollout_weeks
