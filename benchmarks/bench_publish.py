"""Benchmark: a report's publishing, alone: the page, the workbook and kpis.json from an executed run.

    python benchmarks/bench_publish.py --home DIR      # DIR: a home with the demo loaded
    python benchmarks/bench_publish.py --rounds 5

The weekly report is run once (its notebook executed, what it recorded kept), then each
contender publishes a copy of that run in a process of its own:

``publish, prepared``
    as the worker does it: what its loading thread does while the cells run (imports, the
    kept exporter rendering a small page), then :func:`~wecom_eval.reporting.worker.publish`,
    timed as the work (what a report waits for after its last cell);
``publish, unprepared``
    the imports only, then ``publish``: what the first page compiles is paid after the cells;
``nbconvert``
    ``jupyter nbconvert --to html --no-input`` of the same executed notebook: nbconvert's own
    export, the floor of a page alone (no workbook, no kpis.json).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

AS_OF = "2026-05-25"
KEEP = """
import dataclasses, json, shutil, sys
from pathlib import Path
from wecom_eval.reporting import runner, worker
from wecom_eval.home import Home
home, kept = Home(Path(sys.argv[1])), sys.argv[2]
params = runner.prepare("weekly", as_of=sys.argv[3], home=home)
job = runner._job("weekly", params, home=home, notebooks=runner.notebook_dir(), cell_timeout=600)
Path(kept, "job.json").write_text(json.dumps(dataclasses.asdict(job)))
publish = worker.publish
worker.publish = lambda run_dir, job: (shutil.copytree(run_dir, Path(kept, "run")), publish(run_dir, job))[1]
assert worker.execute(job).ok
"""
PUBLISH = """
import json, os, shutil, sys, time
from pathlib import Path
sys.modules.setdefault("rfc3987_syntax", None)  # as the worker does
from wecom_eval.reporting import worker
from wecom_eval.reporting.jobs import Job
kept, prepared = Path(sys.argv[1]), sys.argv[2] == "prepared"
job = Job(**json.loads((kept / "job.json").read_text()))
os.environ["WECOM_EVAL_HOME"] = job.home
if prepared:
    worker._load_publishers()
else:
    import wecom_eval.reporting.collect, wecom_eval.reporting.export, wecom_eval.reporting.kpis_json
    import wecom_eval.reporting.tables
out = kept / f"out-{os.getpid()}"
shutil.copytree(kept / "run", out)
t = time.perf_counter()
worker.publish(out, job)
print(json.dumps({"work_seconds": time.perf_counter() - t}))
shutil.rmtree(out)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    h.home_options(parser)
    args = parser.parse_args(argv)
    home = h.demo_home(args.home)
    kept = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    env = {"WECOM_EVAL_HOME": str(home)}
    subprocess.run([sys.executable, "-c", KEEP, str(home), str(kept), AS_OF], check=True, env={**os.environ, **env})
    notebook = kept / "run" / "weekly.ipynb"
    got = h.alternate(
        {
            "prepared": lambda: h.run([sys.executable, "-c", PUBLISH, str(kept), "prepared"], env=env),
            "unprepared": lambda: h.run([sys.executable, "-c", PUBLISH, str(kept), "unprepared"], env=env),
            "nbconvert": lambda: h.run(
                [
                    sys.executable,
                    "-m",
                    "nbconvert",
                    "--to",
                    "html",
                    "--no-input",
                    "--output-dir",
                    str(kept),
                    str(notebook),
                ]
            ),
        },
        rounds=args.rounds,
    )
    lines = [
        h.versus(
            "publishing a weekly report after its last cell (page, workbook, kpis.json)",
            got["prepared"],
            "nothing prepared",
            got["unprepared"],
        ),
        h.versus(
            "the same, whole process beside nbconvert's own page export",
            got["prepared"],
            "`jupyter nbconvert --to html --no-input`",
            got["nbconvert"],
        ),
    ]
    h.emit("bench_publish", lines, args.json)
    shutil.rmtree(kept, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
