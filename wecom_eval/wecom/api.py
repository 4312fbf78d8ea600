"""Typed calls for each endpoint the workbook uses, with pagination and limits built in.

Each call returns :class:`Page` objects — the request (without credentials) and the answer
as received — so that the caller can land them raw before mapping them. Misuse (more users
or days than one call may carry) raises ``ValueError`` before anything is sent; the
windows and batches of :mod:`wecom_eval.wecom.windows` keep callers inside the limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from wecom_eval.errors import SourceError
from wecom_eval.wecom.client import WecomClient
from wecom_eval.wecom.endpoints import ENDPOINTS, Endpoint
from wecom_eval.wecom.windows import Window

APPROVAL_PAGE_SIZE = 100  # reference §8.1: size ≤ 100
OPER_LOG_PAGE_SIZE = 400  # reference §6.2: limit 1–400
LIST_ID_PAGE_SIZE = 10_000  # reference §5.7: limit 1–10,000


@dataclass(frozen=True)
class Page:
    """One answer from WeCom and the request that produced it (no token, no secret)."""

    endpoint: str
    request: dict[str, Any]
    data: dict[str, Any]

    def items(self, name: str) -> list[Any]:
        """The list field ``name`` of the answer (empty when absent)."""
        value = self.data.get(name)
        return list(value) if isinstance(value, list) else []

    def record(self) -> dict[str, Any]:
        """The page as a raw-landing record."""
        return {"endpoint": self.endpoint, "request": self.request, "response": self.data}


def _check(ep: Endpoint, *, users: Sequence[str] | None = None, window: Window | None = None) -> None:
    if users is not None:
        if not users:
            raise ValueError(f"{ep.path}: give at least one userid")
        if ep.max_users is not None and len(users) > ep.max_users:
            raise ValueError(
                f"{ep.path}: {len(users)} userids in one call; at most {ep.max_users} "
                "(batch them with wecom_eval.wecom.windows.batched)"
            )
    if window is not None and ep.max_span_days is not None and window.days > ep.max_span_days:
        raise ValueError(
            f"{ep.path}: window {window} covers {window.days} days; at most {ep.max_span_days} "
            "(split it with wecom_eval.wecom.windows.split_days)"
        )


class WecomApi:
    """The endpoints, typed. Wraps a :class:`WecomClient` that is already open."""

    def __init__(self, client: WecomClient) -> None:
        self.client = client

    async def _page(
        self, path: str, *, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> Page:
        data = await self.client.call(path, params=params, body=body)
        request: dict[str, Any] = {}
        if params:
            request["params"] = dict(params)
        if body is not None:
            request["body"] = dict(body)
        return Page(path, request, data)

    async def _cursor_pages(
        self, path: str, body: dict[str, Any], *, cursor_field: str, next_field: str, more_field: str | None = None
    ) -> AsyncIterator[Page]:
        """Follow a cursor until WeCom stops returning one (or says ``has_more`` false)."""
        cursor = ""
        seen: set[str] = set()
        while True:
            page = await self._page(path, body={**body, cursor_field: cursor} if cursor else dict(body))
            yield page
            nxt = page.data.get(next_field) or ""
            more = bool(page.data.get(more_field)) if more_field else bool(nxt)
            if not more or not nxt:
                return
            if nxt in seen:
                raise SourceError(
                    f"{path}: WeCom returned the same cursor twice; stopping instead of looping. "
                    "Run the fetch again; if it repeats, report it."
                )
            seen.add(nxt)
            cursor = str(nxt)

    # ---- contacts ----------------------------------------------------------------------
    async def departments(self, department_id: int | None = None) -> Page:
        """``department/list``: the department and its descendants (all visible when None); field ``department``."""
        return await self._page("department/list", params={} if department_id is None else {"id": department_id})

    async def department_ids(self, department_id: int | None = None) -> Page:
        """``department/simplelist``: ids, parents and order only; field ``department_id``."""
        return await self._page("department/simplelist", params={} if department_id is None else {"id": department_id})

    async def users(self, department_id: int) -> Page:
        """``user/list`` of one department (no recursion; activation ``status``); field ``userlist``."""
        return await self._page("user/list", params={"department_id": int(department_id)})

    def user_ids(self, *, limit: int = LIST_ID_PAGE_SIZE) -> AsyncIterator[Page]:
        """``user/list_id`` pages (contact-sync secret only); field ``dept_user``."""
        if not 1 <= limit <= LIST_ID_PAGE_SIZE:
            raise ValueError(f"user/list_id: limit must be 1–{LIST_ID_PAGE_SIZE}, got {limit}")
        return self._cursor_pages("user/list_id", {"limit": limit}, cursor_field="cursor", next_field="next_cursor")

    async def active_count(self, day: dt.date) -> Page:
        """``user/get_active_stat`` for one day (the last 30 days only); field ``active_cnt``."""
        return await self._page("user/get_active_stat", body={"date": day.isoformat()})

    # ---- attendance ----------------------------------------------------------------------
    async def checkin_records(self, userids: Sequence[str], window: Window, *, kind: int = 3) -> Page:
        """``checkin/getcheckindata`` (1 on/off duty, 2 outside, 3 all); field ``checkindata``."""
        _check(ENDPOINTS["checkin/getcheckindata"], users=userids, window=window)
        return await self._page(
            "checkin/getcheckindata",
            body={
                "opencheckindatatype": kind,
                "starttime": window.start,
                "endtime": window.end,
                "useridlist": list(userids),
            },
        )

    async def checkin_days(self, userids: Sequence[str], window: Window) -> Page:
        """``checkin/getcheckin_daydata`` (midnight to midnight); field ``datas``."""
        _check(ENDPOINTS["checkin/getcheckin_daydata"], users=userids, window=window)
        return await self._page(
            "checkin/getcheckin_daydata",
            body={"starttime": window.start, "endtime": window.last_midnight, "useridlist": list(userids)},
        )

    # ---- approvals -------------------------------------------------------------------------
    def approval_numbers(
        self, window: Window, *, size: int = APPROVAL_PAGE_SIZE, filters: list[dict[str, str]] | None = None
    ) -> AsyncIterator[Page]:
        """``oa/getapprovalinfo`` pages (``new_cursor`` paging); field ``sp_no_list``."""
        _check(ENDPOINTS["oa/getapprovalinfo"], window=window)
        if not 1 <= size <= APPROVAL_PAGE_SIZE:
            raise ValueError(f"oa/getapprovalinfo: size must be 1–{APPROVAL_PAGE_SIZE}, got {size}")
        body: dict[str, Any] = {"starttime": str(window.start), "endtime": str(window.end), "size": size}
        if filters:
            body["filters"] = list(filters)
        return self._cursor_pages("oa/getapprovalinfo", body, cursor_field="new_cursor", next_field="new_next_cursor")

    async def approval_detail(self, sp_no: str) -> Page:
        """``oa/getapprovaldetail`` of one approval; field ``info``."""
        return await self._page("oa/getapprovaldetail", body={"sp_no": str(sp_no)})

    # ---- customer contact -----------------------------------------------------------------
    async def follow_users(self) -> Page:
        """``externalcontact/get_follow_user_list``: members with customer contact; field ``follow_user``."""
        return await self._page("externalcontact/get_follow_user_list")

    async def behavior(self, userid: str, window: Window) -> Page:
        """``externalcontact/get_user_behavior_data`` of **one** member, one row a day; field ``behavior_data``.

        One member per call: WeCom sums the members it is given.
        """
        if not isinstance(userid, str):
            raise ValueError(
                "externalcontact/get_user_behavior_data: one userid (a string) per call; WeCom sums "
                "the members it is given together"
            )
        _check(ENDPOINTS["externalcontact/get_user_behavior_data"], users=[userid], window=window)
        return await self._page(
            "externalcontact/get_user_behavior_data",
            body={"userid": [userid], "start_time": window.start, "end_time": window.last_midnight},
        )

    # ---- activity ---------------------------------------------------------------------------
    def oper_log(
        self,
        window: Window,
        *,
        limit: int = OPER_LOG_PAGE_SIZE,
        userid: str | None = None,
        oper_type: int | None = None,
    ) -> AsyncIterator[Page]:
        """``security/member_oper_log/list`` pages (loop on ``has_more``); field ``record_list``."""
        _check(ENDPOINTS["security/member_oper_log/list"], window=window)
        if not 1 <= limit <= OPER_LOG_PAGE_SIZE:
            raise ValueError(f"security/member_oper_log/list: limit must be 1–{OPER_LOG_PAGE_SIZE}, got {limit}")
        body: dict[str, Any] = {"start_time": window.start, "end_time": window.end, "limit": limit}
        if userid:
            body["userid"] = userid
        if oper_type is not None:
            body["oper_type"] = oper_type
        return self._cursor_pages(
            "security/member_oper_log/list",
            body,
            cursor_field="cursor",
            next_field="next_cursor",
            more_field="has_more",
        )


__all__ = ["APPROVAL_PAGE_SIZE", "LIST_ID_PAGE_SIZE", "OPER_LOG_PAGE_SIZE", "Page", "WecomApi"]
