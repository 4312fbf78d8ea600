"""kpis.json follows its committed JSON schema."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from wecom_eval.reporting import kpis_json

TARGETS = ("registration", "daily_active", "feature_penetration", "satisfaction", "pilot_efficiency")


def kpi(id_: str, **extra):
    row = {
        "id": id_,
        "label": id_,
        "group": None,
        "unit": "share",
        "estimate": 0.5,
        "ci_low": 0.4,
        "ci_high": 0.6,
        "confidence": 0.9,
        "target": 0.6,
        "deadline": "2026-04-30",
        "verdict": "missed",
        "n": 100,
        "method": "Wilson score",
        "note": None,
    }
    row.update(extra)
    return row


def meta():
    return {
        "report": "weekly",
        "as_of": "2026-05-25",
        "language": "zh",
        "period": {"start": "2026-05-18", "end": "2026-05-24", "complete": True, "label": "第12周"},
        "data_window": {"start": "2026-01-05", "end": "2026-05-24"},
        "targets": {t: kpi(t, verdict_basis="confidence_sequence:spending") for t in TARGETS},
        "kpis": [kpi("active_rate", group="总部/销售部", target=None, verdict=None, deadline=None)],
        "alerts": [{"kind": "behind_path", "subject": "总部/销售部", "message": "落后", "since": 3, "gap": -0.1}],
    }


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(kpis_json.schema())


def test_a_complete_document_follows_the_schema(tmp_path):
    document = kpis_json.write(meta(), tmp_path / "kpis.json")
    assert kpis_json.problems(document) == []
    assert set(document["targets"]) == set(TARGETS)


def test_a_verdict_basis_may_say_it_spends_alpha_over_looks(tmp_path):
    document = meta()
    document["targets"]["pilot_efficiency"]["verdict_basis"] = "randomization:size_standardised+spent_alpha"
    assert kpis_json.problems(kpis_json.write(document, tmp_path / "kpis.json")) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m["targets"]["pilot_efficiency"].update(verdict_basis="randomization+spent"),
        lambda m: m["targets"].pop("satisfaction"),
        lambda m: m["targets"]["registration"].update(verdict="passed"),
        lambda m: m["targets"]["registration"].update(verdict=None),
        lambda m: m["targets"]["registration"].update(target=None),
        lambda m: m["targets"]["registration"].update(verdict_basis="Betting CS"),
        lambda m: m["kpis"][0].update(deadline="30 April"),
        lambda m: m["kpis"][0].update(secret="x"),
        lambda m: m["alerts"][0].pop("message"),
    ],
)
def test_a_broken_document_is_refused(tmp_path, break_it):
    broken = copy.deepcopy(meta())
    break_it(broken)
    with pytest.raises(ValueError, match="schema"):
        kpis_json.write(broken, tmp_path / "kpis.json")
    assert not (tmp_path / "kpis.json").exists()
