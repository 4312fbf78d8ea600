"""The WeCom client, unit by unit, against ``httpx.MockTransport`` (no network).

Each retry, refresh, pagination and rate-limit rule of ``wecom_eval.wecom`` has a test,
and each fatal errcode its message and exit code 3. Time is a fake clock whose ``sleep``
advances it, so backoff and rate-limit waits are checked without real sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_clock import FakeClock

from wecom_eval.errors import InputError, SourceError
from wecom_eval.wecom import (
    ClientSettings,
    Credentials,
    SlidingWindowLimiter,
    WecomApi,
    WecomApiError,
    WecomClient,
    Window,
    batched,
    day_of,
    midnight,
    min_duration,
    read_dotenv,
    redact,
    register_secret,
    split_days,
)
from wecom_eval.wecom.redact import RedactingFilter

SECRETS = {
    "APPROVAL": "approval-secret-Aa11",
    "CHECKIN": "checkin-secret-Bb22",
    "CONTACTS": "contacts-secret-Cc33",
    "SECURITY": "security-secret-Dd44",
    "CUSTOMER": "customer-secret-Ee55",
}


Reply = int | dict | httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class ScriptedWecom:
    """A scripted WeCom behind MockTransport: per path, a queue of replies, then success.

    A reply is an errcode (int), a JSON body (dict), an ``httpx.Response``, an exception to
    raise (a transport failure) or a function of the request.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str], dict[str, Any], float]] = []
        self.tokens_issued = 0
        self.clock = clock
        self.expires_in = 7200

    def queue(self, path: str, *replies: Reply) -> None:
        self.replies[path].extend(replies)

    def calls(self, path: str) -> int:
        return sum(1 for p, *_ in self.requests if p == path)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/cgi-bin/")
        body = json.loads(request.content) if request.content else {}
        self.requests.append((path, dict(request.url.params), body, self.clock() if self.clock else 0.0))
        if self.replies[path]:
            reply = self.replies[path].popleft()
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, httpx.Response):
                return reply
            if callable(reply):
                return reply(request)
            if isinstance(reply, int):
                return httpx.Response(200, json={"errcode": reply, "errmsg": f"scripted error {reply}, hint: [1]"})
            return httpx.Response(200, json=reply)
        if path == "gettoken":
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "errcode": 0,
                    "errmsg": "ok",
                    "expires_in": self.expires_in,
                    "access_token": f"TOKEN-{self.tokens_issued:04d}-x",
                },
            )
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "echo": path})


def fast(**changes: Any) -> ClientSettings:
    """Settings with real retries but tiny waits (the clock is fake anyway)."""
    base = {"backoff_base": 0.5, "backoff_max": 8.0, "jitter": 0.0, "freq_limit_wait": 60.0, "max_retries": 4}
    base.update(changes)
    return ClientSettings(**base)


