"""Benchmark: the whole demo (build the demo organisation, run every report) beside its floor.

The floor is what any papermill workbook pays: the same number of trivial notebooks
(import pandas and seaborn, draw one plot) executed by papermill on the same kernel and
converted to HTML by nbconvert, two at a time in separate processes. The target is at
most 4x the floor.

Run:  .venv/bin/python benchmarks/bench_demo.py [--employees 1200] [--keep DIR]

Prints wall times and the ratio; not a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

TRIVIAL = """import pandas as pd
import seaborn as sns
frame = pd.DataFrame({"x": range(20), "y": [v * v for v in range(20)]})
sns.lineplot(data=frame, x="x", y="y")"""


def trivial_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRIVIAL)]
    nb.metadata["kernelspec"] = {"name": "wecom-eval", "display_name": "Python (wecom-eval)", "language": "python"}
    nbformat.write(nb, str(path))


def floor_one(path: str) -> float:
    """papermill + nbconvert (HTML without code) for one trivial notebook."""
    import papermill
    from nbconvert import HTMLExporter

    start = time.perf_counter()
    out = Path(path).with_suffix(".out.ipynb")
    papermill.execute_notebook(path, str(out), kernel_name="wecom-eval", progress_bar=False, log_output=False)
    exporter = HTMLExporter(exclude_input=True)
    body, _ = exporter.from_filename(str(out))
    Path(path).with_suffix(".html").write_text(body, encoding="utf-8")
    return time.perf_counter() - start


def floor(n: int, folder: Path, jobs: int = 2) -> float:
    paths = []
    for i in range(n):
        path = folder / f"trivial_{i}.ipynb"
        trivial_notebook(path)
        paths.append(str(path))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(floor_one, paths))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    from wecom_eval.demo import DemoConfig, build_demo
    from wecom_eval.home import Home
    from wecom_eval.plan import load_plan
    from wecom_eval.reporting.kernel import ensure_kernel
    from wecom_eval.reporting.params import REPORTS
    from wecom_eval.reporting.runner import run_all

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=DemoConfig().employees)
    parser.add_argument("--keep", help="build into this folder and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)

    ensure_kernel()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ["WECOM_EVAL_HOME"] = str(root)
    home = Home.from_env()
    plan = load_plan(home.plan)
    config = DemoConfig(employees=args.employees)
    try:
        t0 = time.perf_counter()
        build_demo(home, config, plan)
        t1 = time.perf_counter()
        as_of = plan.start_date + dt.timedelta(weeks=config.rollout_weeks)
        results = run_all(home, as_of=as_of, progress=None)
        t2 = time.perf_counter()
        failed = [r for r in results if not r.ok]
        floor_dir = root / "floor"
        floor_dir.mkdir(exist_ok=True)
        floor_time = floor(len(REPORTS), floor_dir)
        demo_time = t2 - t0
        print(f"demo at {config.employees:,} employees, {config.baseline_weeks}+{config.rollout_weeks} weeks:")
        print(f"  build the organisation and load it : {t1 - t0:6.1f} s")
        print(f"  run the {len(results)} reports, 2 at a time    : {t2 - t1:6.1f} s "
              f"({', '.join(f'{r.report} {r.duration:.1f}' for r in results)})")
        print(f"  whole demo                         : {demo_time:6.1f} s")
        print(f"floor: {len(REPORTS)} trivial notebooks via papermill + nbconvert, 2 at a time: {floor_time:6.1f} s")
        print(f"ratio: {demo_time / floor_time:.2f}x the floor (target: at most 4x)")
        if failed:
            print("FAILED:", "; ".join(f"{r.report}: {r.error}" for r in failed), file=sys.stderr)
            return 1
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
