"""What every benchmark shares: whole-process timing, alternation, medians, one table.

A contender is a command line. :func:`run` starts it as its own process and measures its
wall time from start to exit (interpreter start-up and imports included), its peak resident
memory (``ru_maxrss`` of the process, from ``wait4``) and, when the process prints a last
line ``{"work_seconds": …}`` (:func:`say_work`), the time of the work alone.
:func:`alternate` runs a warm-up round that is not counted, then ``rounds`` counted rounds
in which the contenders take turns (A B, B A, A B, … so neither always goes first);
:func:`stat` gives the median and the range. :func:`emit` prints the benchmark's lines as
a table and, with ``--json``, writes them for ``benchmarks/run_all.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

TIME = "/usr/bin/time"  # GNU time: the peak memory of the command alone


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, the whole process
    work: float | None  # seconds, the work alone (as the process reports it)
    peak_mb: float  # peak resident memory of the process, MiB
    info: dict[str, object] = field(default_factory=dict)  # anything else the process said with say_work
    cpu: float | None = None  # seconds of CPU (user + system, children waited for included)


@dataclass(frozen=True)
class Stat:
    median: float
    low: float
    high: float
    n: int

    def seconds(self) -> str:
        return f"{self.median:.2f} s ({self.low:.2f}–{self.high:.2f})"


@dataclass(frozen=True)
class Line:
    """One row of the table: what was measured, the project's figure, the anchor's, the ratio."""

    work: str
    project: str
    anchor: str = "—"
    ratio: str = "—"
    goal: str = ""


def size_options(parser: argparse.ArgumentParser, *, employees: int = 100_000) -> None:
    """The options of the benchmarks that run the command line on a company of some size."""
    parser.add_argument("--employees", type=int, default=employees)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 employees, 2 rounds")
    parser.add_argument("--json", help="write the table here (for run_all.py)")


def cli_defaults(args: argparse.Namespace) -> None:
    """Apply ``--quick``, and leave the command line its own DuckDB settings (not the benchmark's)."""
    if args.quick:
        args.employees, args.rounds = min(args.employees, 20_000), min(args.rounds, 2)
    for name in [k for k in os.environ if k.startswith("WECOM_EVAL_DUCKDB")]:
        del os.environ[name]


def say_work(seconds: float, **extra: object) -> None:
    """Print the line :func:`run` reads: the seconds the work took (after imports)."""
    print(json.dumps({"work_seconds": seconds, **extra}), flush=True)


def run(
    cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None, quiet: bool = True
) -> Sample:
    """Run ``cmd`` as its own process; raise SystemExit with its output when it fails.

    The peak memory is GNU time's ``%M`` (``ru_maxrss`` of the process and the children it
    waited for, papermill's kernels say): ``/usr/bin/time`` is a small process, so the
    figure is the command's own (a process forked from this one would start its count at
    this process's size).
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out, err, peak_file = Path(tmp) / "out", Path(tmp) / "err", Path(tmp) / "peak"
        with out.open("w") as o, err.open("w") as e:
            t0 = time.perf_counter()
            code = subprocess.call(
                [TIME, "-f", "%M %U %S", "-o", str(peak_file), *cmd],
                stdout=o,
                stderr=e,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
            wall = time.perf_counter() - t0
        stdout, stderr = out.read_text(), err.read_text()
        peak_kib, user, system = (float(x) for x in peak_file.read_text().strip().splitlines()[-1].split())
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    work, info = None, {}
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{") and "work_seconds" in line:
            info = json.loads(line)
            work = float(info.pop("work_seconds"))
            break
    if not quiet:
        print(stdout, end="")
    return Sample(wall, work, peak_kib / 1024, info, user + system)


def peak_mb() -> float:
    """This process's peak resident memory, MiB (children report it with :func:`say_work`)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024


def alternate(
    contenders: Mapping[str, Callable[[], Sample]],
    *,
    rounds: int = 3,
    warmup: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, list[Sample]]:
    """Warm-up round(s), then ``rounds`` counted rounds; the order flips every round."""
    names = list(contenders)
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    for i in range(warmup + rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            s = contenders[name]()
            counted = i >= warmup
            if counted:
                samples[name].append(s)
            work = f", work {s.work:.2f} s" if s.work is not None else ""
            log(
                f"  {'round ' + str(i - warmup + 1) if counted else 'warm-up'}: {name}: {s.wall:.2f} s{work}, "
                f"{s.peak_mb:,.0f} MiB"
            )
    return samples


def stat(values: Sequence[float]) -> Stat:
    return Stat(statistics.median(values), min(values), max(values), len(values))


def walls(samples: Sequence[Sample]) -> Stat:
    return stat([s.wall for s in samples])


def works(samples: Sequence[Sample]) -> Stat:
    return stat([s.work for s in samples if s.work is not None])


def peak(samples: Sequence[Sample]) -> float:
    return max(s.peak_mb for s in samples)


def mib(value: float) -> str:
    return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:,.0f} MiB"


def cell(samples: Sequence[Sample]) -> str:
    """``whole process median (min–max); work median; CPU median; peak`` for a table cell."""
    text = f"{walls(samples).seconds()} whole"
    if any(s.work is not None for s in samples):
        text += f"; work {works(samples).median:.2f} s"
    cpus = [s.cpu for s in samples if s.cpu is not None]
    if cpus:  # on a shared machine the fairer figure: waiting for a core is not counted
        text += f"; CPU {stat(cpus).median:.2f} s"
    return f"{text}; {mib(peak(samples))}"


def ratio(anchor: Sequence[Sample], project: Sequence[Sample]) -> str:
    """Anchor ÷ project, whole processes (and work alone when both report it)."""
    text = f"{walls(anchor).median / walls(project).median:.1f}× whole"
    if all(s.work is not None for s in (*anchor, *project)):
        text += f", {works(anchor).median / works(project).median:.1f}× work"
    return text


def home_options(parser: argparse.ArgumentParser) -> None:
    """The options of the benchmarks that time one report's parts on the demo's warehouse."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the table here (for run_all.py)")
    parser.add_argument("--home", help="a home with the demo loaded (default: one is built)")


def demo_home(given: str | None) -> Path:
    """``given``, else a new home with the demo's warehouse (``wecom-eval demo --no-reports``)."""
    if given:
        return Path(given)
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    cli = [sys.executable, "-m", "wecom_eval.cli", "--home", str(home), "demo", "--no-reports"]
    subprocess.run(cli, check=True, capture_output=True)
    return home


def versus(work: str, project: Sequence[Sample], label: str, anchor: Sequence[Sample]) -> Line:
    """A line of the table: the project's figure, the anchor's (named ``label``), anchor ÷ project."""
    return Line(work, cell(project), f"{label} {cell(anchor)}", ratio(anchor, project))


def table(lines: Sequence[Line]) -> str:
    rows = ["| work | project | anchor | ratio | goal |", "|---|---|---|---|---|"]
    rows += [f"| {ln.work} | {ln.project} | {ln.anchor} | {ln.ratio} | {ln.goal} |" for ln in lines]
    return "\n".join(rows)


def emit(name: str, lines: Sequence[Line], json_path: str | None, *, notes: Sequence[str] = ()) -> None:
    """Print the table (with the machine's load) and write it for ``run_all.py``."""
    load = os.getloadavg()
    notes = [
        *notes,
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} CPUs",
    ]
    print(f"\n{name}\n\n{table(lines)}\n")
    for note in notes:
        print(f"- {note}")
    if json_path:
        Path(json_path).write_text(
            json.dumps(
                {"name": name, "lines": [asdict(ln) for ln in lines], "notes": list(notes)},
                ensure_ascii=False,
                indent=1,
            )
        )


__all__ = [
    "Line",
    "Sample",
    "Stat",
    "alternate",
    "cell",
    "cli_defaults",
    "emit",
    "mib",
    "peak",
    "peak_mb",
    "ratio",
    "run",
    "say_work",
    "size_options",
    "stat",
    "table",
    "walls",
    "works",
]
