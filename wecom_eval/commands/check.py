"""``wecom-eval check``: validate the rollout plan (and, later, parameters and data) without running anything."""

from __future__ import annotations

import argparse

from wecom_eval.home import Home
from wecom_eval.plan import load_plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="validate the rollout plan without running anything",
                       description=__doc__)
    p.add_argument("--plan", help="the rollout plan (default: params/rollout.yaml under the home)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = args.plan or Home.from_env().plan
    plan = load_plan(path)
    print(f"{path}: plan OK — starts {plan.start_date}, {len(plan.phases)} phases, "
          f"ends {plan.end_date}, pilots {', '.join(map(str, plan.departments.pilot))}")
    return 0
