"""Benchmark: weekly activity KPIs of a large company, the workbook beside independent baselines.

    python benchmarks/bench_kpis.py                      # 100,000 employees × 52 weeks (36.4 M member-days)
    python benchmarks/bench_kpis.py --quick              # 20,000 employees, 2 counted rounds
    python benchmarks/bench_kpis.py --employees 300000 --rounds 1

The data (vectorised numpy: an activation S-curve, leavers, joiners, one branch without
minutes of use) is written once, cached under ``--data``, as Parquet files and, **through
the warehouse's own loader** (validation included), as a warehouse file; ``raw.duckdb`` is a
copy without the rollups, ``next_day.parquet`` one more day of activity.

Every contender is a whole process of its own (interpreter, imports, reading the data, the
work), timed from start to exit; it also reports the time of the work alone. One warm-up
round is not counted, then the contenders take turns for ``--rounds`` rounds (order flipped
every round); the table gives median (min–max) and the peak resident memory.

Baselines (independent of the workbook's code):

``pandas``
    what an analyst writes: read the Parquet files (member days and the members, for the
    department), ISO week, ``groupby`` department and week: mean active, mean engaged,
    distinct active users. Nothing else — it skips what the workbook does on top (who was
    registered on each day, working days only, "not measured" minutes), so it is a floor
    for a pandas version, not the same figures;
``duckdb over parquet``
    the same aggregation as one DuckDB SQL statement over the Parquet files.

The workbook:

``report``   :func:`wecom_eval.kpis.weekly_activity` as a weekly report calls it (rollups fresh);
``fold``     the same on ``raw.duckdb``: folded from the raw member-days;
``build``    :func:`wecom_eval.store.load.refresh_dependents` (a full rebuild: once per load);
``add a day``  load ``next_day.parquet`` through the load path (:func:`wecom_eval.store.load.load`),
which refreshes the rollups (incremental), on a fresh copy of the warehouse each time (the copy is not timed).

Goals (issue 18): raw fold and build + report ≥ 5× the pandas baseline (whole processes);
a day added in < 2 s. The fold and the report must agree exactly (checked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

START = dt.date(2025, 3, 3)  # a Monday; 2025 is in China's calendar
SOURCES = ("admin_export", "api_oper_log")
MIN_MINUTES = 30


def bench_plan(start: dt.date):  # noqa: ANN201 - RolloutPlan, imported lazily
    from wecom_eval.home import Home
    from wecom_eval.plan import Privacy, load_plan

    plan = load_plan(Home.from_env().plan)
    return plan.model_copy(update={"start_date": start, "privacy": Privacy(min_group_size=1)})


# ---- data --------------------------------------------------------------------------------


def generate(folder: Path, *, employees: int, weeks: int, seed: int) -> dict[str, object]:
    """Write the Parquet files and load the warehouse through its loader; return a description."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from wecom_eval.store.load import refresh_dependents
    from wecom_eval.store.warehouse import Warehouse
    from wecom_eval.workcal import WorkCalendar

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_days = 7 * weeks
    days = np.arange(np.datetime64(START), np.datetime64(START) + n_days + 1)  # + the next day
    plan = bench_plan(START)
    working = WorkCalendar(plan).working_day_mask(days.astype(object))

    n_dept = 192  # 12 branches × 16 departments, heavy-tailed sizes
    dept_ids = np.arange(100, 100 + n_dept, dtype=np.int64)
    branch = np.arange(n_dept) // 16
    paths = [("总部" if b == 0 else f"分公司{b:02d}") + f"/部门{i:03d}" for i, b in enumerate(branch)]
    weights = rng.lognormal(0.0, 0.8, size=n_dept)
    mem_dept = rng.choice(n_dept, size=employees, p=weights / weights.sum())
    # activation on an S-curve; 2 % never; 5 % leave and 6 % join during the year; one branch without minutes
    hire = np.where(rng.random(employees) < 0.06, rng.integers(0, n_days, employees), -400)
    act = np.maximum(hire, 0) + np.maximum(0, rng.logistic(20, 8, employees)).astype(np.int64)
    act[rng.random(employees) < 0.02] = 10**6
    leave = np.where(rng.random(employees) < 0.05, rng.integers(0, n_days, employees), 10**6)
    leave = np.where(leave < 10**6, np.maximum(leave, hire), leave)  # nobody leaves before being hired
    act[act >= n_days] = 10**6
    act_day = np.minimum(act, n_days - 1)
    measured = branch[mem_dept] != 11
    propensity = rng.normal(0.4, 1.0, employees).astype(np.float32)
    userids = np.char.add("u", np.char.zfill(np.arange(1, employees + 1).astype(str), 7)).astype(object)
    emp_ids = np.char.add("E", np.char.zfill(np.arange(1, employees + 1).astype(str), 7)).astype(object)

    def dates(idx: np.ndarray) -> np.ndarray:
        return (np.datetime64(START) + idx.astype("timedelta64[D]")).astype("datetime64[D]")

    tables = {
        "departments": pa.table(
            {
                "department_id": dept_ids,
                "name": [p.split("/")[1] for p in paths],
                "parent_id": pa.nulls(n_dept, pa.int64()),
                "path": paths,
                "is_pilot": np.zeros(n_dept, bool),
                "go_live_date": pa.array(np.full(n_dept, START), pa.date32()),
            }
        ),
        "employees": pa.table(
            {
                "employee_id": emp_ids,
                "name": emp_ids,
                "department_id": dept_ids[mem_dept],
                "hire_date": pa.array(dates(np.where(hire < 0, -400, hire)), pa.date32()),
                "leave_date": pa.array(dates(np.minimum(leave, n_days)), pa.date32(), mask=leave >= 10**6),
                "branch": [p.split("/")[0] for p in np.asarray(paths, dtype=object)[mem_dept]],
                "role": pa.nulls(employees, pa.string()),
            }
        ),
        "members": pa.table(
            {
                "userid": userids,
                "employee_id": emp_ids,
                "department_id": dept_ids[mem_dept],
                "status": np.where(act >= 10**6, 4, np.where(leave < 10**6, 5, 1)).astype(np.int8),
                "activated_at": pa.array(
                    (dates(act_day).astype("datetime64[s]") + np.timedelta64(3600, "s")).astype(np.int64),
                    pa.timestamp("s", tz="UTC"),
                    mask=act >= 10**6,
                ),
            }
        ),
    }
    for name, t in tables.items():
        pq.write_table(t, folder / f"{name}.parquet")
    uid = pa.array(userids, pa.string())
    src = pa.array(np.where(measured, SOURCES[0], SOURCES[1]).astype(object), pa.string())

    def activity(d: np.ndarray) -> pa.Table:
        registered = (d[:, None] >= act[None, :]) & (d[:, None] <= leave[None, :])
        base = np.where(working[d], 0.9, -2.2).astype(np.float32)[:, None] + propensity[None, :]
        active = registered & (rng.random((len(d), employees), dtype=np.float32) < 1 / (1 + np.exp(-base)))
        minutes = np.where(active, np.clip(rng.lognormal(3.6, 0.6, (len(d), employees)), 1, 720), 0)
        return pa.table(
            {
                "date": pa.array(np.repeat(dates(d), employees), pa.date32()),
                "userid": pa.concat_arrays([uid] * len(d)),
                "active": active.ravel(),
                "minutes": pa.array(minutes.astype(np.int16).ravel(), pa.int16(), mask=np.tile(~measured, len(d))),
                "source": pa.concat_arrays([src] * len(d)),
            }
        )

    rows = [0]

    def chunks():  # noqa: ANN202 - a generator of Arrow tables; each goes to Parquet and to the loader
        with pq.ParquetWriter(folder / "member_days.parquet", activity(np.arange(1)).schema) as writer:
            for w in range(weeks):
                chunk = activity(np.arange(7 * w, 7 * w + 7))
                writer.write_table(chunk)
                rows[0] += chunk.num_rows
                yield chunk

    for leftover in folder.glob("*.duckdb*"):
        leftover.unlink()
    wh = Warehouse(folder / "raw.duckdb")
    wh.load_many({**tables, "member_days": chunks()}, source="bench")
    wh.con.execute("CHECKPOINT")
    wh.close()
    pq.write_table(activity(np.array([n_days])), folder / "next_day.parquet")
    shutil.copy(folder / "raw.duckdb", folder / "warehouse.duckdb")
    wh = Warehouse(folder / "warehouse.duckdb")
    refresh_dependents(wh, plan)
    wh.con.execute("CHECKPOINT")
    wh.close()
    info = {
        "employees": employees,
        "weeks": weeks,
        "seed": seed,
        "member_days": rows[0],
        "departments": n_dept,
        "start": START.isoformat(),
        "end": (START + dt.timedelta(days=n_days - 1)).isoformat(),
    }
    (folder / "info.json").write_text(json.dumps(info, indent=1))
    return info


