"""Benchmark: the whole demo and one weekly report beside the papermill floor.

    python benchmarks/bench_demo.py                 # the demo's default size
    python benchmarks/bench_demo.py --rounds 2

Contenders, each a whole process (start-up and imports included), one warm-up round, then
``--rounds`` counted rounds, alternated:

``demo``
    ``wecom-eval --home DIR demo`` in a fresh home: build the organisation, load it, run the
    six reports (two at a time);
``floor``
    the papermill floor of the same work: six trivial notebooks (import pandas and seaborn,
    draw one plot) executed by papermill on the project's kernel and converted to HTML by
    nbconvert, two at a time, in one process like the demo's runner;
``weekly``
    ``wecom-eval run weekly --as-of …`` on the demo's warehouse (a scheduled weekly report);
``one trivial``
    one trivial notebook through papermill + nbconvert in one process (its floor).

Goals (issue 18): the demo within 1.5× the floor; a weekly report ≤ 4 s whole process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

CLI = [sys.executable, "-m", "wecom_eval.cli"]
TRIVIAL = """import pandas as pd
import seaborn as sns
frame = pd.DataFrame({"x": range(20), "y": [v * v for v in range(20)]})
sns.lineplot(data=frame, x="x", y="y")"""


def trivial_one(path: str) -> None:
    """papermill + nbconvert (HTML without code) for one trivial notebook."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRIVIAL)]
    nb.metadata["kernelspec"] = {"name": "wecom-eval", "display_name": "Python (wecom-eval)", "language": "python"}
    nbformat.write(nb, path)
    out = Path(path).with_suffix(".out.ipynb")
    papermill.execute_notebook(path, str(out), kernel_name="wecom-eval", progress_bar=False, log_output=False)
    body, _ = HTMLExporter(exclude_input=True).from_filename(str(out))
    Path(path).with_suffix(".html").write_text(body, encoding="utf-8")


def floor_child(n: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    paths = [str(folder / f"trivial_{i}.ipynb") for i in range(n)]
    if n == 1:
        trivial_one(paths[0])
    else:
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(trivial_one, paths))
    h.say_work(time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    parser.add_argument("--weekly-only", action="store_true", help="only the weekly report beside its floor")
    parser.add_argument("--json", help="write the table here (for run_all.py)")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        floor_child(args.floor, Path(args.folder))
        return 0
    if args.quick:
        args.rounds = min(args.rounds, 2)
    from wecom_eval.demo import DemoConfig
    from wecom_eval.home import Home
    from wecom_eval.plan import load_plan
    from wecom_eval.reporting.kernel import ensure_kernel
    from wecom_eval.reporting.registry import BUILT_IN as REPORTS

    ensure_kernel()
    config = DemoConfig()
    as_of = load_plan(Home.from_env().plan).start_date + dt.timedelta(weeks=config.rollout_weeks)
    root = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    weekly_home = root / "weekly"

    def demo() -> h.Sample:
        shutil.rmtree(root / "demo", ignore_errors=True)
        return h.run([*CLI, "--home", str(root / "demo"), "demo"])

    def floor(n: int):  # noqa: ANN202
        def go() -> h.Sample:
            shutil.rmtree(root / f"floor{n}", ignore_errors=True)
            return h.run([sys.executable, __file__, "--floor", str(n), "--folder", str(root / f"floor{n}")])

        return go

    def weekly() -> h.Sample:
        return h.run([*CLI, "--home", str(weekly_home), "run", "weekly", "--as-of", as_of.isoformat()])

    try:
        print(
            f"demo: {config.employees:,} employees, {config.baseline_weeks}+{config.rollout_weeks} weeks; "
            f"{len(REPORTS)} reports",
            flush=True,
        )
        h.run([*CLI, "--home", str(weekly_home), "demo", "--no-reports"])
        whole = (
            None if args.weekly_only else h.alternate({"demo": demo, "floor": floor(len(REPORTS))}, rounds=args.rounds)
        )
        one = h.alternate({"weekly": weekly, "one trivial": floor(1)}, rounds=args.rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = []
    if whole is not None:
        ratio = h.walls(whole["demo"]).median / h.walls(whole["floor"]).median
        lines.append(
            h.Line(
                f"demo, {len(REPORTS)} reports (`wecom-eval demo`)",
                h.cell(whole["demo"]),
                f"{len(REPORTS)} trivial papermill notebooks two at a time {h.cell(whole['floor'])}",
                f"{ratio:.2f}× the floor",
                "≤ 1.5× the floor",
            )
        )
    lines += [
        h.Line(
            "one weekly report (`wecom-eval run weekly`)",
            h.cell(one["weekly"]),
            f"one trivial papermill notebook {h.cell(one['one trivial'])}",
            f"{h.walls(one['weekly']).median / h.walls(one['one trivial']).median:.2f}× the floor",
            "≤ 4 s",
        ),
    ]
    h.emit("bench_demo", lines, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
