"""Build the demo into a home: land its tables under ``data/raw/demo/``, then load them.

The demo is a source like any other: :func:`build_demo` generates the organisation, lands
every table as Parquet under ``data/raw/demo/<YYYY-MM-DD>/`` (``member_days`` and
``feature_events`` one file per week, written as they are drawn; the rest one file per
table) with the checksums raw landing keeps, writes the ground truth to ``data/demo/``,
and loads the landed files into the warehouse in one transaction. Memory stays bounded by
a week of activity and the smaller tables, whatever the number of weeks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.generator import DemoOrg, Progress, generate, to_arrow
from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.raw import land_written
from wecom_eval.store.schema import LOAD_ORDER

if TYPE_CHECKING:
    from wecom_eval.store.warehouse import Warehouse

SOURCE = "demo"
BATCH_ROWS = 1 << 20  # rows per chunk read back from a landed file
WrapChunks = Callable[[Iterator[pa.Table], int], Iterator[pa.Table]]


class Landing:
    """The Parquet files of one build under ``data/raw/demo/<day>/``, table by table."""

    def __init__(self, root: Path, day: dt.date | None = None) -> None:
        self.root = root
        self.day = day or dt.date.today()
        self.files: dict[str, list[Path]] = {}

    def put(self, table: str, data: pa.Table | Iterator[pa.Table], name: str) -> None:
        """Land ``data`` (a table, or chunks with one schema) as one Parquet file."""
        import pyarrow.parquet as pq

        def write(path: Path) -> None:
            if isinstance(data, pa.Table):
                pq.write_table(data, path)
                return
            first = next(data)
            with pq.ParquetWriter(path, first.schema) as writer:
                writer.write_table(first)
                for chunk in data:
                    writer.write_table(chunk)

        landed = land_written(self.root, SOURCE, f"{name}.parquet", write, day=self.day)
        self.files.setdefault(table, []).append(landed.path)

    def week(self, week: int, member_days: pa.Table, feature_events: pa.Table) -> None:
        """Land one week of activity (the ``on_week`` of :func:`generate`)."""
        self.put("member_days", member_days, f"member_days-week{week + 1:03d}")
        self.put("feature_events", feature_events, f"feature_events-week{week + 1:03d}")

    def frames(self, demo: DemoOrg) -> None:
        """Land every table the demo holds as frames, one file each (large ones a slice at a time)."""
        for name, frames in demo.frame_chunks():
            self.put(name, (to_arrow(name, frame) for frame in frames), name)

    def chunks(self, table: str) -> Iterator[pa.Table]:
        """The landed rows of ``table`` in landing order, at most :data:`BATCH_ROWS` at a time."""
        import pyarrow.parquet as pq

        for path in self.files.get(table, []):
            with pq.ParquetFile(path) as file:
                for batch in file.iter_batches(batch_size=BATCH_ROWS):
                    yield pa.Table.from_batches([batch])

    def rows(self, wrap_chunks: WrapChunks | None = None) -> dict[str, Iterator[pa.Table]]:
        """What :meth:`Warehouse.load_many` takes: a chunk stream per landed table, in load order."""
        rows = {name: self.chunks(name) for name in LOAD_ORDER if name in self.files}
        if wrap_chunks is not None and "member_days" in rows:
            rows["member_days"] = wrap_chunks(rows["member_days"], len(self.files["member_days"]))
        return rows

    def listing(self) -> dict[str, list[str]]:
        """The landed files per table, relative to the raw root."""
        return {name: [str(p.relative_to(self.root)) for p in paths] for name, paths in self.files.items()}


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` generated and loaded."""

    home: Path
    warehouse: Path
    truth_path: Path
    window: tuple[dt.date, dt.date, dt.date]  # start, rollout start, end
    counts: dict[str, int]
    pilots: list[str]
    go_live_weeks: dict[str, int]
    true_effects: dict[str, float]
    registration_rate: float | None
    pseudonymisation: str
    seconds_generate: float
    seconds_load: float

    def __str__(self) -> str:
        start, rollout, end = self.window
        lines = [
            f"Demo organisation loaded into {self.warehouse}",
            f"  window: {start} – {end} (rollout from {rollout})",
            f"  pilots: {', '.join(self.pilots)} (week 1)",
            "  go-live weeks: " + ", ".join(f"{p} {w}" for p, w in self.go_live_weeks.items()),
            f"  planted pilot effect: approval turnaround × {self.true_effects['pilot_factor']:.2f} "
            f"({1 - self.true_effects['pilot_factor']:.0%} faster); other departments × "
            f"{self.true_effects['other_factor']:.2f}",
        ]
        if self.registration_rate is not None:
            lines.append(f"  registration at the deadline: {self.registration_rate:.1%}")
        lines.append("  rows:")
        width = max(len(k) for k in self.counts)
        lines += [f"    {k:<{width}}  {v:>12,}" for k, v in self.counts.items()]
        lines.append(f"  ground truth: {self.truth_path}")
        if self.pseudonymisation != "environment":
            lines.append("  survey respondent ids use the demo salt (set WECOM_EVAL_SALT for a real one)")
        lines.append(f"  took {self.seconds_generate:.1f} s to generate, {self.seconds_load:.1f} s to load")
        return "\n".join(lines)


