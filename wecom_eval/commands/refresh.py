"""``wecom-eval refresh [--force]``: bring the warehouse's derived tables up to date without loading.

Every load ends by refreshing what depends on the loaded tables (activation dates, the
feature uses, the activity rollups: :func:`wecom_eval.store.load.refresh_dependents`). This
command runs that step on its own: after the workbook was upgraded (a warehouse written by an
older version has no feature-use table, and reports then fold the raw feature events, which
is slow at a large company), or to rebuild everything from scratch with ``--force``.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from wecom_eval.commands import SUMMARIES
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home

if TYPE_CHECKING:
    from wecom_eval.store.feature_uses import FeatureUsesInfo
    from wecom_eval.store.rollups import RollupInfo

DESCRIPTION = """\
Bring the warehouse's derived tables up to date without loading anything: the members'
activation dates, the feature uses (what penetration is read from) and the activity
rollups (what daily-active figures are read from). Every load already does this; run it
after upgrading the workbook, so that the first report does not fold the raw data, or with
--force to rebuild the derived tables from scratch. Reports give the same figures either
way: a derived table that is missing or out of date is never read.
"""

EXAMPLES = """\
examples:
  wecom-eval refresh                       build what is missing or out of date
  wecom-eval refresh --force               rebuild every derived table
  wecom-eval --home /srv/wecom refresh     another home
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "refresh",
        help=SUMMARIES["refresh"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--force", action="store_true", help="rebuild the feature uses and the rollups from scratch")
    p.set_defaults(func=run)


def _state(info: FeatureUsesInfo | RollupInfo | None) -> str:
    return "missing" if info is None else ("up to date" if info.fresh else "out of date")


def run(args: argparse.Namespace) -> int:
    from wecom_eval.plan import load_plan
    from wecom_eval.store.feature_uses import feature_uses_info
    from wecom_eval.store.load import refresh_dependents
    from wecom_eval.store.rollups import rollup_info
    from wecom_eval.store.warehouse import open_writer

    home = Home.from_env()
    if not home.warehouse.exists():
        fix = "Load data first: wecom-eval ingest roster FILE (or wecom-eval demo)."
        raise InputError("wecom-eval refresh", [Problem(str(home.warehouse), "missing", "a warehouse", fix)])
    plan = load_plan(home.plan)
    with open_writer(home) as wh:
        uses, rollups = feature_uses_info(wh), rollup_info(wh, plan)
        print(f"before: feature uses {_state(uses)}, rollups {_state(rollups)}")
        started = time.perf_counter()
        info = refresh_dependents(wh, plan, force=args.force)
        uses = feature_uses_info(wh)
    took = time.perf_counter() - started
    print(
        f"after {took:.1f} s: feature uses {_state(uses)} ({uses.rows if uses else 0:,} rows), "
        f"rollups {_state(info)} ({info.department_days:,} department-days)"
    )
    return 0
