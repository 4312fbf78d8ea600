"""Run report notebooks with papermill and publish what they produce.

One run of one report (:func:`run_report`), or every report (:func:`run_all`):

1. **Validate first.** Parameters (file, command line) are checked against the report's
   model before anything starts; a bad one is an :class:`~wecom_eval.errors.InputError`
   (exit 2) and no kernel is started, no folder written.
2. **Execute** ``notebooks/<report>.ipynb`` with papermill on the project's named kernel
   (:mod:`.kernel`), with a per-cell timeout, in a separate process per report (two at a
   time by default: the machine has two cores). The kernel gets the environment without
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
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wecom_eval.errors import InputError, NotebookError, Problem
from wecom_eval.home import HOME_ENV, Home
from wecom_eval.lock import writer_lock
from wecom_eval.reporting.collect import COLLECTED, RUN_DIR_ENV
from wecom_eval.reporting.kernel import KERNEL_NAME, ensure_kernel
from wecom_eval.reporting.params import REPORTS, ReportParams, load_params
from wecom_eval.reporting.periods import PHASE_OF_REVIEW, phase_end

NOTEBOOKS_ENV = "WECOM_EVAL_NOTEBOOKS"
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
DEFAULT_CELL_TIMEOUT = 600.0  # seconds; a cell that takes longer fails the run
DEFAULT_JOBS = 2
KERNEL_START_TIMEOUT = 120
KERNEL_LOG = "kernel.log"  # the kernel's stderr; kept only when the run failed
PARENT_ENV = "WECOM_EVAL_RUNNER_PARENT"  # the pid of the command a worker must not outlive
JOBS_DIR = ".jobs"  # under data/: one folder per worker (its job and result), named <command pid>-…
KERNEL_DIR = ".kernel"  # under data/: the kernel's IPython folder and Jupyter runtime files
STAGING = ".running-"  # reports/<report>/.<as_of>.running-<worker pid>-…: a run being built
KERNEL_ARGS = ["--HistoryManager.enabled=False"]  # no IPython history database anywhere


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

    notebook = notebooks / f"{report}.ipynb"
    if not notebook.exists():
        raise InputError(
            "report notebooks",
            [
                Problem(
                    str(notebook),
                    None,
                    "an existing notebook",
                    f"Restore notebooks/{report}.ipynb or set ${NOTEBOOKS_ENV}.",
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
) -> RunResult:
    """Run one report and publish it; raise :class:`NotebookError` (exit 4) when it fails.

    Parameters
    ----------
    report
        One of :data:`~wecom_eval.reporting.params.REPORTS`.
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
    """
    home = home or Home.from_env()
    _check_timeout(cell_timeout)
    params = prepare(report, as_of=as_of, params_path=params_path, overrides=overrides, home=home)
    job = _job(report, params, home=home, notebooks=notebook_dir(notebooks), cell_timeout=cell_timeout)
    (result,) = run_jobs([job], jobs=1)
    if not result.ok:
        raise NotebookError(
            f"report {report} ({result.as_of}) failed: {result.error}\n"
            f"The executed notebook with the error is kept: {result.notebook}"
        )
    return result


def review_as_of(report: str, as_of: dt.date, home: Home) -> dt.date:
    """``as_of`` for a phase review in :func:`run_all`: the day after its phase ended, if that is earlier."""
    if report not in PHASE_OF_REVIEW:
        return as_of
    from wecom_eval.plan import load_plan

    end = phase_end(load_plan(home.plan), PHASE_OF_REVIEW[report]) + dt.timedelta(days=1)
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
) -> list[RunResult]:
    """Run every report (or ``reports``), ``jobs`` at a time; return one result each.

    Each report reads its parameter file ``params/<report>.yaml`` when there is one;
    ``overrides`` apply to all. A phase review is made on the day after its phase ended,
    when that is before ``as_of`` (the launch review describes weeks 1–2 however late it
    is run). Failures do not stop the other reports; check :attr:`RunResult.ok`.
    All parameters are validated before the first notebook starts.
    """
    home = home or Home.from_env()
    _check_timeout(cell_timeout)
    if jobs < 1:
        raise InputError("run options", [Problem("--jobs", jobs, "a whole number of 1 or more")])
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    names = list(reports or REPORTS)
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
    return run_jobs(prepared, jobs=jobs, progress=progress)


def run_jobs(prepared: Sequence[Job], *, jobs: int = DEFAULT_JOBS, progress: Any = None) -> list[RunResult]:
    """Execute prepared jobs in worker processes, ``jobs`` at a time; rebuild the index after each.

    Each job runs in a fresh interpreter (``python -m wecom_eval.reporting.runner``) whose
    environment holds no secret but the pseudonymisation salt; its kernel inherits that
    environment. When a worker is done, every file it wrote is scanned for the values of
    this process's secret variables (:func:`check_for_secrets`).
    """
    from wecom_eval.reporting.index import write_index
    from wecom_eval.reporting.secrecy import kernel_environment

    if not prepared:
        return []
    homes = {job.home for job in prepared}
    if len(homes) != 1:
        raise ValueError(f"all jobs must share one home, got {sorted(homes)}")
    home = Home(Path(homes.pop()))
    ensure_kernel()
    results: dict[int, RunResult] = {}
    with ExitStack() as held:
        # One writer per report; then the warehouse: reports only read it, but DuckDB lets no
        # writer in while they do, so an ingest or fetch meanwhile waits or exits 5.
        for name in sorted({job.report for job in prepared}):
            held.enter_context(writer_lock(report_lock(home, name), what=f"the lock of report {name}"))
        held.enter_context(writer_lock(home.lock))
        remove_abandoned(home)
        _fresh_kernel_folders(home)
        pool = held.enter_context(ThreadPoolExecutor(max_workers=min(jobs, len(prepared))))
        futures = {}
        for i, job in enumerate(prepared):
            env = kernel_environment(keep=[job.salt_env])
            env.update(_home_environment(home))
            futures[pool.submit(_run_worker, job, env)] = i
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


def _home_environment(home: Home) -> dict[str, str]:
    """What keeps a worker and its kernel writing only under the home."""
    kernel = home.data / KERNEL_DIR
    return {
        HOME_ENV: str(home.root),
        "IPYTHONDIR": str(kernel / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(kernel / "runtime"),
        "TMPDIR": str(kernel / "tmp"),
        PARENT_ENV: str(os.getpid()),
    }


def _fresh_kernel_folders(home: Home) -> None:
    """Empty the kernels' temporary and runtime folders (a killed kernel leaves its connection file)."""
    for name in ("tmp", "runtime"):
        folder = home.data / KERNEL_DIR / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
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


