"""Run report notebooks with papermill and publish what they produce.

One run of one report (:func:`run_report`), or every report (:func:`run_all`):

1. **Validate first.** Parameters (file, command line) are checked against the report's
   model before anything starts; a bad one is an :class:`~wecom_eval.errors.InputError`
   (exit 2) and no kernel is started, no folder written.
2. **Execute** ``notebooks/<report>.ipynb`` with papermill on the project's named kernel
   (:mod:`.kernel`), with a per-cell timeout, in a worker process per report (:mod:`.worker`; two at a
   time by default: the machine has two cores; forked from one warm worker when a command runs
   more reports than that, :mod:`.workers`; on Linux each kernel is forked from its worker with
   its imports done, :mod:`.kernel_fork`). The kernel gets the environment without
   its secrets (:mod:`.secrecy`) plus ``$WECOM_EVAL_RUN_DIR``, the run's folder, where the
   notebook records its tables, figures and KPIs (:mod:`.collect`).
3. **Publish** into ``reports/<report>/<as_of>/``: ``report.html`` (:mod:`.export`),
   ``tables.xlsx`` (:mod:`.tables`), ``kpis.json`` (:mod:`.kpis_json`), ``deck.pptx`` for
   the quarterly report (:mod:`.deck`), ``manifest.json`` (:mod:`.manifest`) and the
   executed notebook ``<report>.ipynb``. Every file is then scanned for the values of
   secret variables; ``reports/index.html`` is rebuilt (:mod:`.index`).

**One writer per report.** A run holds the lock of each report it runs
(``data/report-<report>.lock``; a second run of the same report waits briefly, then exits 5)
and the warehouse lock. Each worker dies with the command that started it (Linux: the
parent-death signal; elsewhere a watchdog thread), and its kernel with the worker
(ipykernel's parent poller), so a killed ``wecom-eval run`` leaves no process that could
still publish; the staging folders and job folders such a run leaves behind are removed by
the next run. Nothing is written outside the home: job folders live in ``data/.jobs/``; the
kernel's IPython, Jupyter runtime and temporary folders (``TMPDIR``: its connection file) in
``data/.kernel/``; IPython's history is off.

A run is built in a hidden staging folder and moved into place when it ends, so a reader
never sees half a run. A failed run keeps its executed notebook (with the error) and a
manifest saying ``failed`` in the same place, replacing an earlier run of that report and
date: the folder always holds the latest attempt. :func:`run_report` then raises
:class:`~wecom_eval.errors.NotebookError` (exit 4) naming the executed notebook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from wecom_eval.errors import InputError, NotebookError, Problem
from wecom_eval.home import Home
from wecom_eval.lock import writer_lock
from wecom_eval.reporting import registry
from wecom_eval.reporting.jobs import (
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_JOBS,
    JOBS_DIR,
    KERNEL_DIR,
    STAGING,
    Job,
    RunResult,
    result_from_json,
)
from wecom_eval.reporting.kernel import ensure_kernel
from wecom_eval.reporting.params import ReportParams, load_params
from wecom_eval.reporting.periods import phase_end
from wecom_eval.reporting.workers import WARM_WORKERS, WORKER, EarlyWorker, WarmWorkers, run_environment

NOTEBOOKS_ENV = "WECOM_EVAL_NOTEBOOKS"
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def notebook_dir(notebooks: str | Path | None = None) -> Path:
    """Where report notebooks are: ``notebooks``, else ``$WECOM_EVAL_NOTEBOOKS``, else the repository's."""
    chosen = notebooks or os.environ.get(NOTEBOOKS_ENV) or DEFAULT_NOTEBOOKS
    return Path(chosen).expanduser().resolve()


def params_file(home: Home, report: str) -> Path | None:
    """The scheduled parameter file of ``report`` (``params/<report>.yaml``) when there is one."""
    path = home.param_file(f"{report}.yaml")
    return path if path.exists() else None


