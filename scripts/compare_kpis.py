"""Compare the ``kpis.json`` of two report trees, figure by figure.

Used to show that a change of place changes no figure: run the demo before and after, then

    python scripts/compare_kpis.py BEFORE/reports AFTER/reports

Exit 0 when every report's ``kpis.json`` is equal in both trees, apart from the load times
(``last_loaded``), which differ from one run to the next; exit 1 listing each difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VOLATILE_KEYS = frozenset({"last_loaded"})


def _differences(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            if key in VOLATILE_KEYS:
                continue
            if key not in a or key not in b:
                out.append(f"{where}.{key}: only in {'after' if key in b else 'before'}")
            else:
                out.extend(_differences(a[key], b[key], f"{where}.{key}"))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items before, {len(b)} after"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} before, {b!r} after"]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = (Path(p) for p in argv)
    names = sorted({p.relative_to(before) for p in before.rglob("kpis.json")})
    if not names:
        print(f"no kpis.json under {before}", file=sys.stderr)
        return 2
    problems: list[str] = []
    for name in names:
        other = after / name
        if not other.exists():
            problems.append(f"{name}: missing after")
            continue
        a = json.loads((before / name).read_text(encoding="utf-8"))
        b = json.loads(other.read_text(encoding="utf-8"))
        problems.extend(f"{name}: {d}" for d in _differences(a, b, "$"))
    extra = sorted({p.relative_to(after) for p in after.rglob("kpis.json")} - set(names))
    problems.extend(f"{name}: only after" for name in extra)
    for line in problems:
        print(line)
    print(f"{len(names)} reports compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