def _result_json(result: RunResult) -> dict[str, Any]:
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


def _result_from_json(data: Mapping[str, Any]) -> RunResult:
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


def _run_worker(job: Job, env: Mapping[str, str]) -> RunResult:
    """Run ``job`` in a fresh interpreter with ``env``; a crashed worker is a failed run."""
    clock = time.perf_counter()
    jobs_dir = Path(job.home) / "data" / JOBS_DIR
    jobs_dir.mkdir(parents=True, exist_ok=True)
    # The worker gets the parent-death signal when this thread ends: the pool's threads live
    # until every job is done.
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=jobs_dir) as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_path.write_text(json.dumps(asdict(job)), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "wecom_eval.reporting.runner", str(job_path), str(result_path)],
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if result_path.exists():
            return _result_from_json(json.loads(result_path.read_text(encoding="utf-8")))
    as_of = dt.date.fromisoformat(job.params["as_of"])
    folder = Home(Path(job.home)).reports / job.report / as_of.isoformat()
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    return RunResult(
        job.report,
        as_of,
        "failed",
        folder,
        folder / f"{job.report}.ipynb",
        time.perf_counter() - clock,
        f"the worker process ended with code {done.returncode} before it finished:\n{tail}",
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


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr (and so the kernel's, which inherits it) to ``path``.

    The kernel writes start-up chatter there; a failed run keeps the file beside its notebook.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _redact(message: str, secrets: Mapping[str, str]) -> str:
    for name, value in secrets.items():
        message = message.replace(value, f"<{name}>")
    return message


def execute(job: Job) -> RunResult:
    """Run one prepared job in this process (the worker side of :func:`run_jobs`).

    Expects an environment without secrets (the worker's); sets ``$WECOM_EVAL_RUN_DIR`` for
    the kernel and builds the run in a staging folder that replaces ``reports/<report>/<as_of>``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from wecom_eval.reporting import manifest

    home = Home(Path(job.home))
    as_of = dt.date.fromisoformat(job.params["as_of"])
    report_dir = home.reports / job.report
    final = report_dir / as_of.isoformat()
    staging = report_dir / f".{as_of.isoformat()}{STAGING}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    executed = staging / f"{job.report}.ipynb"
    os.environ.update({RUN_DIR_ENV: str(staging), HOME_ENV: str(home.root), **job.extra_env})
    started = job.now()
    clock = time.perf_counter()
    error: str | None = None
    outputs: list[str] = []
    try:
        with _stderr_to(staging / KERNEL_LOG):
            papermill.execute_notebook(
                job.notebook,
                str(executed),
                parameters=job.params,
                kernel_name=job.kernel,
                execution_timeout=job.cell_timeout,
                start_timeout=KERNEL_START_TIMEOUT,
                progress_bar=False,
                log_output=False,
                cwd=str(staging),
                extra_arguments=KERNEL_ARGS,
            )
    except PapermillExecutionError as exc:
        error = f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
    except Exception as exc:  # a cell timeout, a dead kernel: the run failed, the notebook is kept
        error = f"{type(exc).__name__}: {exc}".strip()
    if error is None:
        try:
            outputs = publish(staging, job)
        except Exception as exc:
            error = f"publishing the report failed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    shown = _tables_shown(staging)
    shutil.rmtree(staging / COLLECTED, ignore_errors=True)
    if error is None:
        (staging / KERNEL_LOG).unlink(missing_ok=True)
    finished = job.now()
    status = "failed" if error else "succeeded"
    manifest.write(
        manifest.build(
            report=job.report,
            as_of=as_of,
            params=job.params,
            status=status,
            started=started,
            finished=finished,
            kernel=job.kernel,
            cell_timeout=job.cell_timeout,
            notebook=executed.name,
            outputs=outputs,
            error=error,
            source_notebook=job.notebook,
            tables=shown,
            plan=job.plan,
        ),
        staging / "manifest.json",
    )
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    return RunResult(
        job.report, as_of, status, final, final / executed.name, time.perf_counter() - clock, error, tuple(outputs)
    )


def _die_with_parent() -> None:
    """End this worker when the command that started it ends, however it ends (SIGKILL included)."""
    parent = int(os.environ.get(PARENT_ENV) or 0)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1  # <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    elif parent:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if parent and os.getppid() != parent:  # the command ended before the signal was armed
        os._exit(1)


def _worker_main(argv: Sequence[str]) -> int:
    """``python -m wecom_eval.reporting.runner JOB.json RESULT.json``: run one job (used by :func:`run_jobs`)."""
    if len(argv) != 2:
        print("usage: python -m wecom_eval.reporting.runner JOB.json RESULT.json", file=sys.stderr)
        return 2
    _die_with_parent()
    job = Job(**json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    result = execute(job)
    Path(argv[1]).write_text(json.dumps(_result_json(result)), encoding="utf-8")
    return 0


def _tables_shown(run_dir: Path) -> list[dict[str, Any]]:
    """Name, title and privacy facts of each table the notebook showed (for the manifest)."""
    from wecom_eval.reporting import collect

    try:
        meta = collect.read_meta(run_dir)
    except (FileNotFoundError, ValueError):
        return []
    return [
        {k: t.get(k) for k in ("name", "title", "people", "keys", "within", "floor", "rows", "hidden_rows")}
        for t in meta["tables"]
    ]


def publish(run_dir: Path, job: Job) -> list[str]:
    """Build the report's files in ``run_dir`` from the executed notebook and what it recorded."""
    from wecom_eval import text
    from wecom_eval.reporting import collect, export, kpis_json, tables

    meta = collect.read_meta(run_dir)
    language = meta["language"]
    export.export_html(
        run_dir / f"{job.report}.ipynb",
        meta,
        run_dir / "report.html",
        minutes=job.minutes,
        window_days=job.window_days,
        generated=job.now(),
    )
    sheets = [
        tables.SheetTable(
            t["name"],
            t["title"],
            tables.present(
                collect.read_table(run_dir, t),
                language,
                formats=t["formats"],
                labels=t["labels"],
                row_formats=t.get("row_formats"),
            ),
            t.get("note", ""),
        )
        for t in meta["tables"]
    ]
    heading = f"{text.report_title(job.report, language)} · {(meta.get('period') or {}).get('label', '')}"
    tables.write_workbook(run_dir / "tables.xlsx", sheets, language=language, heading=heading)
    kpis_json.write(meta, run_dir / "kpis.json")
    outputs = ["report.html", "tables.xlsx", "kpis.json"]
    if meta["params"].get("deck"):
        from wecom_eval.reporting import deck

        deck.write_deck(run_dir, meta, run_dir / "deck.pptx", minutes=job.minutes, window_days=job.window_days)
        outputs.append("deck.pptx")
    return outputs + ["manifest.json", f"{job.report}.ipynb"]


def results_exit_code(results: Iterable[RunResult]) -> int:
    """0 when every run succeeded, else 4 (a notebook failed)."""
    return 0 if all(r.ok for r in results) else NotebookError.exit_code


__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_JOBS",
    "Job",
    "NOTEBOOKS_ENV",
    "RunResult",
    "execute",
    "notebook_dir",
    "prepare",
    "publish",
    "remove_abandoned",
    "report_lock",
    "results_exit_code",
    "review_as_of",
    "run_all",
    "run_jobs",
    "run_report",
    "check_for_secrets",
]


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
