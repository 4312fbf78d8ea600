"""The WeCom endpoints the workbook calls, with their documented limits.

One table, read by the client (rate limits, span limits, batching, retry safety) and by
the fake server (the same limits, enforced), so that a limit lives in one place. Figures
come from ``shared/reference/wecom-api.md`` §2 and the endpoint sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Per corp, per API: 10,000 calls a minute (reference §2.1, DOC/90454, 2023) — the limit of
# every endpoint without a stricter one of its own.
GLOBAL_PER_MINUTE = 10_000
# gettoken has no numeric limit, only "不能频繁调用" (§2.2); tokens are cached, so a small
# client-side ceiling costs nothing and protects against a refresh storm.
GETTOKEN_PER_MINUTE = 120


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint (``path`` under ``/cgi-bin/``) and its rules."""

    path: str
    method: Literal["GET", "POST"]
    app: str | None  # the app whose token it needs; None for gettoken and the webhook
    per_minute: int = GLOBAL_PER_MINUTE
    max_span_days: int | None = None  # calendar days one call may cover
    max_users: int | None = None  # userids one call may name
    idempotent: bool = True  # safe to resend after a timeout or a dropped connection
    concurrency: int = 8  # calls in flight at once (45033 guards data-heavy APIs)
    paginated: bool = False

    @property
    def name(self) -> str:
        return self.path


ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in (
        Endpoint("gettoken", "GET", None, per_minute=GETTOKEN_PER_MINUTE, concurrency=4),
        # contacts (§5)
        Endpoint("department/list", "GET", "CONTACTS"),
        Endpoint("department/simplelist", "GET", "CONTACTS"),
        Endpoint("user/list", "GET", "CONTACTS"),
        Endpoint("user/list_id", "POST", "CONTACTS", paginated=True),
        Endpoint("user/get_active_stat", "POST", "CONTACTS"),
        # attendance (§7): ≤100 users, span under a month
        Endpoint("checkin/getcheckindata", "POST", "CHECKIN", per_minute=600, max_span_days=30, max_users=100),
        Endpoint("checkin/getcheckin_daydata", "POST", "CHECKIN", per_minute=100, max_span_days=30, max_users=100),
        # approvals (§8): span ≤31 days, pages of ≤100 numbers
        Endpoint("oa/getapprovalinfo", "POST", "APPROVAL", per_minute=600, max_span_days=31, paginated=True),
        Endpoint("oa/getapprovaldetail", "POST", "APPROVAL", per_minute=600),
        # customer contact (§9): one user per call on purpose (several userids are summed)
        Endpoint("externalcontact/get_follow_user_list", "GET", "CUSTOMER"),
        Endpoint("externalcontact/get_user_behavior_data", "POST", "CUSTOMER", max_span_days=30, max_users=1),
        # activity signal (§6.2): span ≤7 days, pages of ≤400 records
        Endpoint("security/member_oper_log/list", "POST", "SECURITY", per_minute=600, max_span_days=7, paginated=True),
        # group robot (§10): 20 messages a minute per robot; a resent message would be posted twice
        Endpoint("webhook/send", "POST", None, per_minute=20, idempotent=False, concurrency=1),
        # a file for a file message (§10.2): an upload sent twice only leaves an unused media_id
        Endpoint("webhook/upload_media", "POST", None, per_minute=20, concurrency=1),
    )
}


def endpoint(path: str) -> Endpoint:
    """The endpoint at ``path`` (with or without a leading ``/cgi-bin/``)."""
    key = path.removeprefix("/").removeprefix("cgi-bin/")
    try:
        return ENDPOINTS[key]
    except KeyError:
        raise ValueError(f"unknown WeCom endpoint {path!r}; known: {', '.join(ENDPOINTS)}") from None


__all__ = ["ENDPOINTS", "Endpoint", "GETTOKEN_PER_MINUTE", "GLOBAL_PER_MINUTE", "endpoint"]
