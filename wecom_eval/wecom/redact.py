"""Keep secrets out of every log line, exception message and landed file.

The access token travels in each URL's query string (``access_token=…``), ``gettoken``
carries the app secret (``corpsecret=…``) and a group robot's webhook carries its ``key=…``.
Two defences, both applied by :func:`redact`:

1. any ``access_token=``, ``corpsecret=``, ``secret=`` or ``key=`` query value is masked,
   whatever it is;
2. every secret value the process has seen (the secrets read from the environment, each
   token WeCom issued, each webhook key used) is masked wherever it appears.

:func:`install_log_redaction` puts a filter on the loggers that could print a URL
(``httpx``, ``httpcore``, ``wecom_eval``) and on the root handlers.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "***"
# A query parameter whose value is a credential. ``\b`` keeps ``sort_key=`` and the like.
_PARAM = re.compile(r"(?i)\b(access_token|corpsecret|secret|key)=([^&\s\"'#<>\\]+)")
_MIN_SECRET_LENGTH = 8  # shorter strings would mask ordinary words


class Redactor:
    """Masks credential query values and every registered secret value."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Register secret values (secrets, tokens, webhook keys) to mask from now on."""
        new = {v for v in values if v and len(v) >= _MIN_SECRET_LENGTH and v not in self._values}
        if not new:
            return
        with self._lock:
            self._values |= new
            # Longest first, so that a secret containing another is masked whole.
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def __call__(self, text: str) -> str:
        text = _PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text)
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    def scrub(self, obj: Any) -> Any:
        """A copy of a JSON-like value with every string redacted (dict keys included)."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, dict):
            return {self(str(k)): self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.scrub(v) for v in obj]
        return obj


REDACTOR = Redactor()  # process-wide: a secret seen anywhere is masked everywhere


def register_secret(*values: str | None) -> None:
    """Mask these values in every later log line, message and landed record."""
    REDACTOR.add(*values)


def redact(text: object) -> str:
    """``text`` as a string with credentials masked.

    Examples
    --------
    >>> redact("GET /cgi-bin/user/list?access_token=abc123XYZ&department_id=2")
    'GET /cgi-bin/user/list?access_token=***&department_id=2'
    """
    return REDACTOR(str(text))


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in the message and any traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()
_LOGGERS: tuple[str, ...] = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "wecom_eval",
    "wecom_eval.wecom",
    "wecom_eval.fetch",
    "wecom_eval.fakeserver",
)


def install_log_redaction(extra_loggers: Iterable[str] = ()) -> None:
    """Add the redacting filter to the loggers that may see a URL and to the root handlers.

    Idempotent. Logger filters only see records logged on that very logger, so each logger
    that can print a URL is named; handler filters see everything that reaches them.
    """
    for name in (*_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


__all__ = ["MASK", "REDACTOR", "RedactingFilter", "Redactor", "install_log_redaction", "redact", "register_secret"]
