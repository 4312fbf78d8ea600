"""``wecom-eval demo``: build the demo organisation, load it, run every report, print the index.

Generates the organisation, writes its ground truth to ``data/demo/``, loads every table
in one transaction, then runs all six reports as of the day after the demo's data ends
(two at a time) and prints where ``reports/index.html`` is. ``--no-reports`` stops after
the load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from wecom_eval.commands import SUMMARIES
from wecom_eval.demo.config import DemoConfig
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import load_plan

if TYPE_CHECKING:
    from wecom_eval.demo.build import DemoSummary

_DEFAULTS = DemoConfig()


DESCRIPTION = """\
Build a synthetic demo organisation, load it into the warehouse, run every report and
print where the index page is. The organisation's ground truth is written to data/demo/,
every table is loaded in one transaction, and the reports are made as of the day after
the demo's data ends, two at a time.
"""

EXAMPLES = """\
examples:
  wecom-eval --home /tmp/wecom-demo demo         the whole demo in a folder of its own
  wecom-eval demo --no-reports                   build and load only
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help=SUMMARIES["demo"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--employees",
        type=int,
        default=_DEFAULTS.employees,
        help=f"employees on the roster (default {_DEFAULTS.employees:,})",
    )
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed, help=f"random seed (default {_DEFAULTS.seed})")
    # the same size options as `wecom-eval fake-server` (the --weeks-… spellings are kept)
    p.add_argument(
        "--baseline-weeks",
        "--weeks-baseline",
        dest="weeks_baseline",
        type=int,
        default=_DEFAULTS.baseline_weeks,
        help=f"weeks of data before the rollout starts (default {_DEFAULTS.baseline_weeks})",
    )
    p.add_argument(
        "--rollout-weeks",
        "--weeks-rollout",
        dest="weeks_rollout",
        type=int,
        default=_DEFAULTS.rollout_weeks,
        help=f"weeks of data from the rollout's start (default {_DEFAULTS.rollout_weeks})",
    )
    p.add_argument("--plan", help="the rollout plan (default: params/rollout.yaml under the home)")
    p.add_argument("--no-reports", action="store_true", help="build and load only; run no report")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> DemoConfig:
    """The :class:`DemoConfig` the options ask for; bad values raise :class:`InputError`."""
    options = {
        "employees": "--employees",
        "seed": "--seed",
        "baseline_weeks": "--baseline-weeks",
        "rollout_weeks": "--rollout-weeks",
    }
    values = {
        "employees": args.employees,
        "seed": args.seed,
        "baseline_weeks": args.weeks_baseline,
        "rollout_weeks": args.weeks_rollout,
    }
    try:
        return DemoConfig(**values)
    except ValidationError as exc:
        problems = [
            Problem(
                options.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else "options",
                e.get("input"),
                e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        raise InputError("wecom-eval demo", problems) from None


class _Reporter:
    """Progress as plain lines on stderr, or a tqdm bar for member_days on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def line(self, message: str) -> None:
        if "staged" in message:
            if self.tty:
                return  # the bar shows it
            now = time.monotonic()
            if now - self._last < 2.0:
                return
            self._last = now
        print(message, file=sys.stderr, flush=True)

    def wrap(self, chunks: Iterator[Any], total: int) -> Iterator[Any]:
        if not self.tty:
            return chunks
        from tqdm import tqdm

        return iter(tqdm(chunks, total=total, desc="member_days", unit="week", file=sys.stderr))


def build(home: Home, config: DemoConfig, plan_path: str | None = None) -> DemoSummary:
    """The build step of ``wecom-eval demo`` (reused when the command also runs the reports)."""
    from wecom_eval.demo.build import build_demo  # the generator, pandas and Arrow: only when building

    plan = load_plan(plan_path or home.plan)
    reporter = _Reporter()
    return build_demo(home, config, plan, progress=reporter.line, wrap_chunks=reporter.wrap)


# The built-in reports, the longest on the demo first (the weekly report's cells take about twice
# the deepening review's): two run at a time, and a long one started last would leave a core idle.
LONGEST_FIRST = ("weekly", "promotion-review", "monthly", "launch-review", "quarterly", "deepening-review")


def longest_first(home: Home) -> list[str]:
    """Every report of the registry, the longest first; reports the list does not know come last."""
    from wecom_eval.reporting import registry

    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    return sorted(registry.names(home), key=lambda name: rank.get(name, len(rank)))


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    home = Home.from_env()
    print(
        f"building the demo organisation ({config.employees:,} employees, {config.baseline_weeks} weeks "
        f"baseline + {config.rollout_weeks} weeks rollout, seed {config.seed}) into {home.root}",
        file=sys.stderr,
        flush=True,
    )
    if args.no_reports:
        print(build(home, config, args.plan))
        return 0
    from wecom_eval.reporting.runner import DEFAULT_JOBS, results_exit_code, run_all
    from wecom_eval.reporting.workers import WARM_WORKERS, WarmWorkers, run_environment

    with ExitStack() as stack:
        warm = None
        if WARM_WORKERS:  # the report workers import what they need while the organisation is built
            salt_env = load_plan(home.plan).privacy.salt_env  # the reports' plan
            warm = stack.enter_context(WarmWorkers(run_environment(home, salt_env), DEFAULT_JOBS).start())
        print(build(home, config, args.plan))
        plan = load_plan(args.plan or home.plan)
        as_of = plan.start_date + dt.timedelta(weeks=config.rollout_weeks)  # the day after the data ends
        print(f"running every report as of {as_of} …", file=sys.stderr, flush=True)
        results = run_all(
            home,
            as_of=as_of,
            reports=longest_first(home),
            progress=lambda m: print(m, file=sys.stderr, flush=True),
            warm=warm,
        )
    print(f"report index: {home.reports / 'index.html'}")
    return results_exit_code(results)
