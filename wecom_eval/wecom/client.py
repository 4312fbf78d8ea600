"""The async WeCom client: tokens, retries, rate limits and timeouts, in one place.

Rules (reference §2–§4, DESIGN §5):

* **Tokens.** One access token per (corp id, secret), cached until ``token_margin`` seconds
  before it expires. On errcode 40001, 40014 or 42001 the token is dropped, a new one is
  fetched (once, however many calls noticed at the same time) and the call is retried
  **once**; a second refusal is fatal.
* **Retries.** errcode -1, 6000, 45009, 45033 and 301022, HTTP 5xx and 429, timeouts and
  dropped connections are retried up to ``max_retries`` times with exponential backoff and
  jitter (45009, a frequency block, waits at least ``freq_limit_wait``). A call that is not
  safe to resend (``webhook/send``) is resent only when it certainly never left.
* **Fatal codes** raise :class:`~wecom_eval.wecom.errors.WecomApiError` (exit 3) with what
  the code means and what to change in the admin console.
* **Rate limits.** A :class:`~wecom_eval.wecom.ratelimit.SlidingWindowLimiter` per endpoint
  (per robot key for the webhook) with the documented limit, a cap on calls in flight per
  endpoint and overall, and finite timeouts on every request.
* **Secrets.** Nothing logged or raised here contains a URL's query string; every secret,
  token and key is registered with :mod:`~wecom_eval.wecom.redact`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from wecom_eval.errors import SourceError
from wecom_eval.wecom.credentials import ENV_BASE, Credentials
from wecom_eval.wecom.endpoints import ENDPOINTS, Endpoint, endpoint
from wecom_eval.wecom.errors import FREQUENCY_LIMIT, WecomApiError, describe
from wecom_eval.wecom.ratelimit import Clock, Sleep, SlidingWindowLimiter
from wecom_eval.wecom.redact import install_log_redaction, redact, register_secret
from wecom_eval.wecom.settings import ClientSettings, ClientStats

log = logging.getLogger("wecom_eval.wecom")


class _Transient(Exception):
    """A failure worth retrying; ``unsent`` when the request certainly never reached WeCom."""

    def __init__(self, reason: str, *, unsent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsent = unsent


@dataclass
class _Token:
    value: str
    fresh_until: float


class WecomClient:
    """An async client for the WeCom server API. Use as ``async with WecomClient(...) as c``.

    Parameters
    ----------
    credentials
        Corp id, secrets by app and the base URL (see :class:`Credentials`).
    settings
        Retries, timeouts, concurrency and limits (:class:`ClientSettings`).
    transport
        An httpx transport (``httpx.MockTransport`` in unit tests); default: the network.
    clock, sleep, rng
        Monotonic clock, async sleep and the jitter's random source, injectable for tests.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.credentials = credentials
        self.settings = settings or ClientSettings()
        self.stats = ClientStats()
        self._transport = transport
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self._pools: dict[str, httpx.AsyncClient] = {}
        self._ssl: ssl.SSLContext | None = None  # one TLS context for every pool (loading CAs is slow)
        self._stack: AsyncExitStack | None = None
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._token_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._limiters: dict[tuple[str, str], SlidingWindowLimiter] = {}
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._in_flight = asyncio.Semaphore(self.settings.concurrency)
        install_log_redaction()

    # ---- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> WecomClient:
        self._stack = AsyncExitStack()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self._pools.clear()

    def http_client(self, ep: Endpoint) -> httpx.AsyncClient:
        """The connection pool of an endpoint (created on first use, closed with the client).

        One small pool per endpoint, sized to its cap on calls in flight: httpcore scans
        every connection of a pool on each request, so one large shared pool costs CPU
        time proportional to the connections open.
        """
        if self._stack is None:
            raise RuntimeError("use the client inside 'async with WecomClient(...) as client'")
        found = self._pools.get(ep.path)
        if found is None:
            s = self.settings
            size = self._cap(ep)
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            found = httpx.AsyncClient(
                base_url=f"{self.credentials.base_url}/cgi-bin/",
                verify=self._ssl,
                timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=self._transport,
                headers={"User-Agent": "wecom-eval"},
            )
            self._stack.push_async_callback(found.aclose)
            self._pools[ep.path] = found
        return found

    # ---- public calls --------------------------------------------------------------------
    async def call(
        self, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Call an endpoint that takes an access token; return its JSON answer (errcode 0).

        Raises
        ------
        WecomApiError
            For an errcode retrying cannot fix, or when retries ran out (exit 3).
        SourceError
            When WeCom could not be reached after the retries (exit 3).
        InputError
            When the app's secret is not configured (exit 2).
        """
        ep = endpoint(path)
        if ep.app is None:
            raise ValueError(f"{ep.path} takes no access token; use the client's dedicated method")
        return await self._call(ep, params=params, body=body, app=ep.app)

    async def call_robot(
        self,
        path: str,
        *,
        key: str,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call a group robot's endpoint (``webhook/…``, the robot's ``key`` in the query, no
        token) through its per-key limiter; see :class:`wecom_eval.wecom.robot.GroupRobot`."""
        ep = endpoint(path)
        if ep.app is not None or not ep.path.startswith("webhook/"):
            raise ValueError(f"{ep.path} is not a group robot's endpoint")
        if not key:
            raise ValueError("a webhook key is required")
        register_secret(key)
        return await self._call(ep, params=params, body=body, key=key, files=files)

    # ---- the retry loop ------------------------------------------------------------------
    async def _call(
        self,
        ep: Endpoint,
        *,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        app: str | None = None,
        key: str | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        failures = 0
        refreshed = False
        while True:
            query = dict(params or {})
            token = None
            if app is not None:
                token = await self._token(app)
                query["access_token"] = token
            if key is not None:
                query["key"] = key
            try:
                data = await self._send(ep, query, body, limiter_key=key or "", files=files)
            except _Transient as exc:
                if not (ep.idempotent or exc.unsent):
                    raise SourceError(
                        f"{ep.path}: {exc.reason}; not resent, because WeCom may have received "
                        "it already (a second try could post it twice). Check the group, then "
                        "send again if it did not arrive."
                    ) from None
                failures += 1
                if failures > self.settings.max_retries:
                    raise SourceError(self._unreachable(ep, failures, exc.reason)) from None
                await self._backoff(ep, failures, exc.reason)
                continue
            code = _errcode(data)
            if code == 0:
                return data
            info = describe(code)
            errmsg = str(data.get("errmsg", ""))
            if info.action == "refresh" and app is not None and token is not None:
                if refreshed:
                    raise WecomApiError(
                        errcode=code,
                        errmsg=errmsg,
                        endpoint=ep.path,
                        app=app,
                        note="A freshly issued access token was refused as well.",
                    )
                refreshed = True
                self.stats.refreshes += 1
                self._invalidate(app, token)
                log.info(
                    "%s: errcode %d (%s); fetching a new access token and retrying once", ep.path, code, info.meaning
                )
                continue
            if info.action == "retry":
                failures += 1
                if failures > self.settings.max_retries:
                    raise WecomApiError(
                        errcode=code, errmsg=errmsg, endpoint=ep.path, app=app, note=f"Gave up after {failures} tries."
                    )
                await self._backoff(ep, failures, f"errcode {code} ({info.meaning})", freq=code == FREQUENCY_LIMIT)
                continue
            raise WecomApiError(errcode=code, errmsg=errmsg, endpoint=ep.path, app=app)

    def _unreachable(self, ep: Endpoint, tries: int, reason: str) -> str:
        return redact(
            f"{ep.path}: gave up after {tries} tries; the last one: {reason}. Check the network or "
            f"proxy and {ENV_BASE} ({self.credentials.base_url}); if WeCom itself is in trouble, run "
            "the same command again later (a fetch resumes where it stopped)."
        )

    async def _backoff(self, ep: Endpoint, failures: int, reason: str, *, freq: bool = False) -> None:
        s = self.settings
        delay = min(s.backoff_max, s.backoff_base * 2 ** (failures - 1))
        if freq:
            delay = max(delay, s.freq_limit_wait)
        delay = delay * (1 - s.jitter) + self._rng.uniform(0, delay * s.jitter)
        self.stats.retries += 1
        level = logging.WARNING if failures >= 3 else logging.DEBUG
        log.log(level, "%s: %s; retry %d of %d in %.2f s", ep.path, reason, failures, s.max_retries, delay)
        await self._sleep(delay)

    # ---- one HTTP exchange -------------------------------------------------------------------
    def _limiter(self, ep: Endpoint, key: str) -> SlidingWindowLimiter | None:
        if not self.settings.rate_limits:
            return None
        found = self._limiters.get((ep.path, key))
        if found is None:
            limit = self.settings.limits.get(ep.path, ep.per_minute)
            found = SlidingWindowLimiter(limit, self.settings.limit_period, clock=self._clock, sleep=self._sleep)
            self._limiters[(ep.path, key)] = found
        return found

    def _cap(self, ep: Endpoint) -> int:
        return min(ep.concurrency, self.settings.endpoint_concurrency or ep.concurrency, self.settings.concurrency)

    def _endpoint_slot(self, ep: Endpoint) -> asyncio.Semaphore:
        found = self._endpoint_slots.get(ep.path)
        if found is None:
            found = self._endpoint_slots[ep.path] = asyncio.Semaphore(self._cap(ep))
        return found

    async def _send(
        self,
        ep: Endpoint,
        query: dict[str, Any],
        body: Mapping[str, Any] | None,
        *,
        limiter_key: str,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        http = self.http_client(ep)
        limiter = self._limiter(ep, limiter_key)
        # Order matters: wait for the endpoint's own turn and window first, so that a
        # saturated endpoint never holds one of the shared in-flight places while it waits.
        async with self._endpoint_slot(ep):
            if limiter is None:
                async with self._in_flight:
                    return await self._exchange(http, ep, query, body, files)
            async with limiter.slot(), self._in_flight:
                return await self._exchange(http, ep, query, body, files)

    async def _exchange(
        self,
        http: httpx.AsyncClient,
        ep: Endpoint,
        query: dict[str, Any],
        body: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.stats.requests[ep.path] += 1
        started = self._clock()
        try:
            if ep.method == "GET":
                response = await http.get(ep.path, params=query)
            elif files is not None:
                response = await http.post(ep.path, params=query, files=dict(files))
            else:
                response = await http.post(ep.path, params=query, json=dict(body or {}))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.stats.outcomes["could not connect"] += 1
            raise _Transient(f"could not connect ({type(exc).__name__})", unsent=True) from None
        except httpx.TimeoutException as exc:
            self.stats.outcomes["timeout"] += 1
            raise _Transient(f"no answer within the timeout ({type(exc).__name__})") from None
        except httpx.RemoteProtocolError:
            self.stats.outcomes["dropped"] += 1
            raise _Transient("the connection was dropped before an answer") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise SourceError(
                redact(
                    f"the WeCom API base URL {self.credentials.base_url!r} is not usable "
                    f"({exc}); set {ENV_BASE} to e.g. https://qyapi.weixin.qq.com"
                )
            ) from None
        except httpx.TransportError as exc:
            self.stats.outcomes["connection error"] += 1
            raise _Transient(f"connection error ({type(exc).__name__})") from None
        elapsed = (self._clock() - started) * 1000
        status = response.status_code
        if status >= 500 or status == 429:
            self.stats.outcomes[f"HTTP {status}"] += 1
            raise _Transient(f"HTTP {status}")
        if status >= 400:
            self.stats.outcomes[f"HTTP {status}"] += 1
            raise SourceError(
                f"{self.credentials.base_url}/cgi-bin/{ep.path} answered HTTP {status}; check "
                f"{ENV_BASE} (the API lives under /cgi-bin/ of https://qyapi.weixin.qq.com)"
            )
        try:
            data = response.json()
        except ValueError:
            self.stats.outcomes["not JSON"] += 1
            raise _Transient(f"an answer that is not JSON (HTTP {status})") from None
        if not isinstance(data, dict):
            self.stats.outcomes["not JSON"] += 1
            raise _Transient("an answer that is not a JSON object")
        code = _errcode(data)
        self.stats.outcomes["ok" if code == 0 else f"errcode {code}"] += 1
        log.debug("%s /cgi-bin/%s → errcode %d in %.0f ms", ep.method, ep.path, code, elapsed)
        return data

    # ---- tokens -------------------------------------------------------------------------------
    async def _token(self, app: str) -> str:
        secret = self.credentials.secret(app)
        slot = (self.credentials.corp_id, secret)
        cached = self._tokens.get(slot)
        if cached is not None and self._clock() < cached.fresh_until:
            return cached.value
        lock = self._token_locks.setdefault(slot, asyncio.Lock())
        async with lock:  # one gettoken however many calls need the token at once
            cached = self._tokens.get(slot)
            if cached is not None and self._clock() < cached.fresh_until:
                return cached.value
            fresh = await self._fetch_token(app, secret)
            self._tokens[slot] = fresh
            return fresh.value

    def _invalidate(self, app: str, token: str) -> None:
        slot = (self.credentials.corp_id, self.credentials.secret(app))
        cached = self._tokens.get(slot)
        if cached is not None and cached.value == token:
            del self._tokens[slot]

    async def _fetch_token(self, app: str, secret: str) -> _Token:
        ep = ENDPOINTS["gettoken"]
        failures = 0
        while True:
            try:
                data = await self._send(
                    ep, {"corpid": self.credentials.corp_id, "corpsecret": secret}, None, limiter_key=""
                )
            except _Transient as exc:
                failures += 1
                if failures > self.settings.max_retries:
                    raise SourceError(self._unreachable(ep, failures, exc.reason)) from None
                await self._backoff(ep, failures, exc.reason)
                continue
            code = _errcode(data)
            if code == 0:
                value = data.get("access_token")
                if not isinstance(value, str) or not value:
                    raise SourceError(
                        "gettoken answered errcode 0 without an access_token; WeCom (or the "
                        f"server at {ENV_BASE}) is not behaving like WeCom"
                    )
                register_secret(value)
                expires = float(data.get("expires_in") or 7200)
                margin = min(self.settings.token_margin, expires / 2)
                self.stats.token_fetches += 1
                log.debug("gettoken: new access token for app %s, valid %.0f s", app, expires)
                return _Token(value, self._clock() + expires - margin)
            info = describe(code)
            errmsg = str(data.get("errmsg", ""))
            if info.action == "retry":
                failures += 1
                if failures > self.settings.max_retries:
                    raise WecomApiError(
                        errcode=code, errmsg=errmsg, endpoint=ep.path, app=app, note=f"Gave up after {failures} tries."
                    )
                await self._backoff(ep, failures, f"errcode {code} ({info.meaning})", freq=code == FREQUENCY_LIMIT)
                continue
            # From gettoken every other code (40001 bad secret included) is a configuration error.
            raise WecomApiError(
                errcode=code, errmsg=errmsg, endpoint=ep.path, app=app, note="No access token could be issued."
            )


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0))
    except (TypeError, ValueError):
        return -1  # a garbled errcode: treat as "system busy" and retry


__all__ = ["WecomClient"]