def client_for(
    script: ScriptedWecom,
    clock: FakeClock,
    *,
    settings: ClientSettings | None = None,
    secrets: dict[str, str] | None = None,
) -> WecomClient:
    creds = Credentials("wwcorp0001", secrets or SECRETS)
    return WecomClient(
        creds,
        settings=settings or fast(),
        transport=httpx.MockTransport(script),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(7),
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def call_once(script: ScriptedWecom, clock: FakeClock, path: str = "oa/getapprovaldetail", **kw: Any) -> Any:
    async with client_for(script, clock, **kw) as client:
        return await client.call(path, body={"sp_no": "1"}), client.stats


# ---- tokens ---------------------------------------------------------------------------------------
def test_token_is_fetched_once_and_reused_until_shortly_before_it_expires():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.expires_in = 1000  # margin = min(300, 1000/2) = 300 s: fresh for 700 s

    async def go() -> None:
        async with client_for(script, clock) as client:
            await client.call("oa/getapprovaldetail", body={"sp_no": "1"})
            clock.now += 699
            await client.call("oa/getapprovaldetail", body={"sp_no": "2"})
            assert script.tokens_issued == 1
            clock.now += 2  # now 701 s after issue: inside the margin, refreshed before use
            await client.call("oa/getapprovaldetail", body={"sp_no": "3"})
            assert script.tokens_issued == 2

    run(go())
    tokens = [q["access_token"] for p, q, _b, _t in script.requests if p == "oa/getapprovaldetail"]
    assert tokens == ["TOKEN-0001-x", "TOKEN-0001-x", "TOKEN-0002-x"]


def test_tokens_are_cached_per_corp_and_secret_not_per_corp():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    shared = {**SECRETS, "CHECKIN": SECRETS["APPROVAL"]}  # one self-built app holding both permissions

    async def go(secrets: dict[str, str]) -> None:
        async with client_for(script, clock, secrets=secrets) as client:
            await client.call("oa/getapprovaldetail", body={"sp_no": "1"})
            await client.call("checkin/getcheckindata", body={})
            await client.call("oa/getapprovaldetail", body={"sp_no": "2"})

    run(go(SECRETS))
    assert script.tokens_issued == 2  # two secrets, two tokens
    secrets_sent = [q["corpsecret"] for p, q, _b, _t in script.requests if p == "gettoken"]
    assert secrets_sent == [SECRETS["APPROVAL"], SECRETS["CHECKIN"]]
    script.tokens_issued = 0
    run(go(shared))
    assert script.tokens_issued == 1  # same secret, same token


@pytest.mark.parametrize("code", [40014, 42001, 40001])
def test_token_refused_is_refreshed_and_the_call_retried_once(code: int):
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", code)
    data, stats = run(call_once(script, clock))
    assert data["errcode"] == 0
    assert script.tokens_issued == 2 and stats.refreshes == 1
    used = [q["access_token"] for p, q, _b, _t in script.requests if p == "oa/getapprovaldetail"]
    assert used == ["TOKEN-0001-x", "TOKEN-0002-x"]
    assert clock.sleeps == []  # a refresh is not a backoff


def test_a_fresh_token_refused_again_is_fatal_not_a_loop():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", 42001, 40014, 0)
    with pytest.raises(WecomApiError) as caught:
        run(call_once(script, clock))
    assert caught.value.exit_code == 3 and caught.value.errcode == 40014
    assert "freshly issued access token was refused" in str(caught.value)
    assert script.calls("oa/getapprovaldetail") == 2 and script.tokens_issued == 2


def test_many_calls_noticing_an_expired_token_share_one_refresh():
    clock = FakeClock()
    script = ScriptedWecom(clock)

    def expired_for_first_token(request: httpx.Request) -> httpx.Response:
        if request.url.params["access_token"] == "TOKEN-0001-x":
            return httpx.Response(200, json={"errcode": 42001, "errmsg": "access_token expired"})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    script.queue("oa/getapprovaldetail", *[expired_for_first_token] * 40)

    async def go() -> None:
        async with client_for(script, clock) as client:
            await asyncio.gather(*(client.call("oa/getapprovaldetail", body={"sp_no": str(i)}) for i in range(20)))

    run(go())
    assert script.tokens_issued == 2  # one gettoken at the start, one refresh for all 20


# ---- retries ----------------------------------------------------------------------------------------
TRANSIENT: dict[str, Reply] = {
    "errcode -1": -1,
    "errcode 45033": 45033,
    "errcode 6000": 6000,
    "HTTP 502": httpx.Response(502, text="<html>502 Bad Gateway</html>"),
    "HTTP 503": httpx.Response(503, text="busy"),
    "HTTP 429": httpx.Response(429, text="slow down"),
    "read timeout": httpx.ReadTimeout("timed out"),
    "connect timeout": httpx.ConnectTimeout("timed out"),
    "dropped connection": httpx.RemoteProtocolError("Server disconnected without sending a response."),
    "connection reset": httpx.ReadError("Connection reset by peer"),
    "connect refused": httpx.ConnectError("Connection refused"),
    "not JSON": httpx.Response(200, text="<html>gateway</html>"),
}


@pytest.mark.parametrize("kind", list(TRANSIENT))
def test_transient_failures_are_retried_with_exponential_backoff(kind: str):
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", TRANSIENT[kind], TRANSIENT[kind], TRANSIENT[kind])
    data, stats = run(call_once(script, clock))
    assert data["errcode"] == 0
    assert script.calls("oa/getapprovaldetail") == 4 and stats.retries == 3
    assert clock.sleeps == [0.5, 1.0, 2.0]  # base 0.5 s doubling, no jitter in these settings


def test_retries_are_bounded_and_the_last_error_is_named():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", *[-1] * 10)
    with pytest.raises(WecomApiError) as caught:
        run(call_once(script, clock))
    assert script.calls("oa/getapprovaldetail") == 5  # 1 try + max_retries 4
    assert caught.value.exit_code == 3 and caught.value.errcode == -1
    assert "Gave up after 5 tries" in str(caught.value) and "system busy" in str(caught.value)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_an_unreachable_server_gives_a_source_error_that_names_the_fix():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("gettoken", *[httpx.ConnectError("Connection refused")] * 10)
    with pytest.raises(SourceError) as caught:
        run(call_once(script, clock))
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "gave up after 5 tries" in message and "WECOM_API_BASE" in message and "resumes" in message
    assert SECRETS["APPROVAL"] not in message


def test_backoff_is_capped_and_jittered_within_its_bounds():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", *[-1] * 6)
    run(call_once(script, clock, settings=fast(max_retries=6, backoff_base=1.0, backoff_max=4.0, jitter=0.5)))
    nominal = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]  # doubling, capped at 4 s
    assert len(clock.sleeps) == 6
    for got, d in zip(clock.sleeps, nominal, strict=True):
        assert d * 0.5 <= got <= d  # half fixed, half drawn
    assert len(set(clock.sleeps[2:])) > 1  # the drawn half differs between tries


