"""The WeCom server API: credentials, a robust async client, typed calls and limits.

>>> from wecom_eval.wecom import Credentials, WecomClient, WecomApi  # doctest: +SKIP
"""

from __future__ import annotations

from wecom_eval.wecom.api import Page, WecomApi
from wecom_eval.wecom.client import WecomClient
from wecom_eval.wecom.credentials import APPS, Credentials, read_dotenv
from wecom_eval.wecom.endpoints import ENDPOINTS, Endpoint, endpoint
from wecom_eval.wecom.errors import ERRCODES, ErrorCode, WecomApiError, describe
from wecom_eval.wecom.ratelimit import SlidingWindowLimiter, min_duration
from wecom_eval.wecom.redact import install_log_redaction, redact, register_secret
from wecom_eval.wecom.robot import GroupRobot
from wecom_eval.wecom.settings import ClientSettings, ClientStats
from wecom_eval.wecom.windows import Window, batched, day_of, midnight, split_days

__all__ = [
    "APPS",
    "ClientSettings",
    "ClientStats",
    "Credentials",
    "ENDPOINTS",
    "ERRCODES",
    "Endpoint",
    "ErrorCode",
    "GroupRobot",
    "Page",
    "SlidingWindowLimiter",
    "WecomApi",
    "WecomApiError",
    "WecomClient",
    "Window",
    "batched",
    "day_of",
    "describe",
    "endpoint",
    "install_log_redaction",
    "midnight",
    "min_duration",
    "read_dotenv",
    "redact",
    "register_secret",
    "split_days",
]
