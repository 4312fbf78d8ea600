"""Benchmark: pull approvals, attendance and customer statistics from the fake WeCom server.

The pull is ``wecom-eval fetch`` (contacts first, for the member list; then approvals,
check-ins and customer statistics) of a demo organisation (default 5,000 members, 12
weeks) served by ``wecom-eval fake-server`` in its own process, with ``--latency-ms`` added
to every answer. It runs twice: with the client's concurrency, then one call at a time.

It prints the calls per endpoint, wall time and calls per second of each run, and the
bound the rate limits set: with each endpoint's documented per-minute limit and a
sliding window, ``n`` calls need at least ``floor((n - 1) / limit)`` windows; endpoints
run side by side, so the pull needs at least the largest of those (plus one answer's
latency). Targets: at least 5x faster than one call at a time, and within 1.5x of that
bound.

``--minute`` shortens the rate-limit window for the server and the client alike (60 s is
WeCom's). At WeCom's real limits a 5,000-member pull is dominated by getapprovaldetail
(600 a minute: about 29 minutes for ~18,000 approvals), and a pull one call at a time at
50 ms is bound by the same limit, so no client can be 5x faster than one call at a time;
a shorter minute shows what concurrency buys when latency, not the limit, is the
constraint. The bound at the real limits is printed either way.

Run::

    .venv/bin/python benchmarks/bench_fetch.py                  # the issue's set-up, minute = 6 s
    .venv/bin/python benchmarks/bench_fetch.py --minute 60 --skip-serial   # WeCom's own limits
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from wecom_eval.fetch import FetchReport, fetch
from wecom_eval.home import Home
from wecom_eval.plan import load_plan
from wecom_eval.wecom import ENDPOINTS, ClientSettings, Credentials, min_duration

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("contacts", "approvals", "checkin", "customer")


@dataclass
class Run:
    label: str
    concurrency: int
    wall: float
    calls: Counter[str]  # by endpoint, as the server counted them
    report: FetchReport
    limited: int  # calls the server refused with 45009 (the client should cause none)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def start_server(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen[str], str, Path]:
    env_file = folder / "fake-wecom.env"
    cmd = [sys.executable, "-m", "wecom_eval.cli", "fake-server", "--employees", str(args.employees),
           "--seed", str(args.seed), "--baseline-weeks", "0", "--rollout-weeks", str(args.weeks),
           "--faults", f"latency_ms={args.latency_ms}", "--minute", str(args.minute), "--env-file", str(env_file)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "WECOM_EVAL_HOME": str(folder)})
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the fake server did not start")
    return proc, url, env_file


def by_path(url: str) -> Counter[str]:
    return Counter(httpx.get(f"{url}/_fake/stats", timeout=30).json()["by_path"])


def outcomes(url: str) -> Counter[str]:
    return Counter(httpx.get(f"{url}/_fake/stats", timeout=30).json()["outcomes"])


def pull(label: str, concurrency: int, *, url: str, env_file: Path, args: argparse.Namespace,
         since: dt.date, until: dt.date) -> Run:
    before, before_out = by_path(url), outcomes(url)
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        home = Home.from_env(tmp)
        settings = ClientSettings(concurrency=concurrency, limit_period=args.minute)
        last = [0.0]

        def progress(done: int, known: int, what: str) -> None:
            now = time.perf_counter()
            if now - last[0] > 15:
                last[0] = now
                print(f"  [{label}] {done}/{known} parts, {now - started:.0f} s", flush=True)

        started = time.perf_counter()
        report = fetch(since=since, until=until, home=home, sources=SOURCES, settings=settings,
                       credentials=Credentials.from_env(env_file=env_file, environ={}),
                       plan=load_plan(REPO / "params" / "rollout.yaml"), progress=progress)
        wall = time.perf_counter() - started
    calls = by_path(url) - before
    limited = (outcomes(url) - before_out).get("limit 45009", 0)
    return Run(label, concurrency, wall, calls, report, limited)


def rate_bound(calls: Counter[str], minute: float, latency: float) -> tuple[float, str]:
    """The least time the rate limits allow, and the endpoint that sets it."""
    worst, which = 0.0, "none"
    for path, n in calls.items():
        need = min_duration(n, ENDPOINTS[path].per_minute, minute)
        if need > worst:
            worst, which = need, path
    return worst + latency, which


def latency_floor(calls: Counter[str], concurrency: int, latency: float) -> float:
    """The least time at this concurrency if answers took exactly the latency (endpoints in parallel)."""
    return max((math.ceil(n / min(ENDPOINTS[p].concurrency, concurrency)) * latency for p, n in calls.items()),
               default=0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--minute", type=float, default=6.0, help="rate-limit window in seconds (WeCom: 60)")
    parser.add_argument("--concurrency", type=int, default=ClientSettings.concurrency)
    parser.add_argument("--skip-serial", action="store_true", help="skip the one-call-at-a-time pull")
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000.0
    plan = load_plan(REPO / "params" / "rollout.yaml")
    since = plan.start_date
    until = since + dt.timedelta(weeks=args.weeks) - dt.timedelta(days=1)
    print(f"bench_fetch: {args.employees:,} employees, {since}..{until} ({args.weeks} weeks), "
          f"{args.latency_ms:g} ms latency per call, rate-limit minute {args.minute:g} s, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-fake-") as folder:
        t0 = time.perf_counter()
        proc, url, env_file = start_server(args, Path(folder))
        print(f"fake server up in {time.perf_counter() - t0:.1f} s at {url}", flush=True)
        try:
            runs = [pull("concurrent", args.concurrency, url=url, env_file=env_file, args=args, since=since,
                         until=until)]
            if not args.skip_serial:
                runs.append(pull("one at a time", 1, url=url, env_file=env_file, args=args, since=since,
                                 until=until))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    own, server = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (f"CPU time: this process {own.ru_utime + own.ru_stime:.0f} s, fake server "
           f"{server.ru_utime + server.ru_stime:.0f} s (both runs, set-up included)")

    calls = runs[0].calls
    print("\ncalls per endpoint (concurrent pull):")
    for path, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        limit = ENDPOINTS[path].per_minute
        print(f"  {path:42s} {n:>7,}   limit {limit:>6,}/min   needs ≥ {min_duration(n, limit, args.minute):7.1f} s")
    bound, which = rate_bound(calls, args.minute, latency)
    real_bound, real_which = rate_bound(calls, 60.0, latency)
    floor = latency_floor(calls, args.concurrency, latency)
    print(f"\nrate-limit bound at a {args.minute:g} s minute: {bound:.1f} s (set by {which})")
    print(f"latency floor at concurrency {args.concurrency}: {floor:.1f} s")
    print(f"rate-limit bound at WeCom's real limits (60 s): {real_bound / 60:.1f} min (set by {real_which})\n")
    print(f"{'pull':15s} {'calls':>8s} {'wall s':>9s} {'calls/s':>8s} {'45009s':>7s} {'retries':>8s}")
    for r in runs:
        print(f"{r.label:15s} {r.total:>8,} {r.wall:>9.1f} {r.total / r.wall:>8.1f} {r.limited:>7} "
              f"{r.report.retries:>8}")
    print(f"\nconcurrent / rate-limit bound: {runs[0].wall / bound:.2f}x (target ≤ 1.5x)")
    if len(runs) > 1:
        print(f"one at a time / concurrent: {runs[1].wall / runs[0].wall:.1f}x (target ≥ 5x)")
    print(f"rows loaded: {dict(runs[0].report.rows)}")
    print(cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
