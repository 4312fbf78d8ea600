"""Surveys: questions classified, answers tidied, respondents pseudonymised with a keyed hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest, pseudonymise
from wecom_eval.ingest.survey import question_name, salt_from_env
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import open_reader

SALT = "survey-test-salt-0123456789"


def test_pseudonyms_are_hmac_sha256():
    # RFC 4231, test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?") =
    # 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
    assert pseudonymise("what do ya want for nothing?", "Jefe") == "r5bdcc146bf60754"


def test_the_demo_and_ingest_give_one_respondent_the_same_pseudonym():
    import numpy as np

    from wecom_eval.demo.surveys import pseudonyms

    assert pseudonyms(np.array(["u000001"]), SALT)[0] == pseudonymise("u000001", SALT)


@pytest.mark.parametrize(("value", "got"), [(None, "unset"), ("", "unset"), ("short", "5 characters")])
def test_a_missing_or_weak_salt_is_refused(
    value: str | None, got: str, plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch
):
    if value is None:
        monkeypatch.delenv("WECOM_EVAL_SALT", raising=False)
    else:
        monkeypatch.setenv("WECOM_EVAL_SALT", value)
    with pytest.raises(InputError) as err:
        salt_from_env(plan)
    assert err.value.exit_code == 2
    assert f"environment variable WECOM_EVAL_SALT: got {got!r}" in str(err.value)


def test_the_salt_never_appears_in_the_report_or_the_warehouse(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    path = tmp_path / "s.csv"
    path.write_text("账号,Q1\nzhangsan,5\n", encoding="utf-8")
    report = ingest("survey", [path], home=home, wave="w1")
    with open_reader(home) as wh:
        stored = wh.query("SELECT * FROM survey_responses").to_string()
    for text in (str(report), stored):
        assert SALT not in text and "zhangsan" not in text


def test_question_names_lose_numbers_and_markers_only():
    assert question_name("4、您最希望优化的流程（多选）") == "您最希望优化的流程"
    assert question_name("第2题：您的建议") == "您的建议"
    assert question_name("[多选题] Which features do you use?") == "Which features do you use?"
    assert question_name("Q3") == "Q3"


def _survey(home: Home, tmp_path: Path, text: str, **kwargs: object) -> dict:
    path = tmp_path / "survey.csv"
    path.write_text(text, encoding="utf-8")
    ingest("survey", [path], home=home, **kwargs)  # type: ignore[arg-type]
    with open_reader(home) as wh:
        return {t: wh.frame(t) for t in ("survey_responses", "survey_items", "survey_choices", "survey_text")}


def test_questions_are_classified_by_their_answers(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    got = _survey(
        home,
        tmp_path,
        (
            "编号,批次,满意度,推荐,每天用多久,常用功能（多选）,备注\n"
            "1,w1,非常满意,5,30,审批、文档,好\n"
            "2,w1,满意,4,45,文档,\n"
            "3,w1,一般,,60,,慢\n"
            "4,w1,不满意,2,90,审批,\n"
            "5,w1,非常不满意,1,20,考勤,\n"
        ),
    )
    assert set(got["survey_items"]["item"]) == {"满意度", "推荐"}  # 每天用多久 (30–90) is text, not a score
    assert got["survey_items"]["score"].isna().sum() == 1  # the blank 推荐 of respondent 3: skipped item
    assert sorted(got["survey_choices"]["choice"]) == ["审批", "审批", "文档", "文档", "考勤"]
    assert set(got["survey_text"]["question"]) == {"每天用多久", "备注"}
    assert set(got["survey_responses"]["wave"]) == {"w1"}


def test_a_mapping_can_declare_a_question_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "params" / "mappings").mkdir(parents=True)
    (tmp_path / "params" / "rollout.yaml").write_text((repo / "params" / "rollout.yaml").read_text("utf-8"), "utf-8")
    (tmp_path / "params" / "mappings" / "s.yaml").write_text("survey:\n  text: [评分]\n", encoding="utf-8")
    home = Home.from_env(tmp_path)
    got = _survey(home, tmp_path, "编号,评分\n1,5\n2,4\n", wave="w1")
    assert got["survey_items"].empty and list(got["survey_text"]["text"]) == ["5", "4"]


def test_a_survey_needs_a_wave(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    path = tmp_path / "s.csv"
    path.write_text("编号,Q1\n1,5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        ingest("survey", [path], home=home)
    assert "the survey wave: --wave NAME, or a 批次 (wave) column" in str(err.value)


def test_a_respondent_answering_twice_differently_is_refused(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)
    path = tmp_path / "s.csv"
    path.write_text("编号,Q1\n7,5\n8,4\n7,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        ingest("survey", [path], home=home, wave="w1")
    assert "rows 2, 4" in str(err.value) and "item=Q1" in str(err.value)
