"""Shared fixtures: every test gets its own home, so nothing touches the repository's data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan

REPO = Path(__file__).resolve().parent.parent


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
