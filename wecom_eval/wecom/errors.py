"""WeCom error codes: what each means, whether retrying helps, and what to change.

Every business error comes back as HTTP 200 with a non-zero ``errcode`` (reference §1).
Each code the workbook may meet is in :data:`ERRCODES` with an :class:`Action`:

``retry``    transient (system busy, frequency or concurrency limit): back off and retry.
``refresh``  the access token is expired or invalid: fetch a new one, retry once.
``fatal``    retrying cannot help: the corp id, a secret, a permission, the caller's IP or
             the request is wrong. The pull stops with exit 3 and says what to change.
``empty``    an endpoint's way of saying "nothing" (84061 from externalcontact/list).

Codes and meanings are from the official global error-code table as transcribed in the
reference (§3.1, §4, §10.1); the fixes say where in the admin console to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wecom_eval.errors import SourceError
from wecom_eval.wecom.credentials import APPS
from wecom_eval.wecom.redact import redact

Action = Literal["retry", "refresh", "fatal", "empty"]

_BUG = "wecom-eval built a request WeCom refuses; this is a bug in wecom-eval — please report it with this message"


@dataclass(frozen=True)
class ErrorCode:
    """One WeCom errcode: its meaning, the action it calls for and the fix to suggest."""

    code: int
    meaning: str
    action: Action
    fix: str = ""


ERRCODES: dict[int, ErrorCode] = {
    e.code: e
    for e in (
        # ---- transient: retry with backoff --------------------------------------------------
        ErrorCode(-1, "system busy", "retry"),
        ErrorCode(6000, "data version conflict (concurrent writes)", "retry"),
        ErrorCode(
            45009,
            "API call frequency over the limit",
            "retry",
            "Lower --concurrency, or check whether another program uses the same app at the same time.",
        ),
        ErrorCode(45033, "too many concurrent calls to this API", "retry", "Lower --concurrency."),
        ErrorCode(301022, "failed to get checkin data (system)", "retry"),
        # ---- token: refresh and retry once ----------------------------------------------------
        ErrorCode(40014, "invalid access_token", "refresh"),
        ErrorCode(42001, "access_token expired", "refresh"),
        # 40001 on a business call means a token from a secret that changed: refresh once; from
        # gettoken (or after the refresh) it means the secret itself is wrong.
        ErrorCode(
            40001,
            "invalid secret: not set, not this corp's, mismatched with the corp id, or the app is disabled",
            "refresh",
            "Copy the app's Secret again (admin console → 应用管理 → the app → Secret → 查看, sent to "
            "the admin's WeCom) into {env}, and check that the app is enabled.",
        ),
        # ---- configuration: fatal ---------------------------------------------------------------
        ErrorCode(
            40013,
            "invalid corp id",
            "fatal",
            "Set WECOM_CORP_ID to the 企业ID shown in the admin console under 我的企业 → 企业信息 "
            "(it starts with 'ww').",
        ),
        ErrorCode(
            40091,
            "invalid secret (it belongs to another corp)",
            "fatal",
            "Put this corp's secret for the app in {env} (admin console → 应用管理 → the app → Secret).",
        ),
        ErrorCode(41001, "missing access_token", "fatal", _BUG),
        ErrorCode(
            41002, "missing corp id", "fatal", "Set WECOM_CORP_ID (admin console → 我的企业 → 企业信息 → 企业ID)."
        ),
        ErrorCode(41004, "missing secret", "fatal", "Set {env} to the app's Secret."),
        ErrorCode(
            48001,
            "API feature not authorised for this corp",
            "fatal",
            "The corp's WeCom edition or the app does not include this API; enable it in the admin "
            "console or leave this source out with --sources.",
        ),
        ErrorCode(
            48002,
            "this app may not call this API",
            "fatal",
            "Give the app the permission: {grant}. The secret in {env} must be that app's.",
        ),
        ErrorCode(
            48009,
            "the contact-sync assistant may no longer read contact details from a new IP",
            "fatal",
            "Since 2022-08-15 通讯录同步 secrets may not call department/list or user/list from IPs "
            "added later: set WECOM_SECRET_CONTACTS to the secret of a self-built app whose 可见范围 is "
            "the whole company, or call from an IP the assistant used before.",
        ),
        ErrorCode(
            60011,
            "no permission for this member or department (outside the app's visible range)",
            "fatal",
            "Widen the app's 可见范围 to the whole company: admin console → 应用管理 → the app → 可见范围 (for {env}).",
        ),
        ErrorCode(
            60020,
            "the caller's IP is not on the app's trusted-IP list",
            "fatal",
            "Admin console → 应用管理 → the app → 企业可信IP: add the IP shown after 'from ip' above "
            "(it applies within a minute; a 可信域名 or a verified 接收消息服务器 URL must be set first). "
            "Call from a machine with a stable outgoing IP.",
        ),
        ErrorCode(
            60021,
            "userid not in the app's visible range",
            "fatal",
            "Widen the app's 可见范围 (admin console → 应用管理 → the app → 可见范围).",
        ),
        ErrorCode(60111, "userid does not exist", "fatal", "The member may have left; refresh contacts first."),
        ErrorCode(60123, "invalid department id", "fatal", "Refresh contacts first; the department may be gone."),
        ErrorCode(
            81013,
            "every userid, department or tag is invalid or out of the app's range",
            "fatal",
            "Widen the app's 可见范围 (admin console → 应用管理 → the app → 可见范围).",
        ),
        ErrorCode(
            301002,
            "no permission to operate this app (token of another app)",
            "fatal",
            "Use the secret of the app the permission was granted to in {env}.",
        ),
        ErrorCode(
            301055, "no approval permission, or no permission to pull approval data", "fatal", "Admin console: {grant}."
        ),
        ErrorCode(
            301056, "the approval app is disabled", "fatal", "Enable 审批 in the admin console (应用管理 → 审批)."
        ),
        ErrorCode(
            93000,
            "invalid webhook URL: the robot key is wrong or the robot was removed from its group",
            "fatal",
            "Add a robot to the group (群设置 → 消息推送 / 群机器人 → 添加) and use its key.",
        ),
        # ---- our request is wrong: fatal, a bug or a limit to respect -----------------------------
        ErrorCode(40003, "invalid userid", "fatal", "Refresh contacts first; the member may have left."),
        ErrorCode(40008, "invalid message type", "fatal", _BUG),
        ErrorCode(40035, "invalid parameter", "fatal", _BUG),
        ErrorCode(40058, "invalid parameter (or content over its length limit)", "fatal", _BUG),
        ErrorCode(45029, "response too large", "fatal", _BUG),
        ErrorCode(50100, "invalid pagination cursor", "fatal", _BUG),
        ErrorCode(301023, "userid list empty or over 100", "fatal", _BUG),
        ErrorCode(301024, "checkin time span invalid (must be under a month, end after start)", "fatal", _BUG),
        ErrorCode(301025, "approval API parameter error (empty values or bad start/end time)", "fatal", _BUG),
        ErrorCode(301112, "time range too large", "fatal", _BUG),
        # ---- "nothing" -----------------------------------------------------------------------
        ErrorCode(84061, "no external-contact relationship (a member with no customers)", "empty"),
    )
}

REFRESH_CODES = frozenset(c for c, e in ERRCODES.items() if e.action == "refresh")
RETRY_CODES = frozenset(c for c, e in ERRCODES.items() if e.action == "retry")
FREQUENCY_LIMIT = 45009
DEVTOOL = "https://open.work.weixin.qq.com/devtool/query?e={code}"


def describe(code: int) -> ErrorCode:
    """The entry for ``code``; an unknown code is fatal and points to WeCom's lookup tool."""
    found = ERRCODES.get(code)
    if found is not None:
        return found
    return ErrorCode(
        code, "an error code wecom-eval does not know", "fatal", f"Look it up at {DEVTOOL.format(code=code)}."
    )


