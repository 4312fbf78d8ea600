"""The group robot's transport (``wecom_eval.wecom.robot``) against ``httpx.MockTransport``.

A message is resent only when it certainly never left, sizes are checked before anything is
sent, and the 20-a-minute limit is per robot key; the scripted WeCom and the fake clock are
the client tests' own.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fake_clock import FakeClock
from test_wecom_client import ScriptedWecom, _max_in_window, client_for, run

from wecom_eval.errors import InputError, SourceError
from wecom_eval.wecom.robot import FILE_MAX_BYTES, GroupRobot, Message, webhook_key_from_env


def test_webhook_is_not_resent_when_it_may_have_arrived():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("webhook/send", httpx.ReadTimeout("timed out"))

    async def go() -> None:
        async with client_for(script, clock) as client:
            await GroupRobot(client, "robot-key-0123456789").send(markdown="**周报**")

    with pytest.raises(SourceError) as caught:
        run(go())
    assert "not resent" in str(caught.value) and script.calls("webhook/send") == 1
    assert "robot-key-0123456789" not in str(caught.value)


def test_webhook_is_resent_when_it_certainly_never_left_or_was_refused():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("webhook/send", httpx.ConnectError("refused"), -1, 45009)

    async def go() -> dict:
        async with client_for(script, clock) as client:
            return await GroupRobot(client, "robot-key-0123456789").send(markdown="**周报**")

    assert run(go())["errcode"] == 0
    path, query, body, _t = script.requests[-1]
    assert query == {"key": "robot-key-0123456789"} and "access_token" not in query
    assert body == {"msgtype": "markdown", "markdown": {"content": "**周报**"}}


def test_webhook_refuses_content_over_the_byte_limit_before_sending():
    clock = FakeClock()
    script = ScriptedWecom(clock)

    async def go() -> None:
        async with client_for(script, clock) as client:
            await GroupRobot(client, "robot-key-0123456789").send(markdown="周" * 1366)  # 4098 bytes

    with pytest.raises(ValueError, match="4098 UTF-8 bytes; WeCom accepts at most 4096"):
        run(go())
    assert script.requests == []


def test_webhook_limit_is_per_robot_key():
    clock = FakeClock()
    script = ScriptedWecom(clock)

    async def go() -> None:
        async with client_for(script, clock) as client:
            one, two = GroupRobot(client, "robot-one-0123456789"), GroupRobot(client, "robot-two-0123456789")
            for i in range(21):
                await one.send(text=f"m{i}")
            await two.send(text="other robot")

    run(go())
    times = {
        k: [t for p, q, _b, t in script.requests if p == "webhook/send" and q["key"] == k]
        for k in ("robot-one-0123456789", "robot-two-0123456789")
    }
    assert _max_in_window(times["robot-one-0123456789"], 60.0) == 20
    assert times["robot-one-0123456789"][20] - times["robot-one-0123456789"][0] >= 60.0
    assert len(times["robot-two-0123456789"]) == 1


class WithUploads(ScriptedWecom):
    """The scripted WeCom, taking multipart uploads at webhook/upload_media."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/webhook/upload_media"):
            request.read()
            self.requests.append(("webhook/upload_media", dict(request.url.params), {"raw": request.content}, 0.0))
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "type": "file", "media_id": "MEDIA-1"})
        return super().__call__(request)


def test_a_file_is_uploaded_then_posted_by_its_media_id(tmp_path: Path):
    clock = FakeClock()
    script = WithUploads(clock)
    path = tmp_path / "tables.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    message = Message.file(path, filename="weekly-2026-04-13-tables.xlsx")

    async def go() -> None:
        async with client_for(script, clock) as client:
            await GroupRobot(client, "robot-key-0123456789").deliver(message)

    run(go())
    assert [p for p, *_ in script.requests] == ["webhook/upload_media", "webhook/send"]
    upload = script.requests[0]
    assert upload[1] == {"key": "robot-key-0123456789", "type": "file"}
    assert b'filename="weekly-2026-04-13-tables.xlsx"' in upload[2]["raw"] and b"PK\x03\x04" in upload[2]["raw"]
    assert script.requests[1][2] == {"msgtype": "file", "file": {"media_id": "MEDIA-1"}}


def test_files_a_robot_refuses_are_refused_before_sending(tmp_path: Path):
    tiny = tmp_path / "tiny.xlsx"
    tiny.write_bytes(b"12345")  # reference §10.2: more than 5 bytes
    with pytest.raises(InputError, match="more than 5 bytes"):
        Message.file(tiny, filename="tiny.xlsx")
    clock = FakeClock()
    script = ScriptedWecom(clock)

    async def go() -> None:
        async with client_for(script, clock) as client:
            await GroupRobot(client, "robot-key-0123456789").upload(filename="big", content=b"x" * (FILE_MAX_BYTES + 1))

    with pytest.raises(ValueError, match="at most 20,971,520"):
        run(go())
    assert script.requests == []


def test_the_key_comes_from_the_environment_as_a_key_or_a_whole_url():
    assert webhook_key_from_env({}) is None and webhook_key_from_env({"WECOM_WEBHOOK_KEY": "  "}) is None
    assert webhook_key_from_env({"WECOM_WEBHOOK_KEY": " abc-123 "}) == "abc-123"
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-456"
    assert webhook_key_from_env({"WECOM_WEBHOOK_KEY": url}) == "abc-456"


def test_only_robot_endpoints_take_a_key():
    clock = FakeClock()

    async def go() -> None:
        async with client_for(ScriptedWecom(clock), clock) as client:
            await client.call_robot("oa/getapprovalinfo", key="robot-key-0123456789", body={})

    with pytest.raises(ValueError, match="not a group robot's endpoint"):
        run(go())
    with pytest.raises(ValueError, match="webhook key is required"):
        GroupRobot(client_for(ScriptedWecom(clock), clock), "")