# ---- contenders (each runs in its own process) -------------------------------------------


def run_pandas(folder: Path, out: Path) -> None:
    """The analyst's version: read the files, ISO week, groupby — nothing else."""
    import pandas as pd

    md = pd.read_parquet(folder / "member_days.parquet", columns=["date", "userid", "active", "minutes"])
    members = pd.read_parquet(folder / "members.parquet", columns=["userid", "department_id"])
    md = md.merge(members, on="userid")
    iso = pd.to_datetime(md["date"]).dt.isocalendar()
    md["week"] = iso["year"] * 100 + iso["week"]
    md["engaged"] = md["active"] & (md["minutes"] >= MIN_MINUTES)
    weekly = md.groupby(["department_id", "week"]).agg(active_rate=("active", "mean"), engaged_rate=("engaged", "mean"))
    users = md[md["active"]].groupby(["department_id", "week"])["userid"].nunique().rename("weekly_active_users")
    weekly.join(users).reset_index().to_parquet(out)


def run_duckdb_sql(folder: Path, out: Path) -> None:
    """The same aggregation as one DuckDB statement over the Parquet files."""
    import duckdb

    duckdb.sql(f"""
        SELECT m.department_id, yearweek(d.date) AS week,
               avg(CAST(d.active AS INTEGER)) AS active_rate,
               avg(CAST(d.active AND d.minutes >= {MIN_MINUTES} AS INTEGER)) AS engaged_rate,
               count(DISTINCT d.userid) FILTER (WHERE d.active) AS weekly_active_users
        FROM '{folder / "member_days.parquet"}' d JOIN '{folder / "members.parquet"}' m USING (userid)
        GROUP BY ALL""").write_parquet(str(out))


