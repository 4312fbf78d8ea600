"""Company mapping files (``params/mappings/*.yaml``): other headers and value texts, no code.

A mapping file tells ingest what a company's exports call things: more header aliases per
field, more status or yes/no texts, how survey questions are to be read, a prefix to drop
from department paths. Every ``*.yaml`` file in the repository's ``params/mappings/`` and the
home's own is read (in name order; a home file replaces the repository file of the same
name) for the kinds it names; ``--mapping FILE`` adds one more. Unknown keys,
fields, kinds or values are errors naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from wecom_eval.errors import InputError, Problem
from wecom_eval.ingest.aliases import AliasTable, fold_header, packaged_aliases
from wecom_eval.ingest.parse import fold

KINDS = (
    "roster",
    "activity",
    "survey",
    "legacy-approvals",
    "training",
    "tickets",
    "members",
    "approvals",
    "checkins",
    "customer-contacts",
)
KindName = Literal[
    "roster",
    "activity",
    "survey",
    "legacy-approvals",
    "training",
    "tickets",
    "members",
    "approvals",
    "checkins",
    "customer-contacts",
]
ValueVocabulary = Literal["active", "member_status", "approval_status", "likert"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurveyMapping(_Strict):
    """How to read survey questions that headers alone do not settle."""

    multi_select: list[str] = []  # question headers whose answers are lists of options
    text: list[str] = []  # free-text questions (never scored, even if answers look like numbers)
    likert: list[str] = []  # Likert questions (checked even if few answers look like scores)
    items: dict[str, str] = {}  # question header → short item name stored in survey_items


class DepartmentMapping(_Strict):
    strip_prefix: list[str] = []  # path prefixes to drop, e.g. the company name before 总部/…


class MappingFile(_Strict):
    """One ``params/mappings/*.yaml`` file."""

    description: str = ""
    kinds: list[KindName] | None = None  # None: every kind
    columns: dict[str, list[str]] = {}
    ignore: list[str] = []
    values: dict[ValueVocabulary, dict[str, Any]] = {}
    survey: SurveyMapping = SurveyMapping()
    department: DepartmentMapping = DepartmentMapping()

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        known = packaged_aliases().fields
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; fields are {', '.join(known)}")
        return value

    @field_validator("values")
    @classmethod
    def _value_types(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        checks: dict[str, tuple[Callable[[Any], bool], str]] = {
            "active": (lambda v: isinstance(v, bool), "true or false"),
            "member_status": (lambda v: v in (1, 2, 4, 5), "1, 2, 4 or 5"),
            "approval_status": (
                lambda v: v in ("approved", "rejected", "pending", "withdrawn"),
                "approved, rejected, pending or withdrawn",
            ),
            "likert": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5, "1 to 5"),
        }
        for vocabulary, texts in value.items():
            ok, expected = checks[vocabulary]
            bad = {t: v for t, v in texts.items() if not ok(v)}
            if bad:
                raise ValueError(f"values.{vocabulary} must map texts to {expected}; got {bad}")
        return value


@dataclass(frozen=True)
class Mappings:
    """Everything the mapping files say for one kind, merged."""

    files: tuple[Path, ...] = ()
    aliases: AliasTable = field(default_factory=packaged_aliases)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # vocabulary → folded text → value
    survey: SurveyMapping = SurveyMapping()
    strip_prefix: tuple[str, ...] = ()

    def vocabulary(self, name: str) -> dict[str, Any]:
        return self.values.get(name, {})

    def survey_role(self, header: str) -> str | None:
        """``multi_select``, ``text`` or ``likert`` when a mapping file declares the question."""
        folded = fold_header(header)
        for role in ("multi_select", "text", "likert"):
            if folded in {fold_header(h) for h in getattr(self.survey, role)}:
                return role
        return None

    def item_name(self, header: str) -> str | None:
        folded = fold_header(header)
        return next((v for k, v in self.survey.items.items() if fold_header(k) == folded), None)


def _read(path: Path) -> MappingFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), [Problem(str(path), None, "an existing mapping file", "Check the path.")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise InputError(
            str(path), [Problem(where, getattr(exc, "problem", str(exc)), "valid YAML in UTF-8")]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            str(path), [Problem(str(path), type(data).__name__, "a mapping of keys", "See params/mappings/README.md.")]
        )
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                f"{path}: {'.'.join(map(str, e['loc'])) or '(top level)'}",
                e.get("input") if e["type"] != "missing" else None,
                e["msg"].removeprefix("Value error, "),
                "See params/mappings/README.md for the keys a mapping file may have.",
            )
            for e in exc.errors()
        ]
        raise InputError(str(path), problems) from None


def mapping_files(folder: Path) -> list[Path]:
    """The mapping files in ``folder`` (``*.yaml`` and ``*.yml``), in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_mappings(folder: Path | None, *, kind: str, extra: Sequence[Path] = ()) -> Mappings:
    """Merge the mapping files in ``folder`` and ``extra`` that apply to ``kind``.

    Files later in name order (and ``extra`` files last) take precedence for the same text.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
    paths = [*(mapping_files(folder) if folder else []), *map(Path, extra)]
    used: list[Path] = []
    columns: dict[str, list[str]] = {}
    ignore: list[str] = []
    values: dict[str, dict[str, Any]] = {}
    multi: list[str] = []
    text: list[str] = []
    likert: list[str] = []
    items: dict[str, str] = {}
    prefixes: list[str] = []
    for path in paths:
        m = _read(path)
        if m.kinds is not None and kind not in m.kinds:
            continue
        used.append(path)
        for name, headers in m.columns.items():
            columns[name] = [*headers, *columns.get(name, [])]
        ignore.extend(m.ignore)
        for vocabulary, texts in m.values.items():
            values.setdefault(vocabulary, {}).update({fold(str(t)): v for t, v in texts.items()})
        multi.extend(m.survey.multi_select)
        text.extend(m.survey.text)
        likert.extend(m.survey.likert)
        items.update(m.survey.items)
        prefixes.extend(m.department.strip_prefix)
    aliases = packaged_aliases().extended(columns, {kind: ignore})
    survey = SurveyMapping(multi_select=multi, text=text, likert=likert, items=items)
    return Mappings(tuple(used), aliases, values, survey, tuple(prefixes))


def describe(paths: Iterable[Path]) -> str:
    return ", ".join(str(p) for p in paths) or "none"
