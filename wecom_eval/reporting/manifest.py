"""``manifest.json``: what a run was — parameters, versions, commit, timing, status.

It makes a report reproducible and a failure traceable: the parameters (never a secret —
no parameter can hold one), the versions of the packages that computed the numbers, the
git commit of the workbook (and whether the tree had uncommitted changes), the kernel,
when the run started, how long it took, and how it ended.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES: tuple[str, ...] = (
    "wecom-eval",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "duckdb",
    "pyarrow",
    "pydantic",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbformat",
    "nbclient",
    "ipykernel",
    "jupyter_client",
    "xlsxwriter",
    "python-pptx",
    "chinese-calendar",
)
REPO_ROOT = Path(__file__).resolve().parents[2]


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None for a package that is not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """The commit checked out in ``repo`` and whether tracked files differ from it."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=15, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def build(
    *,
    report: str,
    as_of: dt.date,
    params: Mapping[str, Any],
    status: str,
    started: dt.datetime,
    finished: dt.datetime,
    kernel: str,
    cell_timeout: float,
    notebook: str,
    outputs: Sequence[str],
    error: str | None = None,
    source_notebook: str | None = None,
    tables: Sequence[Mapping[str, Any]] = (),
    plan: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest of one run (all values plain JSON).

    ``plan`` is the rollout plan the run measured against: its ``path`` and ``sha256``.

    ``tables`` lists the tables the report showed with whom they describe (``people``: a
    column or a number), the privacy floor and how many rows were hidden under it.
    """
    if status not in ("succeeded", "failed"):
        raise ValueError(f"status must be 'succeeded' or 'failed', got {status!r}")
    return {
        "report": report,
        "as_of": as_of.isoformat(),
        "status": status,
        "parameters": dict(params),
        "plan": dict(plan) if plan else None,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - started).total_seconds(), 2),
        "notebook": notebook,
        "source_notebook": source_notebook,
        "outputs": list(outputs),
        "tables": [dict(t) for t in tables],
        "error": error,
        "kernel": kernel,
        "cell_timeout_seconds": cell_timeout,
        "git": git_state(),
        "versions": package_versions(),
        "platform": platform.platform(terse=True),
    }


def write(manifest: Mapping[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


__all__ = ["PACKAGES", "build", "git_state", "package_versions", "read", "write"]
