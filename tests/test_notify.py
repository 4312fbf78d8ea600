"""The group-robot summary of a run: ``reporting.summary``, its messages, ``wecom-eval notify``.

Run folders are written from a ``kpis.json`` fixture that follows the schema (checked with
``kpis_json.problems``); the network is ``httpx.MockTransport`` on a fake clock for the rate
limit and the fake WeCom server over loopback end to end. Every webhook key is unique to
its test, so that no other test's redaction could hide a leak.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import random
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fake_clock import FakeClock

from wecom_eval import cli, text
from wecom_eval.commands import notify
from wecom_eval.errors import InputError
from wecom_eval.fakeserver import FakeWecom
from wecom_eval.reporting import kpis_json, summary, summary_fit
from wecom_eval.reporting.tables import format_interval, format_kpi_value
from wecom_eval.wecom import ClientSettings, Credentials, WecomClient
from wecom_eval.wecom.robot import ENV_KEY, image_body

WECOM_FIXTURES = Path(__file__).parent / "fixtures" / "wecom"
TARGETS = ("registration", "daily_active", "feature_penetration", "satisfaction", "pilot_efficiency")
# A weekly run's five targets, one of each verdict and unit, shaped as the weekly notebook writes them.
TARGET_ROWS: dict[str, dict[str, Any]] = {
    "registration": {
        "label": "注册率",
        "unit": "share",
        "estimate": 0.8661971830985915,
        "ci_low": None,
        "ci_high": None,
        "confidence": None,
        "target": 1.0,
        "deadline": "2026-03-31",
        "verdict": "missed",
        "n": 284,
        "method": "全员计数（精确值）",
        "note": None,
    },
    "daily_active": {
        "label": "日活跃率（达到时长要求）",
        "unit": "share",
        "estimate": 0.62,
        "ci_low": 0.605,
        "ci_high": 0.635,
        "confidence": 0.9,
        "target": 0.6,
        "deadline": "2026-04-30",
        "verdict": "met",
        "n": 2300,
        "method": "Wilson 区间",
        "note": None,
    },
    "feature_penetration": {
        "label": "核心功能渗透率",
        "unit": "share",
        "estimate": 0.5316901408450704,
        "ci_low": 0.48291658138484755,
        "ci_high": 0.5798656019770239,
        "confidence": 0.9,
        "target": 0.8,
        "deadline": "2026-05-30",
        "verdict": "not_yet_shown",
        "n": 284,
        "method": "Wilson 区间",
        "note": "最弱功能：审批；审批 53.2%, 文档协作 53.9%",
    },
    "satisfaction": {
        "label": "满意度",
        "unit": "score",
        "estimate": 3.7851239669421486,
        "ci_low": 3.6459084056823516,
        "ci_high": 3.9243395282019455,
        "confidence": 0.9,
        "target": 4.5,
        "deadline": None,
        "verdict": "missed",
        "n": 121,
        "method": "单样本 t 检验",
        "note": None,
    },
    "pilot_efficiency": {
        "label": "试点效率提升",
        "unit": "share",
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "confidence": None,
        "target": 0.3,
        "deadline": None,
        "verdict": "not_measured",
        "n": None,
        "method": None,
        "note": "not estimable yet: no pilot record after go-live",
    },
}


def alert(i: int, *, message: str | None = None) -> dict[str, Any]:
    return {
        "kind": "behind_path",
        "subject": f"总部/部门{i:02d}",
        "message": message
        or f"总部/部门{i:02d}日活跃率为 40.0%，低于目标路径 55.0%（差 15.0 个百分点），自第 3 周起落后",
        "since": 3,
        "gap": -0.15,
    }


def document(*, alerts: list[dict[str, Any]] | None = None, language: str = "zh") -> dict[str, Any]:
    doc = {
        "schema": kpis_json.SCHEMA_ID,
        "report": "weekly",
        "as_of": "2026-04-13",
        "language": language,
        "period": {
            "start": "2026-04-06",
            "end": "2026-04-12",
            "complete": True,
            "label": "推广第6周（2026-04-06 至 2026-04-12）",
        },
        "data_window": {"start": "2026-01-05", "end": "2026-04-12"},
        "targets": {t: {"id": t, "group": None, **copy.deepcopy(TARGET_ROWS[t])} for t in TARGETS},
        "kpis": [],
        "alerts": [alert(i) for i in range(3)] if alerts is None else alerts,
    }
    assert kpis_json.problems(doc) == []  # the fixture follows the committed schema
    return doc


def write_run(root: Path, doc: dict[str, Any], *, status: str = "succeeded") -> Path:
    folder = root / "reports" / doc["report"] / doc["as_of"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpis.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    manifest = {
        "report": doc["report"],
        "as_of": doc["as_of"],
        "status": status,
        "error": None if status == "succeeded" else "cell 7 raised KeyError: 'x'",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    return folder


def new_key() -> str:
    return f"robot-{uuid.uuid4()}"


def target_line(markdown: str, label: str) -> str:
    found = [line for line in markdown.split("\n") if f"**{label}**" in line]
    assert len(found) == 1, f"no single line for {label!r} in:\n{markdown}"
    return found[0]


def wecom_org() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in sorted(WECOM_FIXTURES.glob("*.csv"))}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (ENV_KEY, summary.ENV_REPORTS_URL, "WECOM_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ---- the summary --------------------------------------------------------------------------------
def test_summary_shows_each_target_with_estimate_interval_target_and_coloured_verdict(tmp_path, env):
    run = write_run(tmp_path, document())
    md = summary.summary_markdown(run)
    assert md.startswith("# 周报 · 推广第6周（2026-04-06 至 2026-04-12）\n")
    assert (
        target_line(md, "注册率")
        == '> <font color="warning">未达成</font> **注册率**：86.6%（目标 100.0%，截止 2026-03-31）'
    )
    assert (
        '<font color="info">达成</font> **日活跃率（达到时长要求）**：62.0%'
        "（90% 区间 60.5% – 63.5%，目标 60.0%，截止 2026-04-30）"
    ) in md
    assert '<font color="comment">尚未证实</font> **核心功能渗透率**：53.2%' in md and "最弱功能：审批" in md
    assert "**满意度**：3.79（90% 区间 3.65 – 3.92，目标 4.50）" in md
    assert '<font color="comment">未测量</font> **试点效率提升**：—' in md
    assert "**提醒**（共 3 条，最紧急的在前）" in md and md.count("\n- ") == 3
    assert md.endswith(f"完整报告：`{(run / 'report.html').resolve()}`")


def test_summary_in_english_links_to_the_published_report_when_a_base_url_is_set(tmp_path, env):
    run = write_run(tmp_path, document(alerts=[]))
    env.setenv(summary.ENV_REPORTS_URL, "https://bi.example.com/wecom-reports/")
    md = summary.summary_markdown(run, language="en")
    assert md.startswith("# Weekly report · 2026-04-06 – 2026-04-12\n")
    assert '<font color="info">met</font> **Daily active rate (with minimum minutes)**: 62.0% (90% interval' in md
    assert "**Alerts**: none" in md
    assert md.endswith(
        "Full report: [weekly/2026-04-13/report.html]"
        "(https://bi.example.com/wecom-reports/weekly/2026-04-13/report.html)"
    )


def test_alerts_beyond_the_top_five_are_counted_not_listed(tmp_path, env):
    run = write_run(tmp_path, document(alerts=[alert(i) for i in range(8)]))
    md = summary.summary_markdown(run)
    assert md.count("\n- ") == 5 and "…另有 3 条提醒，见完整报告" in md
    assert "部门00" in md and "部门05" not in md  # the report's order: most urgent first


def test_free_text_cannot_break_the_markdown(tmp_path, env):
    run = write_run(tmp_path, document(alerts=[alert(1, message='<font color="info">假</font>\n第二行')]))
    md = summary.summary_markdown(run)
    assert '- 总部/部门01：＜font color="info"＞假＜/font＞ 第二行' in md


# ---- the 4096-byte limit --------------------------------------------------------------------------
def assert_fits(markdown: str, limit: int = 4096) -> None:
    raw = markdown.encode("utf-8")
    assert len(raw) <= limit
    assert raw.decode("utf-8") == markdown  # valid UTF-8: no character cut in half


def test_a_summary_too_long_for_wecom_drops_alerts_and_says_how_many(tmp_path, env):
    # 40 alerts of 150 Chinese characters (450 bytes each, 3 bytes a character): about 18 KB in all.
    alerts = [alert(i, message=f"第{i:02d}条" + "部门活跃率持续低于目标路径" * 11 + "需要跟进") for i in range(40)]
    run = write_run(tmp_path, document(alerts=alerts))
    full = summary.summary_markdown(run, max_alerts=None)
    assert len(full.encode("utf-8")) > 4096 * 4
    fitted = summary_fit.fit_markdown(full)
    assert_fits(fitted)
    listed = fitted.count("\n- ")
    more = re.search(r"…另有 (\d+) 条提醒，见完整报告", fitted)
    assert more is not None and 0 < listed < 40 and listed + int(more.group(1)) == 40
    for label in ("注册率", "日活跃率（达到时长要求）", "核心功能渗透率", "满意度", "试点效率提升"):
        assert target_line(fitted, label) == target_line(full, label)  # the targets are kept whole
    assert fitted.split("\n")[-1] == full.split("\n")[-1]  # and where the full report lives
    # the fewest alerts were dropped: one more would not have fitted
    assert len(fitted.encode("utf-8")) + 450 + 2 > 4096


def test_messages_built_for_a_run_merge_their_count_with_the_top_five_cut(tmp_path, env):
    alerts = [alert(i, message="客户管理渗透率骤降" * 60) for i in range(9)]  # 1,620 bytes each
    result = notify.build_messages(write_run(tmp_path, document(alerts=alerts)))
    md = result.markdown
    assert_fits(md)
    assert result.alerts == 9 and result.alerts_listed == md.count("\n- ") < 5
    assert f"…另有 {9 - result.alerts_listed} 条提醒" in md and md.count("另有") == 1
    assert result.warnings and "alerts not listed" in result.warnings[0]


def test_fit_markdown_returns_text_that_fits_unchanged():
    text_ = "# 周报\n- 一\n- 二"
    assert summary_fit.fit_markdown(text_) is text_


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 61, 62, 63, 64, 100, 101, 102, 200])
def test_fit_markdown_never_cuts_a_character_in_half(limit):
    # one line that no line boundary can save: CJK (3 bytes), an emoji (4 bytes), ASCII
    text_ = ("注册率😀ok" * 40) + "\n" + "满意度" * 30
    fitted = summary_fit.fit_markdown(text_, limit)
    assert_fits(fitted, limit)
    assert fitted.replace("…", "")[:1] in ("", "注")


def test_fit_markdown_shortens_long_lines_before_it_drops_them():
    lines = ["# 周报", "> " + "目标说明很长" * 100, "完整报告：`/srv/reports/weekly/2026-04-13/report.html`"]
    fitted = summary_fit.fit_markdown("\n".join(lines), 600)
    assert_fits(fitted, 600)
    kept = fitted.split("\n")
    assert kept[0] == lines[0] and kept[2] == lines[2] and kept[1].endswith("…")


# ---- sending: rate limit, permanent errors -----------------------------------------------------------
class Robot:
    """A group robot behind MockTransport: 20 messages a minute per key on the fake clock, else 45009."""

    def __init__(self, clock: FakeClock, key: str, *, errcode: int = 0, errmsg: str = "ok") -> None:
        self.clock, self.key, self.errcode, self.errmsg = clock, key, errcode, errmsg
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.answers: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/cgi-bin/webhook/send" and request.url.params["key"] == self.key
        now = self.clock()
        recent = [t for t, _ in self.received if t > now - 60.0]
        code = self.errcode or (45009 if len(recent) >= 20 else 0)
        self.answers.append(code)
        if code == 0:
            self.received.append((now, json.loads(request.content)))
        return httpx.Response(200, json={"errcode": code, "errmsg": self.errmsg if code else "ok"})


def client_on(robot: Robot, clock: FakeClock) -> WecomClient:
    settings = ClientSettings(backoff_base=0.5, backoff_max=8.0, jitter=0.0, max_retries=2)
    return WecomClient(
        Credentials("", {}, "https://qyapi.example.invalid"),
        settings=settings,
        transport=httpx.MockTransport(robot),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(3),
    )


def test_the_21st_message_in_a_minute_waits_for_the_robots_window_instead_of_failing(tmp_path, env):
    run = write_run(tmp_path, document())
    key, clock = new_key(), FakeClock(start=5000.0)
    robot = Robot(clock, key)
    results = notify.notify_runs([run] * 21, key=key, client=client_on(robot, clock))
    assert [r.posted for r in results] == [1] * 21
    assert robot.answers == [0] * 21  # never refused: the client waited rather than tried
    times = [t for t, _ in robot.received]
    assert times[:20] == [5000.0] * 20 and times[20] == pytest.approx(5060.0)  # the 21st after a full minute
    assert sum(clock.sleeps) == pytest.approx(60.0)  # fake time: the test itself does not wait


def test_a_permanent_refusal_raises_exit_3_with_the_meaning_and_what_was_posted(tmp_path, env):
    run = write_run(tmp_path, document())
    key, clock = new_key(), FakeClock(start=5000.0)
    robot = Robot(clock, key, errcode=40058, errmsg="markdown.content exceed max length 4096. Invalid input")
    with pytest.raises(notify.NotifyError) as caught:
        notify.notify_runs([run], key=key, client=client_on(robot, clock))
    assert caught.value.exit_code == 3 and caught.value.posted == []
    assert "errcode 40058" in str(caught.value) and "Nothing was posted." in str(caught.value)
    assert robot.answers == [40058] and clock.sleeps == []  # not retried


def test_the_scorecard_image_goes_as_base64_with_the_md5_of_its_bytes(tmp_path, env):
    run = write_run(tmp_path, document())
    key, clock = new_key(), FakeClock(start=5000.0)
    robot = Robot(clock, key)
    (result,) = notify.notify_runs([run], key=key, client=client_on(robot, clock), image=True)
    assert result.posted == 2 and [b["msgtype"] for _, b in robot.received] == ["markdown", "image"]
    image = robot.received[1][1]["image"]
    raw = base64.b64decode(image["base64"])
    assert raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) <= 2 * 1024 * 1024  # reference §10.1
    assert image["md5"] == hashlib.md5(raw).hexdigest()


def test_image_bodies_are_checked():
    with pytest.raises(ValueError, match="PNG or JPEG"):
        image_body(b"GIF89a....")
    with pytest.raises(ValueError, match="at most 2,097,152"):
        image_body(b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))


# ---- the command ------------------------------------------------------------------------------------------
def test_without_a_key_the_command_exits_2_and_names_the_variable(tmp_path, env, capsys):
    env.setenv("WECOM_EVAL_HOME", str(tmp_path))
    write_run(tmp_path, document())
    assert cli.main(["notify", "--run", "reports/weekly/2026-04-13"]) == 2
    err = capsys.readouterr().err
    assert "WECOM_WEBHOOK_KEY" in err and "--dry-run" in err and "Traceback" not in err


def test_a_failed_or_missing_run_exits_2_and_sends_nothing(tmp_path, env, capsys):
    env.setenv("WECOM_EVAL_HOME", str(tmp_path))
    env.setenv(ENV_KEY, new_key())
    write_run(tmp_path, document(), status="failed")
    assert cli.main(["notify", "--run", "reports/weekly/2026-04-13"]) == 2
    assert "The run failed (cell 7 raised KeyError" in capsys.readouterr().err
    assert cli.main(["notify", "--run", "reports/weekly/2099-01-01"]) == 2
    broken = write_run(tmp_path / "other", document())
    (broken / "kpis.json").write_text('{"schema": "wecom-eval/kpis/1"}', encoding="utf-8")
    with pytest.raises(InputError, match="kpis.schema.json"):
        summary.read_run(broken)


def test_dry_run_prints_exactly_the_message_and_needs_no_key(tmp_path, env, capsys):
    env.setenv("WECOM_EVAL_HOME", str(tmp_path))
    run = write_run(tmp_path, document())
    assert cli.main(["notify", "--run", "weekly/2026-04-13", "--dry-run"]) == 0  # under the home's reports/
    out = capsys.readouterr().out
    expected = summary_fit.fit_markdown(summary.summary_markdown(run))
    assert (
        out == f"--- weekly 2026-04-13 · message 1 of 1: markdown, {len(expected.encode()):,} of 4,096 bytes ---\n"
        f"{expected}\n"
    )


def serve(key: str) -> FakeWecom:
    return FakeWecom(wecom_org(), corp_id="wwnotify00001", webhook_keys=[key])


def test_end_to_end_the_recorded_message_matches_the_runs_kpis(tmp_path, env, capsys):
    key = new_key()
    doc = document()
    run = write_run(tmp_path, doc)
    with serve(key) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, key)
        assert cli.main(["notify", "--run", str(run)]) == 0
        messages = fake.webhook_messages
    assert "weekly 2026-04-13: posted 1 of 1: markdown" in capsys.readouterr().out
    assert [m["msgtype"] for m in messages] == ["markdown"]
    content = messages[0]["content"]
    on_disk = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    for kid, k in on_disk["targets"].items():
        line = target_line(content, k["label"])
        assert text.verdict_label(k["verdict"], "zh") in line
        assert format_kpi_value(k["estimate"], k["unit"]) in line
        if k["ci_low"] is not None:
            assert format_interval(k["ci_low"], k["ci_high"], k["unit"]) in line, kid
    for a in on_disk["alerts"]:
        assert a["message"] in content


def test_a_wrong_key_exits_3_with_a_clear_message_and_no_traceback(tmp_path, env, capsys):
    run = write_run(tmp_path, document())
    with serve(new_key()) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, new_key())  # not the robot's
        assert cli.main(["notify", "--run", str(run)]) == 3
        assert fake.webhook_messages == []
    err = capsys.readouterr().err
    assert "errcode 93000" in err and "robot key is wrong" in err and "WECOM_WEBHOOK_KEY" in err
    assert "Nothing was posted." in err and "Traceback" not in err


def test_the_key_never_appears_in_any_output_log_or_file(tmp_path, env, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    key = new_key()
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"
    env.setenv("WECOM_EVAL_HOME", str(tmp_path))
    run = write_run(tmp_path, document())
    outputs: list[str] = []
    with serve(key) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, url)  # the whole URL, as pasted from the robot's settings
        assert cli.main(["-v", "notify", "--run", str(run), "--dry-run"]) == 0
        assert cli.main(["-v", "notify", "--run", str(run)]) == 0
        assert len(fake.webhook_messages) == 1  # the key was taken from the URL
        env.setenv(ENV_KEY, key[::-1])  # a wrong key: refused
        assert cli.main(["-v", "notify", "--run", str(run)]) == 3
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    # a robot that echoes the key in its error message and URL
    clock = FakeClock(start=5000.0)
    echo = Robot(clock, key, errcode=93000, errmsg=f"invalid webhook url {url}, key {key}")
    with pytest.raises(notify.NotifyError) as caught:
        notify.notify_runs([run], key=key, client=client_on(echo, clock))
    outputs += [str(caught.value), caplog.text]
    assert "93000" in str(caught.value)
    outputs += [p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for output in outputs:
        assert key not in output and key[::-1] not in output
    assert "key=***" in caplog.text  # the request URL was logged, masked


@pytest.mark.slow
def test_end_to_end_after_a_real_weekly_run(tmp_path, env, capsys):
    """``wecom-eval demo`` + ``run weekly`` + ``notify --image`` against the fake (about 30 s)."""
    env.setenv("WECOM_EVAL_HOME", str(tmp_path))
    assert cli.main(["demo", "--employees", "300", "--weeks-rollout", "6", "--no-reports"]) == 0
    assert cli.main(["run", "weekly", "--as-of", "2026-04-13"]) == 0
    run = tmp_path / "reports" / "weekly" / "2026-04-13"
    key = new_key()
    with serve(key) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, key)
        assert cli.main(["notify", "--run", str(run), "--image"]) == 0
        messages = fake.webhook_messages
    assert [m["msgtype"] for m in messages] == ["markdown", "image"]
    on_disk = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    for k in on_disk["targets"].values():
        line = target_line(messages[0]["content"], k["label"])
        assert text.verdict_label(k["verdict"], on_disk["language"]) in line
        assert format_kpi_value(k["estimate"], k["unit"]) in line


# ---- file messages ------------------------------------------------------------------------------


def write_files(run: Path, *, deck: bool = False) -> dict[str, bytes]:
    made = {"tables.xlsx": b"PK\x03\x04 workbook bytes " + bytes(range(256)) * 4}
    if deck:
        made["deck.pptx"] = b"PK\x03\x04 deck bytes " + bytes(range(200))
    for name, data in made.items():
        (run / name).write_bytes(data)
    return made


def test_files_follow_the_summary_as_the_robots_own_uploads(tmp_path, env, capsys):
    key = new_key()
    doc = document()
    doc["report"] = "quarterly"
    run = write_run(tmp_path, doc)
    made = write_files(run, deck=True)
    with serve(key) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, key)
        assert cli.main(["notify", "--run", str(run), "--files"]) == 0
        messages = fake.webhook_messages
        stats = fake.stats()
    out = capsys.readouterr().out
    assert "posted 3 of 3: markdown" in out and "file quarterly-2026-04-13-tables.xlsx" in out
    assert [m["msgtype"] for m in messages] == ["markdown", "file", "file"]  # the summary first
    assert messages[0]["received_at"] <= messages[1]["received_at"] <= messages[2]["received_at"]
    for message, name in zip(messages[1:], ("tables.xlsx", "deck.pptx"), strict=True):
        assert message["file"]["filename"] == f"quarterly-2026-04-13-{name}"
        assert message["file"]["size"] == len(made[name])
        assert message["file"]["sha256"] == hashlib.sha256(made[name]).hexdigest()  # the bytes arrived whole
    assert stats["by_path"]["webhook/upload_media"] == 2
    assert key not in out


def test_a_weekly_run_sends_its_workbook_only_and_dry_run_uploads_nothing(tmp_path, env, capsys):
    run = write_run(tmp_path, document())
    write_files(run, deck=False)
    result = notify.build_messages(run, files=True)
    assert [m.msgtype for m in result.messages] == ["markdown", "file"]
    # 20 bytes of header text + 4 × 256 = 1,044 bytes, against 20 MB = 20,971,520
    assert result.messages[1].describe() == "file weekly-2026-04-13-tables.xlsx, 1,044 of 20,971,520 bytes"
    assert cli.main(["notify", "--run", str(run), "--files", "--dry-run"]) == 0
    assert "message 2 of 2: file weekly-2026-04-13-tables.xlsx" in capsys.readouterr().out


def test_a_file_wecom_would_refuse_exits_2_before_anything_is_sent(tmp_path, env, capsys):
    key = new_key()
    run = write_run(tmp_path, document())
    (run / "tables.xlsx").write_bytes(b"PK")  # 2 bytes: the robot takes more than 5
    with serve(key) as fake:
        env.setenv("WECOM_API_BASE", fake.base_url)
        env.setenv(ENV_KEY, key)
        assert cli.main(["notify", "--run", str(run), "--files"]) == 2
        assert fake.webhook_messages == [] and fake.stats()["requests"] == 0
    err = capsys.readouterr().err
    assert "tables.xlsx" in err and "2 bytes" in err and "Traceback" not in err


def test_the_fake_refuses_empty_uploads_foreign_media_and_unknown_keys(env):
    key, other = new_key(), new_key()
    with FakeWecom(wecom_org(), corp_id="wwnotify00001", webhook_keys=[key, other]) as fake:
        url = f"{fake.base_url}/cgi-bin/webhook/upload_media"
        empty = httpx.post(url, params={"key": "wrong", "type": "file"}, files={"media": ("a.xlsx", b"12345")})
        assert empty.json()["errcode"] == 44001  # the file is checked before the key
        wrong = httpx.post(url, params={"key": "wrong", "type": "file"}, files={"media": ("a.xlsx", b"123456")})
        assert wrong.json()["errcode"] == 93000
        ok = httpx.post(url, params={"key": key, "type": "file"}, files={"media": ("a.xlsx", b"123456")}).json()
        assert ok["errcode"] == 0 and ok["type"] == "file" and isinstance(ok["created_at"], str)
        send = f"{fake.base_url}/cgi-bin/webhook/send"
        body = {"msgtype": "file", "file": {"media_id": ok["media_id"]}}
        foreign = httpx.post(send, params={"key": other}, json=body)
        assert foreign.json()["errcode"] == 40007  # a media id works only for the robot that uploaded it
        own = httpx.post(send, params={"key": key}, json=body)
        assert own.json()["errcode"] == 0
        assert [m["file"]["filename"] for m in fake.webhook_messages] == ["a.xlsx"]
