"""``wecom-eval run --due --notify``: what is due runs once, is announced once, and the message matches kpis.json."""

from __future__ import annotations

import json

import pytest
from test_notify import new_key, serve, target_line

from wecom_eval import cli, text
from wecom_eval.reporting import summary
from wecom_eval.reporting.tables import format_kpi_value
from wecom_eval.wecom.robot import ENV_KEY


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    for name in (ENV_KEY, summary.ENV_REPORTS_URL, "WECOM_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WECOM_EVAL_HOME", str(tmp_path))
    assert cli.main(["demo", "--employees", "300", "--weeks-rollout", "6", "--no-reports"]) == 0
    return tmp_path


@pytest.mark.slow
def test_due_runs_once_and_the_robot_hears_once(demo_home, monkeypatch, capsys):
    key = new_key()
    with serve(key) as fake:
        monkeypatch.setenv("WECOM_API_BASE", fake.base_url)
        monkeypatch.setenv(ENV_KEY, key)
        # Monday 13 April 2026 is the first working day of its week: the weekly report is due.
        assert cli.main(["run", "--due", "--as-of", "2026-04-13", "--notify"]) == 0
        first = capsys.readouterr()
        assert "weekly" in first.out and "succeeded" in first.out
        assert len(fake.webhook_messages) == 1
        # A second call the same day finds it done: nothing runs, nothing is posted, nothing printed.
        assert cli.main(["run", "--due", "--as-of", "2026-04-13", "--notify"]) == 0
        again = capsys.readouterr()
        assert again.out == "" and len(fake.webhook_messages) == 1
        # A Tuesday has nothing due.
        assert cli.main(["run", "--due", "--as-of", "2026-04-14"]) == 0
        assert capsys.readouterr().out == ""
        message = fake.webhook_messages[0]
    run = demo_home / "reports" / "weekly" / "2026-04-13"
    on_disk = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    assert message["msgtype"] == "markdown"
    for target in on_disk["targets"].values():
        line = target_line(message["content"], target["label"])
        assert text.verdict_label(target["verdict"], on_disk["language"]) in line
        assert format_kpi_value(target["estimate"], target["unit"]) in line
    assert on_disk["alerts"], "the weekly report records its alerts in kpis.json"
    assert on_disk["alerts"][0]["message"] in message["content"]  # the most urgent alert reaches the group
    assert key not in (run / "manifest.json").read_text(encoding="utf-8")


def test_notify_without_a_key_stops_before_running(demo_home, capsys):
    assert cli.main(["run", "--due", "--as-of", "2026-04-13", "--notify"]) == 2
    assert "WECOM_WEBHOOK_KEY" in capsys.readouterr().err
    assert not (demo_home / "reports").exists()


def test_force_and_notify_need_due(demo_home, capsys):
    assert cli.main(["run", "weekly", "--as-of", "2026-04-13", "--force"]) == 2
    assert "only together with --due" in capsys.readouterr().err
