"""The fake's approvals in WeCom's shape: templates, status codes, the ``info`` of getapprovaldetail."""

from __future__ import annotations

from typing import Any

from wecom_eval.fakeserver.convert import stable_int

STATUS_CODES = {"pending": 1, "approved": 2, "rejected": 3, "withdrawn": 4}
TEMPLATES = (
    ("请假", "C4NzTUz7Gr2zXx3nAr9WV7iV1dJWz9ZUK3H5XtHw"),
    ("报销", "3TkZjxdaVBZV3ZQpajyV3wWDXNxuGEHPt1Tr7RoZ"),
    ("采购", "BsAY8UvzX1wqbqYNj3QV2kJpDu46vHzZAaXd1FyX"),
    ("出差", "ZLqk8pcsAvNdaByFrC2NxtTN6WJ7MJjPnkKMsm3R"),
)


def template_of(sp_no: str) -> tuple[str, str]:
    """The (name, template_id) an approval number was filed under (stable across runs)."""
    return TEMPLATES[stable_int("template", sp_no) % len(TEMPLATES)]


def approval_info(sp_no: str, row: dict[str, Any], first: str, second: str) -> dict[str, Any]:
    """The ``info`` object of getapprovaldetail: two approval steps by ``first`` and ``second``.

    ``row`` has the approval's ``apply`` and ``finish`` times (Unix seconds; finish None when
    undecided), ``status``, applicant ``userid`` and ``department``.
    """
    apply, finish, status = row["apply"], row["finish"], row["status"]
    code = STATUS_CODES.get(status, 1)

    def node(status_code: int, approver: str, when: int, speech: str = "") -> dict[str, Any]:
        return {
            "sp_status": status_code,
            "approverattr": 1,
            "details": [
                {
                    "approver": {"userid": approver},
                    "speech": speech,
                    "sp_status": status_code,
                    "sptime": when,
                    "media_id": [],
                }
            ],
        }

    if code in (2, 3) and finish is not None:
        middle = apply + (finish - apply) // 2  # the first approver agreed half-way
        record = [node(2, first, middle, "同意"), node(code, second, finish, "同意" if code == 2 else "不同意")]
    else:  # pending or withdrawn: nobody decided (sptime 0 = not yet acted)
        record = [node(1, first, 0), node(1, second, 0)]
    name, template_id = template_of(sp_no)
    return {
        "sp_no": sp_no,
        "sp_name": name,
        "sp_status": code,
        "template_id": template_id,
        "apply_time": apply,
        "applyer": {"userid": row["userid"], "partyid": str(row["department"])},
        "sp_record": record,
        "notifyer": [],
        "apply_data": {
            "contents": [
                {
                    "control": "Textarea",
                    "id": "Textarea-1",
                    "title": [{"text": "事由", "lang": "zh_CN"}],
                    "value": {"text": f"{name}申请"},
                }
            ]
        },
        "comments": [],
    }


__all__ = ["STATUS_CODES", "TEMPLATES", "approval_info", "template_of"]
