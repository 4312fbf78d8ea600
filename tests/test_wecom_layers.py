"""The WeCom packages stay on their floors: ``wecom/`` imports only the ground floor; ``fetch/``
and ``fakeserver/`` (sources) never reach the KPIs, the reports or the commands. Imports inside
functions count too, so the check reads every import statement of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import wecom_eval

PACKAGE = Path(wecom_eval.__file__).parent
GROUND = {"errors", "home", "yamlfile", "workcal", "plan", "lock", "privacy", "_lazy", "text", "stats", "wecom"}
SOURCES = GROUND | {"store", "ingest", "fetch", "demo", "fakeserver"}


def imported(path: Path) -> set[str]:
    """The ``wecom_eval`` subpackages or modules a module imports (first name after ``wecom_eval.``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" if node.module == "wecom_eval" else node.module for a in node.names]
        else:
            continue
        out |= {n.split(".")[1] for n in names if n.startswith("wecom_eval.")}
    return out


@pytest.mark.parametrize(("package", "allowed"), [("wecom", GROUND), ("fetch", SOURCES), ("fakeserver", SOURCES)])
def test_the_wecom_packages_import_nothing_above_their_floor(package: str, allowed: set[str]):
    modules = sorted((PACKAGE / package).rglob("*.py"))
    assert modules
    above = {f"{m.relative_to(PACKAGE)} imports wecom_eval.{name}" for m in modules for name in imported(m) - allowed}
    assert not above


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from wecom_eval.kpis import x\n    return x\n", encoding="utf-8")
    assert imported(module) == {"kpis"}
