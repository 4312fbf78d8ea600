"""The fake's HTTP side: a threading server on loopback that hands each request to a dispatch function."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from wecom_eval.wecom.redact import redact

log = logging.getLogger("wecom_eval.fakeserver")


class Answer(Protocol):
    """What a dispatch returns: status, body and content type, an added delay, or a dropped connection."""

    status: int
    body: bytes
    content_type: str
    delay: float
    drop: bool


Dispatch = Callable[[str, str, str, bytes, str, str], Answer]  # (method, path, query, body, ip, content type)


class FakeHttpServer(ThreadingHTTPServer):
    """An HTTP/1.1 keep-alive server whose every request goes to ``dispatch``."""

    daemon_threads = True  # a keep-alive connection never holds up shutdown
    request_queue_size = 128  # a client opening many connections at once is not refused

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch


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
        dispatch: Dispatch = self.server.dispatch  # type: ignore[attr-defined]  # a FakeHttpServer
        reply = dispatch(
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


__all__ = ["Answer", "FakeHttpServer"]
