"""Reading the workbook's YAML settings files (the rollout plan, report parameters) with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from wecom_eval.errors import InputError, Problem


class _PlainLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, and pydantic checks them with a clear message."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_packaged(text: str) -> Any:
    """A YAML file shipped with the package (trusted, well-formed), with libyaml's parser when
    PyYAML was built with it: the same data as the pure-Python parser, read about ten times
    faster (the string table is read by every process of a report run)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def _encoding_of(data: bytes) -> str:
    """A readable name for the encoding a maintained detector (charset-normalizer) finds."""
    from charset_normalizer import from_bytes  # imported here: only a wrongly saved file needs it

    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    best = from_bytes(data).best()
    return best.encoding.upper().replace("_", "-") if best is not None else "an unrecognised encoding"


def read_mapping(path: str | Path, *, what: str, fix_missing: str, empty_ok: bool = False) -> dict[str, Any]:
    """The mapping in a YAML file, or :class:`InputError` naming the file, the line and the fix.

    ``what`` names the file's kind in messages ("rollout plan", "parameter file");
    ``fix_missing`` says what to do when the file does not exist; an empty file is an
    empty mapping when ``empty_ok``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), [Problem("file", str(path), f"an existing {what}", fix_missing)]) from None
    except OSError as exc:
        raise InputError(
            str(path),
            [
                Problem(
                    "file",
                    f"{type(exc).__name__}: {exc.strerror}",
                    f"a readable {what}",
                    "Check the path and its permissions.",
                )
            ],
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        found = _encoding_of(data)
        source = found if " " not in found else "SOURCE-ENCODING"
        raise InputError(
            str(path),
            [
                Problem(
                    f"line {line}",
                    f"text in {found}, not UTF-8",
                    f"a {what} saved as UTF-8",
                    "Re-save it as UTF-8 (in VS Code: Save with Encoding → UTF-8; in "
                    "Notepad: Save as, Encoding UTF-8), or convert it, e.g. "
                    f"`iconv -f {source} -t UTF-8 old.yaml > new.yaml`.",
                )
            ],
        ) from None
    try:
        data = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise InputError(str(path), [Problem(where, getattr(exc, "problem", str(exc)), "valid YAML")]) from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise InputError(str(path), [Problem("file", type(data).__name__, f"a {what}: a mapping of keys to values")])
    return data
