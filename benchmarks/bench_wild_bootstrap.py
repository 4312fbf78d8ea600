"""Wild cluster bootstrap speed: wecom_eval.stats.did beside the `wildboottest` package.

Run:  .venv/bin/python benchmarks/bench_wild_bootstrap.py [--draws 9999] [--rounds 3]

Same data (100,000 approvals in 40 departments, 12 piloting, department random effects),
same regression (log hours on pilot, post and pilot x post), same test (restricted wild
cluster bootstrap of the CR1 t statistic, Rademacher weights, 9,999 draws). Each side is a
whole process of its own (interpreter, imports, data, one call — the first call, as a
notebook makes it); the work is the call alone. One warm-up round, then ``--rounds``
counted rounds, alternated. Both p-values are printed with their Monte Carlo standard
error. `wildboottest` comes with the ``bench`` extra (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402


def make_data(seed: int, n: int = 100_000, G: int = 40, G1: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dept = rng.integers(0, G, n)
    post = rng.integers(0, 2, n)
    pilot = (dept < G1).astype(int)
    log_h = (
        np.log(24)
        + rng.normal(0, 0.4, G)[dept]
        + rng.normal(0, 0.1, (G, 2))[dept, post]
        + rng.normal(0, 0.9, n)
        + np.log(0.95) * pilot * post
    )
    return pd.DataFrame({"dept": dept, "post": post, "pilot": pilot, "hours": np.exp(log_h)})


def child(which: str, draws: int, seed: int) -> None:
    df = make_data(seed)
    if which == "ours":
        from wecom_eval import stats

        t0 = time.perf_counter()
        res = stats.did(
            df,
            outcome="hours",
            treated="pilot",
            post="post",
            cluster="dept",
            transform="log",
            inference="wild",
            weights="rademacher",
            n_boot=draws,
            seed=seed,
        )
        h.say_work(time.perf_counter() - t0, p=res.p_value)
        return
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    X = pd.DataFrame({"const": 1.0, "pilot": df["pilot"], "post": df["post"], "D": df["pilot"] * df["post"]})
    model = sm.OLS(np.log(df["hours"]), X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        out = wildboottest(
            model, param="D", cluster=df["dept"].to_numpy(), B=draws, weights_type="rademacher", seed=seed, show=False
        )
    h.say_work(time.perf_counter() - t0, p=float(out["p-value"].iloc[0]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=9999)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2 rounds")
    ap.add_argument("--json", help="write the table here (for run_all.py)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.draws, args.seed)
        return 0
    try:
        import wildboottest  # noqa: F401
    except ImportError:
        print("wildboottest is not installed (pip install -e .[bench]); comparison skipped")
        return 0
    rounds = min(args.rounds, 2) if args.quick else args.rounds

    def side(which: str):  # noqa: ANN202
        return lambda: h.run(
            [sys.executable, __file__, "--child", which, "--draws", str(args.draws), "--seed", str(args.seed)]
        )

    samples = h.alternate({"ours": side("ours"), "wildboottest": side("wildboottest")}, rounds=rounds)
    p_values = {name: float(runs[-1].info["p"]) for name, runs in samples.items()}  # type: ignore[arg-type]
    se = math.sqrt(max(p_values.get("wildboottest", 0.5) * (1 - p_values.get("wildboottest", 0.5)), 1e-12) / args.draws)
    line = h.Line(
        f"wild cluster bootstrap, {args.draws:,} draws, first call in a fresh process",
        h.cell(samples["ours"]),
        f"wildboottest {h.cell(samples['wildboottest'])}",
        h.ratio(samples["wildboottest"], samples["ours"]),
        "≥ 5× (work)",
    )
    h.emit(
        "bench_wild_bootstrap",
        [line],
        args.json,
        notes=[
            f"p-values: ours {p_values.get('ours', math.nan):.4f}, wildboottest "
            f"{p_values.get('wildboottest', math.nan):.4f} (Monte Carlo s.e. about {se:.4f})"
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
