"""The report registry: one place that says which reports exist, and a report added there alone.

The end-to-end test adds a report to a home in a temporary folder — a registry entry in
``params/reports.yaml``, a notebook and a parameter file, nothing in the package — runs it
through the real runner (worker process, kernel, papermill, publishing) and finds it in
the index, the schedule, ``wecom-eval check`` and ``wecom-eval run --help``'s errors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest

from wecom_eval.checks import check
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.plan import load_plan
from wecom_eval.reporting import registry, runner
from wecom_eval.reporting.index import INDEX
from wecom_eval.reporting.params import WeeklyParams, parameters_cell, validate_params
from wecom_eval.reporting.periods import report_period
from wecom_eval.reporting.schedule import due_reports, schedule
from wecom_eval.workcal import WorkCalendar

REPO = Path(__file__).resolve().parents[1]
MINIMAL = REPO / "tests" / "fixtures" / "notebooks" / "minimal" / "weekly.ipynb"
ENTRY = """\
reports:
  pilot-check:
    notebook: notebooks/pilot-check.ipynb
    params: weekly
    period: month
    due: month-start
    title: {zh: 试点检查, en: Pilot check}
    sample_as_of: 2026-05-25
"""


def _home(tmp_path: Path, registry_text: str = ENTRY) -> Home:
    home = Home.from_env(tmp_path / "home")
    home.own_params.mkdir(parents=True)
    (home.own_params / registry.REGISTRY_FILE).write_text(registry_text, encoding="utf-8")
    return home


@pytest.fixture()
def added(tmp_path, monkeypatch):
    """A home whose registry adds ``pilot-check``, with its notebook and parameter file."""
    home = _home(tmp_path)
    monkeypatch.setenv("WECOM_EVAL_HOME", str(home.root))
    nb = nbformat.read(MINIMAL, as_version=4)
    nb.cells[0].source = "# Pilot check\nA report added through the registry alone."
    nb.cells[1].source = parameters_cell("pilot-check")
    nb.cells[2].source = nb.cells[2].source.replace('open_report("weekly"', 'open_report("pilot-check"')
    assert 'open_report("pilot-check"' in nb.cells[2].source
    (home.root / "notebooks").mkdir()
    nbformat.write(nb, home.root / "notebooks" / "pilot-check.ipynb")
    (home.own_params / "pilot-check.yaml").write_text("language: en\nweeks_shown: 6\n", encoding="utf-8")
    return home


def test_the_built_in_reports_in_the_order_of_design_8():
    assert [s.name for s in registry.BUILT_IN] == [
        "launch-review",
        "weekly",
        "monthly",
        "promotion-review",
        "deepening-review",
        "quarterly",
    ]
    assert registry.phase_reviews() == {
        "launch": "launch-review",
        "promotion": "promotion-review",
        "deepening": "deepening-review",
    }
    assert registry.spec("weekly").title("en") == "Weekly report"  # from strings.yaml


def test_a_report_added_through_the_registry_alone_runs_and_is_found_everywhere(added):
    home = added
    spec = registry.spec("pilot-check")
    assert spec.params is WeeklyParams and spec.notebook == str(home.root / "notebooks" / "pilot-check.ipynb")
    assert registry.names()[-1] == "pilot-check"  # after the built-in six

    # wecom-eval check reads its parameter file like any other report's
    result = check(home, reports=["pilot-check"], data=False)
    assert not result.problems and any("pilot-check.yaml" in line for line in result.lines)

    # the real runner: its own parameter file, its notebook, the worker, the kernel, publishing
    run = runner.run_report("pilot-check", as_of="2026-05-25", home=home, cell_timeout=120)
    assert run.ok and run.folder == home.reports / "pilot-check" / "2026-05-25"
    kpis = json.loads((run.folder / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["report"] == "pilot-check" and kpis["language"] == "en"
    assert kpis["period"]["start"] == "2026-04-01" and kpis["period"]["end"] == "2026-04-30"  # period: month
    manifest = json.loads((run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["weeks_shown"] == 6  # from params/pilot-check.yaml
    assert "Pilot check" in (run.folder / "report.html").read_text(encoding="utf-8")
    index = (home.reports / INDEX).read_text(encoding="utf-8")
    assert "pilot-check/2026-05-25/report.html" in index and "试点检查" in index

    # the schedule makes it due when its rule says: with the monthly report
    plan = load_plan(home.plan)
    calendar = WorkCalendar(plan)
    due = schedule(plan, calendar, plan.start_date, plan.start_date + dt.timedelta(weeks=13))
    days = {d.as_of for d in due if d.report == "pilot-check"}
    assert days and days == {d.as_of for d in due if d.report == "monthly"}
    assert "pilot-check" in [d.report for d in due_reports(plan, calendar, min(days))]


def test_a_home_without_a_registry_file_has_the_built_in_reports_only(tmp_path):
    home = Home.from_env(tmp_path / "plain")
    assert registry.names(home) == [s.name for s in registry.BUILT_IN]
    with pytest.raises(InputError) as info:
        registry.spec("pilot-check", home)
    assert "weekly" in info.value.problems[0].expected and "reports.yaml" in info.value.problems[0].fix


def test_the_parameters_and_period_of_an_added_report_come_from_its_entry(added):
    params = validate_params("pilot-check", {"as_of": "2026-05-25"})
    assert isinstance(params, WeeklyParams)
    plan = load_plan(added.plan)
    assert report_period("pilot-check", plan, dt.date(2026, 5, 25)) == report_period(
        "monthly", plan, dt.date(2026, 5, 25)
    )


@pytest.mark.parametrize(
    ("entry", "where", "expected"),
    [
        ("period: fortnight", "reports.pilot-check.period", "week, month, phase, quarter"),
        ("due: sometimes", "reports.pilot-check.due", "week-start, month-start"),
        ("params: daily", "reports.pilot-check.params", "module:Class"),
        ("params: wecom_eval.plan:RolloutPlan", "reports.pilot-check.params", "ReportParams subclass"),
        ("sample_as_of: soon", "reports.pilot-check.sample_as_of", "YYYY-MM-DD"),
        ("title: Pilot check", "reports.pilot-check.title", "{zh: …, en: …}"),
        ("colour: blue", "reports.pilot-check.colour", "one of"),
        ("read_once: maybe", "reports.pilot-check.read_once", "true or false"),
        ("period: phase", "reports.pilot-check.phase", "a phase"),
    ],
)
def test_a_bad_registry_entry_is_refused_naming_the_file_the_key_and_the_fix(tmp_path, entry, where, expected):
    key = entry.split(":")[0]
    lines = [line for line in ENTRY.splitlines() if not line.strip().startswith(f"{key}:")]
    home = _home(tmp_path, "\n".join([*lines, f"    {entry}", ""]))
    with pytest.raises(InputError) as info:
        registry.reports(home)
    problems = {p.where: p for p in info.value.problems}
    hit = [p for w, p in problems.items() if w.endswith(where)]
    assert hit and expected in hit[0].expected + hit[0].fix, problems
    assert str(home.own_params / registry.REGISTRY_FILE) in next(iter(problems))


@pytest.mark.parametrize("name", ["weekly", "Pilot_Check", "../escape"])
def test_a_registry_entry_cannot_take_a_built_in_or_unsafe_name(tmp_path, name):
    home = _home(tmp_path, ENTRY.replace("pilot-check:", f"{json.dumps(name)}:"))
    with pytest.raises(InputError, match=re.escape(name)):
        registry.reports(home)


def test_only_the_deepening_review_is_read_once_and_only_the_monthly_is_about_a_month():
    built_in = registry.reports()
    assert [n for n, s in built_in.items() if s.read_once] == ["deepening-review"]
    assert [n for n, s in built_in.items() if s.period == "month"] == ["monthly"]
