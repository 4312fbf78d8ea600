"""``wecom-eval run REPORT --as-of DATE [--params FILE]`` and ``wecom-eval run --all``.

Runs report notebooks with papermill and writes ``reports/<report>/<as_of>/`` (HTML,
Excel, kpis.json, manifest, the executed notebook; a slide deck for the quarterly report)
and ``reports/index.html``. Exit codes: 0 success; 2 bad parameters (nothing was run);
4 a notebook failed (the path of its executed copy is printed); 5 the lock is held.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.reports.params import REPORTS
from wecom_eval.reports.runner import (
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_JOBS,
    results_exit_code,
    run_all,
    run_report,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run a report notebook (or all of them) and publish its outputs",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Reports: {', '.join(REPORTS)}. Parameters: docs/reports.md; files: params/<report>.yaml.",
    )
    p.add_argument("report", nargs="?", metavar="REPORT", help=f"one of: {', '.join(REPORTS)}")
    p.add_argument("--all", action="store_true", help="run every report (phase reviews at their phase's end)")
    p.add_argument("--as-of", dest="as_of", metavar="DATE",
                   help="the day the report is made, YYYY-MM-DD (data up to the day before); "
                        "required for one report, today by default with --all")
    p.add_argument("--params", metavar="FILE", help="a YAML parameter file (default: params/<report>.yaml)")
    p.add_argument("--language", metavar="LANG", help="report language, zh or en (overrides the parameter file)")
    p.add_argument("--cell-timeout", dest="cell_timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="S",
                   help=f"seconds one notebook cell may take (default {DEFAULT_CELL_TIMEOUT:g})")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                   help=f"reports run at once with --all (default {DEFAULT_JOBS})")
    p.set_defaults(func=run)


def _date(value: str | None, *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            raise InputError("options", [Problem("--as-of", None, "a date YYYY-MM-DD",
                                                        "Say which day the report is made, e.g. --as-of 2026-05-25.")])
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("options", [Problem("--as-of", value, "a date YYYY-MM-DD",
                                                    "Write the date as YYYY-MM-DD.")]) from None


def run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    overrides = {"language": args.language} if args.language else {}
    if args.all:
        if args.report or args.params:
            raise InputError("options", [Problem("--all", args.report or args.params,
                                                        "no REPORT and no --params with --all",
                                                        "--all reads params/<report>.yaml for each report.")])
        results = run_all(home, as_of=_date(args.as_of, required=False), jobs=args.jobs,
                          cell_timeout=args.cell_timeout, overrides=overrides)
        failed = [r for r in results if not r.ok]
        print(f"{len(results) - len(failed)} of {len(results)} reports succeeded; index: {home.reports / 'index.html'}")
        for r in failed:
            print(f"FAILED {r.report} {r.as_of}: {r.error}\n  executed notebook: {r.notebook}", file=sys.stderr)
        return results_exit_code(results)
    if not args.report:
        raise InputError("options", [Problem("REPORT", None, f"one of {', '.join(REPORTS)}, or --all")])
    result = run_report(args.report, as_of=_date(args.as_of, required=True), params_path=args.params,
                        overrides=overrides, home=home, cell_timeout=args.cell_timeout)
    print(result.summary())
    print(f"index: {home.reports / 'index.html'}")
    return 0