def test_frequency_limit_waits_at_least_the_block_length():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", 45009)
    data, _stats = run(call_once(script, clock))
    assert data["errcode"] == 0 and clock.sleeps == [60.0]  # a minute-level block lasts 60 s (reference §2.1)


def test_gettoken_itself_is_retried_on_transient_failures():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("gettoken", -1, httpx.Response(502, text="bad gateway"))
    data, stats = run(call_once(script, clock))
    assert data["errcode"] == 0 and stats.token_fetches == 1 and script.calls("gettoken") == 3


# ---- fatal errcodes ---------------------------------------------------------------------------------
FATAL = {  # errcode on the business call → words the message must contain (meaning, fix)
    48002: ("this app may not call this API", "审批数据权限"),
    48009: ("contact-sync", "self-built app"),
    60011: ("visible range", "可见范围"),
    60020: ("trusted-IP list", "企业可信IP"),
    301055: ("no approval permission", "审批数据权限"),
    40013: ("invalid corp id", "WECOM_CORP_ID"),
    40091: ("another corp", "WECOM_SECRET_APPROVAL"),
    301025: ("approval API parameter error", "bug in wecom-eval"),
    987654: ("does not know", "devtool/query?e=987654"),
}


@pytest.mark.parametrize("code", list(FATAL))
def test_fatal_errcodes_stop_at_once_with_meaning_and_fix(code: int):
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("oa/getapprovaldetail", {"errcode": code, "errmsg": "boom, hint: [17], from ip: 203.0.113.9"})
    with pytest.raises(WecomApiError) as caught:
        run(call_once(script, clock))
    error = caught.value
    message = str(error)
    assert error.exit_code == 3 and error.errcode == code
    meaning, fix = FATAL[code]
    assert meaning in message and fix in message
    assert "oa/getapprovaldetail" in message and "from ip: 203.0.113.9" in message  # WeCom's own words kept
    assert script.calls("oa/getapprovaldetail") == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    "code,fix",
    [
        (40013, "WECOM_CORP_ID"),
        (40001, "WECOM_SECRET_APPROVAL"),
        (60020, "企业可信IP"),
        (41004, "WECOM_SECRET_APPROVAL"),
    ],
)
def test_gettoken_configuration_errors_are_fatal(code: int, fix: str):
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("gettoken", code)
    with pytest.raises(WecomApiError) as caught:
        run(call_once(script, clock))
    assert caught.value.exit_code == 3 and fix in str(caught.value)
    assert "No access token could be issued" in str(caught.value)
    assert script.calls("gettoken") == 1 and script.calls("oa/getapprovaldetail") == 0


def test_http_4xx_is_a_configuration_error_naming_the_base_url():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue("gettoken", httpx.Response(404, text="not found"))
    with pytest.raises(SourceError, match="answered HTTP 404; check WECOM_API_BASE"):
        run(call_once(script, clock))
    assert script.calls("gettoken") == 1


def test_error_messages_never_carry_a_token_even_when_wecom_echoes_it():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue(
        "oa/getapprovaldetail",
        lambda r: httpx.Response(200, json={"errcode": 48002, "errmsg": f"api forbidden for {r.url}"}),
    )
    with pytest.raises(WecomApiError) as caught:
        run(call_once(script, clock))
    assert "TOKEN-0001-x" not in str(caught.value) and "access_token=***" in str(caught.value)


