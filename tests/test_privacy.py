"""Privacy in one place: small-group and complementary suppression, pseudonyms, restricted marks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from wecom_eval import privacy
from wecom_eval.errors import InputError
from wecom_eval.plan import Privacy, RolloutPlan


def _table(sizes: list[int], **extra: list[object]) -> pd.DataFrame:
    names = [chr(ord("a") + i) for i in range(len(sizes))]
    return pd.DataFrame({"department": names, "n": sizes, "rate": np.linspace(0.1, 0.9, len(sizes)), **extra})


def _hidden(out: pd.DataFrame) -> list[str]:
    return out.loc[out["suppressed"], "department"].tolist()


# ---- primary and complementary suppression ---------------------------------------------------


def test_small_group_is_hidden_with_its_smallest_sibling() -> None:
    # a (3) is under the floor of 5; a alone could be worked out from the total, so the
    # smallest visible sibling c (7) goes too; a + c describe 10 people: enough.
    out = privacy.suppress(_table([3, 40, 7, 25]), size="n", by=["department"], min_group_size=5)
    assert _hidden(out) == ["a", "c"]
    assert out.loc[out["department"] == "a", "suppression"].item() == privacy.SMALL_GROUP
    assert out.loc[out["department"] == "c", "suppression"].item() == privacy.COMPLEMENTARY
    assert out.loc[out["suppressed"], ["n", "rate"]].isna().all().all()
    assert out.loc[~out["suppressed"], "rate"].notna().all()


def test_two_small_groups_that_together_stay_under_the_floor_take_a_third() -> None:
    # a (1) and b (2) are hidden; together they describe 3 < 5 people, which the total minus the
    # visible siblings would reveal, so the next-smallest, c (6), is hidden as well.
    out = privacy.suppress(_table([1, 2, 6, 30]), size="n", by=["department"], min_group_size=5)
    assert _hidden(out) == ["a", "b", "c"]


def test_two_small_groups_that_reach_the_floor_together_are_enough() -> None:
    out = privacy.suppress(_table([2, 3, 6, 30]), size="n", by=["department"], min_group_size=5)
    assert _hidden(out) == ["a", "b"]


def test_nothing_hidden_when_every_group_reaches_the_floor() -> None:
    out = privacy.suppress(_table([5, 6, 40]), size="n", by=["department"], min_group_size=5)
    assert not out["suppressed"].any()
    assert out["suppression"].isna().all()


def test_ties_for_the_complementary_cell_are_broken_by_the_label_order() -> None:
    out = privacy.suppress(_table([4, 9, 9, 9]), size="n", by=["department"], min_group_size=5)
    assert _hidden(out) == ["a", "b"]


def test_groups_of_nobody_are_left_alone() -> None:
    # a describes nobody (a feature that does not apply there): it is not hidden and does not
    # count as the hidden sibling's partner; b (3) still needs c (8).
    out = privacy.suppress(_table([0, 3, 8, 50]), size="n", by=["department"], min_group_size=5)
    assert _hidden(out) == ["b", "c"]


def test_a_cell_hidden_before_is_protected_like_a_small_group() -> None:
    # a was blanked by an earlier step (its size is unknown: it counts as 1); alone it could be
    # worked out, so the smallest visible sibling c (7) goes too: 1 + 7 = 8 >= 5 is enough.
    out = privacy.suppress(
        _table([0, 40, 7, 25]), size="n", by=["department"], min_group_size=5, hidden_before=[True, False, False, False]
    )
    assert _hidden(out) == ["a", "c"]
    assert out["suppression"].fillna("").tolist()[:3] == [privacy.SMALL_GROUP, "", privacy.COMPLEMENTARY]
    # two cells hidden before whose sizes are unknown (1 + 1 < 5) take the smallest visible one too
    out = privacy.suppress(
        _table([0, 0, 40, 7, 25]),
        size="n",
        by=["department"],
        min_group_size=5,
        hidden_before=[True, True, False, False, False],
    )
    assert _hidden(out) == ["a", "b", "d"]


def test_tables_within_a_frame_are_protected_separately() -> None:
    frame = pd.DataFrame(
        {"week": [1, 1, 1, 2, 2, 2], "department": list("abcabc"), "n": [3, 10, 12, 6, 10, 12], "rate": 0.5}
    )
    out = privacy.suppress(frame, size="n", by=["department"], within=["week"], min_group_size=5)
    assert out.loc[out["week"] == 1, "suppressed"].tolist() == [True, True, False]
    assert not out.loc[out["week"] == 2, "suppressed"].any()


def test_branch_subtotals_need_their_own_complementary_cell() -> None:
    # x2 (3) is hidden. With only a company total, the smallest other cell (y1, 6) protects it.
    # With branch subtotals, branch X minus x1 would give x2, so x1 is hidden instead (finer
    # subtotals first), which protects the company total as well: y1 stays visible.
    frame = pd.DataFrame(
        {"branch": ["X", "X", "Y", "Y"], "department": ["x1", "x2", "y1", "y2"], "n": [20, 3, 6, 40], "rate": 0.5}
    )
    company_only = privacy.suppress(frame, size="n", by=["department"], min_group_size=5)
    assert _hidden(company_only) == ["x2", "y1"]
    with_branches = privacy.suppress(frame, size="n", by=["department"], subtotals=[(), ("branch",)], min_group_size=5)
    assert _hidden(with_branches) == ["x1", "x2"]
    assert with_branches["branch"].notna().all()  # labels stay visible


def test_input_is_not_changed_and_dtypes_can_hold_blanks() -> None:
    frame = pd.DataFrame(
        {
            "department": list("abc"),
            "n": [3, 9, 20],
            "count": [1, 2, 3],
            "flag": [True, False, True],
            "note": ["x", "y", "z"],
        }
    )
    before = frame.copy()
    out = privacy.suppress(frame, size="n", by=["department"], keep=["note"], min_group_size=5)
    pd.testing.assert_frame_equal(frame, before)
    assert out["count"].isna().tolist() == [True, True, False]
    assert out["flag"].isna().tolist() == [True, True, False]
    assert out["note"].tolist() == ["x", "y", "z"]


def test_misuse_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="columns \\['people'\\]"):
        privacy.suppress(_table([3, 9]), size="people", by=["department"], min_group_size=5)
    with pytest.raises(ValueError, match="at least 1"):
        privacy.suppress(_table([3, 9]), size="n", by=["department"], min_group_size=0)


# ---- the guarantees, on many random tables ---------------------------------------------------


def _recoverable(sizes: np.ndarray, hidden: np.ndarray, floor: int) -> bool:
    """Whether subtraction from the total recovers a hidden group of fewer than ``floor`` people.

    The total and the visible cells give the sum of the hidden cells; it identifies a group
    only if exactly one cell is hidden, and it describes too few people if the hidden cells
    together are under the floor. With no visible sibling the sum is the total itself, which
    is under the floor only when the total is (and then it is hidden in its own table).
    """
    live = hidden & (sizes > 0)
    visible = ~hidden & (sizes > 0)
    return bool(live.any() and visible.any() and (live.sum() == 1 or sizes[live].sum() < floor))


@pytest.mark.parametrize("seed", range(40))
def test_no_visible_cell_is_small_and_nothing_small_can_be_worked_out(seed: int) -> None:
    rng = np.random.default_rng(seed)
    floor = int(rng.integers(2, 11))
    n_weeks, n_dept = 3, int(rng.integers(2, 12))
    sizes = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30, 100], size=(n_weeks, n_dept))
    branch = rng.integers(0, 3, size=n_dept)
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(n_weeks), n_dept),
            "department": np.tile(np.arange(n_dept), n_weeks),
            "branch": np.tile(branch, n_weeks),
            "n": sizes.ravel(),
            "rate": rng.random(n_weeks * n_dept),
        }
    )
    out = privacy.suppress(
        frame, size="n", by=["department"], within=["week"], subtotals=[(), ("branch",)], min_group_size=floor
    )
    visible = out.loc[~out["suppressed"]]
    assert ((visible["n"] == 0) | (visible["n"] >= floor)).all()
    for (_week, _branch), part in itertools.chain(
        ((k, g) for k, g in frame.assign(h=out["suppressed"]).groupby(["week", "branch"])),
        ((k, g) for k, g in frame.assign(h=out["suppressed"], b=0).groupby(["week", "b"])),
    ):
        assert not _recoverable(part["n"].to_numpy(), part["h"].to_numpy(), floor)


# ---- pseudonyms ----------------------------------------------------------------------------


@pytest.fixture
def salted_plan(plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch) -> RolloutPlan:
    monkeypatch.setenv(plan.privacy.salt_env, "s3cret-key-for-tests-0123456789")
    return plan


def test_pseudonyms_are_stable_keyed_and_keep_missing_values(
    salted_plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = pd.Series(["u001", "u002", None, "u001"], index=[10, 11, 12, 13])
    first = privacy.pseudonymise(ids, salted_plan)
    assert first.index.tolist() == [10, 11, 12, 13]
    assert first[10] == first[13] and first[10] != first[11]
    assert first[12] is None
    assert first[10].startswith("p_") and len(first[10]) == 2 + 16
    # HMAC-SHA256 of "u001" under the key, first 16 hex digits (computed with Python's hmac module)
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret-key-for-tests-0123456789", b"u001", hashlib.sha256).hexdigest()[:16]
    assert first[10] == "p_" + expected
    assert privacy.pseudonymise(ids, salted_plan).equals(first)
    monkeypatch.setenv(salted_plan.privacy.salt_env, "another-key-entirely-0123456789")
    assert privacy.pseudonymise(ids, salted_plan)[10] != first[10]


def test_missing_or_short_key_names_the_variable_never_a_value(
    plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(plan.privacy.salt_env, raising=False)
    with pytest.raises(InputError) as missing:
        privacy.pseudonymise(["u001"], plan)
    assert plan.privacy.salt_env in str(missing.value) and "unset" in str(missing.value)
    monkeypatch.setenv(plan.privacy.salt_env, "tooshort")
    with pytest.raises(InputError) as short:
        privacy.pseudonymise(["u001"], plan)
    assert "tooshort" not in str(short.value) and "8 characters" in str(short.value)


def test_the_plan_names_the_variable(plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = plan.model_copy(update={"privacy": Privacy(salt_env="MY_COMPANY_SALT")})
    monkeypatch.setenv("MY_COMPANY_SALT", "a-company-specific-key-123456")
    monkeypatch.delenv(plan.privacy.salt_env, raising=False)
    assert privacy.pseudonymise(["u1"], custom)[0].startswith("p_")


# ---- restricted outputs --------------------------------------------------------------------


def test_restricted_mark_survives_a_copy() -> None:
    frame = privacy.mark_restricted(pd.DataFrame({"name": ["张三"]}), "a named list")
    assert privacy.is_restricted(frame) and privacy.is_restricted(frame.copy())
    assert not privacy.is_restricted(pd.DataFrame({"n": [1]}))


def test_floor_reads_the_plan(plan: RolloutPlan) -> None:
    assert privacy.floor(plan) == plan.privacy.min_group_size == 5
    assert privacy.floor(plan, text=True) == plan.privacy.min_group_size_text == 10
