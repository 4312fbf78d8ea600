"""Where the workbook keeps what it writes: ``$WECOM_EVAL_HOME`` or the repository root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "WECOM_EVAL_HOME"


def _default_root() -> Path:
    # The package lives in <repo>/wecom_eval; the repository root is the default home.
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Home:
    """The folders under the workbook's home. Nothing is created until asked for."""

    root: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> Home:
        """The home named by ``root``, else by ``$WECOM_EVAL_HOME``, else the repository root."""
        chosen = root if root is not None else os.environ.get(HOME_ENV) or _default_root()
        return cls(Path(chosen).expanduser().resolve())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def demo(self) -> Path:
        return self.data / "demo"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def lock(self) -> Path:
        return self.data / "warehouse.lock"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def params(self) -> Path:
        """Parameter files: the home's own ``params/`` if it has one, else the repository's."""
        own = self.root / "params"
        return own if own.is_dir() else _default_root() / "params"

    @property
    def plan(self) -> Path:
        return self.params / "rollout.yaml"