def test_a_missing_secret_is_an_input_error_naming_the_variable():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    with pytest.raises(InputError) as caught:
        run(call_once(script, clock, secrets={"CHECKIN": "x" * 12}))
    assert caught.value.exit_code == 2 and "WECOM_SECRET_APPROVAL" in str(caught.value)
    assert "审批数据权限" in str(caught.value) and script.requests == []


# ---- pagination ------------------------------------------------------------------------------------
def test_approval_numbers_follow_new_cursor_until_it_is_absent():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue(
        "oa/getapprovalinfo",
        {"errcode": 0, "errmsg": "ok", "sp_no_list": ["1", "2"], "new_next_cursor": "c1"},
        {"errcode": 0, "errmsg": "ok", "sp_no_list": ["3"], "new_next_cursor": "c2"},  # a short page
        {"errcode": 0, "errmsg": "ok", "sp_no_list": ["4"]},
    )
    window = Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31))

    async def go() -> list[str]:
        async with client_for(script, clock) as client:
            return [n async for p in WecomApi(client).approval_numbers(window) for n in p.items("sp_no_list")]

    assert run(go()) == ["1", "2", "3", "4"]
    bodies = [b for p, _q, b, _t in script.requests if p == "oa/getapprovalinfo"]
    assert [b.get("new_cursor") for b in bodies] == [None, "c1", "c2"]
    assert bodies[0] == {"starttime": str(window.start), "endtime": str(window.end), "size": 100}


def test_a_token_expiring_mid_pagination_resumes_on_the_same_cursor():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    script.queue(
        "oa/getapprovalinfo",
        {"errcode": 0, "errmsg": "ok", "sp_no_list": ["1"], "new_next_cursor": "c1"},
        42001,
        {"errcode": 0, "errmsg": "ok", "sp_no_list": ["2"]},
    )
    window = Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31))

    async def go() -> list[str]:
        async with client_for(script, clock) as client:
            return [n async for p in WecomApi(client).approval_numbers(window) for n in p.items("sp_no_list")]

    assert run(go()) == ["1", "2"]
    calls = [(b.get("new_cursor"), q["access_token"]) for p, q, b, _t in script.requests if p == "oa/getapprovalinfo"]
    assert calls == [(None, "TOKEN-0001-x"), ("c1", "TOKEN-0001-x"), ("c1", "TOKEN-0002-x")]


def test_oper_log_loops_on_has_more_not_on_page_length():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    record = {"time": 1, "userid": "u1", "oper_type": 4, "detail_info": "", "ip": "10.0.0.1"}
    script.queue(
        "security/member_oper_log/list",
        {"errcode": 0, "errmsg": "ok", "has_more": True, "next_cursor": "n1", "record_list": [record]},
        {"errcode": 0, "errmsg": "ok", "has_more": False, "next_cursor": "", "record_list": [record] * 2},
    )

    async def go() -> int:
        async with client_for(script, clock) as client:
            pages = [p async for p in WecomApi(client).oper_log(Window(dt.date(2026, 3, 1), dt.date(2026, 3, 7)))]
            return sum(len(p.items("record_list")) for p in pages)

    assert run(go()) == 3


def test_a_repeated_cursor_stops_the_pull_instead_of_looping():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    page = {"errcode": 0, "errmsg": "ok", "next_cursor": "same", "dept_user": [{"userid": "u1", "department": 1}]}
    script.queue("user/list_id", page, page, page)

    async def go() -> None:
        async with client_for(script, clock) as client:
            async for _ in WecomApi(client).user_ids():
                pass

    with pytest.raises(SourceError, match="same cursor twice"):
        run(go())


