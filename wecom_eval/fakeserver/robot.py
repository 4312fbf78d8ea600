"""The fake corp's group robots: ``webhook/send`` and ``webhook/upload_media`` with WeCom's checks.

* ``webhook/send?key=…``: 93000 for an unknown key, 40008 for an unknown msgtype, 40058 for
  empty text or over the byte limits, 45009 over 20 messages a minute (the server's limiter,
  per key); accepted messages are kept (:attr:`FakeRobots.messages`); a ``file`` message needs
  a ``media_id`` the same robot uploaded (40007 otherwise) and is kept with the file's name,
  size and SHA-256;
* ``webhook/upload_media?key=…&type=file``: multipart with the file in the field ``media``;
  44001 for a missing or empty file (5 bytes or fewer, checked before the key), 40006 over
  20 MB, 93000 for an unknown key, 40004 for a type other than file or voice.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import secrets as secrets_module
import threading
import time
from collections.abc import Callable
from typing import Any

from wecom_eval.fakeserver.routes import ERRMSG, ApiError

MARKDOWN_MAX_BYTES = 4096
FILE_MIN_BYTES, FILE_MAX_BYTES = 6, 20 * 1024 * 1024  # reference §10.2: more than 5 bytes, at most 20 MB
TEXT_MAX_BYTES = 2048
WEBHOOK_TYPES = ("text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card")


class FakeRobots:
    """The robots of the fake corp, one per key; ``lock`` and ``rate_limit`` are the server's."""

    def __init__(self, keys: list[str], lock: threading.Lock, rate_limit: Callable[[str, str], None]) -> None:
        self.keys = keys
        self._lock = lock
        self._rate_limit = rate_limit
        self._messages: list[dict[str, Any]] = []
        self._media: dict[str, dict[str, Any]] = {}  # media_id → the uploaded file and its robot

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message accepted so far, oldest first (copies)."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def send(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self.keys:
            raise ApiError(93000, ERRMSG[93000])
        msgtype = body.get("msgtype")
        if msgtype not in WEBHOOK_TYPES:
            raise ApiError(40008, ERRMSG[40008])
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
            if file is None or file["key_index"] != self.keys.index(key):
                raise ApiError(40007, ERRMSG[40007])  # unknown, or uploaded by another robot
        with self._lock:
            self._rate_limit("webhook/send", key)
            self._messages.append(
                {
                    "key_index": self.keys.index(key),
                    "msgtype": msgtype,
                    "content": content,
                    "body": body,
                    "received_at": time.time(),
                    **({"file": file} if file else {}),
                }
            )
        return {}

    def upload(self, query: dict[str, str], content_type: str, raw: bytes) -> dict[str, Any]:
        filename, data = _multipart_file(content_type, raw, "media")
        if data is None or len(data) < FILE_MIN_BYTES:  # the file is checked before the key
            raise ApiError(44001, ERRMSG[44001])
        if len(data) > FILE_MAX_BYTES:
            raise ApiError(40006, ERRMSG[40006])
        key = query.get("key", "")
        if key not in self.keys:
            raise ApiError(93000, ERRMSG[93000])
        kind = query.get("type", "")
        if kind not in ("file", "voice"):
            raise ApiError(40004, ERRMSG[40004])
        with self._lock:
            media_id = "3" + secrets_module.token_urlsafe(30)
            self._media[media_id] = {
                "key_index": self.keys.index(key),
                "filename": filename,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "type": kind,
            }
        return {"type": kind, "media_id": media_id, "created_at": str(int(time.time()))}


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


__all__ = ["FakeRobots"]