def prepare(
    report: str,
    *,
    as_of: dt.date | str | None = None,
    params_path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    home: Home | None = None,
) -> ReportParams:
    """Validated parameters of ``report``: its parameter file, then ``overrides``, then ``as_of``."""
    home = home or Home.from_env()
    path = params_path if params_path is not None else params_file(home, report)
    values = dict(overrides or {})
    if as_of is not None:
        values["as_of"] = as_of.isoformat() if isinstance(as_of, dt.date) else as_of
    return load_params(report, path=path, overrides=values)


def _job(report: str, params: ReportParams, *, home: Home, notebooks: Path, cell_timeout: float) -> Job:
    from wecom_eval.plan import load_plan

    notebook = registry.spec(report, home).notebook_path(notebooks)
    if not notebook.exists():
        raise InputError(
            "report notebooks",
            [
                Problem(
                    str(notebook),
                    None,
                    "an existing notebook",
                    f"Restore {notebook.name} in the notebooks folder or set ${NOTEBOOKS_ENV}.",
                )
            ],
        )
    plan = load_plan(home.plan)
    plan_file = {"path": str(home.plan), "sha256": hashlib.sha256(home.plan.read_bytes()).hexdigest()}
    return Job(
        report=report,
        params=params.model_dump(mode="json"),
        home=str(home.root),
        notebook=str(notebook),
        plan=plan_file,
        cell_timeout=float(cell_timeout),
        salt_env=plan.privacy.salt_env,
        minutes=plan.targets.daily_active.min_daily_minutes,
        window_days=plan.targets.feature_penetration.window_days,
        timezone=plan.timezone,
    )


def _check_timeout(cell_timeout: float) -> None:
    if not cell_timeout > 0:
        raise InputError("run options", [Problem("--cell-timeout", cell_timeout, "a number of seconds above 0")])


def run_report(
    report: str,
    *,
    as_of: dt.date | str | None = None,
    params_path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    home: Home | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    notebooks: str | Path | None = None,
    early: EarlyWorker | None = None,
) -> RunResult:
    """Run one report and publish it; raise :class:`NotebookError` (exit 4) when it fails.

    Parameters
    ----------
    report
        A report of the registry (:mod:`wecom_eval.reporting.registry`).
    as_of
        The day the report is made (its data runs to the day before).
    params_path
        A YAML parameter file (default: ``params/<report>.yaml`` under the home, if any).
    overrides
        Parameter values that win over the file.
    cell_timeout
        Seconds one notebook cell may take.
    notebooks
        Folder of the report notebooks (default: the repository's ``notebooks/``).
    early
        The worker to run it in, started by the caller before its checks (:func:`~.workers.early_worker`).
    """
    home = home or Home.from_env()
    _check_timeout(cell_timeout)
    params = prepare(report, as_of=as_of, params_path=params_path, overrides=overrides, home=home)
    job = _job(report, params, home=home, notebooks=notebook_dir(notebooks), cell_timeout=cell_timeout)
    (result,) = run_jobs([job], jobs=1, warm=early)
    if not result.ok:
        raise NotebookError(
            f"report {report} ({result.as_of}) failed: {result.error}\n"
            f"The executed notebook with the error is kept: {result.notebook}"
        )
    return result


def review_as_of(report: str, as_of: dt.date, home: Home) -> dt.date:
    """``as_of`` for a phase review in :func:`run_all`: the day after its phase ended, if that is earlier."""
    phase = registry.spec(report, home).phase
    if phase is None:
        return as_of
    from wecom_eval.plan import load_plan

    end = phase_end(load_plan(home.plan), phase) + dt.timedelta(days=1)
    return min(as_of, end)


