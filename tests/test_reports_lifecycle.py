"""One writer per report, and nothing left behind: real ``wecom-eval run`` processes, a gated notebook.

The gated fixture (tests/fixtures/notebooks/gated/weekly.ipynb) appends its kernel's pid to
``started`` in the home once its report is open, then waits for the file ``gate``: the tests
synchronise on those files and on processes ending, never on time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from wecom_eval.home import Home
from wecom_eval.reporting import jobs, runner
from wecom_eval.reporting.index import INDEX

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
AS_OF = "2026-05-25"
WAIT = 120.0  # seconds any awaited condition may take on a loaded 2-core machine before the test fails


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[1].startswith("Z"))  # a zombie is gone


@pytest.fixture
def home(tmp_path, monkeypatch):
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("WECOM_EVAL_HOME", str(root))
    monkeypatch.setenv("WECOM_EVAL_SALT", "lifecycle-test-salt-0123456789")
    return Home.from_env()


def start_run(
    home: Home, notebooks: str = "gated", *, lock_timeout: float = 1.0, environ: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **(environ or {}),
        "WECOM_EVAL_NOTEBOOKS": str(FIXTURES / notebooks),
        "WECOM_EVAL_LOCK_TIMEOUT": str(lock_timeout),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "wecom_eval.cli", "run", "weekly", "--as-of", AS_OF, "--cell-timeout", "300"],
        env=env,
        cwd=home.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def started(home: Home) -> list[int]:
    """The pids of the kernels that reached the gate."""
    return [int(line.split()[0]) for line in _started_lines(home)]


def _started_lines(home: Home) -> list[str]:
    path = home.root / "started"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def staging_folders(home: Home) -> list[Path]:
    return sorted((home.reports / "weekly").glob(f".*{jobs.STAGING}*"))


def test_a_second_run_of_the_same_report_exits_5_while_the_first_publishes(home):
    first = start_run(home)
    wait_for(lambda: len(started(home)) == 1, "the first run's kernel to open its report")
    second = start_run(home, lock_timeout=1.0)
    _out, err = second.communicate(timeout=WAIT)
    assert second.returncode == 5, err
    assert "the lock of report weekly" in err and f"pid {first.pid}" in err
    assert len(started(home)) == 1  # the second run started no kernel
    (home.root / "gate").touch()
    _out, err = first.communicate(timeout=WAIT)
    assert first.returncode == 0, err
    manifest = json.loads((home.reports / "weekly" / AS_OF / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "succeeded"


def test_a_second_run_that_may_wait_publishes_after_the_first(home):
    first = start_run(home)
    wait_for(lambda: len(started(home)) == 1, "the first run's kernel to open its report")
    second = start_run(home, lock_timeout=WAIT)
    assert len(started(home)) == 1
    (home.root / "gate").touch()  # the first run finishes; only then does the second start its kernel
    assert first.wait(timeout=WAIT) == 0
    _out, err = second.communicate(timeout=WAIT)
    assert second.returncode == 0, err
    assert len(started(home)) == 2
    manifest = json.loads((home.reports / "weekly" / AS_OF / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "succeeded"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_run_leaves_no_process_that_publishes_and_nothing_the_next_run_trips_on(home, tmp_path):
    user_home = tmp_path / "user-home"  # nothing may be written there, nor in the system temp dir
    user_home.mkdir()
    environ = {"HOME": str(user_home), "MPLCONFIGDIR": str(tmp_path / "mpl-cache")}
    first = start_run(home, environ=environ)
    wait_for(lambda: len(started(home)) == 1 and len(staging_folders(home)) == 1, "the run to reach its gate")
    (staging,) = staging_folders(home)
    worker = runner._owner(staging, jobs.STAGING)
    kernel = started(home)[0]
    assert worker and alive(worker) and alive(kernel)
    # the kernel's connection file (as the kernel names it) is in the home, not the system temp dir
    connection = Path(_started_lines(home)[0].split(maxsplit=1)[1])
    assert connection.is_relative_to(home.data / jobs.KERNEL_DIR) and connection.exists(), connection
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=WAIT)
    # the worker dies with the command, the kernel with the worker
    wait_for(lambda: not alive(worker) and not alive(kernel), "the worker and its kernel to end")
    (home.root / "gate").touch()  # an orphan waiting here would now go on and publish
    assert not (home.reports / "weekly" / AS_OF).exists()
    assert staging.exists() and list((home.data / jobs.JOBS_DIR).iterdir())  # what the killed run left

    second = start_run(home, "minimal", environ=environ)
    _out, err = second.communicate(timeout=WAIT)
    assert second.returncode == 0, err
    assert not staging_folders(home) and not list((home.data / jobs.JOBS_DIR).iterdir())
    assert not connection.exists()
    manifest = json.loads((home.reports / "weekly" / AS_OF / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "succeeded"
    assert f"weekly/{AS_OF}/report.html" in (home.reports / INDEX).read_text(encoding="utf-8")
    # nothing outside the home: no IPython history or profile, no Jupyter runtime file
    assert not [p for p in user_home.rglob("*")], sorted(user_home.rglob("*"))
    assert not (home.data / jobs.KERNEL_DIR / "ipython" / "profile_default" / "history.sqlite").exists()
