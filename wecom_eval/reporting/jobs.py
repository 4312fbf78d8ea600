"""What passes between the runner and its worker processes: a job, and how its run ended.

A :class:`Job` holds plain values (it travels as JSON to ``python -m wecom_eval.reporting.worker``);
a :class:`RunResult` comes back the same way. The folder names below are shared by the
runner, which cleans up after killed runs, and the worker, which creates them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wecom_eval.reporting.kernel import KERNEL_NAME

DEFAULT_CELL_TIMEOUT = 600.0  # seconds; a cell that takes longer fails the run
DEFAULT_JOBS = 2
KERNEL_START_TIMEOUT = 120
KERNEL_LOG = "kernel.log"  # the kernel's stderr; kept only when the run failed
PARENT_ENV = "WECOM_EVAL_RUNNER_PARENT"  # the pid of the command a worker must not outlive
JOBS_DIR = ".jobs"  # under data/: one folder per worker (its job and result), named <command pid>-…
KERNEL_DIR = ".kernel"  # under data/: the kernel's IPython folder and Jupyter runtime files
STAGING = ".running-"  # reports/<report>/.<as_of>.running-<worker pid>-…: a run being built
KERNEL_ARGS = ["--HistoryManager.enabled=False"]  # no IPython history database anywhere
RUN_DIR_ENV = "WECOM_EVAL_RUN_DIR"  # the kernel's run folder: where the notebook records what it shows
COLLECTED = ".collected"  # under the run folder: the recorded tables, figures and meta.json


@dataclass(frozen=True)
class RunResult:
    """How one report run ended and where its files are."""

    report: str
    as_of: dt.date
    status: str  # "succeeded" or "failed"
    folder: Path
    notebook: Path
    duration: float
    error: str | None = None
    outputs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def summary(self) -> str:
        if self.ok:
            return f"{self.report} {self.as_of}: succeeded in {self.duration:.1f} s → {self.folder / 'report.html'}"
        return (
            f"{self.report} {self.as_of}: FAILED after {self.duration:.1f} s — {self.error}\n"
            f"  executed notebook: {self.notebook}"
        )


@dataclass(frozen=True)
class Job:
    """Everything a worker process needs to run one report (plain, picklable values)."""

    report: str
    params: dict[str, Any]
    home: str
    notebook: str
    cell_timeout: float
    salt_env: str
    kernel: str = KERNEL_NAME
    minutes: int = 30
    window_days: int = 28
    extra_env: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"  # the plan's: every time a run writes is in it

    def now(self) -> dt.datetime:
        """Now, in the plan's time zone."""
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(self.timezone))

    plan: dict[str, str] = field(default_factory=dict)  # the plan file in force and its sha256


def result_to_json(result: RunResult) -> dict[str, Any]:
    """The result as JSON values (the worker writes it for the runner)."""
    return {
        "report": result.report,
        "as_of": result.as_of.isoformat(),
        "status": result.status,
        "folder": str(result.folder),
        "notebook": str(result.notebook),
        "duration": result.duration,
        "error": result.error,
        "outputs": list(result.outputs),
    }


def result_from_json(data: Mapping[str, Any]) -> RunResult:
    """A result read back from :func:`result_to_json`."""
    return RunResult(
        data["report"],
        dt.date.fromisoformat(data["as_of"]),
        data["status"],
        Path(data["folder"]),
        Path(data["notebook"]),
        float(data["duration"]),
        data["error"],
        tuple(data["outputs"]),
    )


__all__ = [
    "COLLECTED",
    "JOBS_DIR",
    "RUN_DIR_ENV",
    "KERNEL_DIR",
    "STAGING",
    "Job",
    "RunResult",
    "result_from_json",
    "result_to_json",
]
