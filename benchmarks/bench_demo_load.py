"""Benchmark: generate the demo organisation and load it into a fresh warehouse.

    python benchmarks/bench_demo_load.py --employees 100000 --weeks-baseline 0 --weeks-rollout 52

Prints wall time for generation and for the load (one transaction, with validation), the
rows per table, the warehouse's size, and the peak resident memory of this process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Target on a 2-core machine for one year of
100,000 employees (about 36 million member-days): under 60 s and under 2 GB.
This is not a timed test; record the figures you measure in the issue note.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def peak_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--weeks-baseline", type=int, default=0)
    parser.add_argument("--weeks-rollout", type=int, default=52)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--memory", default="1GB",
                        help="DuckDB memory limit (sets WECOM_EVAL_DUCKDB_MEMORY; '' for DuckDB's default)")
    parser.add_argument("--home", help="build here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--generate-only", action="store_true", help="skip the load")
    args = parser.parse_args(argv)
    if args.memory:
        os.environ["WECOM_EVAL_DUCKDB_MEMORY"] = args.memory

    from wecom_eval.demo import DemoConfig, build_demo, generate
    from wecom_eval.home import Home
    from wecom_eval.plan import load_plan

    root = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="wecom-eval-bench-"))
    home = Home.from_env(root)
    plan = load_plan(home.plan)
    config = DemoConfig(employees=args.employees, seed=args.seed, baseline_weeks=args.weeks_baseline,
                        rollout_weeks=args.weeks_rollout)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, DuckDB memory limit "
          f"{os.environ.get('WECOM_EVAL_DUCKDB_MEMORY') or 'default'}; home {root}")
    t0 = time.perf_counter()
    last = [0.0]

    def say(message: str) -> None:
        now = time.perf_counter() - t0
        if "staged" not in message or now - last[0] > 5:
            last[0] = now
            print(f"  [{now:6.1f} s, peak {peak_mb():,.0f} MB] {message}", flush=True)

    try:
        if args.generate_only:
            demo = generate(config, plan, progress=say)
            t_generate = time.perf_counter() - t0
            t1 = time.perf_counter()
            rows = sum(chunk.num_rows for chunk in demo.member_days_chunks())
            print(f"generate: {t_generate:.1f} s; member_days drawn again without loading: {rows:,} rows "
                  f"in {time.perf_counter() - t1:.1f} s; peak memory {peak_mb():,.0f} MB")
            return 0
        summary = build_demo(home, config, plan, progress=say)
        total = time.perf_counter() - t0
        print("rows per table:")
        for name, n in summary.counts.items():
            print(f"  {name:<20} {n:>14,}")
        print(f"warehouse file: {home.warehouse.stat().st_size / 1024 / 1024:,.0f} MB")
        print(f"generate {summary.seconds_generate:.1f} s, load {summary.seconds_load:.1f} s, "
              f"TOTAL {total:.1f} s; peak memory (ru_maxrss) {peak_mb():,.0f} MB")
    finally:
        if not args.home:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
