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
* ``webhook/send?key=…``: 93000 for an unknown key, 40058 over the byte limits, 45009 over
  20 messages a minute; accepted messages are kept (:attr:`FakeWecom.webhook_messages`,
  or ``GET /_fake/webhook/messages``); a ``file`` message needs a ``media_id`` the same robot
  uploaded (40007 otherwise) and is kept with the file's name, size and SHA-256;
* ``webhook/upload_media?key=…&type=file``: multipart with the file in the field ``media``;
  44001 for a missing or empty file (5 bytes or fewer, checked before the key), 40006 over
  20 MB, 93000 for an unknown key, 40004 for a type other than file or voice.

Faults are injected by :class:`~wecom_eval.fakeserver.faults.Faults`. ``GET /_fake/stats``
returns the counters. Use it as a context manager::

    with FakeWecom(org, faults="busy=0.2") as server:
        server.base_url, server.environ()
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import json
import logging
import secrets as secrets_module
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wecom_eval.fakeserver.faults import Faults
from wecom_eval.fakeserver.org import FakeOrg, stable_int
from wecom_eval.fakeserver.routes import ROUTES, ApiError, Request
from wecom_eval.wecom.credentials import APPS, DEFAULT_BASE, ENV_BASE, ENV_CORP_ID, Credentials
from wecom_eval.wecom.endpoints import ENDPOINTS
from wecom_eval.wecom.redact import redact

log = logging.getLogger("wecom_eval.fakeserver")

