"""The worker process: what it keeps out of its start-up must be something no run needs; the kernel
it starts before importing papermill runs the notebook as papermill would, and never outlives the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from test_reports_lifecycle import alive

from wecom_eval.home import HOME_ENV, Home
from wecom_eval.reporting import kpis_json, worker
from wecom_eval.reporting.jobs import RUN_DIR_ENV, Job
from wecom_eval.reporting.kernel import KERNEL_NAME


def _formats(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(v) for v in node))
    return set()


def test_no_schema_a_run_validates_uses_the_formats_the_worker_leaves_out():
    # The worker keeps rfc3987_syntax out (it compiles a grammar on import); jsonschema then
    # has no "iri"/"iri-reference" check, so no schema a run validates may use them.
    assert worker.SLOW_FORMAT_MODULE == "rfc3987_syntax"
    schemas = [kpis_json.SCHEMA_PATH, *Path(nbformat.__file__).parent.glob("v4/*.schema.json")]
    assert len(schemas) > 1
    for path in schemas:
        used = _formats(json.loads(path.read_text(encoding="utf-8")))
        assert not {f for f in used if f.startswith("iri")}, (path, used)


def _notebook(folder: Path, *cells: str) -> Path:
    """A report notebook of ``cells`` after a parameters cell, written into ``folder``."""
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('as_of: str = "2026-05-25"  # the day the report is made')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python (wecom-eval)", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "weekly.ipynb"
    nbformat.write(nb, path)
    return path


def _job(home: Home, notebook: Path, **changes: object) -> Job:
    values: dict[str, object] = {
        "report": "weekly",
        "params": {"as_of": "2026-05-25"},
        "home": str(home.root),
        "notebook": str(notebook),
        "cell_timeout": 120.0,
        "salt_env": "WECOM_EVAL_SALT",
        **changes,
    }
    return Job(**values)  # type: ignore[arg-type]


def _printed(notebook: Path, word: str) -> list[str]:
    """What the cell that printed ``word`` printed, split into words."""
    outputs = [o for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    return next(o["text"].split() for o in outputs if o.get("text", "").startswith(word))


@pytest.fixture
def home(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The empty home, with what an in-process worker sets in the environment undone afterwards."""
    for name in (RUN_DIR_ENV, HOME_ENV):
        monkeypatch.setenv(name, "")
    return home


def _gone(pid: int) -> bool:
    return not alive(pid)


def test_the_kernel_started_early_is_the_one_papermill_runs_with_the_same_settings(home, tmp_path, monkeypatch):
    # The worker starts the kernel before importing papermill; inside, the kernel must look as it
    # did when papermill started it: the run folder as its working folder, IPython history off.
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    checks = _notebook(
        tmp_path / "nb",
        "import os\n"
        "from pathlib import Path\n"
        "ip = get_ipython()\n"
        f"assert Path.cwd() == Path({str(run_dir)!r}), Path.cwd()\n"
        "assert ip.history_manager.enabled is False\n"
        "print('kernel', os.getpid(), os.getppid())",
    )
    executed = run_dir / "weekly.ipynb"
    assert worker._run_notebook(_job(home, checks), run_dir, executed) is None
    kernel, parent = (int(w) for w in _printed(executed, "kernel")[1:])
    assert parent == os.getpid()  # started by this process, and …
    assert _gone(kernel)  # … shut down when the notebook ended


def test_a_kernel_that_cannot_start_fails_the_run_with_its_reason(home, tmp_path):
    job = _job(home, _notebook(tmp_path / "nb", "print(1)"), kernel="no-such-kernel")
    result = worker.execute(job)
    assert not result.ok and "no-such-kernel" in (result.error or "")
    assert json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))["status"] == "failed"


def test_a_kernel_that_dies_mid_run_fails_the_run_and_leaves_no_process(home, tmp_path):
    notebook = _notebook(tmp_path / "nb", "import os\nprint('kernel', os.getpid(), flush=True)", "os._exit(1)")
    result = worker.execute(_job(home, notebook))
    assert not result.ok and "DeadKernelError" in (result.error or "")
    assert _gone(int(_printed(result.notebook, "kernel")[1]))
    assert (result.folder / "kernel.log").exists()


def test_a_kernel_papermill_never_took_is_shut_down(home, tmp_path):
    job = _job(home, _notebook(tmp_path / "nb", "print(1)"))
    with worker._started_kernel(job, tmp_path) as manager_class:
        manager = manager_class()
        pid = manager.provisioner.pid  # type: ignore[union-attr]
        assert manager.has_kernel and not _gone(pid)
    assert _gone(pid)


def test_the_running_notebook_is_written_seldom_and_whole_at_the_end(home, tmp_path, monkeypatch):
    from papermill.engines import NotebookExecutionManager

    writes: list[int] = []
    save = NotebookExecutionManager.save

    def counted(self, **kwargs):
        writes.append(sum(1 for c in self.nb.cells if c.get("outputs")))
        return save(self, **kwargs)

    monkeypatch.setattr(NotebookExecutionManager, "save", counted)
    notebook = _notebook(tmp_path / "nb", *(f"print({i})" for i in range(12)))
    executed = tmp_path / "run" / "weekly.ipynb"
    executed.parent.mkdir()
    assert worker._run_notebook(_job(home, notebook), executed.parent, executed) is None
    # papermill asks 2 writes per cell (and one at the start and the end): 26 here
    assert len(writes) <= 3, writes
    assert writes[-1] == 12  # the last write has every cell's output
    assert _printed(executed, "11") == ["11"]