def test_limits_per_call_are_refused_before_sending():
    clock = FakeClock()
    script = ScriptedWecom(clock)

    async def go(coro_factory: Callable[[WecomApi], Any]) -> None:
        async with client_for(script, clock) as client:
            await coro_factory(WecomApi(client))

    users = [f"u{i}" for i in range(101)]
    month = Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    with pytest.raises(ValueError, match="101 userids in one call; at most 100"):
        run(go(lambda api: api.checkin_records(users, Window(dt.date(2026, 3, 1), dt.date(2026, 3, 2)))))
    with pytest.raises(ValueError, match="covers 31 days; at most 30"):
        run(go(lambda api: api.checkin_records(["u1"], month)))
    with pytest.raises(ValueError, match="one userid .* per call; WeCom sums"):
        run(go(lambda api: api.behavior(["u1", "u2"], month)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="covers 31 days; at most 30"):
        run(go(lambda api: api.behavior("u1", month)))
    assert script.requests == []


# ---- rate limits and concurrency --------------------------------------------------------------------------
def _max_in_window(times: list[float], period: float) -> int:
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        best = max(best, sum(1 for u in times[i:] if u < t + period))
    return best


def test_sliding_window_limiter_never_grants_more_than_the_limit_in_any_window():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 60.0, clock=clock, sleep=clock.sleep)
    granted: list[float] = []

    async def one() -> None:
        async with limiter.slot():
            granted.append(clock())
            await clock.sleep(0.05)  # the call takes 50 ms

    async def go() -> None:
        await asyncio.gather(*(one() for _ in range(17)))

    run(go())
    assert len(granted) == 17
    assert _max_in_window(granted, 60.0) == 5
    # 17 calls at 5 a minute: the last block of 2 starts after three full windows (plus call time)
    assert granted[-1] - granted[0] >= min_duration(17, 5, 60.0) == 180.0


def test_a_slot_is_freed_only_a_period_after_its_call_finished():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def slow_call() -> None:
        async with limiter.slot():
            starts.append(clock())
            await clock.sleep(5.0)  # a slow answer: the server may have counted it late

    run(_both(slow_call))
    assert starts[1] - starts[0] == pytest.approx(15.0)  # 5 s in flight + 10 s window


async def _both(factory: Callable[[], Any]) -> None:
    await asyncio.gather(factory(), factory())


def test_client_keeps_each_endpoints_limit_as_the_server_sees_it():
    clock = FakeClock()
    script = ScriptedWecom(clock)
    settings = fast(limits={"oa/getapprovaldetail": 3}, limit_period=60.0)

    async def go() -> None:
        async with client_for(script, clock, settings=settings) as client:
            await asyncio.gather(*(client.call("oa/getapprovaldetail", body={"sp_no": str(i)}) for i in range(10)))
            await asyncio.gather(*(client.call("checkin/getcheckindata", body={}) for _ in range(5)))

    run(go())
    detail = [t for p, _q, _b, t in script.requests if p == "oa/getapprovaldetail"]
    assert len(detail) == 10 and _max_in_window(detail, 60.0) == 3
    assert max(detail) - min(detail) >= 180.0  # 10 calls at 3 a minute need three more windows
    checkin = [t for p, _q, _b, t in script.requests if p == "checkin/getcheckindata"]
    assert max(checkin) - min(checkin) == 0  # another endpoint, its own (documented 600/min) budget


def test_documented_limits_are_the_defaults():
    from wecom_eval.wecom import ENDPOINTS

    # reference §2.2: checkin data and approvals 600/min, day data 100/min, webhook 20/min per robot
    assert ENDPOINTS["checkin/getcheckindata"].per_minute == 600
    assert ENDPOINTS["oa/getapprovalinfo"].per_minute == 600
    assert ENDPOINTS["oa/getapprovaldetail"].per_minute == 600
    assert ENDPOINTS["checkin/getcheckin_daydata"].per_minute == 100
    assert ENDPOINTS["security/member_oper_log/list"].per_minute == 600
    assert ENDPOINTS["webhook/send"].per_minute == 20
    assert ENDPOINTS["externalcontact/get_user_behavior_data"].per_minute == 10_000  # §2.1 per-API default


def test_concurrency_is_bounded_overall_and_per_endpoint():
    in_flight = {"now": 0, "max": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("gettoken"):
            return httpx.Response(200, json={"errcode": 0, "access_token": "TOKEN-abcdefgh", "expires_in": 7200})
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.001)
        in_flight["now"] -= 1
        return httpx.Response(200, json={"errcode": 0})

    async def go(settings: ClientSettings) -> int:
        in_flight.update(now=0, max=0)
        creds = Credentials("wwcorp0001", SECRETS)
        async with WecomClient(creds, settings=settings, transport=httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.call("oa/getapprovaldetail", body={"sp_no": str(i)}) for i in range(40)))
        return in_flight["max"]

    assert run(go(ClientSettings(concurrency=32))) == 8  # the endpoint's own cap
    assert run(go(ClientSettings(concurrency=3))) == 3
    assert run(go(ClientSettings(concurrency=1))) == 1  # one call at a time


