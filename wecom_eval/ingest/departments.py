"""Department cells (a path, a name or an id) → department ids, creating missing ones for the roster.

Paths are written ``总部/华东分公司/销售部`` (also with ``／``, ``\\``, ``>`` or ``→``) and are
relative to the company root, as in the warehouse. Resolution, in order:

1. a department id column (部门ID) is used as it is;
2. a path is looked up in the warehouse's departments; a path that starts with the
   company root's name (示例集团/总部/行政部) is tried without it, and so is a prefix a mapping
   file names under ``department.strip_prefix``;
3. a bare name (销售部) is looked up by name and must be unique (otherwise: give the path);
4. only the roster creates what is still missing: each missing level of the path becomes a
   department. Its id is the file's 部门ID (and 上级部门ID for its parent) when given, else
   a **derived id**: ``2**32 + the first 6 bytes of SHA-256(path)`` read as a big-endian
   integer. That id is stable (the same path always gets the same id), never collides with
   WeCom's own ids (which are below 2**32) and stays exact in Excel (below 2**53).
   ``is_pilot`` and ``go_live_date`` of a created department follow the rollout plan, exactly
   as for departments that come from the API.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import pandas as pd

from wecom_eval.plan import RolloutPlan

DERIVED_ID_BASE = 2**32
_SEVERAL = re.compile(r"[;；,，、|]")
_SEPARATORS = re.compile(r"\s*(?:/|／|\\|>|＞|→|›)\s*")


class DepartmentError(ValueError):
    """A department cell that cannot be resolved; ``expected`` and ``fix`` go into the message."""

    def __init__(self, expected: str, fix: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.fix = fix


def normalise_path(text: str) -> str:
    """A path with ``/`` between trimmed, non-empty levels.

    Examples
    --------
    >>> normalise_path(" 总部 ／ 华东分公司 > 销售部 ")
    '总部/华东分公司/销售部'
    """
    return "/".join(p for p in _SEPARATORS.split(text.strip()) if p)


def derived_id(path: str) -> int:
    """The stable id of a department created from its path alone (see the module notes).

    Examples
    --------
    >>> derived_id("总部/销售部") == derived_id("总部/销售部") >= 2**32
    True
    """
    digest = hashlib.sha256(normalise_path(path).encode("utf-8")).digest()
    return DERIVED_ID_BASE + int.from_bytes(digest[:6], "big")


@dataclass
class DepartmentIndex:
    """The departments known so far (the warehouse's, then those created by this ingest)."""

    plan: RolloutPlan
    by_id: dict[int, str] = field(default_factory=dict)  # id → path
    by_path: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)
    roots: set[str] = field(default_factory=set)  # names of root departments (the company)
    strip_prefix: tuple[str, ...] = ()
    created: dict[int, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def from_frame(
        cls, plan: RolloutPlan, departments: pd.DataFrame | None, *, strip_prefix: tuple[str, ...] = ()
    ) -> DepartmentIndex:
        index = cls(plan, strip_prefix=tuple(normalise_path(p) for p in strip_prefix if normalise_path(p)))
        if departments is not None:
            for dept_id, path, name, parent in zip(
                departments["department_id"],
                departments["path"],
                departments["name"],
                departments["parent_id"],
                strict=True,
            ):
                index._add(int(dept_id), str(path), str(name))
                if pd.isna(parent) and "/" not in str(path):
                    index.roots.add(str(path))
        return index

    def _add(self, dept_id: int, path: str, name: str) -> None:
        self.by_id[dept_id] = path
        self.by_path[path] = dept_id
        self.by_name.setdefault(name, set()).add(dept_id)

    def _clean(self, text: str) -> str:
        if _SEVERAL.search(text):
            raise DepartmentError(
                "one department (this cell names several)",
                "Keep the main department only; employees and members belong to one.",
            )
        path = normalise_path(text)
        for prefix in self.strip_prefix:
            if path.startswith(prefix + "/"):
                path = path[len(prefix) + 1 :]
        first, _, rest = path.partition("/")
        if rest and first in self.roots and path not in self.by_path:
            path = rest
        return path

    # ---- lookups ---------------------------------------------------------------------
    def resolve(self, text: str) -> int:
        """The id of an existing (or already created) department named by path or by name."""
        path = self._clean(text)
        if "/" in path or path in self.by_path:
            if path in self.by_path:
                return self.by_path[path]
            raise DepartmentError(
                "a department path that exists in the warehouse",
                "Ingest the roster first (it creates the departments), or correct the path.",
            )
        ids = self.by_name.get(path, set())
        if len(ids) == 1:
            return next(iter(ids))
        if len(ids) > 1:
            paths = sorted(self.by_id[i] for i in ids)
            raise DepartmentError(
                f"one department; {len(ids)} departments are called {path!r}: {', '.join(paths)}",
                "Give the full path (e.g. 总部/销售部).",
            )
        raise DepartmentError(
            "a department name or path that exists in the warehouse",
            "Ingest the roster first (it creates the departments), or give the full path.",
        )

    # ---- creation (roster only) ------------------------------------------------------
    def _create(self, dept_id: int, path: str, parent_id: int | None) -> None:
        name = path.rsplit("/", 1)[-1]
        pilots = self.plan.departments.pilot
        is_pilot = dept_id in [p for p in pilots if isinstance(p, int)] or path in [
            p for p in pilots if isinstance(p, str)
        ]
        week = self.plan.go_live_week(path, dept_id, is_pilot=is_pilot)
        self.created[dept_id] = {
            "department_id": dept_id,
            "name": name,
            "parent_id": parent_id,
            "path": path,
            "is_pilot": is_pilot,
            "go_live_date": self.plan.week_start(week),
        }
        self._add(dept_id, path, name)

    def ensure(self, text: str | None, *, dept_id: int | None = None, parent_id: int | None = None) -> int:
        """The id of the department in ``text`` (and/or ``dept_id``), creating what is missing."""
        if text is None:
            if dept_id is None:
                raise DepartmentError(
                    "a department (a path like 总部/销售部, a name, or a 部门ID)",
                    "Every employee belongs to a department; fill it in.",
                )
            if dept_id in self.by_id:
                return dept_id
            raise DepartmentError(
                f"a department path beside the new department id {dept_id}",
                "Add a 部门 column with the path so the department can be created.",
            )
        path = self._clean(text)
        if "/" not in path and path not in self.by_path and dept_id is None and self.by_name.get(path):
            return self.resolve(path)  # a bare name of a known department
        if dept_id is not None:
            known = self.by_id.get(dept_id)
            if known is not None and known != path:
                raise DepartmentError(
                    f"department id {dept_id} with its path {known!r}",
                    f"The id and the path ({path!r}) disagree; correct one of them.",
                )
            other = self.by_path.get(path)
            if other is not None and other != dept_id:
                raise DepartmentError(
                    f"the path {path!r} with its id {other}",
                    f"The file gives id {dept_id}; correct the 部门ID or the path.",
                )
        levels = path.split("/")
        if path in self.by_path and (parent_id is None or len(levels) < 2):
            return self.by_path[path]
        parent: int | None = None
        for depth in range(1, len(levels) + 1):
            prefix = "/".join(levels[:depth])
            last = depth == len(levels)
            if prefix in self.by_path:
                parent = self.by_path[prefix]
                if depth == len(levels) - 1 and parent_id is not None and parent != parent_id:
                    raise DepartmentError(
                        f"the parent {prefix!r} with its id {parent}",
                        f"The file gives 上级部门ID {parent_id}; correct it or the path.",
                    )
                continue
            if last:
                new_id = dept_id if dept_id is not None else derived_id(prefix)
            elif depth == len(levels) - 1 and parent_id is not None:
                new_id = parent_id
            else:
                new_id = derived_id(prefix)
            if new_id in self.by_id:
                raise DepartmentError(
                    f"a free department id for {prefix!r}", f"Id {new_id} already belongs to {self.by_id[new_id]!r}."
                )
            self._create(new_id, prefix, parent)
            parent = new_id
        return self.by_path[path]

    def created_frame(self, ids: list[int] | None = None) -> pd.DataFrame:
        """The departments this ingest creates (or those of them in ``ids``), as departments rows."""
        columns = ["department_id", "name", "parent_id", "path", "is_pilot", "go_live_date"]
        chosen = list(self.created) if ids is None else ids
        frame = pd.DataFrame(
            [self.created[i] for i in chosen], columns=columns, index=pd.RangeIndex(1, len(chosen) + 1)
        )
        frame["parent_id"] = frame["parent_id"].astype("Int64")
        frame["go_live_date"] = pd.to_datetime(frame["go_live_date"])
        return frame
