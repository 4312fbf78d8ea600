"""``wecom-eval fetch``: pull a date window from the WeCom API into raw landing and the warehouse.

Resumable: a rerun continues where an interrupted one stopped, never duplicates, and a
rerun of a finished window makes no call. Credentials come from the environment
(``WECOM_CORP_ID``, ``WECOM_SECRET_<APP>``, ``WECOM_API_BASE``) over ``<home>/.env``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from wecom_eval.commands import SUMMARIES, date_option
from wecom_eval.errors import InputError, Problem
from wecom_eval.fetch.options import DEFAULT_SOURCES, SOURCES, parse_sources
from wecom_eval.home import Home
from wecom_eval.wecom.credentials import APPS
from wecom_eval.wecom.settings import ClientSettings
from wecom_eval.wecom.windows import CST

DESCRIPTION = """\
Pull a date window from the WeCom API into the raw landing and the warehouse. A rerun
continues where an interrupted one stopped, never duplicates rows, and makes no call for
a window that is already complete.

Credentials come only from the environment (or <home>/.env): WECOM_CORP_ID, one
WECOM_SECRET_<APP> per application, and WECOM_API_BASE to point at another server (the
fake server, say).
"""

EXAMPLES = """\
examples:
  wecom-eval fetch --since 2026-03-02
  wecom-eval fetch --since 2026-03-02 --until 2026-03-31
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apps = ", ".join(f"{source} ({APPS[app].env})" for source, app in SOURCES.items())
    p = sub.add_parser(
        "fetch",
        help=SUMMARIES["fetch"],
        description=DESCRIPTION,
        epilog=f"sources and the secret each needs: {apps}.\n\n{EXAMPLES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--since", required=True, help="first day, YYYY-MM-DD (China Standard Time days)")
    p.add_argument("--until", help="last day, YYYY-MM-DD (default: yesterday)")
    p.add_argument(
        "--sources",
        default=",".join(DEFAULT_SOURCES),
        help=f"comma-separated, among {', '.join(SOURCES)} (default: %(default)s)",
    )
    p.add_argument("--env-file", type=Path, help="a .env file with the credentials (default: <home>/.env)")
    p.add_argument("--restart", action="store_true", help="forget earlier progress and fetch everything again")
    p.add_argument(
        "--concurrency",
        type=int,
        default=ClientSettings.concurrency,
        help="calls in flight at once (default: %(default)s; 1 = one at a time)",
    )
    p.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=2.0,
        help="commit finished parts at least this often (default: %(default)s)",
    )
    p.set_defaults(func=run)


class _Progress:
    """A progress bar on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="part", desc="fetch", file=sys.stderr)

    def __call__(self, done: int, known: int, label: str) -> None:
        if self.bar is not None:
            self.bar.total = known
            self.bar.n = done
            self.bar.set_postfix_str(label[:60])
            self.bar.refresh()
        else:
            print(f"fetch: {done}/{known} parts done — {label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise InputError("fetch", [Problem("--concurrency", args.concurrency, "1 or more")])
    since = date_option(args.since, "--since", source="fetch")
    yesterday = dt.datetime.now(CST).date() - dt.timedelta(days=1)
    until = date_option(args.until, "--until", source="fetch") if args.until else yesterday
    if not getattr(args, "verbose", False):
        for name in ("httpx", "httpcore"):  # one line per request is noise; warnings still show
            logging.getLogger(name).setLevel(logging.WARNING)
    from wecom_eval.fetch.run import fetch  # the client, the mapping and the store: only when pulling

    progress = _Progress()
    try:
        report = fetch(
            since=since,
            until=until,
            home=Home.from_env(),
            sources=parse_sources(args.sources),
            env_file=args.env_file,
            settings=ClientSettings(concurrency=args.concurrency),
            progress=progress,
            restart=args.restart,
            checkpoint_seconds=args.checkpoint_seconds,
        )
    finally:
        progress.close()
    print(report)
    return 0
