"""Report kernels forked from the report's worker, the report modules imported once.

A report's kernel is normally a fresh interpreter (``python -m ipykernel_launcher``) whose
first cell imports pandas, matplotlib, seaborn, DuckDB, SciPy and the report modules: about
two seconds of CPU before any figure is computed, paid again by every report. On Linux a
worker instead forks a **kernel seed** the moment it starts (:meth:`KernelSeed.fork`): a
child that imports :data:`KERNEL_MODULES` while the worker imports papermill and
nbconvert, then waits. When jupyter_client launches the kernel (:func:`manager_class`),
the seed becomes it: it takes the launch's working folder, environment, arguments and log
file, starts a session of its own (so interrupts and kills reach its process group, as for
a launched kernel) and runs ipykernel's application in-process. A warm worker
(:mod:`.workers`) imports :data:`KERNEL_MODULES` itself, so the seeds its children fork have
nothing left to import.

The forked kernel is the same kernel as a launched one: same interpreter and packages, the
launch's environment (no secrets), arguments and folder; ``sys.path`` and ``sys.argv`` as
``-m ipykernel_launcher`` sets them. It dies with its worker (the parent-death signal) and
inherits no thread, socket or event loop: the seed is forked before the worker starts any
(a test checks). ``$WECOM_EVAL_KERNEL_FORK=0``, or a kernelspec that is not this
interpreter's ipykernel, launches kernels the usual way.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from contextlib import suppress
from functools import cache
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

FORK_ENV = "WECOM_EVAL_KERNEL_FORK"  # "0": launch every kernel as a fresh interpreter
LAUNCHER = "ipykernel_launcher"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel makes matplotlib's default
# What a report's first cell imports (and with it pandas, matplotlib, seaborn, DuckDB, SciPy).
KERNEL_MODULES = ("ipykernel.kernelapp", "wecom_eval.reporting.forecasts", "wecom_eval.reporting.views")


def forking() -> bool:
    """Whether kernels are forked here: on Linux, unless ``$WECOM_EVAL_KERNEL_FORK`` is ``0``."""
    return sys.platform.startswith("linux") and os.environ.get(FORK_ENV, "1") != "0"


def import_quietly(names: Sequence[str]) -> None:
    """Import ``names`` ahead of their use; one that fails here fails again, and is reported, where it is used."""
    for name in names:
        with suppress(Exception):
            importlib.import_module(name)


def import_kernel_modules() -> None:
    """Import :data:`KERNEL_MODULES` with matplotlib's default backend set as ipykernel sets it."""
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    import_quietly(KERNEL_MODULES)


class ForkedKernel:
    """The forked kernel, as jupyter_client's local provisioner handles a launched one (a ``Popen``)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with suppress(ChildProcessError):
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class KernelSeed:
    """A forked child that imports the kernel's modules, then becomes the kernel when asked."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self._pipe: int | None = pipe

    @classmethod
    def fork(cls) -> KernelSeed:
        """Fork the seed now. Call before this process starts a thread or an event loop."""
        read, write = os.pipe()
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:  # the seed: never returns
            os.close(write)
            _seed(read, worker)
        os.close(read)
        return cls(pid, write)

    def launch(self, args: Sequence[str], *, env: Mapping[str, str], cwd: str, log: Path) -> ForkedKernel:
        """Make the seed the kernel ``ipykernel_launcher ARGS`` with ``env`` in ``cwd``, stderr to ``log``."""
        if self._pipe is None:
            raise RuntimeError("this kernel seed was used already")
        request = json.dumps({"args": list(args), "env": dict(env), "cwd": cwd, "log": str(log)}).encode()
        with os.fdopen(self._pipe, "wb") as pipe:
            self._pipe = None
            pipe.write(request)
        return ForkedKernel(self.pid)

    def discard(self) -> None:
        """End an unused seed and reap it (a seed that became the kernel is left alone)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


def _seed(pipe: int, worker: int) -> None:
    """The seed's life: import, wait for the launch, run the kernel, exit. Never returns."""
    code = 1
    try:
        from wecom_eval.reporting.worker import die_with_parent

        die_with_parent(worker)
        import_kernel_modules()
        with os.fdopen(pipe, "rb") as fh:
            data = fh.read()
        if not data:  # discarded
            os._exit(0)
        request = json.loads(data)
        _become_kernel(request)
        from ipykernel import kernelapp

        # What ipykernel reads from the environment when imported, read from the launch's.
        parent = int(os.environ.get("JPY_PARENT_PID") or 0)
        kernelapp.launch_new_instance(argv=request["args"], parent_handle=parent)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        exit_now(code)


