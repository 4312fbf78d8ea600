"""``wecom-eval notify --run reports/<report>/<as_of>``: post a run's summary to a WeCom group robot.

One markdown message (at most 4096 bytes; a longer summary lists fewer alerts and says how
many it left out) with the five targets, their verdicts, the top alerts and where the full
report lives (``$WECOM_EVAL_REPORTS_URL`` + the report's path when set, else its path);
with ``--image`` also the scorecard as a PNG; with ``--files`` also the run's ``tables.xlsx``
(and the quarterly ``deck.pptx``) as file messages after the summary (uploaded to the robot
first; at most 20 MB each). At most 20 messages a minute per robot: more wait their turn.

The robot's key comes only from the environment: ``WECOM_WEBHOOK_KEY`` (the key, or the
whole webhook URL). ``WECOM_API_BASE`` points elsewhere than WeCom (the fake server).
Exit codes: 0 posted (or, with --dry-run, composed); 2 no key, or a run folder that is
missing, failed or broken (nothing sent); 3 WeCom refused a message (93000: wrong key or
robot removed) or could not be reached after retries.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.reporting.summary import ENV_KEY, ENV_REPORTS_URL, notify_runs, webhook_key_from_env


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "notify",
        help="post a run's summary to a WeCom group robot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--run",
        dest="runs",
        action="append",
        required=True,
        metavar="DIR",
        help="a run folder reports/<report>/<as_of> (relative to here or to the home); repeat for several runs",
    )
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print exactly what would be sent; send nothing (no key needed)",
    )
    p.add_argument("--image", action="store_true", help="also post the scorecard as an image")
    p.add_argument(
        "--files",
        action="store_true",
        help="also send the run's tables.xlsx (and the quarterly deck.pptx) as file messages",
    )
    p.add_argument("--language", choices=("zh", "en"), help="summary language (default: the report's)")
    p.set_defaults(func=run)


def resolve_run_dir(value: str, home: Home) -> str:
    """``value`` as given when it is a folder, else under the home, else under its ``reports/``."""
    for candidate in (Path(value), home.root / value, home.reports / value):
        if candidate.is_dir():
            return str(candidate)
    raise InputError(
        "options",
        [
            Problem(
                "--run",
                value,
                "a run folder reports/<report>/<as_of>",
                f"No such folder here, in {home.root} or in {home.reports}. List them with: ls reports/*/",
            )
        ],
    )


def run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    run_dirs = [resolve_run_dir(value, home) for value in args.runs]
    key = webhook_key_from_env()
    if key is None and not args.dry_run:
        raise InputError(
            "WeCom group robot",
            [
                Problem(
                    f"environment variable {ENV_KEY}",
                    None,
                    "the group robot's webhook key",
                    "In the group: 群设置 → 消息推送 (群机器人) → the robot → copy its webhook URL; put the URL or its "
                    f"key= value in {ENV_KEY} (an environment file of mode 0600, never a command-line argument). "
                    "Or use --dry-run to see the message without sending it.",
                )
            ],
        )
    results = notify_runs(
        run_dirs, key=key, image=args.image, dry_run=args.dry_run, language=args.language, files=args.files
    )
    for result in results:
        for warning in result.warnings:
            print(f"warning: {result.report} {result.as_of}: {warning}", file=sys.stderr)
        if args.dry_run:
            print(result.preview())
        else:
            print(result.summary())
    if args.dry_run:
        where = "" if key is not None else f" ({ENV_KEY} is not set)"
        print(f"dry run: nothing was sent{where}. Links use ${ENV_REPORTS_URL} when it is set.", file=sys.stderr)
    return 0
