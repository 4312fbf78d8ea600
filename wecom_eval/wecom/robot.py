"""A WeCom group robot: the webhook's messages, their size limits, and sending them.

A group robot (reference §10) takes messages at ``webhook/send?key=…`` — markdown of at most
4096 UTF-8 bytes, text of at most 2048, an image (PNG or JPEG, at most 2 MB before base64,
sent as base64 with its md5) or a file first uploaded to ``webhook/upload_media`` (more
than 5 bytes, at most 20 MB) — at most 20 a minute per robot. :class:`GroupRobot` sends them
through a :class:`~wecom_eval.wecom.client.WecomClient`, which waits for the robot's window
rather than fail and resends a message only when it certainly never left (a robot would
otherwise post it twice). Sizes are checked before anything is sent.

The robot's key is a secret: it comes from the environment (:func:`webhook_key_from_env`)
and is registered for redaction before anything is sent, so no log line, message or error
shows it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from wecom_eval.errors import InputError, Problem
from wecom_eval.wecom.client import WecomClient
from wecom_eval.wecom.redact import register_secret

ENV_KEY = "WECOM_WEBHOOK_KEY"
WEBHOOK_KEY_INVALID = 93000  # reference §10.1: bad or removed robot key
MARKDOWN_MAX_BYTES = 4096  # reference §10.1
TEXT_MAX_BYTES = 2048
IMAGE_MAX_BYTES = 2 * 1024 * 1024  # reference §10.1: image ≤ 2 MB before base64, JPG or PNG
FILE_MIN_BYTES, FILE_MAX_BYTES = 6, 20 * 1024 * 1024  # reference §10.2: a robot file is more than 5 bytes, ≤20 MB
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


def webhook_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The group robot's key from ``$WECOM_WEBHOOK_KEY`` (the key, or the whole webhook URL).

    The value is registered for redaction at once. None when the variable is unset or empty.

    Examples
    --------
    >>> webhook_key_from_env({"WECOM_WEBHOOK_KEY": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123-def"})
    'abc-123-def'
    """
    env = os.environ if environ is None else environ
    value = (env.get(ENV_KEY) or "").strip()
    if not value:
        return None
    register_secret(value)
    if "key=" in value:  # the whole URL pasted from the robot's settings
        found = parse_qs(urlsplit(value).query).get("key")
        if found and found[0].strip():
            value = found[0].strip()
    register_secret(value)
    return value


def image_body(image: bytes) -> dict[str, Any]:
    """The ``webhook/send`` body of an image message: base64 and md5 of the raw bytes.

    Raises
    ------
    ValueError
        When the bytes are not a PNG or JPEG, or exceed 2 MB (reference §10.1).
    """
    if not (image.startswith(_PNG_MAGIC) or image.startswith(_JPEG_MAGIC)):
        raise ValueError("a group robot accepts only PNG or JPEG images")
    if len(image) > IMAGE_MAX_BYTES:
        raise ValueError(
            f"the image is {len(image):,} bytes; WeCom accepts at most {IMAGE_MAX_BYTES:,} (before base64)"
        )
    return {
        "msgtype": "image",
        "image": {"base64": base64.b64encode(image).decode("ascii"), "md5": hashlib.md5(image).hexdigest()},
    }  # noqa: S324 (WeCom's checksum)


@dataclass(frozen=True)
class Message:
    """One ``webhook/send`` message: its type, the exact JSON body, and its size in bytes.

    ``size`` is the markdown's UTF-8 bytes, the image's bytes before base64, or the file's
    bytes. A ``file`` message carries the ``path`` it uploads first (``webhook/upload_media``)
    and the ``filename`` the group sees; its body gets the ``media_id`` when it is sent.
    """

    msgtype: Literal["markdown", "image", "file"]
    body: dict[str, Any]
    size: int
    path: Path | None = None
    filename: str | None = None

    @classmethod
    def markdown(cls, content: str) -> Message:
        """A markdown message (its size is checked when it is sent)."""
        return cls("markdown", {"msgtype": "markdown", "markdown": {"content": content}}, len(content.encode("utf-8")))

    @classmethod
    def image(cls, image: bytes) -> Message:
        """An image message (:func:`image_body`: PNG or JPEG, at most 2 MB)."""
        return cls("image", image_body(image), len(image))

    @classmethod
    def file(cls, path: Path, *, filename: str) -> Message:
        """A file message for ``path``, shown to the group as ``filename``.

        Raises :class:`InputError` (exit 2, nothing sent) for a file WeCom would refuse.
        """
        size = path.stat().st_size
        if not FILE_MIN_BYTES <= size <= FILE_MAX_BYTES:
            raise InputError(
                str(path),
                [
                    Problem(
                        "size",
                        f"{size:,} bytes",
                        f"more than 5 bytes and at most {FILE_MAX_BYTES:,} (20 MB)",
                        "A group robot cannot send this file: leave out --files and share the report's link instead.",
                    )
                ],
            )
        return cls("file", {"msgtype": "file", "file": {"media_id": None}}, size, path=path, filename=filename)

    @property
    def limit(self) -> int:
        return {"markdown": MARKDOWN_MAX_BYTES, "image": IMAGE_MAX_BYTES}.get(self.msgtype, FILE_MAX_BYTES)

    @property
    def content(self) -> str | None:
        """The markdown text (None for an image or a file)."""
        return self.body["markdown"]["content"] if self.msgtype == "markdown" else None

    def describe(self) -> str:
        """One line: type, size against the limit (and md5 for an image)."""
        if self.msgtype == "markdown":
            return f"markdown, {self.size:,} of {self.limit:,} bytes"
        if self.msgtype == "file":
            return f"file {self.filename}, {self.size:,} of {self.limit:,} bytes"
        image = self.body["image"]
        return (
            f"image (scorecard PNG), {self.size:,} of {self.limit:,} bytes, md5 {image['md5']}, "
            f"base64 {len(image['base64']):,} characters (not shown)"
        )


