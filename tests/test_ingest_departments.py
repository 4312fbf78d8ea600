"""Department cells → ids: lookups, names, and the departments a roster creates."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from wecom_eval.ingest.departments import DepartmentError, DepartmentIndex, derived_id, normalise_path
from wecom_eval.plan import RolloutPlan


@pytest.fixture
def existing() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "department_id": [1, 2, 7, 8, 15],
            "name": ["示例集团", "总部", "行政部", "销售部", "销售部"],
            "parent_id": [None, 1, 2, 2, 3],
            "path": ["示例集团", "总部", "总部/行政部", "总部/销售部", "华东分公司/销售部"],
            "is_pilot": [False] * 5,
            "go_live_date": [None] * 5,
        }
    )


def test_derived_ids_are_stable_big_and_documented():
    # 2**32 + the first 6 bytes of SHA-256 of the UTF-8 path, big-endian (docs/ingest.md).
    expected = 2**32 + int.from_bytes(hashlib.sha256("总部/销售部".encode()).digest()[:6], "big")
    assert derived_id("总部/销售部") == derived_id(" 总部 ／ 销售部 ") == expected
    assert 2**32 <= expected < 2**53
    assert derived_id("总部/行政部") != expected


def test_paths_normalise():
    assert normalise_path("总部\\华东 > 销售部/") == "总部/华东/销售部"


def test_lookups_by_path_name_and_company_prefix(plan: RolloutPlan, existing: pd.DataFrame):
    index = DepartmentIndex.from_frame(plan, existing)
    assert index.resolve("总部/行政部") == 7
    assert index.resolve("示例集团/总部/行政部") == 7  # the company root's name in front is dropped
    assert index.resolve("行政部") == 7  # a unique name
    with pytest.raises(DepartmentError) as err:
        index.resolve("销售部")
    assert "华东分公司/销售部, 总部/销售部" in err.value.expected and "full path" in err.value.fix
    with pytest.raises(DepartmentError) as err:
        index.resolve("总部/采购部")
    assert "Ingest the roster first" in err.value.fix


def test_the_roster_creates_missing_levels_with_the_plans_pilots_and_go_live(plan: RolloutPlan):
    index = DepartmentIndex.from_frame(plan, None)
    leaf = index.ensure("华南分公司/销售部/一组")
    created = index.created_frame()
    assert list(created["path"]) == ["华南分公司", "华南分公司/销售部", "华南分公司/销售部/一组"]
    assert leaf == derived_id("华南分公司/销售部/一组")
    parents = list(created["parent_id"].astype(object))
    assert parents == [pd.NA, derived_id("华南分公司"), derived_id("华南分公司/销售部")]
    # params/rollout.yaml: 华南分公司 goes live in week 5 (2026-03-30); pilots in week 1 (2026-03-02)
    assert set(created["go_live_date"]) == {pd.Timestamp("2026-03-30")}
    index.ensure("总部/销售部")
    assert index.created[derived_id("总部/销售部")]["is_pilot"] is True


def test_given_ids_are_used_and_contradictions_refused(plan: RolloutPlan, existing: pd.DataFrame):
    index = DepartmentIndex.from_frame(plan, existing)
    assert index.ensure("总部/技术部", dept_id=11, parent_id=2) == 11
    assert index.created[11]["parent_id"] == 2
    assert index.ensure(None, dept_id=7) == 7
    with pytest.raises(DepartmentError):
        index.ensure("总部/财务部", dept_id=7)  # 7 is 总部/行政部
    with pytest.raises(DepartmentError):
        index.ensure("总部/行政部", dept_id=99)  # the path has id 7
    with pytest.raises(DepartmentError):
        index.ensure("总部/法务部", parent_id=5)  # 总部 is 2
    with pytest.raises(DepartmentError) as err:
        index.ensure(None)
    assert "Every employee belongs to a department" in err.value.fix
    fresh = DepartmentIndex.from_frame(plan, None)
    assert fresh.ensure("市场部") == derived_id("市场部")  # an unknown bare name becomes a top-level department


def test_a_cell_naming_several_departments_is_refused(plan: RolloutPlan):
    index = DepartmentIndex.from_frame(plan, None)
    with pytest.raises(DepartmentError) as err:
        index.ensure("总部/行政部;总部/销售部")
    assert "names several" in err.value.expected
    assert not index.created
