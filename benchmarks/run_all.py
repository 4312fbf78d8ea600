"""``make bench``: run every benchmark, then print their lines as one table.

    python benchmarks/run_all.py            # the default sizes (the KPIs at 100,000 employees)
    python benchmarks/run_all.py --quick    # smaller sizes, 2 rounds (each benchmark's --quick)
    python benchmarks/run_all.py bench_kpis bench_demo   # some of them

Each benchmark prints its own progress and table as it goes; the combined table comes at
the end, with the load average of the machine (a busy machine slows every contender, which
is why contenders alternate). ``benchmarks/README.md`` says how to read it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

HERE = Path(__file__).resolve().parent
ORDER = ("bench_kpis", "bench_add_day", "bench_demo_load", "bench_demo", "bench_wild_bootstrap", "bench_fetch")


def _options(name: str) -> set[str]:
    """Which of ``--json`` and ``--quick`` a benchmark takes (from its ``--help``)."""
    shown = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--help"], capture_output=True, text=True)
    return {opt for opt in ("--json", "--quick") if opt in shown.stdout}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: {', '.join(ORDER)})")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    # the benchmarks of ORDER, then any other bench_*.py; those that take --json join the table,
    # the others are printed as they are, and --quick goes only to those that take it
    others = sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem not in ORDER)
    names = args.names or [*ORDER, *others]
    lines: list[h.Line] = []
    notes: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            print(f"== {name}", flush=True)
            takes = _options(name) if name not in ORDER else {"--json", "--quick"}
            quick = ["--quick"] if args.quick and "--quick" in takes else []
            if "--json" not in takes:
                code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *quick])
                lines.append(h.Line(f"{name}: its own output above" if code == 0 else f"{name}: FAILED", "—"))
                continue
            code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), "--json", str(out), *quick])
            if code != 0 or not out.exists():
                lines.append(h.Line(f"{name}: FAILED (exit {code})", "—"))
                continue
            found = json.loads(out.read_text())
            lines += [h.Line(**ln) for ln in found["lines"]]
            notes += [f"{name}: {n}" for n in found["notes"]]
    load = os.getloadavg()
    print(
        f"\n== all benchmarks ({time.perf_counter() - started:.0f} s; load average now {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs)\n"
    )
    print(h.table(lines))
    print()
    for note in notes:
        print(f"- {note}")
    return 0 if all("FAILED" not in ln.work for ln in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