def run_all(
    home: Home | None = None,
    *,
    as_of: dt.date | str | None = None,
    reports: Sequence[str] | None = None,
    jobs: int = DEFAULT_JOBS,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    overrides: Mapping[str, Any] | None = None,
    notebooks: str | Path | None = None,
    progress: Any = print,
    warm: WarmWorkers | None = None,
) -> list[RunResult]:
    """Run every report (or ``reports``), ``jobs`` at a time; return one result each.

    Each report reads its parameter file ``params/<report>.yaml`` when there is one;
    ``overrides`` apply to all. A phase review is made on the day after its phase ended,
    when that is before ``as_of`` (the launch review describes weeks 1–2 however late it
    is run). Failures do not stop the other reports; check :attr:`RunResult.ok`.
    All parameters are validated before the first notebook starts. ``warm``: warm workers the
    caller started (:mod:`.workers`).
    """
    home = home or Home.from_env()
    _check_timeout(cell_timeout)
    if jobs < 1:
        raise InputError("run options", [Problem("--jobs", jobs, "a whole number of 1 or more")])
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    names = list(reports or registry.names(home))
    folder = notebook_dir(notebooks)
    problems: list[Problem] = []
    prepared: list[Job] = []
    for name in names:
        try:
            params = prepare(name, as_of=review_as_of(name, day, home), overrides=overrides, home=home)
            prepared.append(_job(name, params, home=home, notebooks=folder, cell_timeout=cell_timeout))
        except InputError as exc:
            problems += [Problem(f"{exc.subject}: {p.where}", p.value, p.expected, p.fix) for p in exc.problems]
    if problems:
        raise InputError("reports", problems)
    return run_jobs(prepared, jobs=jobs, progress=progress, warm=warm)


def run_jobs(
    prepared: Sequence[Job],
    *,
    jobs: int = DEFAULT_JOBS,
    progress: Any = None,
    warm: WarmWorkers | EarlyWorker | None = None,
) -> list[RunResult]:
    """Execute prepared jobs in worker processes, ``jobs`` at a time; rebuild the index after each.

    Each job runs in a fresh interpreter (``python -m wecom_eval.reporting.worker``) whose
    environment holds no secret but the pseudonymisation salt; its kernel inherits that
    environment. When a slot runs more than one job, each job's worker is instead forked
    from a warm worker (``warm``, if the caller started them, else started here; see
    :mod:`.workers`); ``warm`` may instead be the one worker a caller started early for its
    one job (:func:`~.workers.early_worker`). When a worker is done, every file it wrote is scanned for the values of
    this process's secret variables (:func:`check_for_secrets`).
    """
    from wecom_eval.reporting.index import write_index

    if not prepared:
        return []
    homes = {job.home for job in prepared}
    if len(homes) != 1:
        raise ValueError(f"all jobs must share one home, got {sorted(homes)}")
    home = Home(Path(homes.pop()))
    ensure_kernel()
    results: dict[int, RunResult] = {}
    slots = min(jobs, len(prepared))
    with ExitStack() as held:
        # One writer per report; then the warehouse: reports only read it, but DuckDB lets no
        # writer in while they do, so an ingest or fetch meanwhile waits or exits 5.
        for name in sorted({job.report for job in prepared}):
            held.enter_context(writer_lock(report_lock(home, name), what=f"the lock of report {name}"))
        held.enter_context(writer_lock(home.lock))
        remove_abandoned(home)
        _fresh_kernel_folders(home)
        pool = held.enter_context(ThreadPoolExecutor(max_workers=slots))
        if warm is None and len(prepared) > slots and WARM_WORKERS:
            warm = held.enter_context(WarmWorkers(run_environment(home, prepared[0].salt_env), slots))
        futures = {
            pool.submit(_run_worker, job, run_environment(home, job.salt_env), warm): i
            for i, job in enumerate(prepared)
        }
        for future in as_completed(futures):
            i = futures[future]
            results[i] = check_for_secrets(future.result(), salt_env=prepared[i].salt_env)
            write_index(home.reports)
            if progress is not None:
                progress(results[i].summary())
    return [results[i] for i in range(len(prepared))]


def report_lock(home: Home, report: str) -> Path:
    """The lock file of ``report`` under the home: one run of a report at a time."""
    return home.data / f"report-{report}.lock"


