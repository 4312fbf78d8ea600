"""Company mapping files: other headers and texts without code, and clear errors when they are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest
from wecom_eval.ingest.mapping import load_mappings, mapping_files

REPO = Path(__file__).resolve().parents[1]


def test_the_example_mapping_file_is_valid_and_applies_to_its_kind_only():
    folder = REPO / "params" / "mappings"
    assert [p.name for p in mapping_files(folder)] == ["example-oa.yaml"]
    legacy = load_mappings(folder, kind="legacy-approvals")
    assert legacy.files == (folder / "example-oa.yaml",)
    assert "请求编号" in legacy.aliases.aliases("record_id")
    assert legacy.vocabulary("approval_status")["归档"] == "approved"
    assert load_mappings(folder, kind="roster").files == ()


def _home_with_mapping(tmp_path: Path, text: str) -> Home:
    (tmp_path / "params" / "mappings").mkdir(parents=True)
    (tmp_path / "params" / "rollout.yaml").write_text((REPO / "params" / "rollout.yaml").read_text("utf-8"), "utf-8")
    (tmp_path / "params" / "mappings" / "acme.yaml").write_text(text, encoding="utf-8")
    return Home.from_env(tmp_path)


def test_a_company_export_loads_after_adding_a_mapping_file_and_no_code(tmp_path: Path):
    export = tmp_path / "hr.csv"
    export.write_text(
        "人员代码,人员名称,组织,到岗时间,企微号,状况\nP01,周杰,总部/行政部,2020-01-06,zhoujie,冻结\n", encoding="utf-8"
    )
    bare = Home.from_env(tmp_path / "bare")
    with pytest.raises(InputError) as err:
        ingest("roster", [export], home=bare)
    assert "no column for employee_id" in str(err.value) and "Headers found: 人员代码" in str(err.value)
    home = _home_with_mapping(
        tmp_path / "acme",
        """
kinds: [roster]
columns:
  employee_id: [人员代码]
  name: [人员名称]
  department: [组织]
  hire_date: [到岗时间]
  userid: [企微号]
  member_status: [状况]
values:
  member_status: {冻结: 2}
""",
    )
    report = ingest("roster", [export], home=home)
    assert report.results["members"].inserted == 1
    assert "acme.yaml" in str(report)


def test_mapping_aliases_win_over_packaged_ones(tmp_path: Path):
    home = _home_with_mapping(tmp_path, "columns:\n  hire_date: [状态]\n")  # a silly but legal choice
    mappings = load_mappings(home.own_params / "mappings", kind="roster")
    assert mappings.aliases.overrides["hire_date"] == ("状态",)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("columns:\n  emp_no: [工号]\n", "unknown field(s) emp_no"),
        ("kinds: [payroll]\n", "kinds.0"),
        ("values:\n  member_status: {冻结: 3}\n", "1, 2, 4 or 5"),
        ("values:\n  likert: {很好: 7}\n", "1 to 5"),
        ("colums:\n  name: [x]\n", "colums"),
        ("columns: [unclosed\n", "valid YAML"),
        ("- a list\n", "a mapping of keys"),
    ],
)
def test_bad_mapping_files_name_the_file_and_key(text: str, fragment: str, tmp_path: Path):
    home = _home_with_mapping(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_mappings(home.own_params / "mappings", kind="roster")
    assert "acme.yaml" in str(err.value) and fragment in str(err.value)
    assert err.value.exit_code == 2


def test_survey_roles_and_item_names_from_a_mapping(tmp_path: Path):
    home = _home_with_mapping(
        tmp_path,
        """
survey:
  multi_select: ["最常用的功能"]
  text: ["每天用多久"]
  items: {"1、整体满意度": overall}
department:
  strip_prefix: [示例集团]
""",
    )
    m = load_mappings(home.own_params / "mappings", kind="survey")
    assert m.survey_role("最常用的功能") == "multi_select" and m.survey_role("每天用多久") == "text"
    assert m.survey_role("其他") is None
    assert m.item_name("1、整体满意度") == "overall"
    assert m.strip_prefix == ("示例集团",)
