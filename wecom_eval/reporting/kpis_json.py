"""``kpis.json``: the machine-readable result of a run, checked against its JSON schema.

The schema (``kpis.schema.json`` beside this module, explained in ``docs/reports.md``) is
the contract for anything that reads results — the group-robot summary, dashboards,
a later run comparing itself with this one. Every run's document is validated before it
is written; a document that does not follow the schema is a bug and fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("kpis.schema.json")
SCHEMA_ID = "wecom-eval/kpis/1"
COVERAGE_FIELDS = ("source", "first_day", "last_day", "rows", "missing_working_days", "missing_days", "last_loaded")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The committed JSON schema of ``kpis.json``."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def problems(document: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` departs from the schema (empty when it follows it)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def build(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The ``kpis.json`` document from what a notebook recorded (see :mod:`.collect`)."""
    period = meta.get("period") or {}
    window = meta.get("data_window") or {"start": None, "end": period.get("end")}
    return {
        "schema": SCHEMA_ID,
        "report": meta["report"],
        "as_of": meta["as_of"],
        "language": meta["language"],
        "period": {k: period.get(k) for k in ("start", "end", "complete", "label")},
        "data_window": {"start": window.get("start"), "end": window.get("end")},
        "targets": dict(meta.get("targets", {})),
        "kpis": list(meta.get("kpis", [])),
        "alerts": [{k: v for k, v in a.items() if v is not None or k in ("subject",)} for a in meta.get("alerts", [])],
        "coverage": [{k: c.get(k) for k in COVERAGE_FIELDS} for c in meta.get("coverage", [])],
    }


def write(meta: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """Build, validate and write ``kpis.json``; raise ``ValueError`` listing schema problems."""
    document = build(meta)
    found = problems(document)
    if found:
        raise ValueError(
            "kpis.json would not follow its schema (a bug in the notebook or the package):\n  - "
            + "\n  - ".join(found[:20])
        )
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return document


__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "build", "problems", "schema", "write"]
