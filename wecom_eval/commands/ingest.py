"""``wecom-eval ingest KIND FILE…``: load exported files into the warehouse.

Files are CSV/text (UTF-8 with or without BOM, GB18030/GBK, UTF-16; comma, tab or
semicolon) or XLSX. Columns are found by their header (Chinese or English, through an
alias table; a company adds its own names in params/mappings/*.yaml), title rows above the
header are skipped. Every file is checked whole before anything is written: a bad file is
refused with one line per problem (file, row, column, value, what was expected, how to fix)
and exit code 2, and the warehouse is left as it was. The same file twice changes nothing;
a newer export of the same period replaces the rows it repeats. Originals are kept byte for
byte under data/raw/file-<KIND>/ with their SHA-256.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import textwrap

from wecom_eval.commands import SUMMARIES
from wecom_eval.home import Home
from wecom_eval.ingest.kinds import KINDS, KindSpec
from wecom_eval.ingest.pipeline import ingest

DESCRIPTION = """\
Load exported files into the warehouse. Files are CSV or text (UTF-8 with or without BOM,
GB18030/GBK, UTF-16; comma, tab or semicolon separated) or XLSX workbooks. Columns are
found by their header, Chinese or English, through an alias table; a company adds its own
header names in params/mappings/*.yaml. Title rows above the header are skipped.

Every file is checked whole before anything is written: a bad file is refused with one
line per problem (file, row, column, value, what was expected, how to fix) and exit
status 2, and the warehouse is left as it was. The same file twice changes nothing; a
newer export of the same period replaces the rows it repeats. Originals are kept byte for
byte under data/raw/file-<KIND>/ with their SHA-256.
"""


def _describe(spec: KindSpec) -> str:
    grouped = {name for group in spec.one_of for name in group}
    width = max(len(f.name) for f in spec.fields)
    lines = [
        f"{spec.name}: {spec.summary}",
        f"    tables: {', '.join(spec.tables)}    example: {spec.example}",
        "    columns (* required, + at least one of the +):",
    ]
    for f in spec.fields:
        mark = "*" if f.required else "+" if f.name in grouped else " "
        lines.append(f"      {mark} {f.name:<{width}}  {f.help}")
    if spec.notes:
        lines += textwrap.wrap(spec.notes, width=92, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)


def epilog() -> str:
    """The KIND list shown by ``wecom-eval ingest --help``."""
    kinds = "\n\n".join(_describe(spec) for spec in KINDS.values())
    return (
        f"kinds:\n\n{kinds}\n\n"
        "Every header alias is listed in docs/ingest.md; company mapping files: params/mappings/README.md.\n"
        "examples:\n"
        "  wecom-eval ingest roster data/examples/roster.csv\n"
        "  wecom-eval ingest members data/examples/members_2026-03-20.csv"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ingest",
        help=SUMMARIES["ingest"],
        description=DESCRIPTION,
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", metavar="KIND", choices=list(KINDS), help="what the files hold: " + ", ".join(KINDS))
    p.add_argument("files", metavar="FILE", nargs="+", help="CSV/text exports or XLSX workbooks")
    p.add_argument("--wave", help="survey wave for every row, e.g. 2026-Q1 (surveys without a 批次 column)")
    p.add_argument("--sheet", help="the workbook sheet to read (default: the first)")
    p.add_argument(
        "--mapping",
        action="append",
        default=[],
        metavar="YAML",
        help="another mapping file, besides params/mappings/*.yaml (repeatable)",
    )
    p.add_argument("--plan", help="the rollout plan (default: params/rollout.yaml under the home)")
    p.add_argument(
        "--as-of",
        "--snapshot-date",
        dest="as_of",
        metavar="DATE",
        type=_day,
        help="members: the day the contacts export was taken (default: a date in the file name)",
    )
    p.add_argument("--dry-run", action="store_true", help="check the files and report; write nothing")
    p.set_defaults(func=run)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    from wecom_eval.plan import load_plan

    home = Home.from_env()
    plan = load_plan(args.plan) if args.plan else None
    verbose = bool(getattr(args, "verbose", False))

    def progress(message: str) -> None:
        if verbose:
            print(message, file=sys.stderr, flush=True)

    report = ingest(
        args.kind,
        args.files,
        home=home,
        plan=plan,
        wave=args.wave,
        sheet=args.sheet,
        mapping=args.mapping,
        dry_run=args.dry_run,
        progress=progress,
        as_of=args.as_of,
    )
    print(report)
    return 0
