"""Typed parameters for each report, validated before papermill starts.

Each report of DESIGN §8 has one pydantic model here; the registry
(:mod:`wecom_eval.reporting.registry`) says which model a report takes. A parameter file
(``params/<report>.yaml``), the command line (``--as-of``) and the notebook's
``parameters`` cell all describe the same fields; the model is the single source of truth,
and :func:`parameters_cell` writes the notebook cell from it (a test keeps them equal).

Unknown keys, wrong types and bad choices are :class:`~wecom_eval.errors.InputError`
(exit 2) naming the parameter, the value and the allowed values. No parameter is ever a
secret: secrets come from the environment only.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wecom_eval.errors import InputError, Problem
from wecom_eval.yamlfile import read_mapping

Language = Literal["zh", "en"]


class ReportParams(BaseModel):
    """Parameters every report takes."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    as_of: Annotated[
        dt.date,
        Field(strict=False, description=("the day the report is made (YYYY-MM-DD); it uses data up to the day before")),
    ]
    language: Language = Field(default="zh", description="report language: zh (中文) or en")
    n_boot: int = Field(
        default=9999, ge=99, le=99_999, description="resampling draws for intervals (fewer is faster and coarser)"
    )
    seed: int = Field(default=0, ge=0, description="random seed for resampling")


class LaunchReviewParams(ReportParams):
    """End of the launch phase: org set-up, needs survey, pilots, and what the pilot can detect."""

    power_simulations: int = Field(
        default=400, ge=50, le=20_000, description="simulated rollouts for the power calculation"
    )
    assumed_gain: float = Field(
        default=0.30, gt=0.0, lt=1.0, description="efficiency gain the power calculation assumes"
    )


class WeeklyParams(ReportParams):
    """Every week: adoption KPIs by department and their trend, alerts, points, IT support."""

    weeks_shown: int = Field(default=12, ge=2, le=104, description="weeks of trend on the charts")


class MonthlyParams(ReportParams):
    """Every month: the best department, month-over-month changes, feature gaps."""

    top_departments: int = Field(default=10, ge=1, le=100, description="departments listed in the ranking")


class PromotionReviewParams(ReportParams):
    """End of the promotion phase: registration and activity against their deadlines."""

    lagging_departments: int = Field(default=10, ge=1, le=100, description="lagging departments listed")


class DeepeningReviewParams(ReportParams):
    """End of the deepening phase: all five targets, the pilot's efficiency, satisfaction."""

    inference: Literal["auto", "wild", "randomization", "randomization_sized", "cluster"] = Field(
        default="auto",
        description="inference for the pilot effect: auto, wild, randomization, randomization_sized or cluster",
    )


class QuarterlyParams(ReportParams):
    """Each quarter: survey results and the KPI summary, with a slide deck."""

    wave: str = Field(default="", max_length=40, description="survey wave to report (empty: the latest before as_of)")
    deck: bool = Field(default=True, description="also write deck.pptx for the meeting")


_FIXES = {
    "extra_forbidden": "Remove it or check its spelling; docs/reports.md lists each report's parameters.",
    "missing": "Give it in the parameter file or on the command line (--as-of YYYY-MM-DD).",
    "literal_error": "Use one of the allowed values.",
    "date_from_datetime_parsing": "Write dates as YYYY-MM-DD.",
    "date_parsing": "Write dates as YYYY-MM-DD.",
    "date_type": "Write dates as YYYY-MM-DD.",
}


def report_model(report: str) -> type[ReportParams]:
    """The parameter model of ``report`` in the registry; :class:`InputError` names the reports that exist."""
    from wecom_eval.reporting import registry  # the registry imports the models above

    return registry.spec(report).params


