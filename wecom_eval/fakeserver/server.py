"""The fake WeCom server: a real HTTP server on loopback, in a background thread.

It serves an organisation (:class:`~wecom_eval.fakeserver.org.FakeOrg`) through the same
endpoints as ``qyapi.weixin.qq.com``, with the real validation:

* ``gettoken``: 41002/41004 for a missing corp id or secret, 40013 for a wrong corp id,
  40001 for a wrong secret; one token per secret, the same until it expires
  (``expires_in`` 7200 s by default);
* every call: 41001 without a token, 40014 for an unknown token, 42001 (or 40014) for an
  expired one, 48002 when the token's app may not call the endpoint, 60020 from an
  untrusted IP (when a trusted list is set), 48009 for contact details read by the
  contact-sync secret "from a new IP" (when asked to);
* the documented per-minute limits per endpoint (45009 beyond them), span and list limits
  (see :mod:`~wecom_eval.fakeserver.routes`);
* the group robots' ``webhook/send`` and ``webhook/upload_media`` with their own checks
  (:mod:`~wecom_eval.fakeserver.robot`); accepted messages are kept
  (:attr:`FakeWecom.webhook_messages`, or ``GET /_fake/webhook/messages``).

Faults are injected by :class:`~wecom_eval.fakeserver.faults.Faults`. ``GET /_fake/stats``
returns the counters. Use it as a context manager::

    with FakeWecom(org, faults="busy=0.2") as server:
        server.base_url, server.environ()
"""

from __future__ import annotations

import json
import logging
import secrets as secrets_module
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from wecom_eval.fakeserver.convert import stable_int
from wecom_eval.fakeserver.faults import Faults
from wecom_eval.fakeserver.handler import FakeHttpServer
from wecom_eval.fakeserver.org import FakeOrg
from wecom_eval.fakeserver.robot import FakeRobots
from wecom_eval.fakeserver.routes import ERRMSG, ROUTES, ApiError, Request
from wecom_eval.wecom.credentials import APPS, DEFAULT_BASE, ENV_BASE, ENV_CORP_ID, Credentials
from wecom_eval.wecom.endpoints import ENDPOINTS

log = logging.getLogger("wecom_eval.fakeserver")

TOKEN_TTL = 7200  # reference §3: expires_in, normally 7200
CONTACT_DETAILS = ("department/list", "user/list")  # refused to contact-sync from a new IP (48009)
_HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    b"<hr><center>stgw</center></body></html>"
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    delay: float = 0.0
    drop: bool = False


@dataclass
class _Token:
    app: str
    secret: str
    expires_at: float
    expired_code: int | None = None  # set when expired early


