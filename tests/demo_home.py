"""A demo organisation built in a test's own home, with the environment it needs set meanwhile."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan


@contextmanager
def demo_home(root: Path, environ: Mapping[str, str], *, employees: int = 300) -> Iterator[tuple[Home, RolloutPlan]]:
    """Build the demo organisation in ``root`` (whose ``params/`` is ready) with ``environ`` set
    (the salt and any secrets) for as long as the block runs."""
    from wecom_eval.demo import DemoConfig, build_demo

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WECOM_EVAL_HOME", str(root))
        for name, value in environ.items():
            mp.setenv(name, value)
        home = Home.from_env()
        plan = load_plan(home.plan)
        build_demo(home, DemoConfig(employees=employees), plan)
        yield home, plan
