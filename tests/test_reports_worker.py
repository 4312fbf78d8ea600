"""The worker process: what it keeps out of its start-up must be something no run needs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from wecom_eval.reporting import kpis_json, worker


def _formats(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(v) for v in node))
    return set()


def test_no_schema_a_run_validates_uses_the_formats_the_worker_leaves_out():
    # The worker keeps rfc3987_syntax out (it compiles a grammar on import); jsonschema then
    # has no "iri"/"iri-reference" check, so no schema a run validates may use them.
    assert worker.SLOW_FORMAT_MODULE == "rfc3987_syntax"
    schemas = [kpis_json.SCHEMA_PATH, *Path(nbformat.__file__).parent.glob("v4/*.schema.json")]
    assert len(schemas) > 1
    for path in schemas:
        used = _formats(json.loads(path.read_text(encoding="utf-8")))
        assert not {f for f in used if f.startswith("iri")}, (path, used)
