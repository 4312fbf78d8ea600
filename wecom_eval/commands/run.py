"""``wecom-eval run REPORT --as-of DATE [--params FILE]``, ``run --all`` and ``run --due``.

``run --due [--as-of DATE] [--force] [--notify]`` runs the reports the rollout plan makes
due on that day (today by default; see :mod:`wecom_eval.reporting.schedule`) that have not yet
succeeded for it, and is silent when nothing is due — safe to call from cron every day.
With ``--notify`` each run that succeeded and was not yet announced is posted to the WeCom
group robot (key from ``$WECOM_WEBHOOK_KEY``, checked before anything runs).

Runs report notebooks with papermill and writes ``reports/<report>/<as_of>/`` (HTML,
Excel, kpis.json, manifest, the executed notebook; a slide deck for the quarterly report)
and ``reports/index.html``. The checks of ``wecom-eval check`` (plan, parameter files, the
plan's departments against the loaded data) run first, then ``--as-of`` is checked: from the
plan's start to a week after the last day of activity loaded (``--allow-stale`` lifts the
latter). Exit codes: 0 success; 2 bad plan, parameters, ``--as-of`` or a plan that does not
fit the data (nothing was run);
4 a notebook failed (the path of its executed copy is printed); 5 the lock is held.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from wecom_eval.commands import SUMMARIES, date_option
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.reporting.jobs import DEFAULT_CELL_TIMEOUT, DEFAULT_JOBS
from wecom_eval.reporting.workers import EarlyWorker, early_worker

# What a run needs besides (the checks, the plan, the runner) is imported once its worker has
# started: `run REPORT` starts the worker first thing, and every import before it delays the report.

DESCRIPTION = """\
Run report notebooks with papermill and publish each run in reports/<report>/<as_of>/:
report.html, tables.xlsx, kpis.json, manifest.json, the executed notebook (and deck.pptx
for the quarterly report); reports/index.html links every run. --as-of is the day the
report is made: it uses data up to the day before.

The checks of "wecom-eval check" run first (plan, parameter files, the plan's departments
against the loaded data), then --as-of must lie between the plan's start and a week after
the last day of activity loaded (--allow-stale lifts the latter).

--due runs the reports the plan makes due on --as-of (default today) that have not yet
succeeded for it, and prints nothing when none is due: safe to call from cron every day.
With --notify each new successful run is posted to the WeCom group robot (key from
$WECOM_WEBHOOK_KEY, checked before anything runs).

