"""Kernels forked from the worker: the same kernel as a launched one, with the report modules
already imported; launched as before when forking is off or the kernelspec is another one."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from queue import Empty

import pytest
from test_reports_lifecycle import alive
from test_reports_worker import _job, _notebook

from wecom_eval.home import Home
from wecom_eval.reporting.kernel_fork import FORK_ENV, INLINE_BACKEND, KernelSeed, client_class, launcher_args
from wecom_eval.reporting.workers import WORKER

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")

FACTS = (
    "import os, sys, threading\n"
    "print('preloaded', 'pandas' in sys.modules, flush=True)\n"  # nothing in this notebook imports pandas
    "print('kernel', os.getpid(), os.getppid(), os.getpgid(0) == os.getpid())\n"
    "print('folder', os.getcwd() == os.environ['WECOM_EVAL_RUN_DIR'], os.path.basename(sys.argv[0]))\n"
    "print('path', *sys.path)\n"
    "print('env', os.environ.get('JPY_PARENT_PID'), os.environ.get('PYDEVD_DISABLE_FILE_VALIDATION'),"
    " os.environ.get('MPLBACKEND'), 'MARKER_FROM_WORKER' in os.environ)\n"
    "print('threads', 'load-publishers' in {t.name for t in threading.enumerate()})\n"
    "print('history', get_ipython().history_manager.enabled)\n"
)


def _facts(notebook: Path) -> dict[str, list[str]]:
    import nbformat

    outputs = [o for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    lines = "".join(o.get("text", "") for o in outputs).splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines}


def _run_worker(home: Home, tmp_path: Path, fork: str) -> tuple[int, dict[str, list[str]]]:
    """Run the facts notebook in a worker process (``python -m wecom_eval.reporting.worker``)."""
    job = _job(home, _notebook(tmp_path / f"nb-{fork}", FACTS))
    job_path, result_path = tmp_path / f"job-{fork}.json", tmp_path / f"result-{fork}.json"
    job_path.write_text(json.dumps(asdict(job)), encoding="utf-8")
    env = {**os.environ, FORK_ENV: fork, "MARKER_FROM_WORKER": "1"}
    env.pop("MPLBACKEND", None)
    process = subprocess.Popen([*WORKER, str(job_path), str(result_path)], env=env)
    assert process.wait(timeout=180) == 0
    result = json.loads(result_path.read_text(encoding="utf-8"))
    # every cell ran; the notebook records no report, so there is nothing to publish
    assert result["error"].startswith("publishing the report failed"), result["error"]
    return process.pid, _facts(Path(result["notebook"]))


def test_a_forked_kernel_is_the_kernel_a_launch_makes_with_its_modules_imported(home, tmp_path):
    worker, forked = _run_worker(home, tmp_path, "1")
    worker_launched, launched = _run_worker(home, tmp_path, "0")
    assert forked.pop("preloaded") == ["True"] and launched.pop("preloaded") == ["False"]
    for facts, parent in ((forked, worker), (launched, worker_launched)):
        kernel, ppid, own_session = facts.pop("kernel")
        assert int(ppid) == parent and own_session == "True"  # a child of its worker, in a session of its own
        assert not alive(int(kernel))  # and gone when the run ended
        # the launch's environment: the worker's, jupyter_client's and the kernelspec's
        assert facts.pop("env") == [str(parent), "1", INLINE_BACKEND, "True"]
    assert forked.pop("path") == launched.pop("path")
    assert (
        forked
        == launched
        == {
            "folder": ["True", "ipykernel_launcher.py"],
            "threads": ["False"],
            "history": ["False"],
        }
    )


def test_an_unused_seed_is_ended():
    seed = KernelSeed.fork()
    assert alive(seed.pid)
    seed.discard()
    assert not alive(seed.pid)
    seed.discard()  # twice is harmless


def test_only_this_interpreters_ipykernel_is_forked():
    here = sys.executable
    args = ["-f", "{connection_file}"]
    assert launcher_args([here, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", *args]) == args
    assert launcher_args([here, "-m", "ipykernel_launcher", *args]) == args
    assert launcher_args(["/usr/bin/python3", "-m", "ipykernel_launcher", *args]) is None  # another interpreter
    assert launcher_args([here, "-m", "other_kernel", *args]) is None
    assert launcher_args([here, "-c", "pass", "-m", "ipykernel_launcher"]) is None  # not a plain launch
    assert launcher_args(["/usr/bin/R", "--slave"]) is None


def _msg(kind: str, parent: str, **content: object) -> dict[str, object]:
    return {"msg_type": kind, "parent_header": {"msg_id": parent}, "content": content}


class _Scripted:
    """A channel that hands out scripted messages, then has none (``queue.Empty``)."""

    def __init__(self, *messages: dict[str, object] | None) -> None:
        self.messages = list(messages)

    async def get_msg(self, timeout: float) -> dict[str, object]:
        if not self.messages or self.messages[0] is None:
            if self.messages:
                self.messages.pop(0)
            raise Empty
        return self.messages.pop(0)  # type: ignore[return-value]


def _ready(shell: _Scripted, iopub: _Scripted) -> list[str]:
    """Run the client's wait_for_ready on scripted channels; the kernel_info requests it sent."""
    asked: list[str] = []

    class Client(client_class()):  # type: ignore[misc,valid-type]
        shell_channel = shell
        iopub_channel = iopub

        def kernel_info(self) -> str:
            asked.append(f"k{len(asked) + 1}")
            return asked[-1]

        async def _async_is_alive(self) -> bool:
            return True

    asyncio.run(Client().wait_for_ready(timeout=30))
    return asked


def test_a_client_is_ready_once_a_kernel_info_request_went_idle():
    info = {"protocol_version": "5.3"}
    # the kernel came up after the first request: it answers k1 and k2; the broadcasts of k1 were
    # sent before the subscription joined, those of k2 arrive
    shell = _Scripted(None, _msg("kernel_info_reply", "k1", **info), _msg("kernel_info_reply", "k2", **info))
    iopub = _Scripted(_msg("status", "k2", execution_state="busy"), _msg("status", "k2", execution_state="idle"))
    assert _ready(shell, iopub) == ["k1", "k2"]
    # no broadcast yet: ask again until one comes
    shell = _Scripted(_msg("kernel_info_reply", "k1", **info), _msg("kernel_info_reply", "k2", **info))
    iopub = _Scripted(None, _msg("status", "k2", execution_state="idle"))
    assert _ready(shell, iopub) == ["k1", "k2"]
