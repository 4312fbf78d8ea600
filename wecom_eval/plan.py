"""The rollout plan (``params/rollout.yaml``) as validated, typed objects.

Every report measures against one plan. It is checked before any work starts: unknown keys
are errors, dates are real dates, shares lie in [0, 1], deadlines fall after the start,
and every department it names exists (when the departments are known).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import SALT_ENV
from wecom_eval.yamlfile import read_mapping

Feature = Literal["approval", "docs", "customer", "attendance"]
CORE_FEATURES: tuple[Feature, ...] = ("approval", "docs", "customer", "attendance")
Share = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_Strict):
    name: str = Field(min_length=1)
    first_week: int = Field(ge=1)
    last_week: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.last_week < self.first_week:
            raise ValueError(
                f"phase {self.name!r} ends (week {self.last_week}) before it starts "
                f"(week {self.first_week}); set last_week >= first_week"
            )
        return self


class ShareTarget(_Strict):
    target: Share = Field(ge=0.0, le=1.0)
    deadline_day: int = Field(ge=1, description="days from start_date; day 1 is the start")


class ActiveTarget(ShareTarget):
    min_daily_minutes: int = Field(ge=0, le=24 * 60)


class PenetrationTarget(ShareTarget):
    features: list[Feature] = Field(min_length=1)
    window_days: int = Field(default=28, ge=1, le=366)


class SatisfactionTarget(_Strict):
    target: float = Field(gt=0)
    scale_max: int = Field(default=5, ge=2, le=10)

    @model_validator(mode="after")
    def _on_scale(self) -> SatisfactionTarget:
        if self.target > self.scale_max:
            raise ValueError(f"target {self.target} is above the scale's maximum {self.scale_max}")
        return self


class EfficiencyTarget(_Strict):
    target: Share = Field(ge=0.0, le=1.0, description="relative reduction of turnaround")
    process: str = "approval"


class Targets(_Strict):
    registration: ShareTarget
    daily_active: ActiveTarget
    feature_penetration: PenetrationTarget
    satisfaction: SatisfactionTarget
    pilot_efficiency: EfficiencyTarget


DepartmentRef = int | str


class Departments(_Strict):
    pilot: list[DepartmentRef] = Field(min_length=1)
    others_go_live_week: int = Field(default=3, ge=1)
    go_live_week_by_path: dict[str, int] = Field(default_factory=dict)

    @field_validator("go_live_week_by_path")
    @classmethod
    def _weeks_positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v < 1}
        if bad:
            raise ValueError(f"go-live weeks must be 1 or later, got {bad}")
        return value


class FeatureScope(_Strict):
    department_names: list[str] = Field(min_length=1)


class Points(_Strict):
    per_action: dict[str, int]
    weekly_cap: int = Field(ge=0)


class BestDepartment(_Strict):
    weights: dict[Literal["active_rate", "feature_penetration", "feedback"], float]

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or abs(sum(value.values()) - 1.0) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {value}")
        return value


class Privacy(_Strict):
    min_group_size: int = Field(default=5, ge=1)
    min_group_size_text: int = Field(default=10, ge=1)
    salt_env: str = Field(default=SALT_ENV, pattern=r"^[A-Z_][A-Z0-9_]*$")


class CalendarSettings(_Strict):
    country: Literal["CN"] = "CN"
    extra_days_off: list[dt.date] = Field(default_factory=list)


class RolloutPlan(_Strict):
    """The whole plan. Build it with :func:`load_plan`, which reports errors readably."""

    start_date: dt.date
    timezone: str = "Asia/Shanghai"
    phases: list[Phase] = Field(min_length=1)
    targets: Targets
    departments: Departments
    features: dict[Feature, FeatureScope] = Field(default_factory=dict)
    points: Points
    best_department: BestDepartment
    privacy: Privacy = Privacy()
    calendar: CalendarSettings = CalendarSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai") from exc
        return value

    @model_validator(mode="after")
    def _phases_contiguous(self) -> RolloutPlan:
        expected = 1
        for phase in self.phases:
            if phase.first_week != expected:
                raise ValueError(
                    f"phase {phase.name!r} starts in week {phase.first_week} but the previous "
                    f"phase ends in week {expected - 1}; phases must follow each other without gaps"
                )
            expected = phase.last_week + 1
        return self

    # ---- derived facts -------------------------------------------------------------
    @property
    def last_week(self) -> int:
        return self.phases[-1].last_week

    @property
    def end_date(self) -> dt.date:
        """The last day of the last phase."""
        return self.start_date + dt.timedelta(weeks=self.last_week) - dt.timedelta(days=1)

    def deadline(self, deadline_day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=deadline_day - 1)

    def week_start(self, week: int) -> dt.date:
        return self.start_date + dt.timedelta(weeks=week - 1)

    def phase(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise ValueError(f"no phase named {name!r}; the plan has {[p.name for p in self.phases]}")

    def eligible_names(self, feature: str) -> list[str] | None:
        """Department names a feature applies to, or None when it applies to everyone."""
        scope = self.features.get(feature)  # type: ignore[call-overload]
        return None if scope is None else list(scope.department_names)

    def go_live_week(self, path: str, department_id: int, *, is_pilot: bool) -> int:
        """The week a department goes live: week 1 for pilots, else the longest matching prefix."""
        if is_pilot:
            return 1
        best, best_len = self.departments.others_go_live_week, -1
        for prefix, week in self.departments.go_live_week_by_path.items():
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best_len:
                best, best_len = week, len(prefix)
        return best

    def resolve_pilots(self, departments: Iterable[tuple[int, str]]) -> set[int]:
        """Department ids of the pilot set, given (department_id, path) pairs.

        Raises :class:`InputError` naming each pilot reference that matches no department.
        """
        by_id = {int(i): p for i, p in departments}
        by_path = {p: i for i, p in by_id.items()}
        found: set[int] = set()
        problems = []
        for n, ref in enumerate(self.departments.pilot):
            if isinstance(ref, int) and ref in by_id:
                found.add(ref)
            elif isinstance(ref, str) and ref in by_path:
                found.add(by_path[ref])
            else:
                close = sorted(by_path, key=lambda p: _distance(str(ref), p))[:3]
                problems.append(
                    Problem(
                        where=f"departments.pilot[{n}]",
                        value=ref,
                        expected="a department path or id that exists",
                        fix=f"Closest paths: {', '.join(close) or 'none (no departments loaded)'}.",
                    )
                )
        if problems:
            raise InputError("rollout plan", problems)
        return found


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, for 'did you mean' hints."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


_FIXES = {
    "extra_forbidden": "Remove the key or check its spelling against params/rollout.yaml.",
    "missing": "Add the key; see params/rollout.yaml for an example.",
    "date_from_datetime_parsing": "Write dates as YYYY-MM-DD.",
    "date_parsing": "Write dates as YYYY-MM-DD.",
    "date_type": "Write dates as YYYY-MM-DD.",
    "less_than_equal": "Shares are fractions: write 0.6 for 60 %.",
    "greater_than_equal": "Use a value inside the allowed range.",
    "literal_error": "Use one of the allowed values.",
}


def _problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        expected = item["msg"].removeprefix("Value error, ")
        value = None if item["type"] == "missing" else item.get("input")
        problems.append(Problem(where=where, value=value, expected=expected, fix=_FIXES.get(item["type"], "")))
    return problems


def parse_plan(data: Mapping[str, Any], *, source: str = "rollout plan") -> RolloutPlan:
    """Validate a plan given as a mapping; raise :class:`InputError` listing every problem."""
    try:
        plan = RolloutPlan.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, _problems(exc)) from None
    problems = []
    for name in ("registration", "daily_active", "feature_penetration"):
        target: ShareTarget = getattr(plan.targets, name)
        if plan.deadline(target.deadline_day) <= plan.start_date:
            problems.append(
                Problem(
                    f"targets.{name}.deadline_day",
                    target.deadline_day,
                    "a deadline after the start date",
                    "Count days from start_date; day 30 is the end of the first month.",
                )
            )
    if problems:
        raise InputError(source, problems)
    return plan


def load_plan(path: str | Path) -> RolloutPlan:
    """Read and validate a rollout plan file."""
    data = read_mapping(path, what="rollout plan", fix_missing="Copy params/rollout.yaml and edit it.")
    return parse_plan(data, source=str(path))
