"""One writer at a time: a file lock beside the warehouse, and one per report.

A second writer waits up to ``timeout`` seconds, then fails with :class:`LockBusy` (exit 5)
naming the process that holds the lock. The operating system releases a lock when its
holder dies, however it dies (SIGKILL included).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from wecom_eval.errors import LockBusy

LOCK_TIMEOUT_ENV = "WECOM_EVAL_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0


@contextmanager
def writer_lock(path: Path, *, timeout: float | None = None, what: str = "the warehouse lock") -> Iterator[None]:
    """Hold the writer lock at ``path`` for the duration of the block (``what`` names it in messages)."""
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_TIMEOUT))
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = path.with_suffix(path.suffix + ".holder")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        who = holder.read_text(encoding="utf-8").strip() if holder.exists() else "another process"
        raise LockBusy(
            f"another run holds {what} {path} ({who}); waited {timeout:g} s. "
            "Let it finish and try again (scheduled runs retry on their next tick)."
        ) from None
    try:
        holder.write_text(f"pid {os.getpid()} on {socket.gethostname()}", encoding="utf-8")
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()