def _allowed(model: type[ReportParams], name: str) -> str:
    """A sentence of what a field accepts, for error messages."""
    field = model.model_fields.get(name)
    if field is None:
        return f"one of the parameters {', '.join(model.model_fields)}"
    ann = field.annotation
    if get_origin(ann) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(ann))
    if ann is dt.date:
        return "a date YYYY-MM-DD"
    bounds = [
        f"{k} {getattr(m, k)}"
        for m in field.metadata
        for k in ("ge", "gt", "le", "lt")
        if getattr(m, k, None) is not None
    ]
    kind = getattr(ann, "__name__", str(ann))
    words = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}
    text = words.get(kind, kind)
    if bounds:
        text += (
            " ("
            + ", ".join(
                b.replace("ge ", "≥ ").replace("gt ", "> ").replace("le ", "≤ ").replace("lt ", "< ") for b in bounds
            )
            + ")"
        )
    return text


def validate_params(report: str, values: Mapping[str, Any], *, source: str = "parameters") -> ReportParams:
    """Check ``values`` against the model of ``report`` and return the typed parameters.

    Parameters
    ----------
    report
        A report of the registry (:mod:`wecom_eval.reporting.registry`).
    values
        Parameter names and values (from a YAML file, the command line or a notebook).
    source
        What the values came from, for the error message (a file path, say).

    Raises
    ------
    InputError
        One problem per bad parameter: its name, the value given and the allowed values.

    Examples
    --------
    >>> validate_params("weekly", {"as_of": "2026-05-25"}).language
    'zh'
    >>> validate_params("weekly", {"as_of": "2026-05-25", "language": "fr"})
    Traceback (most recent call last):
    ...
    wecom_eval.errors.InputError: parameters for weekly (parameters): 1 problem(s), nothing was changed
      - language: got 'fr'; expected one of 'zh', 'en'. Use one of the allowed values.
    """
    model = report_model(report)
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            name = ".".join(str(p) for p in item["loc"]) or "(top level)"
            value = None if item["type"] == "missing" else item.get("input")
            expected = _allowed(model, name)
            if item["type"] not in ("extra_forbidden", "missing", "literal_error") and "date" not in expected:
                expected += f" — {item['msg'][0].lower()}{item['msg'][1:]}"
            problems.append(Problem(name, value, expected, _FIXES.get(item["type"], "")))
        raise InputError(f"parameters for {report} ({source})", problems) from None


def read_params_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML parameter file (an empty file is an empty mapping)."""
    return read_mapping(path, what="parameter file", fix_missing="See params/ for one file per report.", empty_ok=True)


def load_params(
    report: str, *, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ReportParams:
    """Parameters of ``report`` from an optional YAML file, with ``overrides`` on top.

    ``overrides`` whose value is None are ignored (an option not given on the command line).
    """
    values: dict[str, Any] = read_params_file(path) if path is not None else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return validate_params(report, values, source=str(path) if path is not None else "command line")


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "str"
    if annotation is dt.date:
        return "str"
    if isinstance(annotation, types.UnionType) or get_origin(annotation) is typing.Union:
        return " | ".join(_type_name(a) for a in get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def parameters_cell(report: str) -> str:
    """The source of the notebook's ``parameters`` cell, written from the model.

    One ``name: type = literal  # help`` line per parameter; ``as_of`` gets the demo date
    so that the notebook runs top to bottom in JupyterLab with no edits.
    """
    from wecom_eval.reporting import registry

    spec = registry.spec(report)
    lines = []
    for name, field in spec.params.model_fields.items():
        default = spec.sample_as_of.isoformat() if name == "as_of" else field.default
        literal = json.dumps(default, ensure_ascii=False) if isinstance(default, str) else repr(default)
        lines.append(f"{name}: {_type_name(field.annotation)} = {literal}  # {field.description}")
    return "\n".join(lines)


def secret_like_names() -> list[str]:
    """Parameter names that look like secrets (a test keeps this empty)."""
    from wecom_eval.reporting import registry

    marks = ("secret", "token", "password", "key", "salt", "webhook", "corp_id")
    specs = registry.reports().values()
    return [f"{s.name}.{n}" for s in specs for n in s.params.model_fields if any(k in n.lower() for k in marks)]


__all__ = [
    "DeepeningReviewParams",
    "LaunchReviewParams",
    "MonthlyParams",
    "PromotionReviewParams",
    "QuarterlyParams",
    "ReportParams",
    "WeeklyParams",
    "load_params",
    "parameters_cell",
    "read_params_file",
    "report_model",
    "validate_params",
]
