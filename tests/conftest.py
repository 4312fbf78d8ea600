"""Shared fixtures: every test gets its own home, so nothing touches the repository's data/."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan

REPO = Path(__file__).resolve().parent.parent


def _repo_params_digest() -> dict[str, str]:
    return {
        str(f.relative_to(REPO)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted((REPO / "params").rglob("*"))
        if f.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def repository_params_untouched() -> Iterator[None]:
    """Fail the run if a test wrote into the repository's params/ (a home without its own
    ``params/rollout.yaml`` resolves ``home.plan`` to the repository's file)."""
    before = _repo_params_digest()
    yield
    after = _repo_params_digest()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"tests changed the repository's parameter files {changed}: write into a home's own params/"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An empty workbook home under tmp_path, also set as $WECOM_EVAL_HOME."""
    monkeypatch.setenv("WECOM_EVAL_HOME", str(tmp_path))
    return Home.from_env()


@pytest.fixture(scope="session")
def plan() -> RolloutPlan:
    """The repository's rollout plan."""
    return load_plan(REPO / "params" / "rollout.yaml")


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The KPI tests' hand-built organisation in a fresh warehouse, one per test module."""
    from kpis_tiny_fixture import tiny

    warehouse = tiny.load(tmp_path_factory.mktemp("tiny") / "w.duckdb")
    yield warehouse
    warehouse.close()
