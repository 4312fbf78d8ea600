"""Column headers → canonical fields, through the packaged alias table (``aliases.yaml``).

Columns are found by their header, never by their position. Headers are compared folded
(:func:`fold_header`); a bracketed part is tried with and without it, and when it names a
unit (使用时长(小时)) the unit is kept for the duration parser. Company mapping files
(:mod:`wecom_eval.ingest.mapping`) add aliases in front of the packaged ones.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from wecom_eval.ingest.parse import fold
from wecom_eval.yamlfile import load_packaged

_BRACKETS = re.compile(r"[(\[{【〔]([^)\]}】〕]*)[)\]}】〕]")
_DROP = re.compile(r"[\s_\-:*#＊]+")
_UNIT_WORDS = {
    "hours": ("小时", "时", "h", "hr", "hrs", "hour", "hours"),
    "seconds": ("秒", "s", "sec", "secs", "second", "seconds"),
    "minutes": ("分钟", "分", "min", "mins", "minute", "minutes", "m"),
}


def fold_header(text: object) -> str:
    """A header folded for matching: NFKC, lower case, without spaces, ``_``, ``-``, ``:`` or ``*``.

    Examples
    --------
    >>> fold_header(" User_ID "), fold_header("使用时长（分钟）"), fold_header("部门*")
    ('userid', '使用时长(分钟)', '部门')
    """
    return _DROP.sub("", fold(str(text or "")))


def header_unit(text: str) -> str | None:
    """The time unit named in a header's brackets (``minutes``, ``hours``, ``seconds``), if any."""
    for inner in _BRACKETS.findall(fold(text)):
        word = _DROP.sub("", inner)
        for unit, words in _UNIT_WORDS.items():
            if word in words:
                return unit
    return None


def _forms(header: str) -> list[str]:
    """The folded header, then the same without its bracketed parts."""
    full = fold_header(header)
    bare = fold_header(_BRACKETS.sub("", fold(header)))
    return [full] if bare == full or not bare else [full, bare]


@dataclass(frozen=True)
class AliasTable:
    """Aliases per field (display forms, in order of preference) and headers ignored per kind."""

    fields: Mapping[str, tuple[str, ...]]
    ignore: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overrides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # from mapping files; win ties

    def aliases(self, name: str) -> tuple[str, ...]:
        return self.fields.get(name, ())

    def extended(self, fields: Mapping[str, Iterable[str]], ignore: Mapping[str, Iterable[str]]) -> AliasTable:
        """A table with ``fields`` aliases placed before the existing ones and more ignored headers."""
        merged = {k: tuple(fields.get(k, ())) + v for k, v in self.fields.items()}
        for k, v in fields.items():
            merged.setdefault(k, tuple(v))
        skip = {k: tuple(v) for k, v in self.ignore.items()}
        for k, v in ignore.items():
            skip[k] = tuple(v) + skip.get(k, ())
        overrides = {k: tuple(v) for k, v in self.overrides.items()}
        for k, v in fields.items():
            overrides[k] = tuple(v) + overrides.get(k, ())
        return AliasTable(merged, skip, overrides)


@lru_cache(maxsize=1)
def packaged_aliases() -> AliasTable:
    """The alias table shipped with the package (``wecom_eval/ingest/aliases.yaml``)."""
    text = resources.files("wecom_eval.ingest").joinpath("aliases.yaml").read_text(encoding="utf-8")
    data = load_packaged(text)
    return AliasTable(
        {k: tuple(str(a) for a in v) for k, v in data["fields"].items()},
        {k: tuple(str(a) for a in v) for k, v in data.get("ignore", {}).items()},
    )


@dataclass(frozen=True)
class HeaderMatch:
    """Which column holds which field, and what was left over.

    ``columns`` maps a field to its column position, ``headers`` to the header as written,
    ``units`` to the unit a header names. ``ambiguous`` lists fields two columns claim;
    ``unmatched`` the headers no field claimed (data a kind does not use), ``ignored`` the
    headers the kind leaves out on purpose.
    """

    columns: dict[str, int]
    headers: dict[str, str]
    units: dict[str, str]
    ambiguous: dict[str, list[str]]
    unmatched: list[tuple[int, str]]
    ignored: list[str]


def match_headers(header: Sequence[str], wanted: Sequence[str], table: AliasTable, *, kind: str) -> HeaderMatch:
    """Match each header to at most one of the ``wanted`` fields.

    An exact folded match wins over a match without brackets; when two columns match the
    same field equally well the field is reported ``ambiguous``.
    """
    lookup: dict[str, str] = {}
    for source in (table.overrides, table.fields):  # a company's own names first
        for name in wanted:
            for alias in source.get(name, ()):
                lookup.setdefault(fold_header(alias), name)
    ignored_forms = {fold_header(h) for h in table.ignore.get(kind, ())}
    best: dict[str, list[tuple[int, int]]] = {}  # field → [(quality, column)]
    unmatched: list[tuple[int, str]] = []
    ignored: list[str] = []
    for position, text in enumerate(header):
        if not str(text or "").strip():
            continue
        forms = _forms(text)
        for quality, form in enumerate(forms):
            if form in lookup:
                best.setdefault(lookup[form], []).append((quality, position))
                break
        else:
            if any(f in ignored_forms for f in forms):
                ignored.append(text)
            else:
                unmatched.append((position, text))
    columns: dict[str, int] = {}
    ambiguous: dict[str, list[str]] = {}
    for name, found in best.items():
        found.sort()
        top = [p for q, p in found if q == found[0][0]]
        if len(top) > 1:
            ambiguous[name] = [header[p] for p in top]
        columns[name] = top[0]
        for _q, p in found[1:]:
            if p not in top:
                unmatched.append((p, header[p]))
    units = {name: unit for name, p in columns.items() if (unit := header_unit(header[p]))}
    return HeaderMatch(
        columns, {n: header[p] for n, p in columns.items()}, units, ambiguous, sorted(unmatched), ignored
    )


def score_row(cells: Sequence[object], wanted: Sequence[str], table: AliasTable) -> int:
    """How many cells of a row are headers of the ``wanted`` fields (to find the header row)."""
    forms = {fold_header(a) for name in wanted for a in table.aliases(name)}
    hits = 0
    for cell in cells:
        if isinstance(cell, str) and cell.strip() and any(f in forms for f in _forms(cell)):
            hits += 1
    return hits


def closest_aliases(name: str, headers: Sequence[str], table: AliasTable, *, n: int = 3) -> list[str]:
    """The aliases of field ``name`` that look most like any of ``headers`` (for 'did you mean')."""
    aliases = table.aliases(name)
    scored = []
    for alias in aliases:
        folded = fold_header(alias)
        ratio = max((difflib.SequenceMatcher(None, folded, fold_header(h)).ratio() for h in headers), default=0.0)
        scored.append((-ratio, aliases.index(alias), alias))
    return [alias for _r, _i, alias in sorted(scored)[:n]]