def write_truth(demo: DemoOrg, folder: Path, *, fingerprint: str | None = None, landed: Any = None) -> Path:
    """Write ``truth.json`` and ``config.json`` (and ``build.json``) into ``folder``.

    Returns the truth's path. ``build.json`` holds a fingerprint of the config and the plan,
    so that a later build can tell whether the warehouse already holds this very demo, and
    the files the build landed under ``data/raw/`` (``landed``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    build = {"fingerprint": fingerprint or _fingerprint(demo.config, demo.plan)}
    if landed is not None:
        build["landed"] = landed
    files = {
        "truth.json": json.dumps(demo.truth, ensure_ascii=False, indent=1),
        "config.json": demo.config.model_dump_json(indent=2),
        "build.json": json.dumps(build, ensure_ascii=False, indent=1),
    }
    for name, text in files.items():
        tmp = folder / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(folder / name)
    return folder / "truth.json"


def _fingerprint(config: DemoConfig, plan: RolloutPlan) -> str:
    text = config.model_dump_json() + plan.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_fingerprint(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "build.json").read_text(encoding="utf-8"))["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build_demo(
    home: Home | None = None,
    config: DemoConfig | None = None,
    plan: RolloutPlan | None = None,
    progress: Progress | None = None,
    *,
    wrap_chunks: WrapChunks | None = None,
) -> DemoSummary:
    """Generate the demo organisation, land it under ``data/raw/demo/``, write its truth, load it.

    Parameters
    ----------
    home
        Where to build (default: ``$WECOM_EVAL_HOME`` or the repository root). The truth and
        the config go to ``home.demo``, the landed files to ``home.raw``, the tables to the
        home's warehouse.
    config, plan
        The demo's parameters and the rollout plan (default: the home's plan).
    progress
        Called with one short line per stage (generation, landing, each table loaded).
    wrap_chunks
        Wraps the member_days chunk iterator, given the number of weekly files (e.g. a tqdm bar).
    """
    from wecom_eval.plan import load_plan

    home = home or Home.from_env()
    config = config or DemoConfig()
    plan = plan or load_plan(home.plan)
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    if home.warehouse.exists():  # refuse real data before landing anything beside it
        from wecom_eval.store.warehouse import open_writer

        with open_writer(home) as wh:
            _demo_only(wh, home)
    landing = Landing(home.raw)
    demo = generate(config, plan, progress=say, on_week=landing.week)
    landing.frames(demo)
    demo = _without_frames(demo)  # the landed files are what gets loaded
    say(f"landed {sum(len(f) for f in landing.files.values())} files under {home.raw / SOURCE}")
    t1 = time.perf_counter()
    fingerprint = _fingerprint(config, plan)
    counts = _load(home, plan, landing.rows(wrap_chunks), fingerprint, say)
    truth_path = write_truth(demo, home.demo, fingerprint=fingerprint, landed=landing.listing())
    t2 = time.perf_counter()
    effects = demo.truth["efficiency"]["true"]
    return DemoSummary(
        home=home.root,
        warehouse=home.warehouse,
        truth_path=truth_path,
        window=(demo.window.start, demo.window.rollout_start, demo.window.end),
        counts={name: counts.get(name, 0) for name in LOAD_ORDER},
        pilots=[p["path"] for p in demo.truth["pilots"]],
        go_live_weeks=_go_live_summary(demo.truth["departments"]),
        true_effects={"pilot_factor": effects["pilot_factor"], "other_factor": effects["other_factor"]},
        registration_rate=demo.truth["registration"]["company"]["rate"],
        pseudonymisation=demo.truth["pseudonymisation"],
        seconds_generate=t1 - t0,
        seconds_load=t2 - t1,
    )


def _without_frames(demo: DemoOrg) -> DemoOrg:
    """The demo with its truth and parameters only, so its frames can be freed before the load."""
    return DemoOrg(demo.config, demo.plan, demo.truth, demo.window, {}, demo._activity, None)


def _load(
    home: Home, plan: RolloutPlan, rows: dict[str, Iterator[pa.Table]], fingerprint: str, say: Progress
) -> dict[str, int]:
    """Load the landed rows in one transaction; rows received per table.

    An empty warehouse, or one holding this very demo, is loaded in place; one holding
    another demo (other size, seed or plan) is rebuilt beside it and swapped in at once, so
    a failure leaves the previous demo as it was. Real data is never mixed with the demo.
    """
    from wecom_eval.store.load import load
    from wecom_eval.store.warehouse import Warehouse, open_writer

    with open_writer(home) as wh:
        holds = _demo_only(wh, home)
        if not holds or _read_fingerprint(home.demo) == fingerprint:
            say(f"loading into {home.warehouse}")
            results = load(wh, rows, source=SOURCE, plan=plan, progress=say).results
        else:
            fresh = home.warehouse.with_name(home.warehouse.name + ".new")
            for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
                leftover.unlink(missing_ok=True)
            say(f"replacing the previous demo in {home.warehouse}")
            new = Warehouse(fresh)
            try:
                results = load(new, rows, source=SOURCE, plan=plan, progress=say).results
            finally:
                new.close()
            wh.close()
            fresh.replace(home.warehouse)
    return {name: r.received for name, r in results.items()}


def _demo_only(wh: Warehouse, home: Home) -> int:
    """The rows ``wh`` holds; refuses (exit 2) a warehouse holding anything but the demo."""
    loads = wh.query("SELECT source, count(*) AS n FROM _loads GROUP BY source")
    holds = sum(wh.counts().values())
    if holds and set(loads["source"]) - {SOURCE}:
        raise InputError(
            "wecom-eval demo",
            [
                Problem(
                    str(home.warehouse),
                    f"{holds:,} rows loaded from {', '.join(sorted(loads['source']))}",
                    "a warehouse that is empty or holds only the demo",
                    "Build the demo into another home (wecom-eval --home DIR demo); the demo never mixes "
                    "with real data.",
                )
            ],
        )
    return holds


def _go_live_summary(departments: list[dict[str, Any]]) -> dict[str, int]:
    """Go-live week per level-1 unit (the latest among its departments), e.g. {"总部": 3, …}."""
    out: dict[str, int] = {}
    for d in departments:
        if d["level"] == 2 and not d["is_pilot"]:
            unit = d["path"].split("/")[0]
            out[unit] = max(out.get(unit, 0), d["go_live_week"])
    return out
