"""Where the workbook keeps what it writes: ``$WECOM_EVAL_HOME`` or the repository root.

Parameters overlay file by file: a file in ``<home>/params/`` (the plan, a report's
parameters, a mapping file) replaces only the repository's file of the same name; every
other repository file keeps applying.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "WECOM_EVAL_HOME"
SALT_ENV = "WECOM_EVAL_SALT"  # the pseudonymisation key's variable, unless the plan's privacy.salt_env names another


def _default_root() -> Path:
    # The package lives in <repo>/wecom_eval; the repository root is the default home.
    return Path(__file__).resolve().parent.parent


REPO_PARAMS = _default_root() / "params"


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
    def own_params(self) -> Path:
        """The home's own parameter folder (``<home>/params``): where ``wecom-eval init`` writes the plan."""
        return self.root / "params"

    @property
    def params_dirs(self) -> tuple[Path, ...]:
        """The parameter folders in force, the repository's first and the home's own last (it wins)."""
        repo, own = REPO_PARAMS, self.own_params
        if not own.is_dir() or own.resolve() == repo.resolve():
            return (repo,)
        return (repo, own)

    def param_file(self, name: str) -> Path:
        """The parameter file ``name`` (``weekly.yaml``, ``mappings/acme.yaml``) in force.

        A file in the home's own ``params/`` replaces only the repository file of the same
        name; a name found in neither place gives the repository's (missing) path.
        """
        for folder in reversed(self.params_dirs):
            if (folder / name).is_file():
                return folder / name
        return self.params_dirs[0] / name

    def param_files(self, sub: str = "", *, suffixes: tuple[str, ...] = (".yaml", ".yml")) -> list[Path]:
        """Every parameter file directly under ``sub`` in either folder, one per name (home wins), by name."""
        chosen: dict[str, Path] = {}
        for folder in self.params_dirs:
            where = folder / sub if sub else folder
            if where.is_dir():
                chosen.update({p.name: p for p in where.iterdir() if p.is_file() and p.suffix in suffixes})
        return [chosen[name] for name in sorted(chosen)]

    @property
    def plan(self) -> Path:
        """The rollout plan in force: the home's own ``params/rollout.yaml``, else the repository's."""
        return self.param_file("rollout.yaml")