def run_workbook(folder: Path, out: Path, mode: str) -> None:
    from wecom_eval import kpis
    from wecom_eval.store.load import load, refresh_dependents
    from wecom_eval.store.warehouse import Warehouse

    info = json.loads((folder / "info.json").read_text())
    plan = bench_plan(dt.date.fromisoformat(info["start"]))
    start, end = dt.date.fromisoformat(info["start"]), dt.date.fromisoformat(info["end"])
    if mode in ("build", "add_day"):
        wh = Warehouse(out.with_suffix(".duckdb") if mode == "add_day" else folder / "warehouse.duckdb")
        if mode == "add_day":
            import pyarrow.parquet as pq

            done = load(wh, {"member_days": pq.read_table(folder / "next_day.parquet")}, source="next day", plan=plan)
            built = done.rollups
            if built is None or built.refreshed_days != 1:
                raise SystemExit(f"expected an incremental refresh of 1 day, got {built}")
        else:
            refresh_dependents(wh, plan, force=True)
        wh.close()
        return
    wh = Warehouse(folder / ("raw.duckdb" if mode == "fold" else "warehouse.duckdb"), read_only=True)
    weekly = kpis.weekly_activity(wh, plan, start=start, end=end, by="department")
    if weekly.attrs.get("from_rollups") is not (mode == "report"):
        raise SystemExit(f"expected from_rollups={mode == 'report'}, got {weekly.attrs.get('from_rollups')}")
    weekly[["department_id", "week", "active_rate", "engaged_rate", "weekly_active_users"]].to_parquet(out)
    wh.close()


def child(args: argparse.Namespace) -> int:
    if args.stage == "pandas":
        import pandas  # noqa: F401
    elif args.stage == "duckdb_sql":
        import duckdb  # noqa: F401
    else:
        import wecom_eval.kpis  # noqa: F401
    t0 = time.perf_counter()
    folder, out = Path(args.data), Path(args.out)
    if args.stage == "pandas":
        run_pandas(folder, out)
    elif args.stage == "duckdb_sql":
        run_duckdb_sql(folder, out)
    else:
        run_workbook(folder, out, args.stage)
    h.say_work(time.perf_counter() - t0)
    return 0


