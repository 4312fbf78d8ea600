"""Report parameters: typed, validated before anything runs, errors that name the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wecom_eval.errors import InputError
from wecom_eval.reporting import params as P
from wecom_eval.reporting import registry

REPO = Path(__file__).resolve().parents[1]


def _problems(exc: InputError) -> dict[str, P.Problem]:  # type: ignore[name-defined]
    return {p.where: p for p in exc.problems}


def test_every_report_has_a_model_and_a_scheduled_parameter_file():
    # the list of reports and its order: tests/test_reports_registry.py
    for report in registry.names():
        path = REPO / "params" / f"{report}.yaml"
        params = P.load_params(report, path=path, overrides={"as_of": "2026-05-25"})
        assert params.as_of == dt.date(2026, 5, 25)
        assert params.language == "zh"


def test_unknown_key_names_the_parameter_and_lists_the_allowed_ones():
    with pytest.raises(InputError) as info:
        P.validate_params("weekly", {"as_of": "2026-05-25", "weeks_show": 8})
    problem = _problems(info.value)["weeks_show"]
    assert problem.value == 8
    assert "weeks_shown" in problem.expected and "as_of" in problem.expected
    assert info.value.exit_code == 2


def test_bad_choice_names_value_and_allowed_values():
    with pytest.raises(InputError) as info:
        P.validate_params("deepening-review", {"as_of": "2026-05-25", "inference": "bootstrap"})
    problem = _problems(info.value)["inference"]
    assert problem.value == "bootstrap"
    for allowed in ("'auto'", "'wild'", "'randomization'", "'cluster'"):
        assert allowed in problem.expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n_boot", "999", "whole number"),  # text is not a number: no silent coercion
        ("n_boot", 5, "≥ 99"),  # out of range
        ("deck", "yes", "true or false"),
        ("as_of", "2026-02-30", "YYYY-MM-DD"),  # not a real date
        ("as_of", "next monday", "YYYY-MM-DD"),
        ("wave", 3, "text"),
    ],
)
def test_wrong_types_are_errors(name, value, expected):
    values = {"as_of": "2026-05-25", name: value}
    with pytest.raises(InputError) as info:
        P.validate_params("quarterly", values)
    problem = _problems(info.value)[name]
    assert problem.value == value
    assert expected in problem.expected


def test_missing_as_of_says_how_to_give_it():
    with pytest.raises(InputError) as info:
        P.validate_params("weekly", {})
    assert "--as-of" in _problems(info.value)["as_of"].fix


def test_unknown_report_lists_the_reports():
    with pytest.raises(InputError) as info:
        P.report_model("daily")
    assert "weekly" in info.value.problems[0].expected


def test_parameter_file_errors(tmp_path):
    bad = tmp_path / "weekly.yaml"
    bad.write_text("language: [zh\n", encoding="utf-8")
    with pytest.raises(InputError, match="line"):
        P.load_params("weekly", path=bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- zh\n", encoding="utf-8")
    with pytest.raises(InputError, match="mapping"):
        P.load_params("weekly", path=listing)
    with pytest.raises(InputError, match="existing parameter file"):
        P.load_params("weekly", path=tmp_path / "missing.yaml")


def test_command_line_overrides_the_file_and_none_means_not_given(tmp_path):
    path = tmp_path / "weekly.yaml"
    path.write_text("language: en\nweeks_shown: 4\n", encoding="utf-8")
    params = P.load_params("weekly", path=path, overrides={"as_of": "2026-05-25", "language": None, "weeks_shown": 6})
    assert (params.language, params.weeks_shown) == ("en", 6)


def test_no_parameter_can_hold_a_secret():
    assert P.secret_like_names() == []


def test_parameters_cell_has_one_typed_line_per_parameter():
    cell = P.parameters_cell("quarterly")
    lines = cell.splitlines()
    assert [line.split(":")[0] for line in lines] == list(P.QuarterlyParams.model_fields)
    assert lines[0].startswith('as_of: str = "2026-05-25"  # ')
    assert "deck: bool = True  # " in cell
    # every default validates: the notebook runs as committed
    values = {line.split(":")[0]: eval(line.split("=", 1)[1].split("  #")[0]) for line in lines}  # noqa: S307
    P.validate_params("quarterly", values)


def test_docs_list_every_parameter():
    docs = (REPO / "docs" / "reports.md").read_text(encoding="utf-8")
    for report, spec in registry.reports().items():
        assert f"`{report}`" in docs
        for name in spec.params.model_fields:
            assert f"`{name}`" in docs, name


def test_the_reports_package_exports_what_it_lists():
    import wecom_eval.reporting as reports

    for name in reports.__all__:
        assert hasattr(reports, name), name
    assert {"open_report", "run_all", "run_report", "validate_params"} <= set(reports.__all__)
