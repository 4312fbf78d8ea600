"""Warm worker processes for a command that runs more reports than it runs at once.

A report's worker imports papermill, nbconvert, pandas and the publishing modules before
it can run anything: about a second of CPU, paid again by every report. When a command
runs more reports than it runs at once (``run --all``, the demo), each of its
``jobs`` slots instead keeps one warm worker (``python -m wecom_eval.reporting.worker
--serve``) that imports all that once, then forks a fresh child per report. The child is
the worker of that report, as a process of its own: its own kernel, the same environment
without secrets, its stdout and stderr in a log file whose tail names a crash, dying with
the warm worker, which dies with the command (the parent-death signal). A child that
crashes fails its report only; the warm worker runs the next one.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from wecom_eval.home import HOME_ENV, Home
from wecom_eval.reporting.jobs import KERNEL_DIR, PARENT_ENV

SERVE = "--serve"  # python -m wecom_eval.reporting.worker --serve: a warm worker
WARM_WORKERS = sys.platform.startswith("linux")  # a warm worker forks; elsewhere each report starts afresh


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
    """Up to ``size`` warm workers with one environment, lent to one report at a time."""

    def __init__(self, env: Mapping[str, str], size: int) -> None:
        self.env = dict(env)
        self.size = size
        self._idle: queue.Queue[subprocess.Popen[str]] = queue.Queue()
        self._started: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()

    def start(self) -> WarmWorkers:
        """Start every warm worker now (they import while the caller does other work)."""
        for _ in range(self.size - len(self._started)):
            self._idle.put(self._spawn())
        return self

    def __enter__(self) -> WarmWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _spawn(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "wecom_eval.reporting.worker", SERVE],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        with self._lock:
            self._started.append(process)
        return process

    def _borrow(self) -> subprocess.Popen[str]:
        with self._lock:
            room = len(self._started) < self.size
        if room and self._idle.empty():
            return self._spawn()
        return self._idle.get()

    def run(self, job_path: Path, result_path: Path, log_path: Path) -> int | None:
        """Run one job in a child of a warm worker; its exit code, or None when the warm worker died."""
        process = self._borrow()
        code = _ask(process, f"{job_path}\t{result_path}\t{log_path}\n")
        if code is None:  # the warm worker itself is gone: replace it for the next report
            with self._lock:
                self._started.remove(process)
            process.kill()
            process.wait()
        else:
            self._idle.put(process)
        return code

    def close(self) -> None:
        """End every warm worker (each exits when its input closes)."""
        with self._lock:
            started, self._started = self._started, []
        for process in started:
            if process.stdin is not None:
                process.stdin.close()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _ask(process: subprocess.Popen[str], line: str) -> int | None:
    stdin: IO[str] | None = process.stdin
    stdout: IO[str] | None = process.stdout
    if stdin is None or stdout is None:
        return None
    try:
        stdin.write(line)
        stdin.flush()
        reply = stdout.readline()
    except (BrokenPipeError, OSError):
        return None
    return int(reply) if reply.strip().lstrip("-").isdigit() else None


__all__ = ["SERVE", "WARM_WORKERS", "WarmWorkers", "run_environment"]
