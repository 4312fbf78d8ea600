"""Benchmark: generate the demo organisation and load it, as the command line does it.

    python benchmarks/bench_demo_load.py                       # 100,000 employees × 52 weeks
    python benchmarks/bench_demo_load.py --quick               # 20,000 employees, 2 rounds
    python benchmarks/bench_demo_load.py --employees 1000000 --rounds 1 --warmup 0

Each run is the plain command ``wecom-eval --home DIR demo --employees N --baseline-weeks 0
--rollout-weeks 52 --no-reports`` in a fresh home, with the command line's own defaults (no
DuckDB memory setting of the benchmark's: ``WECOM_EVAL_DUCKDB_MEMORY`` is removed from the
environment), timed as a whole process with its peak resident memory from GNU time. One
warm-up run, then ``--rounds`` counted runs. Goals (issue 18): at 100,000 employees under
2 GB peak; at 1,000,000 employees a load under 10 minutes and 4 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

CLI = [sys.executable, "-m", "wecom_eval.cli"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.size_options(parser)
    parser.add_argument("--weeks", type=int, default=52, help="rollout weeks (no baseline weeks)")
    parser.add_argument("--keep", help="leave the last home here (for a report benchmark to use)")
    args = parser.parse_args(argv)
    h.cli_defaults(args)
    root = Path(tempfile.mkdtemp(prefix="bench-demo-load-"))
    command = [
        "demo",
        "--employees",
        str(args.employees),
        "--baseline-weeks",
        "0",
        "--rollout-weeks",
        str(args.weeks),
        "--no-reports",
    ]
    print(f"wecom-eval {' '.join(command)}; load average {os.getloadavg()[0]:.1f}", flush=True)

    def once() -> h.Sample:
        home = root / "home"
        shutil.rmtree(home, ignore_errors=True)
        return h.run([*CLI, "--home", str(home), *command])

    try:
        samples = h.alternate({"demo --no-reports": once}, rounds=args.rounds, warmup=args.warmup)["demo --no-reports"]
        size = (root / "home" / "data" / "warehouse.duckdb").stat().st_size / 1024 / 1024
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.move(str(root / "home"), args.keep)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    goal = "< 2 GB" if args.employees <= 100_000 else "< 10 min, < 4 GB"
    line = h.Line(
        f"generate + load {args.employees // 1000:,}k × {args.weeks} w (`wecom-eval demo --no-reports`, CLI defaults)",
        h.cell(samples),
        goal=goal,
    )
    h.emit("bench_demo_load", [line], args.json, notes=[f"warehouse file {size:,.0f} MiB"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
