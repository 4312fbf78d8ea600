"""The one list of reports: each report's name, notebook, parameters, period, due day and title.

Everything else that depends on which reports exist derives from :func:`reports`: the
parameter models (:mod:`.params`), the period a report describes (:mod:`.periods`), the
days it is due (:mod:`.schedule`), the runner, ``wecom-eval run`` and ``wecom-eval check``.

**Adding a report** takes a registry entry, a notebook and a parameter file. The six
reports of DESIGN §8 are entries in :data:`BUILT_IN`; a company adds its own, without
editing the package, in ``<home>/params/reports.yaml``::

    reports:
      pilot-check:
        notebook: notebooks/pilot-check.ipynb   # relative to the home
        params: weekly                          # a built-in report's model, or module:Class
        period: week                            # week, month, phase or quarter
        due: week-start                         # week-start, month-start, phase-end or quarter-end
        # phase: promotion                      # needed with period: phase or due: phase-end
        title: {zh: 试点检查, en: Pilot check}
        sample_as_of: 2026-05-25                # the day the notebook opens with in JupyterLab

The kernel of a run finds the same entries, because it reads the same home.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.reporting.params import (
    DeepeningReviewParams,
    LaunchReviewParams,
    MonthlyParams,
    PromotionReviewParams,
    QuarterlyParams,
    ReportParams,
    WeeklyParams,
)
from wecom_eval.yamlfile import read_mapping

PeriodRule = Literal["week", "month", "phase", "quarter"]
DueRule = Literal["week-start", "month-start", "phase-end", "quarter-end"]
REGISTRY_FILE = "reports.yaml"  # under <home>/params/: a company's own reports


@dataclass(frozen=True)
class ReportSpec:
    """One report: what a run needs to know about it besides its notebook's cells.

    ``period`` names how :func:`~wecom_eval.reporting.periods.report_period` cuts its days,
    ``due`` when :func:`~wecom_eval.reporting.schedule.due_reports` makes it due; both take
    ``phase`` when they are ``phase``/``phase-end``. ``notebook`` is a file name in the
    notebooks folder, or an absolute path. The title comes from ``title`` (language → text)
    when given, else from ``strings.yaml`` under ``reports.<strings_key>``. A ``read_once``
    report is read once, at the end of what it reviews: its efficiency verdict keeps the one-off
    level instead of spending alpha over the plan's weekly looks.
    """

    name: str
    params: type[ReportParams]
    period: PeriodRule
    due: DueRule
    sample_as_of: dt.date
    phase: str | None = None
    notebook: str = ""
    strings_key: str = ""
    title_text: Mapping[str, str] | None = None
    read_once: bool = False

    def __post_init__(self) -> None:
        if (self.period == "phase" or self.due == "phase-end") and not self.phase:
            raise ValueError(f"report {self.name}: a phase period or due rule needs a phase")
        if not self.notebook:
            object.__setattr__(self, "notebook", f"{self.name}.ipynb")
        if not self.strings_key:
            object.__setattr__(self, "strings_key", self.name)

    def title(self, language: str) -> str:
        """The report's title in ``language``."""
        if self.title_text is not None:
            return self.title_text.get(language) or next(iter(self.title_text.values()))
        from wecom_eval import text

        return text.lookup("reports", self.strings_key, language)

    def notebook_path(self, folder: Path) -> Path:
        """The notebook file: ``notebook`` under ``folder`` unless it is absolute."""
        return folder / self.notebook


# The day after the demo's 12 rollout weeks (the phase reviews: the day after their phase).
_DEMO_END = dt.date(2026, 5, 25)

BUILT_IN: tuple[ReportSpec, ...] = (
    ReportSpec("launch-review", LaunchReviewParams, "phase", "phase-end", dt.date(2026, 3, 16), phase="launch"),
    ReportSpec("weekly", WeeklyParams, "week", "week-start", _DEMO_END),
    ReportSpec("monthly", MonthlyParams, "month", "month-start", _DEMO_END),
    ReportSpec(
        "promotion-review", PromotionReviewParams, "phase", "phase-end", dt.date(2026, 4, 27), phase="promotion"
    ),
    ReportSpec(
        "deepening-review", DeepeningReviewParams, "phase", "phase-end", _DEMO_END, phase="deepening", read_once=True
    ),
    ReportSpec("quarterly", QuarterlyParams, "quarter", "quarter-end", _DEMO_END),
)
"""The reports of DESIGN §8, in its order."""


def reports(home: Home | None = None) -> dict[str, ReportSpec]:
    """Every report by name: the built-in ones, then the home's ``params/reports.yaml`` entries."""
    found = {spec.name: spec for spec in BUILT_IN}
    home = home or Home.from_env()
    path = home.own_params / REGISTRY_FILE
    if path.exists():
        for spec in _read_registry(path, home):
            found[spec.name] = spec
    return found


