"""``wecom-eval init --start DATE --pilots NAME[,NAME…] [--others-go-live-week N] [--force]``.

Writes the company's own rollout plan to ``<home>/params/rollout.yaml`` from the
repository's template (``params/rollout.yaml``, comments kept): the start date, the pilot
departments (paths or unique names of departments the loaded roster created) and the week
every other department goes live. The template's per-branch go-live weeks name the demo
company's branches, so they are dropped. Ingest the roster first. An existing plan is kept
unless ``--force``. Every other parameter file keeps coming from the repository until the
home has its own file of that name (see ``wecom-eval check``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
from collections.abc import Sequence
from pathlib import Path

from wecom_eval.commands import SUMMARIES, date_option
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import REPO_PARAMS, Home
from wecom_eval.plan import parse_plan
from wecom_eval.yamlfile import read_mapping

DESCRIPTION = """\
Write the company's own rollout plan to <home>/params/rollout.yaml, from the repository's
template (its comments kept): the start date, the pilot departments and the week every
other department goes live. Pilots are paths or unique names of departments the loaded
roster created, so ingest the roster first. The template's per-branch go-live weeks name
the demo company's branches and are dropped.

An existing plan is kept unless --force. Other parameter files keep coming from the
repository until the home has its own file of that name ("wecom-eval check" shows which).
"""

EXAMPLES = """\
examples:
  wecom-eval ingest roster hr/roster.xlsx
  wecom-eval init --start 2026-03-02 --pilots 总部/财务部,华东分公司/销售部
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "init",
        help=SUMMARIES["init"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--start", required=True, metavar="DATE", help="the rollout's first day, YYYY-MM-DD")
    p.add_argument(
        "--pilots",
        required=True,
        metavar="NAME[,NAME…]",
        help="pilot departments, by path (总部/行政部) or unique name, comma-separated",
    )
    p.add_argument(
        "--others-go-live-week",
        dest="others_week",
        type=int,
        default=3,
        metavar="N",
        help="the rollout week every other department goes live (default 3)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing plan")
    p.set_defaults(func=run)


def _loaded_departments(home: Home) -> list[str]:
    fix = "Ingest the roster first: wecom-eval ingest roster FILE (it creates the departments)."
    if not home.warehouse.exists():
        raise InputError("the company plan", [Problem("departments", "none loaded", "a loaded roster", fix)])
    from wecom_eval.store.warehouse import open_reader

    with open_reader(home) as wh:
        paths = [str(p) for p in wh.query("SELECT path FROM departments ORDER BY path")["path"]]
    if not paths:
        raise InputError("the company plan", [Problem("departments", "none loaded", "a loaded roster", fix)])
    return paths


def resolve_pilots(names: Sequence[str], paths: Sequence[str]) -> list[str]:
    """The department path of each pilot name (a path, or a name unique among ``paths``).

    Raises :class:`InputError` naming, for each name that is not a loaded department, the
    closest department paths and names.
    """
    by_name: dict[str, list[str]] = {}
    for path in paths:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    out, problems = [], []
    for n, name in enumerate(names):
        if name in paths:
            out.append(name)
        elif len(by_name.get(name, [])) == 1:
            out.append(by_name[name][0])
        elif name in by_name:
            problems.append(
                Problem(
                    f"--pilots[{n}]",
                    name,
                    "one department; several are called so",
                    f"Give the path: {', '.join(by_name[name])}.",
                )
            )
        else:
            close = difflib.get_close_matches(name, [*paths, *by_name], n=3, cutoff=0.3)
            problems.append(
                Problem(
                    f"--pilots[{n}]",
                    name,
                    "a loaded department (path or name)",
                    f"Closest departments: {', '.join(close) or ', '.join(paths[:5])}.",
                )
            )
    if problems:
        raise InputError("the company plan", problems)
    return list(dict.fromkeys(out))


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plan_text(template: str, *, start: dt.date, pilots: Sequence[str], others_week: int) -> str:
    """The template's text with the start date, pilots and go-live weeks replaced (comments kept)."""
    text = re.sub(r"(?m)^start_date:.*$", f"start_date: {start.isoformat()}", template, count=1)
    text = re.sub(
        r"(?m)^(\s+)pilot:.*$", lambda m: f"{m.group(1)}pilot: [{', '.join(map(_quoted, pilots))}]", text, count=1
    )
    text = re.sub(
        r"(?m)^(\s+)others_go_live_week:.*$", lambda m: f"{m.group(1)}others_go_live_week: {others_week}", text, count=1
    )
    # The template's per-branch weeks (and the lines under them) are the demo company's.
    return re.sub(
        r"(?m)^(\s+)go_live_week_by_path:.*\n(?:\1\s+.*\n)*",
        lambda m: f"{m.group(1)}go_live_week_by_path: {{}}  # e.g. {{华南分公司: 5}}\n",
        text,
        count=1,
    )


def init_plan(home: Home, *, start: dt.date, pilots: Sequence[str], others_week: int = 3, force: bool = False) -> Path:
    """Write ``<home>/params/rollout.yaml`` and return its path (see the module notes)."""
    target = home.own_params / "rollout.yaml"
    if target.exists() and not force:
        raise InputError(
            "the company plan",
            [Problem(str(target), "exists", "no plan yet", "The plan is kept; edit it, or add --force to replace it.")],
        )
    paths = _loaded_departments(home)
    chosen = resolve_pilots(pilots, paths)
    template = (REPO_PARAMS / "rollout.yaml").read_text(encoding="utf-8")
    text = plan_text(template, start=start, pilots=chosen, others_week=others_week)
    tmp = target.with_suffix(".yaml.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    try:  # the same checks as any plan: a bad week or date is refused and nothing is left
        parse_plan(read_mapping(tmp, what="rollout plan", fix_missing=""), source="--start/--others-go-live-week")
    except InputError:
        tmp.unlink()
        raise
    tmp.replace(target)
    return target


def run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    start = date_option(
        args.start, "--start", source="the company plan", fix="Write the rollout's first day as YYYY-MM-DD."
    )
    pilots = [p.strip() for p in re.split(r"[,，、]", args.pilots) if p.strip()]
    if not pilots:
        raise InputError("the company plan", [Problem("--pilots", args.pilots, "at least one department")])
    path = init_plan(home, start=start, pilots=pilots, others_week=args.others_week, force=args.force)
    from wecom_eval.plan import load_plan

    plan = load_plan(path)
    print(
        f"wrote {path}: starts {plan.start_date}, ends {plan.end_date}; pilots (go live in week 1): "
        f"{', '.join(map(str, plan.departments.pilot))}; every other department goes live in week "
        f"{plan.departments.others_go_live_week}. Targets, phases and points are the template's: edit the file "
        "to change them."
    )
    print(
        "next: wecom-eval ingest activity FILE…   then   wecom-eval check   then   "
        f"wecom-eval run weekly --as-of {plan.week_start(2).isoformat()} (any later day)"
    )
    return 0
