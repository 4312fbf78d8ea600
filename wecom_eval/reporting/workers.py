"""A warm worker process for a command that runs more reports than it runs at once.

A report's worker imports papermill, nbconvert, pandas and the publishing modules before
it can run anything, and its kernel pandas, matplotlib, DuckDB and the report modules:
seconds of CPU, paid again by every report. When a command runs more reports than it runs
at once (``run --all``, the demo), it instead keeps one warm worker (``python -m
wecom_eval.reporting.worker --serve``) that imports all that once, then forks a fresh child
per report, up to ``jobs`` side by side; each child forks its kernel (:mod:`.kernel_fork`).
The child is the worker of that report, as a process of its own: its own kernel, the same
environment without secrets, its stdout and stderr in a log file whose tail names a crash,
dying with the warm worker, which dies with the command (the parent-death signal). A child
that crashes fails its report only; the warm worker runs the next one. A warm worker that
dies fails no report: the reports it was running run again in fresh workers, and the next
ones in a new warm worker.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wecom_eval.home import HOME_ENV, SALT_ENV, Home
from wecom_eval.reporting.jobs import KERNEL_DIR, PARENT_ENV

# A worker process: -P keeps the folder the command runs in off sys.path, so that a
# `wecom_eval` folder there (another checkout) is never imported in place of this one.
WORKER = (sys.executable, "-P", "-m", "wecom_eval.reporting.worker")
SERVE = "--serve"  # python -m wecom_eval.reporting.worker --serve: a warm worker
WAIT = "--wait"  # python -m wecom_eval.reporting.worker --wait: a worker started before its job is known
WARM_WORKERS = sys.platform.startswith("linux")  # a warm worker forks; elsewhere each report starts afresh


def _start(mode: str, env: Mapping[str, str], *, stderr: int) -> subprocess.Popen[str]:
    """A worker in ``mode`` (:data:`SERVE`, :data:`WAIT`), talking through its stdin and stdout."""
    return subprocess.Popen(
        [*WORKER, mode], env=dict(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
    )


def run_environment(home: Home, salt_env: str) -> dict[str, str]:
    """A worker's environment: this one without secrets but the salt (``salt_env``), and what keeps
    the worker and its kernel writing only under the home."""
    from wecom_eval.reporting.secrecy import kernel_environment

    kernel = home.data / KERNEL_DIR
    env = kernel_environment(keep=[salt_env])
    env.update(
        {
            HOME_ENV: str(home.root),
            "IPYTHONDIR": str(kernel / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(kernel / "runtime"),
            "TMPDIR": str(kernel / "tmp"),
            PARENT_ENV: str(os.getpid()),
        }
    )
    return env


class WarmWorkers:
    """One warm worker with one environment, running up to ``size`` reports at once.

    :meth:`run` may be called from several threads; each call waits for its own report.
    """

    def __init__(self, env: Mapping[str, str], size: int) -> None:
        self.env = dict(env)
        self.size = size
        self._process: subprocess.Popen[str] | None = None
        self._waiting: dict[str, tuple[threading.Event, list[int | None], subprocess.Popen[str]]] = {}
        self._ids = itertools.count()
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> WarmWorkers:
        """Start the warm worker now (it imports while the caller does other work)."""
        with self._lock:
            self._running()
        return self

    def __enter__(self) -> WarmWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _running(self) -> subprocess.Popen[str]:
        """The warm worker, started when there is none (first use, or the last one died). Lock held."""
        if self._process is None:
            self._process = _start(SERVE, self.env, stderr=subprocess.DEVNULL)
            reader = threading.Thread(target=self._read, args=(self._process,), name="warm-worker", daemon=True)
            reader.start()
            self._readers.append(reader)
        return self._process

    def run(self, job_path: Path, result_path: Path, log_path: Path) -> int | None:
        """Run one job in a child of the warm worker; its exit code, or None when the warm worker died."""
        done, code = threading.Event(), list[int | None]([None])
        with self._lock:
            process = self._running()
            job_id = str(next(self._ids))
            self._waiting[job_id] = (done, code, process)
            try:
                assert process.stdin is not None
                process.stdin.write(f"{job_id}\t{job_path}\t{result_path}\t{log_path}\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError):
                del self._waiting[job_id]
                return None  # its reader ends the dead worker's other jobs and clears it
        done.wait()
        return code[0]

    def _read(self, process: subprocess.Popen[str]) -> None:
        """Hand each answer of ``process`` to the job waiting for it; when it ends, end its jobs with None."""
        assert process.stdout is not None
        for line in process.stdout:
            job_id, _, code = line.rstrip("\n").partition("\t")
            with self._lock:
                waiting = self._waiting.pop(job_id, None)
            if waiting is not None and code.lstrip("-").isdigit():
                waiting[1][0] = int(code)
                waiting[0].set()
        with self._lock:  # the warm worker ended (closed, or died): its children died with it
            if self._process is process:
                self._process = None
            for job_id, (done, _code, owner) in list(self._waiting.items()):
                if owner is process:
                    del self._waiting[job_id]
                    done.set()
        process.wait()
        process.stdout.close()

    def close(self) -> None:
        """End the warm worker (it exits when its input closes and its reports have ended)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for reader in self._readers:
            reader.join(timeout=10)


class EarlyWorker:
    """A fresh worker started before its one report is known, to import while the command checks.

    A command that runs one report starts it first thing (``python -m
    wecom_eval.reporting.worker --wait``, with the environment of :func:`run_environment`):
    it forks its kernel's seed and imports papermill and nbconvert while the command checks
    the plan, parameters and data. :meth:`run` hands it the job; :meth:`close` ends it
    unused (a check failed: it has written nothing). Used once, as :class:`WarmWorkers` is
    for many reports.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._process = _start(WAIT, self.env, stderr=subprocess.STDOUT)
        self._used = False

    def __enter__(self) -> EarlyWorker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def run(self, job_path: Path, result_path: Path, log_path: Path) -> int | None:
        """Run the job; the worker's exit code (its output in ``log_path``), None once used."""
        if self._used:
            return None
        self._used = True
        output, _ = self._process.communicate(f"{job_path}\t{result_path}\n")
        log_path.write_text(output or "", encoding="utf-8")
        return self._process.returncode

    def close(self) -> None:
        """End the worker if it never got its job (it exits when its input closes)."""
        if self._process.poll() is None:
            try:
                self._process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.communicate()


def early_worker(home: Home) -> EarlyWorker:
    """A worker for the one report a command is about to run, started first thing, to import while
    the command checks. It keeps the default salt variable (:data:`~wecom_eval.home.SALT_ENV`):
    under a plan that names another, the report runs in a fresh worker instead."""
    return EarlyWorker(run_environment(home, SALT_ENV))


__all__ = ["SERVE", "WAIT", "WORKER", "WARM_WORKERS", "EarlyWorker", "WarmWorkers", "early_worker", "run_environment"]
