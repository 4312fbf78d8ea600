"""``wecom-eval fake-server``: serve a demo organisation over the WeCom API on loopback.

Prints the base URL it listens on (first line of standard output), writes the credentials
a client needs to an env file, and serves until interrupted (Ctrl-C, SIGTERM). Faults are
injected with ``--faults``, e.g. ``busy=0.1,freq=0.05,http502=0.05,drop=0.05,latency_ms=50``
(see :mod:`wecom_eval.fakeserver.faults`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from wecom_eval.commands import SUMMARIES
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import load_plan

DESCRIPTION = """\
Serve a demo organisation over the WeCom API on this machine only, for tests and the
offline demo. The first line of output is the base URL; the credentials a client needs
are written to an env file. Runs until interrupted (Ctrl-C or SIGTERM).

Faults are injected with --faults, a comma-separated list of name=value:
  busy=SHARE        calls answering errcode -1 (system busy)
  freq=SHARE        calls answering errcode 45009 (frequency limit)
  http502=SHARE     calls answering HTTP 502
  drop=SHARE        connections closed without an answer
  slow=SHARE        calls answered slow_ms milliseconds late (slow_ms, default 500)
  latency_ms=MS     milliseconds added to every answer
  expire_at_page=N  every token expires at the N-th request for a later page
  max_run=N         at most N faults in a row for the same request (default 2)
  seed=N            the seed of the draws (the same client meets the same faults)
"""

EXAMPLES = """\
examples:
  wecom-eval fake-server --port 8765
  wecom-eval fake-server --employees 300 --faults busy=0.1,latency_ms=50
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fake-server",
        help=SUMMARIES["fake-server"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=0, help="port (default: 0, any free port)")
    p.add_argument("--employees", type=int, default=1200, help="size of the demo organisation (default: %(default)s)")
    p.add_argument("--seed", type=int, default=20260302, help="the demo generator's seed (default: %(default)s)")
    p.add_argument("--baseline-weeks", type=int, default=8, help="weeks before the rollout (default: %(default)s)")
    p.add_argument("--rollout-weeks", type=int, default=12, help="weeks of rollout (default: %(default)s)")
    p.add_argument("--faults", default="", help="fault spec, e.g. busy=0.1,drop=0.05,latency_ms=50")
    p.add_argument(
        "--minute",
        type=float,
        default=60.0,
        help="length in seconds of a rate-limit window (default: %(default)s, as WeCom)",
    )
    p.add_argument(
        "--env-file", type=Path, help="where to write the credentials for clients (default: <home>/data/fake-wecom.env)"
    )
    p.set_defaults(func=run)


def write_env(path: Path, values: dict[str, str]) -> None:
    """Write ``KEY=VALUE`` lines readable only by the owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# credentials of a local fake WeCom server (wecom-eval fake-server)\n")
        fh.writelines(f"{k}={v}\n" for k, v in values.items())
    os.chmod(path, 0o600)


def run(args: argparse.Namespace) -> int:
    from wecom_eval.demo import DemoConfig, generate

    home = Home.from_env()
    from wecom_eval.fakeserver import FakeWecom, Faults  # the server and the demo org: only when serving

    faults = Faults.parse(args.faults)
    plan = load_plan(home.plan)
    try:
        config = DemoConfig(
            employees=args.employees,
            seed=args.seed,
            baseline_weeks=args.baseline_weeks,
            rollout_weeks=args.rollout_weeks,
        )
        demo = generate(config, plan)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        raise InputError(
            "fake-server",
            [
                Problem(
                    "--employees / --baseline-weeks / --rollout-weeks",
                    args.employees,
                    "a demo organisation the generator can build",
                    str(exc).splitlines()[-1],
                )
            ],
        ) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    env_file = args.env_file or home.data / "fake-wecom.env"
    with FakeWecom(demo, faults=faults, host=args.host, port=args.port, limit_period=args.minute) as server:
        write_env(env_file, server.environ())
        print(server.base_url, flush=True)
        first, last = demo.window.start, demo.window.end
        print(
            f"fake WeCom: {server.org.summary()['members']:,} members, data {first}..{last}, "
            f"faults: {args.faults or 'none'}\n"
            f"credentials for clients: {env_file}\n"
            f"try: wecom-eval fetch --env-file {env_file} --since {plan.start_date} --until {last}\n"
            "serving until Ctrl-C or SIGTERM",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        stats = server.stats()
    print(
        f"fake WeCom: stopped after {stats['requests']:,} requests ({stats['faults']:,} faults injected)",
        file=sys.stderr,
    )
    return 0
