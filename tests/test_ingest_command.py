"""``wecom-eval ingest``: its help explains each KIND, and every example file loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from wecom_eval.cli import build_parser, main
from wecom_eval.home import Home
from wecom_eval.ingest import KINDS
from wecom_eval.store.warehouse import open_reader

REPO = Path(__file__).resolve().parents[1]


def test_help_explains_each_kind_and_points_to_its_example(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["ingest", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for name, spec in KINDS.items():
        assert f"\n{name}: " in text and spec.example in text
        assert (REPO / spec.example).is_file()
    for option in ("--wave", "--sheet", "--mapping", "--dry-run", "--as-of", "--snapshot-date"):
        assert option in text


def test_an_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "payroll", "x.csv"])
    assert exit_.value.code == 2 and "invalid choice: 'payroll'" in capsys.readouterr().err


def test_every_example_file_loads_in_order(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("WECOM_EVAL_SALT", "example-salt-0123456789")
    for name, spec in KINDS.items():
        assert main(["ingest", name, str(REPO / spec.example)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "employees: 8 rows" in out and "survey_choices: 8 rows" in out and "tickets: 3 rows" in out
    with open_reader(home) as wh:
        counts = wh.counts()
    assert {
        t: counts[t]
        for t in (
            "employees",
            "members",
            "member_status",
            "member_days",
            "feature_events",
            "survey_responses",
            "process_records",
            "training_attendance",
            "tickets",
        )
    } == {
        "employees": 8,
        "members": 9,
        "member_status": 9,
        "member_days": 6,
        "feature_events": 8,  # 4 approvals, 2 member-days with punches, 2 with customer contacts
        "survey_responses": 4,
        "process_records": 5 + 4,
        "training_attendance": 4,
        "tickets": 3,
    }


def test_missing_file_exits_2_without_traceback(home: Home, capsys: pytest.CaptureFixture[str]):
    assert main(["ingest", "roster", str(home.root / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv: got" in err and "an existing file" in err and "Traceback" not in err
