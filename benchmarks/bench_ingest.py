"""Benchmark: ingest a large admin-console activity export with the plain command line.

    python benchmarks/bench_ingest.py                 # 13,000 members × 210 days = 2.73 M rows, 217 MB
    python benchmarks/bench_ingest.py --users 2000    # a quick look
    git archive c16daf3 | tar -x -C /tmp/before      # the code before streaming, as an independent baseline
    cd /tmp && python /path/to/benchmarks/bench_ingest.py --baseline /tmp/before

Writes the export once (GB18030, Chinese headers under a title line, as the admin console
exports it), then times ``wecom-eval ingest activity FILE`` as a subprocess — start-up and
imports included, no special settings — into a fresh home: one warm-up run, then the
median and min–max of ``--runs`` counted runs, each followed by the no-op re-ingest of the
same file into the home it just loaded. With ``--baseline`` the earlier code runs
alternately with this code in every round, so that both see the same load on a shared
machine. Peak memory is the child's maximum resident set size (``os.wait4``, the figure
``/usr/bin/time -v`` prints as "Maximum resident set size"); CPU is user + system time of
all its threads, which a busy machine inflates less than wall time.

Figures on the project's 2-core machine, 5 Dec 2026, 2.73 M rows, 217 MB, the machine
shared with six other sessions (load average 12-22, so wall times are inflated several
times over; CPU time and peak memory are the fair comparison):

    before streaming (c16daf3, ``--this`` a snapshot of it, --fresh-only, load ~19):
        ingest            wall 244.0 s (225.8-328.4)  CPU 29.2 s (29.2-29.3)  peak 2510 MB
    before, an earlier sitting at load ~8:
        ingest            wall  30.3 s (28.2-32.0)                            peak 3374 MB
        no-op re-ingest   wall 126.1 s (118.3-129.6)                          peak 3375 MB
    after (load ~20):
        ingest            wall 161.6 s (117.1-239.1)  CPU 18.8 s (18.8-19.3)  peak  685 MB
        no-op re-ingest   wall 276.6 s (104.4-348.4)  CPU 20.6 s (20.4-21.2)  peak  864 MB

The goal (issue 16 item 7, issue 18 item 3): under 1 GB peak, no slower than before.
This is not a timed test; record the figures you measure in the issue note.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = dt.date(2026, 3, 2)  # the example plan's start date
DEPARTMENTS = ("总部/人力资源部", "总部/财务部", "华东分公司/销售部", "华南分公司/销售部", "总部/研发中心/平台组")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
DEVICES = ("Windows", "Mac", "iPhone", "Android")


def write_export(path: Path, *, users: int, days: int, seed: int) -> int:
    """The export file; returns its number of data rows."""
    rng = random.Random(seed)
    people = [
        (f"user{u:06d}", rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), rng.choice(DEPARTMENTS))
        for u in range(users)
    ]
    rows = 0
    with path.open("w", encoding="gb18030", newline="") as out:
        out.write(f"成员活跃度统计 {START} 至 {START + dt.timedelta(days=days - 1)}\r\n")
        out.write("日期,账号,姓名,部门,是否活跃,使用时长(分钟),最近登录时间,登录设备\r\n")
        for d in range(days):
            day = (START + dt.timedelta(days=d)).isoformat()
            lines = []
            for userid, name, dept in people:
                minutes = int(rng.expovariate(1 / 40)) if rng.random() < 0.7 else 0
                seen = f"{day} {rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
                lines.append(
                    f"{day},{userid},{name},{dept},{'是' if minutes else '否'},{minutes},{seen},"
                    f"{rng.choice(DEVICES)}\r\n"
                )
            out.write("".join(lines))
            rows += len(lines)
    return rows


Run = tuple[float, float, float]  # wall seconds, CPU seconds (user + system, every thread), peak MB


def timed(command: list[str], env: dict[str, str]) -> Run:
    """Wall time, CPU time and peak resident memory of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    peak = usage.ru_maxrss / 1024 / 1024 if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return wall, usage.ru_utime + usage.ru_stime, peak


