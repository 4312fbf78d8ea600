"""Benchmark: pull approvals, attendance and customer statistics from the fake WeCom server.

The pull is :func:`wecom_eval.fetch.fetch` (contacts first, for the member list; then
approvals, check-ins and customer statistics) of a demo organisation (default 2,000
members, 4 weeks) served by ``wecom-eval fake-server`` in its own process, with
``--latency-ms`` added to every answer. Contenders, each a whole process of its own, one
warm-up round then ``--rounds`` counted rounds, alternated:

``client``
    the workbook's pull at its concurrency (rate limiter, retries, raw landing, the load into
    a fresh warehouse included); it records every request it sends;
``plain httpx``
    the independent baseline: the same requests, replayed one after the other by a loop of
    plain ``httpx`` calls (a fresh token first; on WeCom's rate-limit answer 45009 it waits
    and sends again). It only fetches: no landing, no load.

It also prints the bound the rate limits set: with each endpoint's documented per-minute
limit and a sliding window, ``n`` calls need at least ``floor((n - 1) / limit)`` windows;
endpoints run side by side, so the pull needs at least the largest of those (plus one
answer's latency). Goals: at least 5x faster than one call at a time, and within 1.5x of
that bound. ``--minute`` shortens the rate-limit window for the server and the client
alike (60 s is WeCom's); at the real limits approvals dominate and no client can be 5x
faster than a sequential loop, so a short minute shows what concurrency buys when latency,
not the limit, is the constraint.

Run::

    .venv/bin/python benchmarks/bench_fetch.py                  # minute = 6 s
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Line, Sample, alternate, cell, emit, ratio, run, say_work, walls  # noqa: E402

from wecom_eval.wecom.endpoints import ENDPOINTS
from wecom_eval.wecom.ratelimit import min_duration

CONCURRENCY = 32  # the client's default (wecom_eval.wecom.ClientSettings)

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("contacts", "approvals", "checkin", "customer")


def start_server(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen[str], str, Path]:
    env_file = folder / "fake-wecom.env"
    cmd = [
        sys.executable,
        "-m",
        "wecom_eval.cli",
        "fake-server",
        "--employees",
        str(args.employees),
        "--seed",
        str(args.seed),
        "--baseline-weeks",
        "0",
        "--rollout-weeks",
        str(args.weeks),
        "--faults",
        f"latency_ms={args.latency_ms}",
        "--minute",
        str(args.minute),
        "--env-file",
        str(env_file),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "WECOM_EVAL_HOME": str(folder)},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the fake server did not start")
    return proc, url, env_file


def by_path(url: str) -> Counter[str]:
    return Counter(httpx.get(f"{url}/_fake/stats", timeout=30).json()["by_path"])


def rate_bound(calls: Counter[str], minute: float, latency: float) -> tuple[float, str]:
    """The least time the rate limits allow, and the endpoint that sets it."""
    worst, which = 0.0, "none"
    for path, n in calls.items():
        need = min_duration(n, ENDPOINTS[path].per_minute, minute)
        if need > worst:
            worst, which = need, path
    return worst + latency, which


def child_client(args: argparse.Namespace) -> None:
    """The workbook's pull, recording each request (method, path, query without the token, body, app)."""
    import json

    from wecom_eval.fetch import fetch
    from wecom_eval.home import Home
    from wecom_eval.plan import load_plan
    from wecom_eval.wecom import ClientSettings, Credentials

    sent: list[list[object]] = []
    original = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: object) -> httpx.Response:
        query = {k: v for k, v in request.url.params.items() if k != "access_token"}
        body = json.loads(request.content) if request.content else None
        ep = ENDPOINTS.get(request.url.path.removeprefix("/cgi-bin/"))
        sent.append([request.method, request.url.path, query, body, ep.app if ep else None])
        return await original(self, request, **kwargs)  # type: ignore[arg-type]

    httpx.AsyncClient.send = send  # type: ignore[method-assign]
    plan = load_plan(REPO / "params" / "rollout.yaml")
    since = plan.start_date
    until = since + dt.timedelta(weeks=args.weeks) - dt.timedelta(days=1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        report = fetch(
            since=since,
            until=until,
            home=Home.from_env(tmp),
            sources=SOURCES,
            settings=ClientSettings(concurrency=args.concurrency, limit_period=args.minute),
            credentials=Credentials.from_env(env_file=Path(args.env_file), environ={}),
            plan=plan,
        )
    seconds = time.perf_counter() - t0
    Path(args.log).write_text(json.dumps(sent))
    say_work(seconds, calls=len(sent), retries=report.retries)


def child_plain(args: argparse.Namespace) -> None:
    """The same requests one after the other with plain httpx (tokens fetched afresh)."""
    import json

    sent = json.loads(Path(args.log).read_text())
    env = dict(line.split("=", 1) for line in Path(args.env_file).read_text().splitlines() if "=" in line)
    t0 = time.perf_counter()
    tokens: dict[str, str] = {}
    waits = 0
    with httpx.Client(base_url=args.url, timeout=30) as http:
        for method, path, query, body, app in sent:
            if path.endswith("/gettoken"):
                answer = http.get(path, params=query).json()
                tokens[query["corpsecret"]] = answer["access_token"]
                continue
            params = {**query, "access_token": tokens[env[f"WECOM_SECRET_{app}"].strip().strip('"')]}
            while True:
                response = http.request(method, path, params=params, json=body)
                if response.json().get("errcode") != 45009:
                    break
                waits += 1
                time.sleep(args.minute / 10)  # a plain loop: wait a little, send again
    say_work(time.perf_counter() - t0, calls=len(sent), waits=waits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--minute", type=float, default=6.0, help="rate-limit window in seconds (WeCom: 60)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    parser.add_argument("--json", help="write the table here (for run_all.py)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--env-file", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "client":
        child_client(args)
        return 0
    if args.child == "plain":
        child_plain(args)
        return 0
    rounds = min(args.rounds, 2) if args.quick else args.rounds
    latency = args.latency_ms / 1000.0
    print(
        f"bench_fetch: {args.employees:,} employees, {args.weeks} weeks, {args.latency_ms:g} ms latency per "
        f"call, rate-limit minute {args.minute:g} s, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-fake-") as folder:
        proc, url, env_file = start_server(args, Path(folder))
        log = Path(folder) / "requests.json"
        common = [
            "--weeks",
            str(args.weeks),
            "--minute",
            str(args.minute),
            "--log",
            str(log),
            "--env-file",
            str(env_file),
            "--url",
            url,
        ]
        calls: Counter[str] = Counter()

        def contender(which: str):  # noqa: ANN202
            def go() -> Sample:
                time.sleep(args.minute)  # the server's rate-limit windows empty between runs
                before = by_path(url)
                sample = run(
                    [sys.executable, __file__, "--child", which, "--concurrency", str(args.concurrency), *common]
                )
                if which == "client":
                    calls.clear()
                    calls.update(by_path(url) - before)
                return sample

            return go

        try:
            contender("client")()  # the first recording of the requests, before the plain loop needs it
            samples = alternate({"client": contender("client"), "plain httpx": contender("plain")}, rounds=rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    bound, which = rate_bound(calls, args.minute, latency)
    real_bound, real_which = rate_bound(calls, 60.0, latency)
    client = walls(samples["client"]).median
    lines = [
        Line(
            f"API pull, {sum(calls.values()):,} calls, {args.latency_ms:g} ms each, {args.minute:g} s minute",
            cell(samples["client"]),
            f"sequential plain httpx {cell(samples['plain httpx'])}",
            ratio(samples["plain httpx"], samples["client"]),
            "≥ 5×",
        ),
    ]
    if bound > 1.0:  # below that the limits do not bind at this size
        lines.append(
            Line(
                "same pull beside the rate-limit bound",
                f"{client:.1f} s whole",
                f"bound {bound:.1f} s (set by {which})",
                f"{client / bound:.2f}× the bound",
                "≤ 1.5×",
            )
        )
    emit(
        "bench_fetch",
        lines,
        args.json,
        notes=[
            f"calls per endpoint: {dict(calls.most_common())}",
            f"at WeCom's real limits (60 s) the bound is {real_bound / 60:.1f} min (set by {real_which})",
            f"retries by the client: {samples['client'][-1].info.get('retries')}; 45009 waits of the plain loop: "
            f"{samples['plain httpx'][-1].info.get('waits')}",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
