"""Who is already loaded: WeCom members and roster employees, for joining WeCom exports to them.

A ``members`` export is joined to the HR roster by account (a member's userid that is an
employee_id, or a link an earlier load made), else by 工号, else by mobile number; the
approval export names its applicant by account or by name (a name that is on the roster
once, with one WeCom member).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from wecom_eval.store.warehouse import Warehouse

# An export date in a file name: 通讯录_2026-03-15.xlsx, members-20260315.csv, 成员2026年3月15日.csv
_SEPARATED = re.compile(r"(?<!\d)(20\d{2})\s*[-_.年]\s*(\d{1,2})\s*[-_.月]\s*(\d{1,2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


def date_in_name(path: Path) -> dt.date | None:
    """The one date written in a file's name, or None (none, several, or not a real date).

    Examples
    --------
    >>> date_in_name(Path("通讯录_2026-03-15.xlsx")), date_in_name(Path("members-20260315.csv"))
    (datetime.date(2026, 3, 15), datetime.date(2026, 3, 15))
    >>> date_in_name(Path("成员2026年3月9日导出.csv")), date_in_name(Path("members.csv"))
    (datetime.date(2026, 3, 9), None)
    """
    found: set[dt.date] = set()
    for pattern in (_SEPARATED, _COMPACT):
        for y, m, d in pattern.findall(path.stem):
            try:
                found.add(dt.date(int(y), int(m), int(d)))
            except ValueError:
                continue
    return found.pop() if len(found) == 1 else None


def normalise_mobile(text: str | None) -> str | None:
    """A mobile number as its digits without the country code (+86 138-0013-8000 → 13800138000)."""
    if text is None:
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


@dataclass
class People:
    """Members and employees in the warehouse, indexed for joins."""

    member_employee: dict[str, str | None] = field(default_factory=dict)  # userid → employee_id
    member_department: dict[str, int] = field(default_factory=dict)
    employees: set[str] = field(default_factory=set)
    employee_by_mobile: dict[str, str] = field(default_factory=dict)
    employees_by_name: dict[str, list[str]] = field(default_factory=dict)
    members_by_employee: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_warehouse(cls, wh: Warehouse) -> People:
        people = cls()
        for userid, employee_id, department_id in wh.con.execute(
            "SELECT userid, employee_id, department_id FROM members"
        ).fetchall():
            people.member_employee[userid] = employee_id
            people.member_department[userid] = int(department_id)
            if employee_id is not None:
                people.members_by_employee.setdefault(employee_id, []).append(userid)
        for employee_id, name, mobile in wh.con.execute("SELECT employee_id, name, mobile FROM employees").fetchall():
            people.employees.add(employee_id)
            people.employees_by_name.setdefault(name, []).append(employee_id)
            number = normalise_mobile(mobile)
            if number:
                people.employee_by_mobile.setdefault(number, employee_id)
        return people

    def employee_for(self, userid: str, employee_id: str | None, mobile: str | None) -> tuple[str | None, str]:
        """The roster employee of a member, and how it was found (account, 工号, mobile, or none)."""
        known = self.member_employee.get(userid)
        if known is not None and known in self.employees:
            return known, "account"
        if userid in self.employees:
            return userid, "account"
        if employee_id is not None and employee_id in self.employees:
            return employee_id, "工号"
        number = normalise_mobile(mobile)
        if number is not None and number in self.employee_by_mobile:
            return self.employee_by_mobile[number], "mobile"
        return None, "none"

    def userid_for(self, applicant: str) -> str | None:
        """A member's userid from an account, or from a name on the roster once with one member."""
        if applicant in self.member_employee:
            return applicant
        employees = self.employees_by_name.get(applicant, [])
        if len(employees) == 1:
            members = self.members_by_employee.get(employees[0], [])
            if len(members) == 1:
                return members[0]
        return None
