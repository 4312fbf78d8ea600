"""Benchmark: the CPU of the report notebooks' cells, and the whole weekly report, beside an earlier commit.

    python benchmarks/bench_cells.py                     # against main
    python benchmarks/bench_cells.py --before HEAD~3 --rounds 5 --home /tmp/demo

The six report notebooks on the default demo company. Each contender runs as its own process:

``cells``
    a notebook's code cells executed in one interpreter as the kernel runs them (the
    parameters cell, then the rest with ``$WECOM_EVAL_RUN_DIR`` set); the figure is the CPU
    time of the cells after the first two (the imports and ``open_report``, which the kernel's
    start-up pays whatever the cells do), reported by the process itself;
``weekly report``
    ``wecom-eval run weekly --as-of …`` start to exit, every process of it (command, worker,
    kernel, export).

The baseline is the same code at ``--before`` (default :data:`BEFORE`, ``main`` before the
cells were computed once), unpacked with ``git archive``
and put first on ``PYTHONPATH``; both run in the same interpreter with the same packages,
against the same warehouse (read only), alternating, the order flipped every round.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

BEFORE = "727a2ae"  # main of 5 Dec 2026 before this round: the cells as they were
REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("weekly", "monthly", "launch-review", "promotion-review", "deepening-review", "quarterly")

# Runs in the contender's process: argv = notebook path, as-of day.
CELLS = """
import json, os, sys, tempfile, time
nb = json.load(open(sys.argv[1]))
os.environ["WECOM_EVAL_RUN_DIR"] = tempfile.mkdtemp(prefix="bench-cells-")
import matplotlib
matplotlib.use("agg")
import IPython.display
IPython.display.display = lambda *a, **k: None  # no front end: what would be shown is dropped
code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
scope = {}
exec(code[0], scope)
scope["as_of"] = sys.argv[2]
exec(code[1], scope)  # the imports and open_report
t0, c0 = time.perf_counter(), time.process_time()
for src in code[2:]:
    exec(src, scope)
print(json.dumps({"work_seconds": time.perf_counter() - t0, "cells_cpu": time.process_time() - c0}))
"""


def _unpack(ref: str, into: Path) -> Path:
    """The package, its notebooks and parameter files as of ``ref``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "wecom_eval", "notebooks", "params"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _as_of(home: Path, report: str) -> str:
    days = [p.name for p in (home / "reports" / report).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(days)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE, help=f"the commit to compare with (default {BEFORE})")
    parser.add_argument("--home", type=Path, help="a demo home to read (default: one made with `wecom-eval demo`)")
    parser.add_argument("--notebooks", nargs="*", default=list(NOTEBOOKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-run", action="store_true", help="the cells only, not the whole weekly report")
    parser.add_argument("--json", help="write the table here (for run_all.py)")
    args = parser.parse_args(argv)
    cli = str(Path(sys.executable).with_name("wecom-eval"))
    with tempfile.TemporaryDirectory(prefix="bench-cells-") as tmp:
        work = Path(tmp)
        home = args.home or work / "home"
        if args.home is None:
            h.run([cli, "--home", str(home), "demo"])
        (work / "before").mkdir()
        before = _unpack(args.before, work / "before")
        sides = {"now": (REPO, {}), f"at {args.before}": (before, {"PYTHONPATH": str(before)})}
        contenders = {}
        for name in args.notebooks:
            as_of = _as_of(home, name)
            for side, (root, env) in sides.items():
                cmd = [sys.executable, "-c", CELLS, str(root / "notebooks" / f"{name}.ipynb"), as_of]
                contenders[f"{name} cells, {side}"] = _go(cmd, {**env, "WECOM_EVAL_HOME": str(home)}, cwd=tmp)
        if not args.no_run:
            for side, (_root, env) in sides.items():
                copy = work / f"home-{len(contenders)}"  # each side writes its runs into its own copy
                subprocess.run(["cp", "-r", str(home), str(copy)], check=True)
                cmd = [cli, "--home", str(copy), "run", "weekly", "--as-of", _as_of(home, "weekly")]
                contenders[f"weekly report, {side}"] = _go(cmd, env, cwd=tmp)
        got = h.alternate(contenders, rounds=args.rounds)
    lines = []
    for name in args.notebooks:
        now, then = got[f"{name} cells, now"], got[f"{name} cells, at {args.before}"]
        lines.append(h.Line(f"{name}: cells' CPU", _cpu(now), _cpu(then), _cpu_ratio(then, now)))
    if not args.no_run:
        now, then = got["weekly report, now"], got[f"weekly report, at {args.before}"]
        lines.append(h.Line("weekly report, whole process", h.cell(now), h.cell(then), h.ratio(then, now)))
    h.emit("bench_cells", lines, args.json)
    return 0


def _go(cmd: list[str], env: dict[str, str], *, cwd: str):  # noqa: ANN202
    def go() -> h.Sample:
        return h.run(cmd, env=env, cwd=cwd)

    return go


def _cells_cpu(samples: list[h.Sample]) -> h.Stat:
    return h.stat([float(str(s.info["cells_cpu"])) for s in samples])


def _cpu(samples: list[h.Sample]) -> str:
    return f"{_cells_cpu(samples).seconds()} CPU"


def _cpu_ratio(anchor: list[h.Sample], project: list[h.Sample]) -> str:
    return f"{_cells_cpu(anchor).median / _cells_cpu(project).median:.2f}× CPU"


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "agg")
    sys.exit(main())