TOKEN_TTL = 7200  # reference §3: expires_in, normally 7200
MARKDOWN_MAX_BYTES = 4096
FILE_MIN_BYTES, FILE_MAX_BYTES = 6, 20 * 1024 * 1024  # reference §10.2: more than 5 bytes, at most 20 MB
TEXT_MAX_BYTES = 2048
WEBHOOK_TYPES = ("text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card")
CONTACT_DETAILS = ("department/list", "user/list")  # refused to contact-sync from a new IP (48009)
_MESSAGES = {
    -1: "system busy",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid corpid",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "api freq out of limit",
    44001: "empty media data",
    40006: "invalid meida size",
    40004: "invalid media type",
    40007: "invalid media_id",
    48002: "api forbidden",
    48009: "api forbidden: contact sync assistant may not read contact details from a new ip",
    60020: "not allow to access from your ip",
    93000: "invalid webhook url",
    40008: "invalid message type",
}
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
        self.webhook_keys = list(webhook_keys) if webhook_keys else [secrets_module.token_hex(16)]
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
        self._webhook_messages: list[dict[str, Any]] = []
        self._media: dict[str, dict[str, Any]] = {}  # media_id → the uploaded file and its robot
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeWecom:
        httpd = _Server((self.host, self._port), _Handler)
        httpd.fake = self
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
        with self._lock:
            return [dict(m) for m in self._webhook_messages]

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
                payload = self._upload(query, content_type, raw)
            elif name == "webhook/send" or route is None:
                payload = self._webhook(query, body)
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
            raise ApiError(41002, _MESSAGES[41002])
        if corp != self.corp_id:
            raise ApiError(40013, _MESSAGES[40013])
        if not secret:
            raise ApiError(41004, _MESSAGES[41004])
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
            raise ApiError(60020, f"{_MESSAGES[60020]}")

    def _authorise(
        self, name: str, apps: frozenset[str], route_method: str, method: str, query: dict[str, str], ip: str
    ) -> None:
        self._check_ip(ip)
        value = query.get("access_token", "")
        if not value:
            raise ApiError(41001, _MESSAGES[41001])
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise ApiError(40014, _MESSAGES[40014])
            if token.expired_code is None and time.monotonic() >= token.expires_at:
                token.expired_code = 42001
            if token.expired_code is not None:
                raise ApiError(token.expired_code, _MESSAGES[token.expired_code])
            if token.app not in apps:
                raise ApiError(48002, _MESSAGES[48002])
            if self.contact_sync_new_ip and name in CONTACT_DETAILS:
                raise ApiError(48009, _MESSAGES[48009])
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
            raise ApiError(45009, _MESSAGES[45009])
        window.append(now)

    def _webhook(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self.webhook_keys:
            raise ApiError(93000, _MESSAGES[93000])
        msgtype = body.get("msgtype")
        if msgtype not in WEBHOOK_TYPES:
            raise ApiError(40008, _MESSAGES[40008])
        content = (body.get(msgtype) or {}).get("content") if isinstance(body.get(msgtype), dict) else None
        if msgtype in ("text", "markdown", "markdown_v2"):
            if not isinstance(content, str) or not content:
                raise ApiError(40058, f"{msgtype}.content is empty. Invalid input invalid Request Parameter")
            limit = TEXT_MAX_BYTES if msgtype == "text" else MARKDOWN_MAX_BYTES
            if len(content.encode("utf-8")) > limit:
                raise ApiError(
                    40058, f"{msgtype}.content exceed max length {limit}. Invalid input invalid Request Parameter"
                )
        file = None
        if msgtype == "file":
            media_id = (body.get("file") or {}).get("media_id") if isinstance(body.get("file"), dict) else None
            with self._lock:
                file = self._media.get(str(media_id))
            if file is None or file["key_index"] != self.webhook_keys.index(key):
                raise ApiError(40007, _MESSAGES[40007])  # unknown, or uploaded by another robot
        with self._lock:
            self._rate_limit("webhook/send", key)
            self._webhook_messages.append(
                {
                    "key_index": self.webhook_keys.index(key),
                    "msgtype": msgtype,
                    "content": content,
                    "body": body,
                    "received_at": time.time(),
                    **({"file": file} if file else {}),
                }
            )
        return {}

    def _upload(self, query: dict[str, str], content_type: str, raw: bytes) -> dict[str, Any]:
        filename, data = _multipart_file(content_type, raw, "media")
        if data is None or len(data) < FILE_MIN_BYTES:  # the file is checked before the key
            raise ApiError(44001, _MESSAGES[44001])
        if len(data) > FILE_MAX_BYTES:
            raise ApiError(40006, _MESSAGES[40006])
        key = query.get("key", "")
        if key not in self.webhook_keys:
            raise ApiError(93000, _MESSAGES[93000])
        kind = query.get("type", "")
        if kind not in ("file", "voice"):
            raise ApiError(40004, _MESSAGES[40004])
        with self._lock:
            media_id = "3" + secrets_module.token_urlsafe(30)
            self._media[media_id] = {
                "key_index": self.webhook_keys.index(key),
                "filename": filename,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "type": kind,
            }
        return {"type": kind, "media_id": media_id, "created_at": str(int(time.time()))}

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
        text = message or _MESSAGES.get(code, "invalid parameter")
        errmsg = f"{text}, hint: [{hint}], from ip: {ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
        return self._json({"errcode": code, "errmsg": errmsg}, delay)

    @staticmethod
    def _json(payload: dict[str, Any], delay: float) -> Reply:
        return Reply(200, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), delay=delay)


def _multipart_file(content_type: str, raw: bytes, field: str) -> tuple[str | None, bytes | None]:
    """The file name and bytes of one field of a multipart/form-data body (None, None when absent)."""
    if not content_type.startswith("multipart/form-data"):
        return None, None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field:
            payload = part.get_payload(decode=True)
            return part.get_filename(), payload if isinstance(payload, bytes) else None
    return None, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a keep-alive connection never holds up shutdown
    request_queue_size = 128  # a client opening many connections at once is not refused
    fake: FakeWecom


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service
    server_version = "stgw"
    # One write per answer, sent at once: headers and body in separate small writes would
    # meet Nagle's algorithm and delayed ACKs (40 ms per call on loopback).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        fake = self.server.fake  # type: ignore[attr-defined]  # set on _Server
        reply = fake.dispatch(
            method, parts.path, parts.query, raw, self.client_address[0], self.headers.get("Content-Type") or ""
        )
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.drop:  # close without an answer: the client sees a dropped connection
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("fake WeCom: %s", redact(format % args))  # the path carries the token: redacted


__all__ = ["DEFAULT_BASE", "FakeWecom", "Reply"]
