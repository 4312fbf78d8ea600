"""The worker side of a report run: ``python -m wecom_eval.reporting.worker JOB.json RESULT.json``.

The runner (:mod:`.runner`) starts one worker process per report with an environment
without secrets. The worker dies with the command that started it, executes the notebook
with papermill in a staging folder (:func:`execute`), builds the report's files from what
the notebook recorded (:func:`publish`), writes the manifest and moves the folder into
place, then writes its :class:`~wecom_eval.reporting.jobs.RunResult` for the runner.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wecom_eval.home import HOME_ENV, Home
from wecom_eval.reporting.jobs import (
    COLLECTED,
    KERNEL_ARGS,
    KERNEL_LOG,
    KERNEL_START_TIMEOUT,
    PARENT_ENV,
    RUN_DIR_ENV,
    STAGING,
    Job,
    RunResult,
    result_to_json,
)
from wecom_eval.reporting.kernel_fork import (
    KernelSeed,
    exit_now,
    forking,
    import_kernel_modules,
    import_quietly,
    manager_class,
    output_to,
)
from wecom_eval.reporting.workers import SERVE, WAIT

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

SLOW_FORMAT_MODULE = "rfc3987_syntax"  # kept out of the worker: see main()
NO_HISTORY_FILE = ":memory:"  # papermill's client gives a kernel it starts this history file


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


def execute(job: Job, seed: KernelSeed | None = None) -> RunResult:
    """Run one prepared job in this process (the worker side of :func:`~wecom_eval.reporting.runner.run_jobs`).

    Expects an environment without secrets (the worker's); sets ``$WECOM_EVAL_RUN_DIR`` for
    the kernel and builds the run in a staging folder that replaces ``reports/<report>/<as_of>``.
    """
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
    outputs: list[str] = []
    with _stderr_to(staging / KERNEL_LOG):
        error = _run_notebook(job, staging, executed, seed)
    _loaded()
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


def _run_notebook(job: Job, staging: Path, executed: Path, seed: KernelSeed | None = None) -> str | None:
    """Execute the job's notebook into ``executed``; None when every cell ran, else what went wrong."""
    try:
        with _started_kernel(job, staging, seed) as kernel_manager_class:
            import papermill  # imported already (RUN_MODULES), while the kernel's seed imports

            from wecom_eval.reporting.papermill_engine import ENGINE

            papermill.execute_notebook(
                job.notebook,
                str(executed),
                engine_name=ENGINE,
                parameters=job.params,
                kernel_name=job.kernel,
                execution_timeout=job.cell_timeout,
                start_timeout=KERNEL_START_TIMEOUT,
                progress_bar=False,
                log_output=False,
                cwd=str(staging),
                kernel_manager_class=kernel_manager_class,
                # Every cell has ended and written what it recorded: no need to wait for a polite exit.
                shutdown_kernel="immediate",
            )
    except Exception as exc:  # a failed cell, a cell timeout, a dead kernel: the run failed, the notebook is kept
        from papermill.exceptions import PapermillExecutionError

        if isinstance(exc, PapermillExecutionError):
            return f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
        return f"{type(exc).__name__}: {exc}".strip()
    return None


@contextmanager
def _started_kernel(job: Job, cwd: Path, seed: KernelSeed | None = None) -> Iterator[type[AsyncKernelManager]]:
    """Start the job's kernel at once and hand it to papermill as the kernel manager to use.

    The kernel (a process of its own: ``seed`` made the kernel when given, see
    :mod:`.kernel_fork`) then boots while this one imports papermill and nbconvert.
    Papermill's client finds the kernel started, waits for it to be ready
    (``start_timeout``) and shuts it down at the end, as it does a kernel it started; a
    kernel papermill never took is shut down here.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    if seed is not None:
        manager = manager_class()(kernel_name=job.kernel, seed=seed, kernel_log=cwd / KERNEL_LOG)
    else:
        manager = AsyncKernelManager(kernel_name=job.kernel)
    # The arguments papermill's client gives a kernel it starts: the same kernel either way.
    arguments = [*KERNEL_ARGS, f"--HistoryManager.hist_file={NO_HISTORY_FILE}"]
    run_sync(manager.start_kernel)(extra_arguments=arguments, cwd=str(cwd))

    class Started(AsyncKernelManager):
        """The kernel manager class papermill's client instantiates: it gets the running one."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return manager

    try:
        yield Started
    finally:
        if manager.has_kernel:
            run_sync(manager.shutdown_kernel)(now=True)
        if seed is not None:
            seed.discard()  # when the kernel never started from it


def die_with_parent(parent: int | None = None) -> None:
    """End this process when ``parent`` ends, however it ends (SIGKILL included).

    ``parent`` defaults to ``$WECOM_EVAL_PARENT_PID``: a worker dies with the command that started it.
    """
    parent = int(os.environ.get(PARENT_ENV) or 0) if parent is None else parent
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


def main(argv: Sequence[str]) -> int:
    """``python -m wecom_eval.reporting.worker JOB.json RESULT.json``: run one job (started by the runner).

    ``--serve`` makes a warm worker instead (:func:`serve`); ``--wait`` a worker started before
    its job was known, which reads the line ``JOB.json<TAB>RESULT.json`` on stdin and ends
    without running anything when stdin closes empty (:class:`~.workers.EarlyWorker`).
    """
    if list(argv) == [SERVE]:
        return serve()
    if len(argv) != 2 and list(argv) != [WAIT]:
        print("usage: python -m wecom_eval.reporting.worker JOB.json RESULT.json | --serve | --wait", file=sys.stderr)
        return 2
    die_with_parent()
    # Before any thread starts: the kernel's seed imports the kernel's modules while this process
    # imports papermill and nbconvert (:mod:`.kernel_fork`).
    seed = KernelSeed.fork() if forking() else None
    # jsonschema (under papermill, nbformat and kpis.json) registers an "iri" format check when
    # rfc3987-syntax is installed (a Jupyter extra), and that package compiles a grammar on
    # import: seconds per run. No schema a run validates uses the iri formats (a test checks).
    sys.modules.setdefault(SLOW_FORMAT_MODULE, None)  # type: ignore[arg-type]  # None reads as "not installed"
    _start_loading()
    paths = sys.stdin.readline().rstrip("\n").split("\t") if list(argv) == [WAIT] else list(argv)
    if len(paths) != 2:  # the command ran no report after all (a check failed)
        if seed is not None:
            seed.discard()
        return 0
    job = Job(**json.loads(Path(paths[0]).read_text(encoding="utf-8")))
    result = execute(job, seed)
    Path(paths[1]).write_text(json.dumps(result_to_json(result)), encoding="utf-8")
    return 0


def serve() -> int:
    """A warm worker (:mod:`.workers`): import what a run needs once, then fork one child per job.

    Reads lines ``ID<TAB>JOB.json<TAB>RESULT.json<TAB>LOG`` on stdin; for each, at once, a
    child runs the job as :func:`main` does, its stdout and stderr in ``LOG``; when a child
    ends this process answers ``ID<TAB>EXIT CODE`` on a line of its own. Jobs run side by side
    (the command keeps to its number of slots). Ends when stdin closes and every child has ended.
    """
    die_with_parent()
    answers = os.fdopen(os.dup(1), "w")  # only the answers go to stdout: nothing an import prints
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.modules.setdefault(SLOW_FORMAT_MODULE, None)  # type: ignore[arg-type]  # see main()
    if forking():
        import_kernel_modules()  # once: each report's kernel is forked with them (:mod:`.kernel_fork`)
    import_quietly(RUN_MODULES)
    _load_publishers()
    _serve_jobs(sys.stdin.fileno(), answers)
    return 0


def _serve_jobs(requests: int, answers: IO[str]) -> None:
    """Fork a child per request line read from ``requests``; answer each child's end. One thread only:
    this process forks, so it never starts one."""
    import select

    running: dict[int, str] = {}  # pid → job id
    pending, open_ = b"", True
    while open_ or running:
        readable, _, _ = select.select([requests] if open_ else [], [], [], 0.05 if running else None)
        if readable:
            chunk = os.read(requests, 65536)
            open_ = bool(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                job_id, job_path, result_path, log_path = line.decode().split("\t")
                pid = os.fork()
                if pid == 0:
                    _child(job_path, result_path, log_path)
                running[pid] = job_id
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            print(f"{running.pop(pid)}\t{os.waitstatus_to_exitcode(status)}", file=answers, flush=True)


def _child(job_path: str, result_path: str, log_path: str) -> None:
    """The forked worker of one job: never returns."""
    code = 1
    try:
        output_to(log_path)
        os.environ[PARENT_ENV] = str(os.getppid())  # this child dies with the warm worker
        code = main([job_path, result_path])
    except BaseException:
        traceback.print_exc()
    finally:
        exit_now(code)


RUN_MODULES = (
    "jupyter_client.asynchronous.client",
    "jupyter_client.manager",
    "jupyter_core.utils",
    "papermill",
    "wecom_eval.reporting.papermill_engine",
    "wecom_eval.reporting.manifest",
)
_loader: threading.Thread | None = None  # the thread loading the publishing modules, when one was started


def _start_loading() -> None:
    """Import what running a notebook needs now, then what publishing needs in a thread while the kernel
    runs (this process only waits then). Never the same modules in two threads at once: that can
    fail ("partially initialized module"); :func:`_loaded` waits for the thread before publishing."""
    global _loader
    import_quietly(RUN_MODULES)
    _loader = threading.Thread(target=_load_publishers_behind, name="load-publishers", daemon=True)
    _loader.start()


def _load_publishers_behind() -> None:
    """:func:`_load_publishers` at a lower priority (Linux: per thread): the kernel's seed imports
    meanwhile, and the report waits for it, not for these."""
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    _load_publishers()


def _loaded() -> None:
    """Wait for the thread of :func:`_start_loading`, if one runs."""
    if _loader is not None:
        _loader.join()


def _load_publishers() -> None:
    """Import the modules :func:`publish` uses (nbconvert, openpyxl's writer, jsonschema …) and compile
    what the first page compiles (:func:`~wecom_eval.reporting.export.warm_up`)."""
    import_quietly([f"wecom_eval.reporting.{m}" for m in ("export", "tables", "kpis_json", "collect")])
    with suppress(Exception):
        sys.modules["wecom_eval.reporting.export"].warm_up()


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
    from wecom_eval.reporting import collect, export, kpis_json, registry, tables

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
    heading = f"{registry.title(job.report, language)} · {(meta.get('period') or {}).get('label', '')}"
    tables.write_workbook(run_dir / "tables.xlsx", sheets, language=language, heading=heading)
    kpis_json.write(meta, run_dir / "kpis.json")
    outputs = ["report.html", "tables.xlsx", "kpis.json"]
    if meta["params"].get("deck"):
        from wecom_eval.reporting import deck

        deck.write_deck(run_dir, meta, run_dir / "deck.pptx", minutes=job.minutes, window_days=job.window_days)
        outputs.append("deck.pptx")
    return outputs + ["manifest.json", f"{job.report}.ipynb"]


__all__ = ["execute", "main", "publish"]


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))  # the run is written and its kernel gone: skip the interpreter's teardown