Exit status: 0 success; 2 bad plan, parameters or --as-of (nothing was run); 4 a notebook
failed (its executed copy is kept and named); 5 another run holds the lock.
"""


def _examples() -> str:
    from wecom_eval.reporting.registry import BUILT_IN

    return (
        f"reports: {', '.join(spec.name for spec in BUILT_IN)},\n"
        "and any entry of params/reports.yaml under the home (see docs/reports.md, which lists\n"
        "each report's parameters); parameter files: params/<report>.yaml.\n\n"
        "examples:\n"
        "  wecom-eval run weekly --as-of 2026-05-25\n"
        "  wecom-eval run weekly --as-of 2026-05-25 --language en --params my-weekly.yaml\n"
        "  wecom-eval run --all --as-of 2026-05-25\n"
        "  wecom-eval run --due --notify          (from cron, every day)\n"
    )


def _help_with_examples(parser: argparse.ArgumentParser, format_help: Callable[[], str]) -> str:
    parser.epilog = _examples()
    return format_help()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help=SUMMARIES["run"],
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The examples list the reports, which imports the registry (and pydantic): only when help
    # is shown, not on the way to a report's start.
    p.format_help = functools.partial(_help_with_examples, p, p.format_help)  # type: ignore[method-assign]
    p.add_argument("report", nargs="?", metavar="REPORT", help="the report to run (listed below)")
    p.add_argument("--all", action="store_true", help="run every report (phase reviews at their phase's end)")
    p.add_argument(
        "--due",
        action="store_true",
        help="run the reports due on --as-of (default today) "
        "that have not yet succeeded for it; silent when nothing is due",
    )
    p.add_argument("--force", action="store_true", help="with --due: rerun due reports that already succeeded")
    p.add_argument(
        "--notify",
        action="store_true",
        help="with --due: post each new successful run's summary to the WeCom group robot ($WECOM_WEBHOOK_KEY)",
    )
    p.add_argument(
        "--as-of",
        dest="as_of",
        metavar="DATE",
        help="the day the report is made, YYYY-MM-DD (data up to the day before); "
        "required for one report, today by default with --all",
    )
    p.add_argument(
        "--allow-stale",
        dest="allow_stale",
        action="store_true",
        help="allow an --as-of more than a week after the last day of activity loaded",
    )
    p.add_argument("--params", metavar="FILE", help="a YAML parameter file (default: params/<report>.yaml)")
    p.add_argument("--language", metavar="LANG", help="report language, zh or en (overrides the parameter file)")
    p.add_argument(
        "--cell-timeout",
        dest="cell_timeout",
        type=float,
        default=DEFAULT_CELL_TIMEOUT,
        metavar="S",
        help=f"seconds one notebook cell may take (default {DEFAULT_CELL_TIMEOUT:g})",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"reports run at once with --all (default {DEFAULT_JOBS})",
    )
    p.set_defaults(func=run)


def _date(value: str | None, *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            raise InputError(
                "options",
                [
                    Problem(
                        "--as-of",
                        None,
                        "a date YYYY-MM-DD",
                        "Say which day the report is made, e.g. --as-of 2026-05-25.",
                    )
                ],
            )
        return None
    return date_option(value, "--as-of", source="options")


def run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    overrides = {"language": args.language} if args.language else {}
    if (args.force or args.notify) and not args.due:
        raise InputError("options", [Problem("--force/--notify", True, "only together with --due")])
    one = bool(args.report) and not (args.due or args.all)
    # One report's worker starts now and imports while the checks run; it runs nothing unless they pass.
    early = early_worker(home) if one else None
    with early or nullcontext():
        if one:
            from wecom_eval.reporting import registry

            registry.spec(args.report, home)  # an unknown report name is said as such, before the checks
        return _run(args, home, overrides, early)


def _run(args: argparse.Namespace, home: Home, overrides: dict[str, str], early: EarlyWorker | None) -> int:
    from wecom_eval.asof import check_as_of
    from wecom_eval.checks import check
    from wecom_eval.reporting import registry
    from wecom_eval.reporting.runner import results_exit_code, run_all, run_report

    # The checks of `wecom-eval check` come first: a problem is exit 2 before any kernel starts.
    checked = check(
        home,
        params_files=[args.params] if args.params else None,
        reports=[args.report] if args.report and not (args.due or args.all) else None,
    )
    checked.raise_for_problems()
    as_of = _date(args.as_of, required=False)
    if as_of is not None:  # a day the data can speak for: from the plan's start to a week after the last data
        check_as_of(home, as_of, allow_stale=args.allow_stale, plan=checked.plan, facts=checked.facts)
    if args.due:
        if args.all or args.report or args.params:
            raise InputError(
                "options",
                [Problem("--due", args.report or args.params or "--all", "no REPORT, --params or --all with --due")],
            )
        return _run_due(home, _date(args.as_of, required=False) or dt.date.today(), args, overrides)
    if args.all:
        if args.report or args.params:
            raise InputError(
                "options",
                [
                    Problem(
                        "--all",
                        args.report or args.params,
                        "no REPORT and no --params with --all",
                        "--all reads params/<report>.yaml for each report.",
                    )
                ],
            )
        results = run_all(
            home,
            as_of=_date(args.as_of, required=False),
            jobs=args.jobs,
            cell_timeout=args.cell_timeout,
            overrides=overrides,
        )
        failed = [r for r in results if not r.ok]
        print(f"{len(results) - len(failed)} of {len(results)} reports succeeded; index: {home.reports / 'index.html'}")
        for r in failed:
            print(f"FAILED {r.report} {r.as_of}: {r.error}\n  executed notebook: {r.notebook}", file=sys.stderr)
        return results_exit_code(results)
    if not args.report:
        raise InputError("options", [Problem("REPORT", None, f"one of {', '.join(registry.names(home))}, or --all")])
    result = run_report(
        args.report,
        as_of=_date(args.as_of, required=True),
        params_path=args.params,
        overrides=overrides,
        home=home,
        cell_timeout=args.cell_timeout,
        early=early,
    )
    print(result.summary())
    print(f"index: {home.reports / 'index.html'}")
    return 0


NOTIFIED_MARK = ".notified"  # in a run folder once its summary reached the group robot


def _succeeded(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("status") == "succeeded")
    except (OSError, ValueError):
        return False


def _run_due(home: Home, day: dt.date, args: argparse.Namespace, overrides: dict[str, str]) -> int:
    from wecom_eval.commands.notify import notify_runs
    from wecom_eval.plan import load_plan
    from wecom_eval.reporting.runner import results_exit_code, review_as_of, run_all
    from wecom_eval.reporting.schedule import due_reports
    from wecom_eval.wecom.robot import webhook_key_from_env
    from wecom_eval.workcal import WorkCalendar

    key = webhook_key_from_env() if args.notify else None
    if args.notify and key is None:  # checked before anything runs
        raise InputError(
            "options",
            [
                Problem(
                    "WECOM_WEBHOOK_KEY",
                    "unset",
                    "the group robot's key in the environment",
                    "Set WECOM_WEBHOOK_KEY (the key or the whole webhook URL), or drop --notify.",
                )
            ],
        )
    plan = load_plan(home.plan)
    due = due_reports(plan, WorkCalendar(plan), day)
    folders = {d.report: home.reports / d.report / review_as_of(d.report, day, home).isoformat() for d in due}
    todo = [d.report for d in due if args.force or not _succeeded(folders[d.report])]
    code = 0
    if todo:
        print(f"{day}: due — " + "; ".join(f"{d.report} ({d.reason})" for d in due if d.report in todo))
        results = run_all(
            home, as_of=day, reports=todo, jobs=args.jobs, cell_timeout=args.cell_timeout, overrides=overrides
        )
        for r in results:
            print(r.summary(), file=sys.stdout if r.ok else sys.stderr)
            if r.ok:
                (r.folder / NOTIFIED_MARK).unlink(missing_ok=True)  # a new run is announced afresh
        code = results_exit_code(results)
    if args.notify:
        unannounced = [f for f in folders.values() if _succeeded(f) and not (f / NOTIFIED_MARK).exists()]
        if unannounced:
            for sent in notify_runs(unannounced, key=key):
                print(sent.summary())
            for folder in unannounced:
                (folder / NOTIFIED_MARK).write_text(
                    dt.datetime.now().isoformat(timespec="seconds") + "\n", encoding="utf-8"
                )
    return code