class WecomApiError(SourceError):
    """WeCom refused a call in a way retrying cannot fix (exit 3), or retries ran out.

    The message names the endpoint and app, what the code means and what to change, and
    quotes WeCom's own ``errmsg`` (with any credential masked).
    """

    def __init__(self, *, errcode: int, errmsg: str, endpoint: str, app: str | None, note: str = "") -> None:
        self.errcode = errcode
        self.errmsg = redact(errmsg)
        self.endpoint = endpoint
        self.app = app
        info = describe(errcode)
        self.meaning = info.meaning
        app_info = APPS.get(app or "")
        fix = info.fix.format(
            env=app_info.env if app_info else "the app's WECOM_SECRET_<APP>",
            grant=app_info.grant if app_info else "see the WeCom admin console",
        )
        who = f" (app {app}, {app_info.env})" if app_info else ""
        parts = [f"WeCom refused {endpoint}{who}: errcode {errcode} — {info.meaning}."]
        if note:
            parts.append(note)
        if fix:
            parts.append(f"What to change: {fix}")
        parts.append(f"WeCom said: {self.errmsg}")
        self.fix = fix
        super().__init__(redact(" ".join(parts)))


__all__ = ["ERRCODES", "ErrorCode", "FREQUENCY_LIMIT", "REFRESH_CODES", "RETRY_CODES", "WecomApiError", "describe"]