def test_every_request_has_a_finite_timeout():
    from wecom_eval.wecom import ENDPOINTS

    async def go() -> list[httpx.Timeout]:
        async with WecomClient(Credentials("wwcorp0001", SECRETS), settings=ClientSettings(timeout=12.0)) as client:
            return [client.http_client(ep).timeout for ep in ENDPOINTS.values()]

    for timeout in run(go()):
        assert timeout.read == 12.0 and timeout.connect == 5.0 and timeout.pool == 12.0 and timeout.write == 12.0


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError, match="concurrency=0"):
        ClientSettings(concurrency=0)
    with pytest.raises(ValueError, match="unknown WeCom endpoint"):
        ClientSettings(limits={"oa/nope": 5})


# ---- windows and batches ----------------------------------------------------------------------------------
def test_windows_split_a_range_into_whole_days_within_the_span_limit():
    windows = split_days(dt.date(2026, 1, 1), dt.date(2026, 3, 31), 31)
    assert [w.days for w in windows] == [31, 31, 28]
    assert all(b.first == a.last + dt.timedelta(days=1) for a, b in zip(windows, windows[1:], strict=False))
    w = windows[0]
    # reference §1: 0点 is midnight China Standard Time; 2026-01-01 00:00 CST = 2025-12-31 16:00 UTC
    assert w.start == 1767196800 and w.end == w.start + 31 * 86400 - 1
    assert day_of(w.start) == dt.date(2026, 1, 1) and day_of(w.end) == dt.date(2026, 1, 31)
    assert midnight(dt.date(2019, 4, 3)) == 1554220800  # the reference's own example
    with pytest.raises(ValueError, match="ends .* before it starts"):
        split_days(dt.date(2026, 2, 1), dt.date(2026, 1, 1), 7)


def test_user_lists_are_batched_to_100():
    users = [f"u{i:04d}" for i in range(250)]
    batches = list(batched(users, 100))
    assert [len(b) for b in batches] == [100, 100, 50] and sum(batches, []) == users


# ---- credentials and redaction ------------------------------------------------------------------------------
def test_credentials_come_from_the_environment_over_a_dotenv_file(tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local\nexport WECOM_CORP_ID=ww-from-file\nWECOM_SECRET_APPROVAL='quoted secret 1'\n"
        "WECOM_SECRET_CHECKIN=plain-secret-22 # a comment\n",
        encoding="utf-8",
    )
    creds = Credentials.from_env(env_file=env_file, environ={"WECOM_CORP_ID": "ww-from-env"})
    assert creds.corp_id == "ww-from-env"
    assert creds.secrets == {"APPROVAL": "quoted secret 1", "CHECKIN": "plain-secret-22"}
    assert creds.base_url == "https://qyapi.weixin.qq.com"
    assert "quoted secret 1" not in repr(creds) and "plain-secret-22" not in repr(creds)
    assert read_dotenv(env_file)["WECOM_CORP_ID"] == "ww-from-file"


def test_missing_corp_id_and_a_bad_dotenv_line_are_input_errors(tmp_path: Path):
    with pytest.raises(InputError, match="WECOM_CORP_ID") as caught:
        Credentials.from_env(environ={})
    assert caught.value.exit_code == 2
    bad = tmp_path / ".env"
    bad.write_text("WECOM_SECRET_APPROVAL=ok\nthis line has a s3cret-in-it\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2") as caught:
        read_dotenv(bad)
    assert "s3cret-in-it" not in str(caught.value)


def test_redaction_masks_credential_parameters_and_every_known_secret():
    register_secret("KNOWN-secret-value-123")
    text = (
        "GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=abc123456 "
        "POST /cgi-bin/webhook/send?key=robotkey99&debug=1 access_token=tok_987654 sort_key=fine "
        "and the secret KNOWN-secret-value-123 in prose"
    )
    clean = redact(text)
    for secret in ("abc123456", "robotkey99", "tok_987654", "KNOWN-secret-value-123"):
        assert secret not in clean
    assert "corpid=ww1" in clean and "sort_key=fine" in clean and "debug=1" in clean


def test_log_records_are_redacted_message_args_and_traceback():
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: %s %s",
        ("POST", httpx.URL("http://x/cgi-bin/oa?access_token=SECRET-TOKEN-1")),
        None,
    )
    assert RedactingFilter().filter(record)
    assert "SECRET-TOKEN-1" not in record.getMessage() and "access_token=***" in record.getMessage()
    try:
        raise RuntimeError("failed for http://x/?access_token=SECRET-TOKEN-2")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactingFilter().filter(record)
    assert "SECRET-TOKEN-2" not in (record.exc_text or "") and "access_token=***" in (record.exc_text or "")
