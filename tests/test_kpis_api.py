"""The public surface of wecom_eval.kpis is what __all__ says, each name documented."""

from __future__ import annotations

import inspect

import pytest

from wecom_eval import kpis
from wecom_eval.kpis import queries


def test_all_names_exist_and_are_documented() -> None:
    assert sorted(kpis.__all__) == kpis.__all__
    for name in kpis.__all__:
        obj = getattr(kpis, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
    public = {
        n for n, v in vars(kpis).items() if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
    }
    assert public <= set(kpis.__all__)


def test_every_function_takes_the_warehouse_and_the_plan_first() -> None:
    for name in kpis.__all__:
        obj = getattr(kpis, name)
        if not inspect.isfunction(obj) or name.startswith("path_") or name == "target_path":
            continue
        params = list(inspect.signature(obj).parameters.values())
        assert [p.name for p in params[:2]] == ["source", "plan"], name
        assert all(p.kind is p.KEYWORD_ONLY for p in params[2:]), f"{name}: options must be keyword-only"


def test_sql_slots_must_all_be_filled() -> None:
    with pytest.raises(ValueError, match="people"):
        queries.render(queries.REGISTRATION, select="", group="")
    assert "{" not in queries.render(queries.REGISTRATION, people="x", select="", group="")
