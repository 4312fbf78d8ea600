"""Benchmark: add one day of activity to a year of a large company, with the plain command line.

    python benchmarks/bench_add_day.py                 # 100,000 employees × 52 weeks (36.4 M member-days)
    python benchmarks/bench_add_day.py --quick         # 20,000 employees, 2 rounds

The home is the demo company, built once and cached under ``--home`` (``wecom-eval demo
--employees N --baseline-weeks 0 --rollout-weeks 52 --no-reports``, with a copy of the
repository's plan that starts 52 weeks before the day added, so that the day is not in the
future). The day is an admin-console activity export (CSV, Chinese headers) with one row per
member for the day after the data ends.

Each counted run is the whole process ``wecom-eval --home RUN ingest activity DAY.csv``:
start-up, imports, reading and checking the file, raw landing, the load in one transaction
and the incremental refresh of the rollups (only that day's rows and its week's), on a fresh
copy of the warehouse (the copy is not timed). One warm-up run, then ``--rounds`` counted
runs; median (min–max) and the peak resident memory from GNU time. Goal (issue 18 item 4):
under 2 s. ``tests/test_store_rollups.py`` checks that the incremental refresh equals a full
rebuild.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

CLI = [sys.executable, "-m", "wecom_eval.cli"]
REPO = Path(__file__).resolve().parent.parent
WEEKS = 52


def make_home(home: Path, employees: int, start: dt.date) -> h.Sample:
    """The demo company in ``home``, with the repository's plan moved to ``start``."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "params").mkdir(parents=True)
    plan = (REPO / "params" / "rollout.yaml").read_text(encoding="utf-8")
    plan, n = re.subn(r"(?m)^start_date: .*$", f"start_date: {start.isoformat()}", plan)
    if n != 1:
        raise SystemExit("params/rollout.yaml has no start_date line to move")
    (home / "params" / "rollout.yaml").write_text(plan, encoding="utf-8")
    command = ["demo", "--employees", str(employees), "--baseline-weeks", "0", "--rollout-weeks", str(WEEKS)]
    return h.run([*CLI, "--home", str(home), *command, "--no-reports"])


def write_day(home: Path, day: dt.date, path: Path, *, seed: int = 1) -> int:
    """One day of the activity export for every member of ``home``; returns its rows."""
    import duckdb

    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    userids = [r[0] for r in con.execute("SELECT userid FROM members ORDER BY userid").fetchall()]
    con.close()
    rng = np.random.default_rng(seed)
    active = rng.random(len(userids)) < 0.55
    minutes = np.where(active, np.clip(np.rint(rng.lognormal(3.6, 0.6, len(userids))), 1, 720), 0).astype(int)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("日期,账号,是否活跃,使用时长(分钟)\n")
        for uid, a, m in zip(userids, active, minutes, strict=True):
            fh.write(f"{day.isoformat()},{uid},{'是' if a else '否'},{m}\n")
    return len(userids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.size_options(parser)
    parser.add_argument("--home", help="where to keep the year-long home (reused when it is there)")
    args = parser.parse_args(argv)
    h.cli_defaults(args)
    # the year ends on the Sunday before last: the day added is in the past, as a real export's
    today = dt.date.today()
    day = today - dt.timedelta(days=today.weekday() + 7)
    start = day - dt.timedelta(weeks=WEEKS)
    home = Path(args.home or Path(tempfile.gettempdir()) / f"wecom-eval-bench-add-day-{args.employees}-{start}")
    print(f"home {home}; load average {os.getloadavg()[0]:.1f}", flush=True)
    if not (home / "data" / "warehouse.duckdb").exists():
        built = make_home(home, args.employees, start)
        print(f"built the year in {built.wall:.1f} s, peak {h.mib(built.peak_mb)}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="bench-add-day-"))
    try:
        rows = write_day(home, day, root / "day.csv")
        run_home = root / "home"

        def once() -> h.Sample:
            shutil.rmtree(run_home, ignore_errors=True)
            (run_home / "data").mkdir(parents=True)
            shutil.copytree(home / "params", run_home / "params")
            shutil.copy(home / "data" / "warehouse.duckdb", run_home / "data" / "warehouse.duckdb")
            return h.run([*CLI, "--home", str(run_home), "ingest", "activity", str(root / "day.csv")])

        samples = h.alternate({"ingest activity, one day": once}, rounds=args.rounds, warmup=args.warmup)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    line = h.Line(
        f"add one day ({rows:,} rows) to {args.employees // 1000:,}k × {WEEKS} w: "
        "`wecom-eval ingest activity DAY.csv` (load + incremental refresh)",
        h.cell(samples["ingest activity, one day"]),
        goal="< 2 s",
    )
    h.emit("bench_add_day", [line], args.json, notes=[f"the day added: {day}; the home: {home}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
