"""The ``wecom-eval`` command line.

Each subcommand lives in its own module under :mod:`wecom_eval.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``. Errors the
workbook raises on purpose print their message (no traceback) and exit with their code:
2 bad input, 3 a source failed, 4 a notebook failed, 5 the lock is held.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from wecom_eval.commands import SUMMARIES
from wecom_eval.errors import WecomEvalError

# Module names under wecom_eval.commands; each adds one subcommand.
COMMANDS = tuple(name.replace("-", "_") for name in SUMMARIES)


def build_parser(command: str | None = None, *, listing: bool = False) -> argparse.ArgumentParser:
    """The parser; with ``command`` (the subcommand named on the command line) only that
    subcommand's module is imported, so that a command starts without loading the others.

    With ``listing`` (no known command named: ``wecom-eval --help``, a mistyped command) no
    module is imported: each command is there by its line in the listing, which is all
    such a command line can use.
    """
    parser = argparse.ArgumentParser(
        prog="wecom-eval",
        description="Evaluation workbook for a WeCom (企业微信) rollout.",
    )
    parser.add_argument(
        "--home", help="where data/ and reports/ live (default: $WECOM_EVAL_HOME, else the repository root)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if listing:
            sub.add_parser(name.replace("_", "-"), help=SUMMARIES[name.replace("_", "-")])
        elif command is None or name == command.replace("-", "_"):
            importlib.import_module(f"wecom_eval.commands.{name}").register(sub)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv`` when it is a known one (else None: build the full parser)."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option == "--home" and rest:
            rest.pop(0)
    if rest and rest[0].replace("-", "_") in COMMANDS and not {"-h", "--help"} & set(argv[: len(argv) - len(rest)]):
        return rest[0]
    return None


def error_line(command: str, exc: BaseException) -> str:
    """``wecom-eval <command>: <message>``, with one prefix: a message that already names the
    command (``wecom-eval ingest activity: …``) keeps its own, more precise one."""
    message = str(exc)
    prog = f"wecom-eval {command}"
    if message == prog or message.startswith((f"{prog}:", f"{prog} ")):
        return message
    return f"{prog}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    named = _command_named(argv)
    parser = build_parser(named, listing=named is None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("matplotlib", "PIL", "fontTools", "asyncio"):  # their DEBUG lines drown ours under -v
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.home:
        import os

        os.environ["WECOM_EVAL_HOME"] = args.home
    try:
        return int(args.func(args) or 0)
    except WecomEvalError as exc:
        print(error_line(args.command, exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"wecom-eval {args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
