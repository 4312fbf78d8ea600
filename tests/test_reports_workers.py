"""Warm workers: a command running more reports than at once forks each report's worker from a
warm one. The reports come out as they do from fresh workers, and a worker that crashes fails
its own report only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from wecom_eval.home import Home
from wecom_eval.reporting import runner
from wecom_eval.reporting.workers import WarmWorkers, run_environment

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


@pytest.fixture
def counted(monkeypatch):
    """The jobs warm workers ran, as (job file, exit code)."""
    ran: list[tuple[Path, int | None]] = []
    run = WarmWorkers.run

    def counting(self, job_path, result_path, log_path):
        code = run(self, job_path, result_path, log_path)
        ran.append((job_path, code))
        return code

    monkeypatch.setattr(WarmWorkers, "run", counting)
    return ran


def _outputs(home: Home, report: str, as_of: str = "2026-05-25") -> dict[str, object]:
    folder = home.reports / report / as_of
    return json.loads((folder / "kpis.json").read_text(encoding="utf-8"))


def test_reports_run_by_warm_workers_are_the_reports_fresh_workers_make(home, counted, tmp_path):
    warm = runner.run_all(
        home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=1, notebooks=FIXTURES / "minimal"
    )
    assert [r.ok for r in warm] == [True, True] and len(counted) == 2
    made = {r: _outputs(home, r) for r in ("weekly", "quarterly")}
    assert (home.reports / "quarterly" / "2026-05-25" / "deck.pptx").exists()
    shutil.rmtree(home.reports)
    fresh = runner.run_all(
        home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=2, notebooks=FIXTURES / "minimal"
    )
    assert [r.ok for r in fresh] == [True, True] and len(counted) == 2  # one report per slot: no warm worker
    for report, kpis in made.items():
        again = _outputs(home, report)
        assert {k: v for k, v in kpis.items() if k != "generated"} == {
            k: v for k, v in again.items() if k != "generated"
        }


def test_a_worker_that_crashes_fails_its_report_only(home, counted, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(FIXTURES / "minimal" / "quarterly.ipynb", notebooks)
    crashing = nbformat.read(FIXTURES / "minimal" / "weekly.ipynb", as_version=4)
    # the kernel kills the worker that runs it: the worker dies without writing its result
    crashing.cells.append(nbformat.v4.new_code_cell("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"))
    nbformat.write(crashing, notebooks / "weekly.ipynb")
    weekly, quarterly = runner.run_all(
        home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=1, notebooks=notebooks
    )
    assert not weekly.ok and "ended with code -9" in (weekly.error or "")
    assert quarterly.ok and (quarterly.folder / "report.html").exists()
    assert [code for _, code in counted] == [-9, 0]  # the same warm worker ran the next report


def test_a_report_whose_warm_worker_dies_runs_again_in_a_fresh_worker(home, counted, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(FIXTURES / "minimal" / "quarterly.ipynb", notebooks)
    killing = nbformat.read(FIXTURES / "minimal" / "weekly.ipynb", as_version=4)
    # the kernel kills the warm worker above its own worker (a fresh worker has none: it then runs on)
    killing.cells.append(
        nbformat.v4.new_code_cell(
            "import os, signal\n"
            "from pathlib import Path\n"
            'above = int(Path(f"/proc/{os.getppid()}/stat").read_text().split(") ", 1)[1].split()[1])\n'
            'if b"--serve" in Path(f"/proc/{above}/cmdline").read_bytes():\n'
            "    os.kill(above, signal.SIGKILL)"
        )
    )
    nbformat.write(killing, notebooks / "weekly.ipynb")
    weekly, quarterly = runner.run_all(
        home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=1, notebooks=notebooks
    )
    assert weekly.ok and quarterly.ok
    assert [code for _, code in counted] == [None, 0]  # a new warm worker ran the quarterly report


def test_one_warm_worker_runs_reports_side_by_side(home, counted, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    # each kernel notes the warm worker above its own worker, then waits until the other report got
    # as far: with one report at a time the first would wait in vain and fail
    barrier = nbformat.v4.new_code_cell(
        "import os, time\n"
        "from pathlib import Path\n"
        'above = Path(f"/proc/{os.getppid()}/stat").read_text().split(") ", 1)[1].split()[1]\n'
        'arrived = Path(os.environ["WECOM_EVAL_HOME"]) / "arrived"\n'
        "arrived.mkdir(exist_ok=True)\n"
        '(arrived / str(os.getpid())).write_text(above, encoding="utf-8")\n'
        "deadline = time.monotonic() + 60\n"
        "while len(list(arrived.iterdir())) < 2:\n"
        '    assert time.monotonic() < deadline, "the other report never ran beside this one"\n'
        "    time.sleep(0.05)"
    )
    for report in ("weekly", "quarterly"):
        nb = nbformat.read(FIXTURES / "minimal" / f"{report}.ipynb", as_version=4)
        nb.cells.append(barrier)
        nbformat.write(nb, notebooks / f"{report}.ipynb")
    env = run_environment(home, "WECOM_EVAL_SALT")
    with WarmWorkers(env, 2) as warm:
        results = runner.run_all(
            home, as_of="2026-05-25", reports=["weekly", "quarterly"], jobs=2, notebooks=notebooks, warm=warm
        )
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert [code for _, code in counted] == [0, 0]
    aboves = {p.read_text(encoding="utf-8") for p in (home.root / "arrived").iterdir()}
    assert len(aboves) == 1  # both workers were children of the one warm worker
