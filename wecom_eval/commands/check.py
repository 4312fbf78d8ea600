"""``wecom-eval check``: validate the rollout plan, report parameters and loaded data without running anything.

Checks the plan; every report parameter file (``params/<report>.yaml``, or the files named
with ``--params``); and, when the warehouse exists, that the plan's pilot departments exist
in it and what each table holds. Exit 0 when all is well, 2 with one line per problem.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import load_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="validate the rollout plan, report parameters and loaded data",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", help="the rollout plan (default: params/rollout.yaml under the home)")
    p.add_argument("--params", nargs="+", metavar="FILE",
                   help="report parameter files, named <report>.yaml (default: every params/<report>.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wecom_eval.reporting.params import REPORTS, load_params, read_params_file

    home = Home.from_env()
    path = args.plan or home.plan
    plan = load_plan(path)
    print(f"{path}: plan OK — starts {plan.start_date}, {len(plan.phases)} phases, "
          f"ends {plan.end_date}, pilots {', '.join(map(str, plan.departments.pilot))}")

    files = [Path(f) for f in args.params] if args.params else [home.params / f"{r}.yaml" for r in REPORTS
                                                                 if (home.params / f"{r}.yaml").exists()]
    problems: list[Problem] = []
    for file in files:
        if file.stem not in REPORTS:
            problems.append(Problem(str(file), file.name, f"a file named <report>.yaml, report one of "
                                    f"{', '.join(REPORTS)}"))
            continue
        given = read_params_file(file)
        as_of = None if "as_of" in given else dt.date.today()  # scheduled files leave as_of to the run
        try:
            load_params(file.stem, path=file, overrides={"as_of": as_of})
        except InputError as exc:
            problems += [Problem(f"{file}: {p.where}", p.value, p.expected, p.fix) for p in exc.problems]
            continue
        print(f"{file}: parameters OK")

    if home.warehouse.exists():
        from wecom_eval.warehouse import open_reader

        with open_reader(home) as wh:
            counts = wh.counts()
            departments = wh.query("SELECT department_id, path FROM departments")
        if counts["departments"]:
            try:
                plan.resolve_pilots(departments.itertuples(index=False, name=None))
            except InputError as exc:
                problems += exc.problems
        loaded = ", ".join(f"{name} {n:,}" for name, n in counts.items() if n)
        print(f"{home.warehouse}: {loaded or 'empty'}")
    if problems:
        raise InputError("plan, parameters and data", problems)
    return 0
