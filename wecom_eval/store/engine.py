"""Settings for every DuckDB connection the workbook opens: bounded memory, spilling under the home."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Any

MEMORY_ENV = "WECOM_EVAL_DUCKDB_MEMORY"  # e.g. "1GB"; DuckDB spills to disk beyond it
THREADS_ENV = "WECOM_EVAL_DUCKDB_THREADS"
DEFAULT_MEMORY_SHARE = 4  # DuckDB may use a quarter of the machine's memory …
DEFAULT_MEMORY_MAX = 1 << 30  # … but at most 1 GiB by default (beyond it, it spills to disk)
DEFAULT_MEMORY_MIN = 256 << 20
TEMP_FOLDER = ".duckdb-tmp"  # beside the warehouse, under the home


def _machine_memory() -> int | None:
    """The memory this process may use: the cgroup limit if one is set, else the physical memory."""
    sizes = []
    with suppress(AttributeError, ValueError, OSError):  # no sysconf on Windows
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            sizes.append(int(limit))
    except OSError:
        pass
    return min(sizes) if sizes else None


def duckdb_config(folder: Path) -> dict[str, Any]:
    """Settings for every DuckDB connection the workbook opens: bounded memory, spilling under ``folder``.

    ``memory_limit`` is ``$WECOM_EVAL_DUCKDB_MEMORY`` (e.g. ``2GB``) when set, else a quarter
    of the machine's memory (or of the cgroup's limit) between 256 MiB and 1 GiB; DuckDB
    spills to ``folder/.duckdb-tmp`` beyond it, so nothing is written outside the home.
    ``$WECOM_EVAL_DUCKDB_THREADS`` sets the number of threads.
    """
    memory = os.environ.get(MEMORY_ENV)
    if not memory:
        machine = _machine_memory()
        share = machine // DEFAULT_MEMORY_SHARE if machine else DEFAULT_MEMORY_MAX
        memory = f"{max(DEFAULT_MEMORY_MIN, min(DEFAULT_MEMORY_MAX, share)) >> 20}MiB"
    config: dict[str, Any] = {"memory_limit": memory, "temp_directory": str(folder / TEMP_FOLDER)}
    if os.environ.get(THREADS_ENV):
        config["threads"] = int(os.environ[THREADS_ENV])
    return config


__all__ = ["MEMORY_ENV", "TEMP_FOLDER", "THREADS_ENV", "duckdb_config"]