def summary(label: str, runs: list[Run]) -> str:
    def fmt(values: list[float], unit: str, digits: int) -> str:
        return (
            f"{statistics.median(values):7.{digits}f} {unit} (min {min(values):.{digits}f}, "
            f"max {max(values):.{digits}f})"
        )

    return (
        f"{label:<34} wall {fmt([r[0] for r in runs], 's', 1)}   CPU {fmt([r[1] for r in runs], 's', 1)}   "
        f"peak {fmt([r[2] for r in runs], 'MB', 0)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=13_000)
    parser.add_argument("--days", type=int, default=210)
    parser.add_argument("--runs", type=int, default=3, help="counted runs after one warm-up (default 3)")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--file", help="reuse this export instead of writing one")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a source tree of earlier code (e.g. `git archive c16daf3 | tar -x -C DIR`), run "
        "alternately with this one through PYTHONPATH, from a folder outside the repository",
    )
    parser.add_argument(
        "--this",
        metavar="DIR",
        help="run this source tree (through PYTHONPATH) rather than the "
        "installed package, e.g. a snapshot of the working tree while it is being edited",
    )
    parser.add_argument("--fresh-only", action="store_true", help="time the ingest into a fresh home only")
    parser.add_argument("--quick", action="store_true", help="2,000 users × 210 days, 2 runs (make bench's --quick)")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.runs = min(args.users, 2_000), min(args.runs, 2)

    exe = shutil.which("wecom-eval", path=str(Path(sys.executable).parent)) or "wecom-eval"
    work = Path(tempfile.mkdtemp(prefix="wecom-eval-bench-ingest-"))
    try:
        export = Path(args.file) if args.file else work / "成员活跃度.csv"
        if not args.file:
            rows = write_export(export, users=args.users, days=args.days, seed=args.seed)
            print(f"wrote {export.name}: {rows:,} rows, {export.stat().st_size / 1e6:.0f} MB (GB18030)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_EVAL_") and k != "PYTHONPATH"}
        contenders = {"this code": {**env, "PYTHONPATH": args.this} if args.this else env}
        if args.baseline:
            contenders["baseline " + Path(args.baseline).name] = {**env, "PYTHONPATH": str(Path(args.baseline))}
        command = [exe, "ingest", "activity", str(export)]
        fresh: dict[str, list[Run]] = {name: [] for name in contenders}
        again: dict[str, list[Run]] = {name: [] for name in contenders}
        for i in range(args.runs + 1):  # contenders alternate within each round; round 0 warms up
            for name, base in contenders.items():
                home = work / f"home-{len(fresh[name])}-{i}-{abs(hash(name))}"
                home.mkdir()
                first = timed(command, {**base, "WECOM_EVAL_HOME": str(home)})
                second = None if args.fresh_only else timed(command, {**base, "WECOM_EVAL_HOME": str(home)})
                shutil.rmtree(home)
                label = " (warm-up)" if i == 0 else ""
                print(
                    f"  {name}, round {i}{label}: ingest {first[0]:.1f} s wall, {first[1]:.1f} s CPU, "
                    f"{first[2]:.0f} MB"
                    + (
                        f"; no-op re-ingest {second[0]:.1f} s, {second[1]:.1f} s CPU, {second[2]:.0f} MB"
                        if second
                        else ""
                    ),
                    flush=True,
                )
                if i:
                    fresh[name].append(first)
                    if second:
                        again[name].append(second)
        print(
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; median of {args.runs} runs after a "
            "warm-up, whole processes:"
        )
        for name in contenders:
            print(summary(f"ingest, fresh home ({name})", fresh[name]))
            if again[name]:
                print(summary(f"no-op re-ingest ({name})", again[name]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