class GroupRobot:
    """One group robot, reached through ``client`` (opened by the caller) with ``key``.

    Every call goes through the client's limiter for ``webhook/send`` (20 a minute, per
    key) and its retry rules; the key is registered for redaction first.
    """

    def __init__(self, client: WecomClient, key: str) -> None:
        if not key:
            raise ValueError("a webhook key is required")
        register_secret(key)
        self.client = client
        self.key = key

    async def send(
        self,
        *,
        markdown: str | None = None,
        text: str | None = None,
        markdown_v2: str | None = None,
        mentioned_list: list[str] | None = None,
    ) -> dict[str, Any]:
        """Post one message: exactly one of ``markdown`` (≤4096 UTF-8 bytes), ``markdown_v2``
        (≤4096 bytes) or ``text`` (≤2048 bytes; it may mention members)."""
        given = {
            k: v for k, v in (("markdown", markdown), ("markdown_v2", markdown_v2), ("text", text)) if v is not None
        }
        if len(given) != 1:
            raise ValueError("give exactly one of markdown=, markdown_v2= or text=")
        ((msgtype, content),) = given.items()
        limit = TEXT_MAX_BYTES if msgtype == "text" else MARKDOWN_MAX_BYTES
        size = len(content.encode("utf-8"))
        if size > limit:
            raise ValueError(
                f"{msgtype} content is {size} UTF-8 bytes; WeCom accepts at most {limit}. "
                "Split the message at line boundaries."
            )
        payload: dict[str, Any] = {"content": content}
        if mentioned_list and msgtype == "text":
            payload["mentioned_list"] = list(mentioned_list)
        return await self.post({"msgtype": msgtype, msgtype: payload})

    async def post(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Post one prepared ``webhook/send`` body (any msgtype, e.g. :func:`image_body`)."""
        return await self.client.call_robot("webhook/send", key=self.key, body=body)

    async def upload(self, *, filename: str, content: bytes, media_type: str = "file") -> str:
        """Upload a file for a file message (``webhook/upload_media``); return its ``media_id``
        (valid 3 days, for this robot only). A file of 5 bytes or less, or over 20 MB, raises
        ``ValueError`` before anything is sent."""
        if not FILE_MIN_BYTES <= len(content) <= FILE_MAX_BYTES:
            raise ValueError(
                f"{filename} is {len(content):,} bytes; a robot's file must be more than 5 bytes "
                f"and at most {FILE_MAX_BYTES:,} (20 MB)"
            )
        files = {"media": (filename, content, "application/octet-stream")}
        data = await self.client.call_robot(
            "webhook/upload_media", key=self.key, params={"type": media_type}, files=files
        )
        return str(data["media_id"])

    async def send_image(self, image: bytes) -> dict[str, Any]:
        """Post an image message (PNG or JPEG, at most 2 MB)."""
        return await self.post(image_body(image))

    async def send_file(self, path: Path, *, filename: str) -> dict[str, Any]:
        """Upload a file and post it as a file message."""
        media_id = await self.upload(filename=filename, content=path.read_bytes())
        return await self.post({"msgtype": "file", "file": {"media_id": media_id}})

    async def deliver(self, message: Message) -> dict[str, Any]:
        """Send a prepared :class:`Message` the way its type needs."""
        if message.msgtype == "markdown":
            return await self.send(markdown=message.content)
        if message.msgtype == "file" and message.path is not None:
            return await self.send_file(message.path, filename=message.filename or message.path.name)
        return await self.send_image(base64.b64decode(message.body["image"]["base64"]))


__all__ = [
    "ENV_KEY",
    "FILE_MAX_BYTES",
    "FILE_MIN_BYTES",
    "IMAGE_MAX_BYTES",
    "MARKDOWN_MAX_BYTES",
    "TEXT_MAX_BYTES",
    "WEBHOOK_KEY_INVALID",
    "GroupRobot",
    "Message",
    "image_body",
    "webhook_key_from_env",
]
