"""The checks ``wecom-eval check`` prints and ``wecom-eval run`` makes before any kernel starts.

One pass over what a run depends on: the rollout plan, the report parameter files in force
(the repository's ``params/`` overlaid file by file by the home's own, see
:mod:`wecom_eval.home`), the mapping files, and — when a warehouse exists — the plan against
the loaded data (every pilot department the plan names exists). Each line says which file a
setting came from; every problem is collected, so one run of ``check`` lists them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import REPO_PARAMS, Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.store.facts import WarehouseFacts, read_facts


@dataclass
class CheckResult:
    """What the checks found: lines to print, problems (exit 2 when any) and the plan read."""

    lines: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    plan: RolloutPlan | None = None
    facts: WarehouseFacts | None = None  # what the data checks read (None when they were not made)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise InputError("plan, parameters and data", self.problems)


def origin(path: Path) -> str:
    """``home`` or ``repository``: which parameter folder a file belongs to."""
    return "repository" if path.resolve().is_relative_to(REPO_PARAMS.resolve()) else "home"


def check(
    home: Home,
    *,
    plan_path: str | Path | None = None,
    params_files: Sequence[str | Path] | None = None,
    reports: Sequence[str] | None = None,
    data: bool = True,
) -> CheckResult:
    """Check the plan, parameter files (``params_files``, else those of ``reports``, else all) and data.

    Returns a :class:`CheckResult`; nothing raises for a problem the user can fix (a bad
    plan, a bad parameter, a pilot that is not a loaded department) — each is a ``Problem``.
    """
    from wecom_eval.reporting import registry
    from wecom_eval.reporting.params import load_params, read_params_file

    out = CheckResult()
    try:
        known = registry.names(home)
    except InputError as exc:  # a bad params/reports.yaml: said like every other problem
        out.problems += exc.problems
        known = [spec.name for spec in registry.BUILT_IN]
    path = Path(plan_path) if plan_path is not None else home.plan
    try:
        out.plan = plan = load_plan(path)
    except InputError as exc:
        out.problems += [Problem(f"{path}: {p.where}", p.value, p.expected, p.fix) for p in exc.problems]
        plan = None
    if plan is not None:
        out.lines.append(
            f"{path} ({origin(path)}): plan OK — starts {plan.start_date}, {len(plan.phases)} phases, "
            f"ends {plan.end_date}, pilots {', '.join(map(str, plan.departments.pilot))}"
        )

    if params_files is not None:
        files = [Path(f) for f in params_files]
    else:
        files = [home.param_file(f"{r}.yaml") for r in (reports or known)]
        files = [f for f in files if f.exists()]
    for file in files:
        if file.stem not in known:
            out.problems.append(
                Problem(str(file), file.name, f"a file named <report>.yaml, report one of {', '.join(known)}")
            )
            continue
        try:
            given = read_params_file(file)
            as_of = None if "as_of" in given else dt.date.today()  # scheduled files leave as_of to the run
            load_params(file.stem, path=file, overrides={"as_of": as_of})
        except InputError as exc:
            out.problems += [Problem(f"{file}: {p.where}", p.value, p.expected, p.fix) for p in exc.problems]
            continue
        out.lines.append(f"{file} ({origin(file)}): parameters OK — {', '.join(given) or 'the defaults'}")
    for mapping in home.param_files("mappings"):
        out.lines.append(f"{mapping} ({origin(mapping)}): mapping file")

    if data and home.warehouse.exists():
        # DuckDB alone (no pandas): `run` reaches its worker sooner, and reuses these facts for --as-of
        out.facts = facts = read_facts(home.warehouse)
        if facts.counts.get("departments") and plan is not None:
            try:
                plan.resolve_pilots(facts.departments)
            except InputError as exc:
                out.problems += [Problem(f"{path}: {p.where}", p.value, p.expected, p.fix) for p in exc.problems]
        loaded = ", ".join(f"{name} {n:,}" for name, n in facts.counts.items() if n)
        out.lines.append(f"{home.warehouse}: {loaded or 'empty'}")
    return out