class FakeWecom:
    """A fake WeCom corp over HTTP on loopback (see the module notes).

    Parameters
    ----------
    org
        A :class:`FakeOrg`, or anything it accepts (canonical tables, a demo ``DemoOrg``).
    faults
        A :class:`Faults` or a spec string (``"busy=0.1,drop=0.05"``).
    corp_id, secrets
        The corp id and the secret of each app (``CONTACTS``, ``APPROVAL``, ``CHECKIN``,
        ``CUSTOMER``, ``SECURITY``); random when not given.
    webhook_keys
        Robot keys accepted by ``webhook/send`` (one random key when not given).
    host, port
        Where to listen; port 0 picks a free port.
    limit_period, enforce_limits
        The length of a rate-limit window (60 s) and whether limits are enforced.
    token_ttl
        Seconds a token lives.
    expired_code
        The errcode for an expired token: 42001, 40014, or 0 for either (drawn per token).
    trusted_ips
        When given, calls from other IPs answer 60020.
    contact_sync_new_ip
        When true, department/list and user/list answer 48009.
    """

    def __init__(
        self,
        org: Any,
        *,
        faults: Faults | str | None = None,
        corp_id: str | None = None,
        secrets: Mapping[str, str] | None = None,
        webhook_keys: list[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        limit_period: float = 60.0,
        enforce_limits: bool = True,
        token_ttl: float = TOKEN_TTL,
        expired_code: int = 0,
        trusted_ips: set[str] | None = None,
        contact_sync_new_ip: bool = False,
        fault_webhook: bool = False,
    ) -> None:
        self.org = org if isinstance(org, FakeOrg) else FakeOrg(org)
        self.faults = faults if isinstance(faults, Faults) else Faults.parse(faults)
        self.corp_id = corp_id or "ww" + secrets_module.token_hex(8)
        self.secrets = dict(secrets) if secrets else {app: secrets_module.token_urlsafe(24) for app in APPS}
        self.host, self._port = host, port
        self.limit_period = limit_period
        self.enforce_limits = enforce_limits
        self.token_ttl = token_ttl
        self.expired_code = expired_code
        self.trusted_ips = set(trusted_ips) if trusted_ips else None
        self.contact_sync_new_ip = contact_sync_new_ip
        self.fault_webhook = fault_webhook
        self._app_of_secret = {v: k for k, v in self.secrets.items()}
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._current: dict[str, str] = {}  # secret → its live token
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._seen: Counter[str] = Counter()
        self._runs: Counter[str] = Counter()
        self._page_requests = 0
        self._hints = 0
        self.requests: Counter[str] = Counter()  # by path
        self.outcomes: Counter[str] = Counter()
        self.issued_tokens: list[str] = []
        self.robots = FakeRobots(
            list(webhook_keys) if webhook_keys else [secrets_module.token_hex(16)], self._lock, self._rate_limit
        )
        self.webhook_keys = self.robots.keys
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeWecom:
        httpd = FakeHttpServer((self.host, self._port), self.dispatch)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-wecom", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeWecom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running; call start() or use it in a with block")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- what clients need to connect ------------------------------------------------------------
    @property
    def webhook_key(self) -> str:
        return self.webhook_keys[0]

    def environ(self) -> dict[str, str]:
        """``WECOM_API_BASE``, ``WECOM_CORP_ID`` and every ``WECOM_SECRET_<APP>`` for this server."""
        env = {ENV_BASE: self.base_url, ENV_CORP_ID: self.corp_id}
        env.update({APPS[app].env: secret for app, secret in self.secrets.items()})
        return env

    def credentials(self) -> Credentials:
        return Credentials(self.corp_id, dict(self.secrets), self.base_url)

    @property
    def webhook_messages(self) -> list[dict[str, Any]]:
        return self.robots.messages

    def stats(self) -> dict[str, Any]:
        """Counters: requests by path and outcomes ("ok", "errcode N", "fault busy|freq|http502|drop",
        "limit 45009", "slow", "token expiry injected"); ``faults`` counts the injected failures."""
        with self._lock:
            total = sum(self.requests.values())
            faults = sum(v for k, v in self.outcomes.items() if k.startswith("fault "))
            return {
                "requests": total,
                "by_path": dict(self.requests),
                "outcomes": dict(self.outcomes),
                "faults": faults,
                "failed_share": faults / total if total else 0.0,
                "tokens_issued": len(self.issued_tokens),
            }

    def expire_tokens(self, code: int | None = None) -> None:
        """Expire every token now (as WeCom may do "出于运营需要")."""
        with self._lock:
            self._expire_all(code)

    def _expire_all(self, code: int | None) -> None:
        for value, token in self._tokens.items():
            if token.expired_code is None:
                token.expired_code = code or self._expiry_code(value)
        self._current.clear()

    def _expiry_code(self, value: str) -> int:
        if self.expired_code:
            return self.expired_code
        return 42001 if stable_int(self.faults.seed, value) % 2 else 40014

    # ---- one request ------------------------------------------------------------------------------
    def dispatch(self, method: str, path: str, query_string: str, raw: bytes, ip: str, content_type: str = "") -> Reply:
        """Answer one HTTP request (called by the handler threads)."""
        if path.startswith("/_fake/"):
            return self._admin(path)
        if not path.startswith("/cgi-bin/"):
            return Reply(404, b"<html>404 Not Found</html>", "text/html")
        name = path[len("/cgi-bin/") :]
        query = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        body: dict[str, Any] = {}
        bad_json = False
        if raw.strip() and not content_type.startswith("multipart/"):
            try:
                parsed = json.loads(raw)
                body = parsed if isinstance(parsed, dict) else {}
                bad_json = not isinstance(parsed, dict)
            except ValueError:
                bad_json = True
        route = ROUTES.get(name)
        if route is None and name not in ("gettoken", "webhook/send", "webhook/upload_media"):
            return Reply(404, b"<html>404 Not Found</html>", "text/html")
        with self._lock:
            self.requests[name] += 1
            fault, slow = self._draw_fault(name, query, body)
            if route is not None and route.cursor_field and body.get(route.cursor_field):
                self._page_requests += 1
                if self._page_requests == self.faults.expire_at_page:
                    self._expire_all(None)
                    self.outcomes["token expiry injected"] += 1
        delay = (self.faults.latency_ms + (self.faults.slow_ms if slow else 0)) / 1000.0
        if fault == "drop":
            return Reply(drop=True, delay=delay)
        if fault == "http502":
            return Reply(502, _HTML_502, "text/html", delay=delay)
        if fault is not None:
            return self._error(-1 if fault == "busy" else 45009, ip, delay=delay, count=False)
        try:
            if name == "gettoken":
                payload = self._gettoken(query, ip)
            elif name == "webhook/upload_media":
                payload = self.robots.upload(query, content_type, raw)
            elif name == "webhook/send" or route is None:
                payload = self.robots.send(query, body)
            else:
                self._authorise(name, route.apps, route.method, method, query, ip)
                payload = route.handler(self.org, Request(method, name, query, body, ip))
        except ApiError as exc:
            message = exc.message
            if bad_json or (route is not None and route.method == "POST" and method == "GET"):
                message = "Warning: wrong json format. " + message
            return self._error(exc.code, ip, message, delay=delay)
        with self._lock:
            self.outcomes["ok"] += 1
        return self._json({"errcode": 0, "errmsg": "ok", **payload}, delay)

    def _draw_fault(self, name: str, query: dict[str, str], body: dict[str, Any]) -> tuple[str | None, bool]:
        if not (self.faults.failing or self.faults.slow) or (name.startswith("webhook/") and not self.fault_webhook):
            return None, False
        key = "|".join(
            (
                name,
                json.dumps({k: v for k, v in query.items() if k != "access_token"}, sort_keys=True),
                json.dumps(body, sort_keys=True, ensure_ascii=False),
            )
        )
        seen = self._seen[key]
        self._seen[key] += 1
        fault, slow = self.faults.draw(key, seen)
        if fault is not None and self._runs[key] >= self.faults.max_run:
            fault = None  # transient: never more than max_run in a row
        self._runs[key] = self._runs[key] + 1 if fault else 0
        if fault:
            self.outcomes[f"fault {fault}"] += 1
        if slow:
            self.outcomes["slow"] += 1
        return fault, slow

    def _gettoken(self, query: dict[str, str], ip: str) -> dict[str, Any]:
        self._check_ip(ip)
        corp, secret = query.get("corpid", ""), query.get("corpsecret", "")
        if not corp:
            raise ApiError(41002, ERRMSG[41002])
        if corp != self.corp_id:
            raise ApiError(40013, ERRMSG[40013])
        if not secret:
            raise ApiError(41004, ERRMSG[41004])
        app = self._app_of_secret.get(secret)
        if app is None:
            raise ApiError(40001, "invalid credential")
        now = time.monotonic()
        with self._lock:
            value = self._current.get(secret)
            token = self._tokens.get(value or "")
            if token is None or token.expired_code is not None or now >= token.expires_at:
                value = secrets_module.token_hex(32)
                token = _Token(app, secret, now + self.token_ttl)
                self._tokens[value] = token
                self._current[secret] = value
                self.issued_tokens.append(value)
            return {"access_token": value, "expires_in": max(1, round(token.expires_at - now))}

    def _check_ip(self, ip: str) -> None:
        if self.trusted_ips is not None and ip not in self.trusted_ips:
            raise ApiError(60020, f"{ERRMSG[60020]}")

    def _authorise(
        self, name: str, apps: frozenset[str], route_method: str, method: str, query: dict[str, str], ip: str
    ) -> None:
        self._check_ip(ip)
        value = query.get("access_token", "")
        if not value:
            raise ApiError(41001, ERRMSG[41001])
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise ApiError(40014, ERRMSG[40014])
            if token.expired_code is None and time.monotonic() >= token.expires_at:
                token.expired_code = 42001
            if token.expired_code is not None:
                raise ApiError(token.expired_code, ERRMSG[token.expired_code])
            if token.app not in apps:
                raise ApiError(48002, ERRMSG[48002])
            if self.contact_sync_new_ip and name in CONTACT_DETAILS:
                raise ApiError(48009, ERRMSG[48009])
            self._rate_limit(name, "")

    def _rate_limit(self, name: str, key: str) -> None:
        """Sliding-window limit per endpoint (per robot key for the webhook); caller holds the lock."""
        if not self.enforce_limits:
            return
        limit = ENDPOINTS[name].per_minute
        window = self._windows.setdefault((name, key), deque())
        now = time.monotonic()
        while window and window[0] <= now - self.limit_period:
            window.popleft()
        if len(window) >= limit:
            self.outcomes["limit 45009"] += 1
            raise ApiError(45009, ERRMSG[45009])
        window.append(now)

    def _admin(self, path: str) -> Reply:
        if path == "/_fake/webhook/messages":
            return self._json({"messages": self.webhook_messages}, 0.0)
        if path == "/_fake/stats":
            return self._json(self.stats(), 0.0)
        return Reply(404, b"<html>404 Not Found</html>", "text/html")

    def _error(
        self, code: int, ip: str, message: str | None = None, *, delay: float = 0.0, count: bool = True
    ) -> Reply:
        with self._lock:
            self._hints += 1
            hint = f"{int(time.time())}{self._hints:08d}"
            if count:
                self.outcomes[f"errcode {code}"] += 1
        text = message or ERRMSG.get(code, "invalid parameter")
        errmsg = f"{text}, hint: [{hint}], from ip: {ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
        return self._json({"errcode": code, "errmsg": errmsg}, delay)

    @staticmethod
    def _json(payload: dict[str, Any], delay: float) -> Reply:
        return Reply(200, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), delay=delay)


__all__ = ["DEFAULT_BASE", "FakeWecom", "Reply"]