def _fresh_kernel_folders(home: Home) -> None:
    """Empty the kernels' temporary and runtime folders (a killed kernel leaves its connection file)."""
    for name in ("tmp", "runtime"):
        folder = home.data / KERNEL_DIR / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs; a zombie (ended, not yet reaped by its new parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:  # Linux: an orphan's zombie lingers where the init process reaps slowly (containers)
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _owner(folder: Path, marker: str = "") -> int | None:
    """The pid in a folder name ``…<marker><pid>-…`` (``<pid>-…`` without a marker), or None."""
    try:
        rest = folder.name.split(marker, 1)[1] if marker else folder.name
        return int(rest.split("-", 1)[0])
    except (IndexError, ValueError):
        return None


def remove_abandoned(home: Home) -> list[Path]:
    """Remove what killed runs left behind: staging folders and job folders whose process is gone.

    Called with the report and warehouse locks held; returns the folders removed.
    """
    found = [(f, _owner(f, STAGING)) for f in home.reports.glob(f"*/.*{STAGING}*")]
    found += [(f, _owner(f)) for f in (home.data / JOBS_DIR).glob("*-*")]
    removed = []
    for folder, pid in found:
        if pid is not None and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _run_worker(job: Job, env: Mapping[str, str], warm: WarmWorkers | EarlyWorker | None = None) -> RunResult:
    """Run ``job`` in a fresh interpreter with ``env`` (or a child of a warm worker with that
    environment); a crashed worker is a failed run."""
    clock = time.perf_counter()
    jobs_dir = Path(job.home) / "data" / JOBS_DIR
    jobs_dir.mkdir(parents=True, exist_ok=True)
    # The worker gets the parent-death signal when this thread ends: the pool's threads live
    # until every job is done.
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=jobs_dir) as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_path.write_text(json.dumps(asdict(job)), encoding="utf-8")
        log = Path(tmp) / "worker.log"
        code = warm.run(job_path, result_path, log) if warm is not None and warm.env == dict(env) else None
        if code is not None or result_path.exists():
            stderr = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        else:  # a fresh worker (also when the warm worker died unanswered: its child died with it)
            done = subprocess.run(
                [*WORKER, str(job_path), str(result_path)],
                env=dict(env),
                capture_output=True,
                text=True,
                check=False,
            )
            code, stderr = done.returncode, done.stderr
        if result_path.exists():
            return result_from_json(json.loads(result_path.read_text(encoding="utf-8")))
    as_of = dt.date.fromisoformat(job.params["as_of"])
    folder = Home(Path(job.home)).reports / job.report / as_of.isoformat()
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    return RunResult(
        job.report,
        as_of,
        "failed",
        folder,
        folder / f"{job.report}.ipynb",
        time.perf_counter() - clock,
        f"the worker process ended with code {code} before it finished:\n{tail}",
    )


def check_for_secrets(result: RunResult, *, salt_env: str, environ: Mapping[str, str] | None = None) -> RunResult:
    """Scan a finished run's folder for secret values; on a hit, delete those files and fail the run.

    The message names the files and the variables, never the values.
    """
    from wecom_eval.reporting import manifest
    from wecom_eval.reporting.secrecy import scan, secret_values

    secrets = secret_values(environ, extra=[salt_env])
    if not result.folder.exists() or not secrets:
        return result
    leaks = scan([result.folder], secrets)
    error = _redact(result.error, secrets) if result.error else None
    if leaks:
        for path, _name in leaks:
            path.unlink(missing_ok=True)
        names = sorted({f"{p.name} ({n})" for p, n in leaks})
        error = (
            f"the value of a secret variable appeared in {', '.join(names)}; those files were deleted. "
            "Find what printed it (never print os.environ) and rerun."
        )
    if error == result.error:
        return result
    outputs = tuple(o for o in result.outputs if (result.folder / o).exists())
    path = result.folder / "manifest.json"
    if path.exists():
        data = manifest.read(path)
        data.update(status="failed", error=error, outputs=list(outputs))
        manifest.write(data, path)
    return RunResult(
        result.report, result.as_of, "failed", result.folder, result.notebook, result.duration, error, outputs
    )


def _redact(message: str, secrets: Mapping[str, str]) -> str:
    for name, value in secrets.items():
        message = message.replace(value, f"<{name}>")
    return message


def results_exit_code(results: Iterable[RunResult]) -> int:
    """0 when every run succeeded, else 4 (a notebook failed)."""
    return 0 if all(r.ok for r in results) else NotebookError.exit_code


__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_JOBS",
    "NOTEBOOKS_ENV",
    "notebook_dir",
    "prepare",
    "remove_abandoned",
    "report_lock",
    "results_exit_code",
    "review_as_of",
    "run_all",
    "run_jobs",
    "run_report",
    "check_for_secrets",
]
