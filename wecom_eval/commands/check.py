"""``wecom-eval check``: validate the rollout plan, report parameters and loaded data without running anything.

Checks the plan; every report parameter file (``params/<report>.yaml``, or the files named
with ``--params``); and, when the warehouse exists, that the plan's pilot departments exist
in it and what each table holds. Each line names the file a setting came from (the home's
own ``params/`` or the repository's). Exit 0 when all is well, 2 with one line per problem.
``wecom-eval run`` makes the same checks before any report starts.
"""

from __future__ import annotations

import argparse

from wecom_eval.checks import check
from wecom_eval.commands import SUMMARIES
from wecom_eval.home import Home

DESCRIPTION = """\
Check the rollout plan, every report parameter file and the loaded data, without running
anything. Each line says which file a setting came from: the home's own params/ folder or
the repository's. When the warehouse exists, it also checks that the plan's pilot
departments are loaded and says how many rows each table holds.

Exit status: 0 when all is well; 2 with one line per problem. "wecom-eval run" makes the
same checks before any report starts.
"""

EXAMPLES = """\
examples:
  wecom-eval check                               the plan, every parameter file, the data
  wecom-eval check --params params/weekly.yaml   one parameter file
  wecom-eval --home /srv/wecom check             another home
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help=SUMMARIES["check"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--plan", help="the rollout plan (default: params/rollout.yaml under the home)")
    p.add_argument(
        "--params",
        nargs="+",
        metavar="FILE",
        help="report parameter files, named <report>.yaml (default: every params/<report>.yaml)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = check(Home.from_env(), plan_path=args.plan, params_files=args.params)
    for line in result.lines:
        print(line)
    result.raise_for_problems()
    return 0