def names(home: Home | None = None) -> list[str]:
    """The names of every report, in registry order."""
    return list(reports(home))


def spec(report: str, home: Home | None = None) -> ReportSpec:
    """The spec of ``report``; :class:`InputError` (exit 2) names the reports that exist."""
    known = reports(home)
    try:
        return known[report]
    except KeyError:
        raise InputError(
            "report",
            [
                Problem(
                    "REPORT",
                    report,
                    f"one of {', '.join(known)}",
                    f"Name a report of the registry (built in, or params/{REGISTRY_FILE} under the home).",
                )
            ],
        ) from None


def title(report: str, language: str, home: Home | None = None) -> str:
    """The title of ``report`` in ``language``; a name the registry does not hold is shown as it is."""
    found = reports(home).get(report)
    if found is not None:
        return found.title(language)
    from wecom_eval import text

    return text.lookup("reports", report, language)


def phase_reviews(home: Home | None = None) -> dict[str, str]:
    """Phase name → the report that reviews it."""
    return {s.phase: s.name for s in reports(home).values() if s.phase and s.due == "phase-end"}


_MODELS = {s.name: s.params for s in BUILT_IN}
_KEYS = {"notebook", "params", "period", "due", "phase", "title", "sample_as_of", "read_once"}


def _model(value: Any, where: str) -> type[ReportParams]:
    """A parameter model named by a built-in report or ``module:Class``."""
    if isinstance(value, str) and value in _MODELS:
        return _MODELS[value]
    if isinstance(value, str) and ":" in value:
        module, _, attr = value.partition(":")
        try:
            model = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            model = None
        if isinstance(model, type) and issubclass(model, ReportParams):
            return model
    raise InputError(
        REGISTRY_FILE,
        [Problem(where, value, f"one of {', '.join(_MODELS)}, or module:Class of a ReportParams subclass")],
    )


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _read_registry(path: Path, home: Home) -> list[ReportSpec]:
    """The entries of a home's ``reports.yaml``; every problem in one :class:`InputError`."""
    entries = read_mapping(path, what="report registry", fix_missing="", empty_ok=True).get("reports") or {}
    out: list[ReportSpec] = []
    problems: list[Problem] = []
    for name, entry in dict(entries).items():
        found = _entry(name, entry, f"{path}: reports.{name}", home)
        if isinstance(found, ReportSpec):
            out.append(found)
        else:
            problems += found
    if problems:
        raise InputError(f"report registry {path}", problems)
    return out


def _entry(name: Any, entry: Any, where: str, home: Home) -> ReportSpec | list[Problem]:
    """One registry entry as a spec, or what is wrong with it."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name):
        return [Problem(where, name, "a name of a–z, 0–9 and -, starting with a letter")]
    if name in _MODELS:
        return [Problem(where, name, "a name no built-in report has", "Choose another name.")]
    if not isinstance(entry, Mapping):
        return [Problem(where, entry, "a mapping of notebook, params, period, due, title, sample_as_of")]
    problems = [
        Problem(f"{where}.{k}", entry[k], f"one of {', '.join(sorted(_KEYS))}") for k in entry if k not in _KEYS
    ]
    for key, allowed in (("period", PeriodRule), ("due", DueRule)):
        if entry.get(key) not in get_args(allowed):
            problems.append(Problem(f"{where}.{key}", entry.get(key), "one of " + ", ".join(get_args(allowed))))
    title = entry.get("title")
    if not (isinstance(title, Mapping) and title and all(isinstance(v, str) for v in title.values())):
        problems.append(Problem(f"{where}.title", title, "a mapping of language to title, e.g. {zh: …, en: …}"))
        title = {}
    read_once = entry.get("read_once", False)
    if not isinstance(read_once, bool):
        problems.append(Problem(f"{where}.read_once", read_once, "true or false"))
    sample = _date(entry.get("sample_as_of"))
    if sample is None:
        problems.append(Problem(f"{where}.sample_as_of", entry.get("sample_as_of"), "a date YYYY-MM-DD"))
    try:
        model = _model(entry.get("params"), f"{where}.params")
    except InputError as exc:
        problems += exc.problems
    if problems or sample is None:
        return problems
    notebook = Path(str(entry.get("notebook") or f"notebooks/{name}.ipynb")).expanduser()
    try:
        return ReportSpec(
            name,
            model,
            entry["period"],
            entry["due"],
            sample,
            phase=entry.get("phase"),
            notebook=str(notebook if notebook.is_absolute() else home.root / notebook),
            title_text={str(k): str(v) for k, v in title.items()},
            read_once=bool(read_once),
        )
    except ValueError as exc:
        return [Problem(f"{where}.phase", entry.get("phase"), "a phase of the plan", str(exc))]


__all__ = ["BUILT_IN", "DueRule", "PeriodRule", "ReportSpec", "names", "phase_reviews", "reports", "spec", "title"]
