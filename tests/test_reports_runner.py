"""The runner: validate first, execute with papermill, publish, fail loudly, keep the evidence.

These tests run small fixture notebooks (tests/fixtures/notebooks/) through the real
runner: a worker process, the project's kernel, papermill and nbconvert.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import openpyxl
import pytest

from wecom_eval import cli
from wecom_eval.errors import InputError, NotebookError
from wecom_eval.home import Home
from wecom_eval.reporting import runner, workers
from wecom_eval.reporting.index import INDEX
from wecom_eval.reporting.jobs import JOBS_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
SECRET = "wecom-secret-value-8f3a2c91"
SALT = "pseudonymisation-salt-5b7e0d44"


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory):
    """One run of the minimal weekly fixture, with a corp secret and a salt in the environment."""
    with pytest.MonkeyPatch.context() as mp:
        home = Home.from_env(tmp_path_factory.mktemp("home"))
        mp.setenv("WECOM_EVAL_HOME", str(home.root))
        mp.setenv("WECOM_SECRET_TEST", SECRET)
        mp.setenv("WECOM_EVAL_SALT", SALT)
        yield runner.run_report(
            "weekly", as_of="2026-05-25", home=home, notebooks=FIXTURES / "minimal", cell_timeout=120
        )


def test_a_run_publishes_every_output(minimal_run):
    home = Home.from_env(minimal_run.folder.parents[2])
    folder = home.reports / "weekly" / "2026-05-25"
    assert minimal_run.ok and minimal_run.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "kpis.json",
        "manifest.json",
        "report.html",
        "tables.xlsx",
        "weekly.ipynb",
    ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "succeeded" and manifest["kernel"] == "wecom-eval"
    assert manifest["parameters"]["as_of"] == "2026-05-25"
    assert manifest["versions"]["papermill"] and manifest["duration_seconds"] > 0
    assert manifest["started"].endswith("+08:00")  # the plan's time zone (Asia/Shanghai), not the machine's
    assert [t["name"] for t in manifest["tables"]] == ["targets", "registration_by_department"]
    kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["targets"]["daily_active"]["verdict"] == "met"
    assert kpis["kpis"][0]["group"] == "总部/销售部"
    wb = openpyxl.load_workbook(folder / "tables.xlsx")
    assert wb.sheetnames == ["目录", "五项目标", "各部门注册率"]  # named in the report's language
    assert (home.reports / INDEX).exists()
    assert "weekly/2026-05-25/report.html" in (home.reports / INDEX).read_text(encoding="utf-8")


def test_the_html_has_no_code_and_reads_in_one_language(minimal_run):
    html = (minimal_run.folder / "report.html").read_text(encoding="utf-8")
    assert "open_report" not in html and "import pandas" not in html  # no code
    assert "hl-ipython3" not in html and 'class="jp-InputArea-editor' not in html  # no highlighted code
    assert 'class="jp-InputPrompt' not in html and "In&nbsp;[" not in html  # no prompts
    assert "<script" not in html  # self-contained, nothing loaded from elsewhere
    assert "data:image/png;base64," in html  # the figure is embedded
    assert "## Departments" not in html and "Departments</h2>" not in html  # English cells left out
    assert "部门" in html and "指标定义" in html and "数据范围" in html
    assert "a warning nobody should see" not in html  # stderr is not part of the report


def test_privacy_floor_applies_to_shown_tables(minimal_run):
    wb = openpyxl.load_workbook(minimal_run.folder / "tables.xlsx")
    ws = wb["各部门注册率"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["总部/法务部"] == ("—", "—", "—")  # three people: hidden
    assert rows["总部/销售部"][0] == 120


def test_no_secret_reaches_any_output(minimal_run):
    for path in minimal_run.folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and SALT.encode() not in data, path


def test_a_failing_notebook_exits_4_and_keeps_its_executed_copy(home, capsys, monkeypatch):
    monkeypatch.setenv("WECOM_EVAL_NOTEBOOKS", str(FIXTURES / "failing"))
    code = cli.main(["run", "weekly", "--as-of", "2026-05-25", "--cell-timeout", "120"])
    assert code == 4
    executed = home.reports / "weekly" / "2026-05-25" / "weekly.ipynb"
    err = capsys.readouterr().err
    assert str(executed) in err and "this report fails on purpose" in err
    nb = nbformat.read(executed, as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors and errors[0]["evalue"] == "this report fails on purpose"
    manifest = json.loads((executed.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and "RuntimeError" in manifest["error"]
    assert not (executed.parent / "report.html").exists()
    assert (executed.parent / "kernel.log").exists()  # the kernel's stderr, kept for a failed run
    assert "failed" in (home.reports / INDEX).read_text(encoding="utf-8")


def test_bad_parameters_exit_2_before_any_kernel_starts(home, monkeypatch, capsys, tmp_path):
    def explode(*_args, **_kwargs):
        raise AssertionError("no kernel may start when parameters are bad")

    monkeypatch.setattr(runner, "ensure_kernel", explode)
    monkeypatch.setattr(runner, "_run_worker", explode)
    bad = tmp_path / "weekly.yaml"
    bad.write_text("language: fr\nweeks_shown: many\nsecret: x\n", encoding="utf-8")
    code = cli.main(["run", "weekly", "--as-of", "2026-05-25", "--params", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    for text in ("language: got 'fr'", "'zh', 'en'", "weeks_shown", "secret"):
        assert text in err
    assert cli.main(["run", "weekly", "--as-of", "25/05/2026"]) == 2
    assert cli.main(["run", "weekly"]) == 2  # no --as-of
    assert cli.main(["run", "daily", "--as-of", "2026-05-25"]) == 2
    assert cli.main(["run", "--all", "--language", "fr"]) == 2  # argparse's own check
    with pytest.raises(InputError):
        runner.run_all(home, as_of="2026-05-25", overrides={"n_boot": 1})
    assert not home.reports.exists()


def test_a_secret_printed_by_a_notebook_fails_the_run_and_is_deleted(home, monkeypatch):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    monkeypatch.setenv("WECOM_SECRET_TEST", SECRET)
    with pytest.raises(NotebookError, match="secret") as info:
        runner.run_report("weekly", as_of="2026-05-25", home=home, notebooks=FIXTURES / "leaky", cell_timeout=120)
    folder = home.reports / "weekly" / "2026-05-25"
    assert "weekly.ipynb" in str(info.value)
    for path in folder.rglob("*"):
        if path.is_file():
            assert SALT.encode() not in path.read_bytes(), path
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "WECOM_EVAL_SALT" in manifest["error"] and SALT not in manifest["error"]
    # the corp secret never reached the kernel at all: it printed None
    assert not (folder / "weekly.ipynb").exists()


def test_phase_reviews_are_made_at_their_phase_end_in_run_all(home):
    import datetime as dt

    assert runner.review_as_of("launch-review", dt.date(2026, 5, 25), home) == dt.date(2026, 3, 16)
    assert runner.review_as_of("promotion-review", dt.date(2026, 3, 20), home) == dt.date(2026, 3, 20)
    assert runner.review_as_of("weekly", dt.date(2026, 5, 25), home) == dt.date(2026, 5, 25)


def test_a_cell_over_the_timeout_fails_the_run_and_keeps_the_notebook(home):
    with pytest.raises(NotebookError, match="timed out|Timeout") as info:
        runner.run_report("weekly", as_of="2026-05-25", home=home, notebooks=FIXTURES / "slow", cell_timeout=3)
    folder = home.reports / "weekly" / "2026-05-25"
    assert str(folder / "weekly.ipynb") in str(info.value)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["cell_timeout_seconds"] == 3


def test_abandoned_staging_and_job_folders_of_killed_runs_are_removed(home, tmp_path):
    import subprocess
    import sys

    gone = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    dead = [
        home.reports / "weekly" / f".2026-05-25.running-{gone}-abc",
        home.reports / "monthly" / f".2026-05-01.running-{gone}-abc",
        home.data / ".jobs" / f"{gone}-x1y2",
    ]
    alive = [
        home.reports / "weekly" / f".2026-05-25.running-{os.getpid()}-def",
        home.data / ".jobs" / f"{os.getpid()}-z3",
    ]
    for folder in dead + alive:
        folder.mkdir(parents=True)
    assert sorted(runner.remove_abandoned(home)) == sorted(dead)
    assert all(not f.exists() for f in dead) and all(f.exists() for f in alive)


@pytest.fixture
def early_workers(monkeypatch):
    """The early workers commands start (:class:`~wecom_eval.reporting.workers.EarlyWorker`)."""
    started: list[workers.EarlyWorker] = []
    original = workers.EarlyWorker.__init__

    def recording(self, env):
        original(self, env)
        started.append(self)

    monkeypatch.setattr(workers.EarlyWorker, "__init__", recording)
    return started


def test_one_report_runs_in_the_worker_started_before_the_checks(home, monkeypatch, early_workers):
    def no_fresh_worker(*_args, **_kwargs):
        raise AssertionError("the report must run in the worker started early")

    monkeypatch.setenv("WECOM_EVAL_NOTEBOOKS", str(FIXTURES / "minimal"))
    monkeypatch.setattr(runner.subprocess, "run", no_fresh_worker)
    assert cli.main(["run", "weekly", "--as-of", "2026-05-25", "--cell-timeout", "120"]) == 0
    (early,) = early_workers
    assert early._process.returncode == 0
    assert (home.reports / "weekly" / "2026-05-25" / "report.html").exists()


def test_a_run_whose_checks_fail_ends_its_early_worker_having_run_nothing(home, tmp_path, early_workers):
    bad = tmp_path / "weekly.yaml"
    bad.write_text("weeks_shown: many\n", encoding="utf-8")
    assert cli.main(["run", "weekly", "--as-of", "2026-05-25", "--params", str(bad)]) == 2
    (early,) = early_workers
    assert early._process.returncode == 0  # it ended when its input closed, not killed
    assert not home.reports.exists() and not (home.data / JOBS_DIR).exists()


def test_a_wecom_eval_folder_where_the_command_runs_is_not_what_its_workers_import(home, monkeypatch, tmp_path):
    other = tmp_path / "another-checkout" / "wecom_eval"  # e.g. run from inside another copy of the repository
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise ImportError('the wecom_eval of the working folder')\n", encoding="utf-8")
    monkeypatch.chdir(other.parent)
    monkeypatch.setenv("WECOM_EVAL_NOTEBOOKS", str(FIXTURES / "minimal"))
    assert cli.main(["run", "weekly", "--as-of", "2026-05-25", "--cell-timeout", "120"]) == 0
    warm = runner.run_all(
        home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=1, notebooks=FIXTURES / "minimal"
    )
    assert [r.ok for r in warm] == [True, True]  # a warm worker too