def agree(a: Path, b: Path) -> bool:
    import pandas as pd

    x = pd.read_parquet(a).sort_values(["department_id", "week"], ignore_index=True)
    y = pd.read_parquet(b).sort_values(["department_id", "week"], ignore_index=True)
    try:  # counts exactly; rates up to the order of floating-point sums
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=0, atol=1e-12)
    except AssertionError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds after one warm-up (default 3)")
    parser.add_argument("--quick", action="store_true", help="20,000 employees, 2 rounds")
    parser.add_argument("--data", help="where to keep the generated data (reused when it matches)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--json", help="write the table here (for run_all.py)")
    parser.add_argument("--child", dest="stage", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return child(args)
    if args.quick:
        args.employees, args.rounds = min(args.employees, 20_000), min(args.rounds, 2)

    folder = (
        Path(args.data)
        if args.data
        else Path(tempfile.gettempdir()) / (f"wecom-eval-bench-kpis-v2-{args.employees}-{args.weeks}-{args.seed}")
    )
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"data in {folder}",
        flush=True,
    )
    if args.regenerate or not (folder / "info.json").exists():
        t0 = time.perf_counter()
        info = generate(folder, employees=args.employees, weeks=args.weeks, seed=args.seed)
        print(f"generated and loaded {info['member_days']:,} member-days in {time.perf_counter() - t0:.1f} s")
    else:
        info = json.loads((folder / "info.json").read_text())
    print(f"{info['member_days']:,} member-days ({info['employees']:,} employees × {info['weeks']} weeks)", flush=True)

    def contender(stage: str):  # noqa: ANN202
        out = folder / f"result-{stage}.parquet"

        def go() -> h.Sample:
            if stage == "add_day":  # a fresh copy with fresh rollups, not timed
                shutil.copy(folder / "warehouse.duckdb", out.with_suffix(".duckdb"))
            return h.run([sys.executable, __file__, "--child", stage, "--data", str(folder), "--out", str(out)])

        return go

    stages = ("pandas", "fold", "duckdb_sql", "report", "build", "add_day")
    samples = h.alternate({s: contender(s) for s in stages}, rounds=args.rounds)
    (folder / "result-add_day.duckdb").unlink(missing_ok=True)
    same = agree(folder / "result-fold.parquet", folder / "result-report.parquet")
    base, size = samples["pandas"], f"{info['employees'] // 1000:,}k × {info['weeks']} w"
    both = [
        h.Sample(
            b.wall + r.wall,
            (b.work or 0) + (r.work or 0),
            max(b.peak_mb, r.peak_mb),
            cpu=(b.cpu or 0) + (r.cpu or 0),
        )
        for b, r in zip(samples["build"], samples["report"], strict=True)
    ]
    lines = [
        h.Line(
            f"weekly KPIs read from the rollups (a report), {size}",
            h.cell(samples["report"]),
            f"pandas groupby {h.cell(base)}",
            h.ratio(base, samples["report"]),
        ),
        h.Line(
            f"weekly KPIs folded from raw member-days, {size}",
            h.cell(samples["fold"]),
            f"pandas groupby {h.cell(base)}",
            h.ratio(base, samples["fold"]),
            "≥ 5×",
        ),
        h.Line(
            "same fold beside one DuckDB statement over Parquet",
            h.cell(samples["fold"]),
            f"DuckDB SQL {h.cell(samples['duckdb_sql'])}",
            h.ratio(samples["duckdb_sql"], samples["fold"]),
        ),
        h.Line(
            "build the rollups, then report (two processes)",
            h.cell(both),
            "pandas groupby",
            h.ratio(base, both),
            "≥ 5×",
        ),
        h.Line(
            "add one day of activity (load + incremental refresh)",
            h.cell(samples["add_day"]),
            f"full rebuild {h.cell(samples['build'])}",
            h.ratio(samples["build"], samples["add_day"]),
            "< 2 s",
        ),
    ]
    h.emit(
        "bench_kpis",
        lines,
        args.json,
        notes=[
            f"{info['member_days']:,} member-days; {args.rounds} counted rounds after a warm-up, contenders alternated",
            f"fold and report results {'agree' if same else 'DIFFER'} (counts exactly, rates to 1e-12); "
            "the pandas and DuckDB-SQL baselines compute a simpler aggregate "
            "(no registration spans, all days, ISO weeks)",
        ],
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