def exit_now(code: int) -> NoReturn:
    """End this process at once with ``code``, its output flushed: a forked process must not run
    what its parent would at exit (atexit handlers, finalizers of objects it inherited)."""
    with suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def output_to(log_path: str | Path) -> None:
    """Send this process's stdout and stderr to ``log_path`` (appended) and read stdin from nowhere."""
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)


def _become_kernel(request: Mapping[str, Any]) -> None:
    """Take the launch's session, folder, environment, streams and arguments."""
    os.setsid()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    output_to(request["log"])
    launcher = importlib.import_module(LAUNCHER)
    sys.argv = [str(launcher.__file__), *request["args"]]


def launcher_args(kernel_cmd: Sequence[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when ``kernel_cmd`` starts this interpreter's
    ipykernel (the ``wecom-eval`` kernelspec); None for any other kernel."""
    cmd = list(kernel_cmd)
    if len(cmd) < 3 or Path(cmd[0]).resolve() != Path(sys.executable).resolve():
        return None
    for i in range(1, len(cmd) - 1):
        if cmd[i] == "-m":
            if cmd[i + 1] != LAUNCHER or any(not a.startswith("-X") for a in cmd[1:i]):
                return None
            return cmd[i + 2 :]
    return None


@cache
def client_class() -> type[AsyncKernelClient]:
    """:class:`ReadyClient` (defined on first use, as :func:`manager_class`)."""
    from jupyter_client.asynchronous.client import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """jupyter_client's client, ready as soon as the kernel is.

        jupyter_client's ``wait_for_ready`` ends by reading the kernel's broadcasts until
        none came for 0.2 s: a fifth of a second of every report spent waiting. This one
        ends, after an answer to ``kernel_info``, when the kernel's "idle" for one of those
        requests arrives: the broadcast channel is then connected.
        """

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            asked: set[str] = set()  # the kernel_info requests sent: it answers each, in turn
            while time.monotonic() < deadline:
                asked.add(self.kernel_info())
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    if not await self._async_is_alive():
                        raise RuntimeError("Kernel died before replying to kernel_info") from None
                    continue
                if reply["msg_type"] == "kernel_info_reply" and await self._idle_after(asked):
                    self._handle_kernel_info_reply(reply)
                    return
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

        async def _idle_after(self, asked: set[str]) -> bool:
            """Whether the kernel's "idle" for one of the ``asked`` requests arrives now (a subscriber
            misses what was broadcast before it joined: then ask again). The broadcasts of the other
            requests may follow; a notebook client reads only those of its own requests."""
            try:
                while True:
                    msg = await self.iopub_channel.get_msg(timeout=0.1)
                    if (
                        msg["msg_type"] == "status"
                        and msg["parent_header"].get("msg_id") in asked
                        and msg["content"].get("execution_state") == "idle"
                    ):
                        return True
            except Empty:
                return False

    return ReadyClient


@cache
def manager_class() -> type[AsyncKernelManager]:
    """:class:`ForkedKernelManager` (defined on first use: jupyter_client is imported after the seed is forked)."""
    from jupyter_client.manager import AsyncKernelManager

    class ForkedKernelManager(AsyncKernelManager):
        """A kernel manager that makes ``seed`` the kernel instead of launching an interpreter.

        Falls back to the usual launch for a kernelspec that is not this interpreter's
        ipykernel. ``kernel_log``: the file the kernel's stdout and stderr go to. Its clients
        are :func:`client_class`'s.
        """

        def __init__(self, *, seed: KernelSeed, kernel_log: Path, **kw: Any) -> None:
            super().__init__(**kw)
            self.seed: KernelSeed | None = seed
            self.kernel_log = kernel_log
            self.client_factory = client_class()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            args = launcher_args(kernel_cmd)
            seed, self.seed = self.seed, None
            if seed is None or args is None:
                if seed is not None:
                    seed.discard()
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            provisioner: Any = self.provisioner
            cwd = str(kw.get("cwd") or os.getcwd())
            env = {**(kw.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}  # as jupyter_client's launch
            process = seed.launch(args, env=env, cwd=cwd, log=self.kernel_log)
            provisioner.process, provisioner.pid, provisioner.pgid = process, process.pid, process.pid
            provisioner.cwd = cwd
            self._reconcile_connection_info(provisioner.connection_info)

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # After a kill, jupyter_client looks every 0.1 s whether the kernel has ended; it is
            # this process's child, ended within milliseconds: look every 5 ms.
            await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    return ForkedKernelManager


__all__ = [
    "FORK_ENV",
    "KERNEL_MODULES",
    "ForkedKernel",
    "KernelSeed",
    "client_class",
    "exit_now",
    "forking",
    "import_kernel_modules",
    "import_quietly",
    "launcher_args",
    "manager_class",
    "output_to",
]
