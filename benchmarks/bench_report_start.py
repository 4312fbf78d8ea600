"""Benchmark: where a report's start-up goes, each part a whole process beside its floor.

    python benchmarks/bench_report_start.py
    python benchmarks/bench_report_start.py --rounds 5

A report run starts three Python processes one after another: the command, a worker
(papermill, nbformat, nbconvert), and the worker's kernel, whose first cell imports the
package's report modules. Contenders, one warm-up round, then ``--rounds`` counted rounds,
alternated:

``worker imports``
    ``import papermill, nbconvert`` as the worker does them: with the ``rfc3987_syntax``
    module kept out (``wecom_eval.reporting.worker.main``);
``worker imports, grammar loaded``
    the same imports as they were before: jsonschema, under nbformat, imports
    ``rfc3987_syntax`` (installed with Jupyter's extras), which compiles an IRI grammar;
``kernel launch``
    what the worker imports before its kernel starts: its own module, after which it forks the
    kernel's seed (Linux), which imports the kernel's modules while the worker imports
    jupyter_client, papermill and nbconvert;
``kernel launch, as before``
    what it imported before the kernel could start when papermill started it: its module
    as it was (``collect``, hence pandas and DuckDB, and the registry) and papermill;
``first cell``
    the weekly notebook's first code cell's imports (``forecasts, open_report, views``): in a
    forked kernel the seed made them already;
``bare interpreter``
    ``python -c pass``: the floor every process pays;
``command listing``
    ``wecom-eval --help``: the command line's own start-up (no command module imported), beside
    the parser of every command built, as ``--help`` did before;
``run, until the worker``
    ``wecom-eval run weekly --as-of …`` on a demo warehouse (``--home``, else one is built), up
    to the moment the job is handed to its worker: every check of the plan, the parameters and
    the data, the locks; the process ends there (the runner's ``_run_worker`` exits). The
    worker itself started 0.05 s after the command and imported meanwhile;

``benchmarks/bench_demo.py --weekly-only`` times the whole weekly report beside a trivial
papermill notebook; this one says which part of it is start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

KEPT_OUT = "import sys; sys.modules['rfc3987_syntax'] = None; import papermill, nbconvert"
AS_BEFORE = "import papermill, nbconvert"
FIRST_CELL = "from wecom_eval.reporting import forecasts, open_report, views"
LAUNCH = "import wecom_eval.reporting.worker"
LAUNCH_BEFORE = (
    f"{KEPT_OUT.rsplit(';', 1)[0]}; import wecom_eval.reporting.collect, wecom_eval.reporting.registry, papermill"
)


CLI = [sys.executable, "-m", "wecom_eval.cli"]
AS_OF = "2026-05-25"  # the demo's last week
ALL_PARSERS = "from wecom_eval import cli; cli.build_parser().format_help()"
UNTIL_WORKER = (
    "import os, sys; from wecom_eval.reporting import runner; "
    "runner._run_worker = lambda *a, **k: os._exit(0); "
    "from wecom_eval.cli import main; main(sys.argv[1:])"
)


def _python(code: str):  # noqa: ANN202
    def go() -> h.Sample:
        return h.run([sys.executable, "-c", code])

    return go


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.home_options(parser)
    args = parser.parse_args(argv)
    home = h.demo_home(args.home)
    from wecom_eval.reporting.worker import SLOW_FORMAT_MODULE

    assert SLOW_FORMAT_MODULE in KEPT_OUT  # the bench measures what the worker does
    got = h.alternate(
        {
            "worker imports": _python(KEPT_OUT),
            "worker imports, grammar loaded": _python(AS_BEFORE),
            "kernel launch": _python(LAUNCH),
            "kernel launch, as before": _python(LAUNCH_BEFORE),
            "first cell": _python(FIRST_CELL),
            "bare interpreter": _python("pass"),
            "command listing": lambda: h.run([*CLI, "--help"]),
            "all parsers": _python(ALL_PARSERS),
            "run, until the worker": lambda: h.run(
                [sys.executable, "-c", UNTIL_WORKER, "--home", str(home), "run", "weekly", "--as-of", AS_OF]
            ),
        },
        rounds=args.rounds,
    )
    bare = got["bare interpreter"]
    lines = [
        h.Line(
            "report worker start-up (papermill, nbconvert)",
            h.cell(got["worker imports"]),
            f"the same, grammar loaded (as before) {h.cell(got['worker imports, grammar loaded'])}",
            h.ratio(got["worker imports, grammar loaded"], got["worker imports"]),
        ),
        h.Line(
            "report worker, until it launches the kernel",
            h.cell(got["kernel launch"]),
            f"as before (papermill started it) {h.cell(got['kernel launch, as before'])}",
            h.ratio(got["kernel launch, as before"], got["kernel launch"]),
        ),
        h.Line(
            "weekly notebook's first cell (imports)",
            h.cell(got["first cell"]),
            f"bare interpreter {h.cell(bare)}",
            f"{h.walls(got['first cell']).median / h.walls(bare).median:.1f}× the bare interpreter",
        ),
        h.versus(
            "`wecom-eval --help`",
            got["command listing"],
            "every command's parser built (as before)",
            got["all parsers"],
        ),
        h.versus(
            "`wecom-eval run weekly`, until its job is handed to its worker",
            got["run, until the worker"],
            "bare interpreter",
            bare,
        ),
    ]
    h.emit("bench_report_start", lines, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
