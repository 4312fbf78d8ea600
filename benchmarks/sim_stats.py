"""Do the statistics keep their promises? Rejection rates, coverage and weekly false alarms.

Run:  .venv/bin/python benchmarks/sim_stats.py            (1,000 rollouts per check; 4-9 min on 2 cores)
      .venv/bin/python benchmarks/sim_stats.py --reps 200 (a quick look)

Checks (issue 6, DESIGN §7), each on simulated rollouts with 12 departments of uneven size,
department random effects, department shifts at go-live and week to week, and log-normal
turnaround (``wecom_eval.stats._simulate``):

1. no true effect, 3 of 12 departments piloting (chosen at random): the default inference
   must reject at alpha = 0.05 in 3-7 % of rollouts; cluster-robust CR1 is printed beside;
2. a true 30 % reduction: the default 95 % intervals must cover the truth 93-97 % of the time;
3. (extra) the pilots are the largest or the smallest departments, not chosen at random;
4. ten weekly looks at an unchanged KPI share: the confidence sequences must raise a false
   alarm in at most 5 % of rollouts; the naive weekly interval's rate is printed beside.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Literal

import numpy as np

from wecom_eval import stats
from wecom_eval.stats._simulate import simulate_rollout, simulate_weekly_shares
from wecom_eval.stats.sequential import naive_alarm

METHODS = ("auto", "cluster", "wild", "randomization")


def mc_interval(k: int, n: int) -> str:
    p = k / n
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return f"{p:6.1%} (±{half:.1%})"


def run_did(reps: int, seed: int, reduction: float, pilots: str,
            methods: tuple[str, ...] = METHODS) -> dict[str, tuple[int, int, str]]:
    """Per method: rejections of H0: no effect, intervals covering the truth, chosen name."""
    rng = np.random.default_rng(seed)
    truth = math.log1p(-reduction)
    rejections = dict.fromkeys(methods, 0)
    covers = dict.fromkeys(methods, 0)
    chosen = dict.fromkeys(methods, "")
    for _ in range(reps):
        df = simulate_rollout(rng, reduction=reduction, pilots=pilots)  # type: ignore[arg-type]
        for m in methods:
            r = stats.did(df, outcome="hours", treated="pilot", post="post", cluster="dept",
                          transform="log", inference=m)  # type: ignore[arg-type]
            rejections[m] += int(r.p_value <= 0.05)
            covers[m] += int(r.ci_low <= truth <= r.ci_high)
            chosen[m] = r.inference
    return {m: (rejections[m], covers[m], chosen[m]) for m in methods}


def run_weekly(reps: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    alarms = {"betting": 0, "normal_mixture": 0, "naive": 0}
    methods: tuple[Literal["betting", "normal_mixture"], ...] = ("betting", "normal_mixture")
    for _ in range(reps):
        s, n = simulate_weekly_shares(rng, share=0.6, weeks=10)
        for method in methods:
            looks = stats.confidence_sequence(s, n, method=method).looks
            alarms[method] += bool(((looks.cs_low > 0.6) | (looks.cs_high < 0.6)).any())
        alarms["naive"] += naive_alarm(s, n, 0.6, 0.05)
    return alarms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000, help="simulated rollouts per check")
    ap.add_argument("--seed", type=int, default=20260302)
    ap.add_argument("--skip-extra", action="store_true", help="skip the non-random pilot check")
    args = ap.parse_args(argv)
    R = args.reps
    ok = True
    t0 = time.perf_counter()

    def check(label: str, value: float, lo: float, hi: float) -> None:
        nonlocal ok
        passed = lo <= value <= hi
        ok &= passed
        print(f"    -> {label}: {value:.1%} (target {lo:.0%}-{hi:.0%}) "
              f"{'PASS' if passed else 'FAIL'}")

    print(f"1. no effect, 3 of 12 departments piloting at random, {R} rollouts")
    res = run_did(R, args.seed, 0.0, "random")
    for m, (rej, _, chosen) in res.items():
        name = f"{m} ({chosen})" if m == "auto" else m
        print(f"   {name:<28} rejects at 5 %: {mc_interval(rej, R)}")
    check("default rejection rate", res["auto"][0] / R, 0.03, 0.07)

    print(f"\n2. true 30 % reduction, {R} rollouts")
    res = run_did(R, args.seed + 1, 0.30, "random")
    for m, (rej, cov, chosen) in res.items():
        name = f"{m} ({chosen})" if m == "auto" else m
        print(f"   {name:<28} 95 % interval covers: {mc_interval(cov, R)}   "
              f"power: {rej / R:6.1%}")
    check("default coverage", res["auto"][1] / R, 0.93, 0.97)

    if not args.skip_extra:
        extra = max(R // 2, 100)
        for pilots in ("largest", "smallest"):
            print(f"\n3. no effect, pilots are the 3 {pilots} departments, {extra} rollouts")
            res = run_did(extra, args.seed + 2, 0.0, pilots)
            for m, (rej, _, chosen) in res.items():
                name = f"{m} ({chosen})" if m == "auto" else m
                print(f"   {name:<28} rejects at 5 %: {mc_interval(rej, extra)}")

    print(f"\n4. ten weekly looks at an unchanged 60 % share, {R} rollouts")
    alarms = run_weekly(R, args.seed + 3)
    for k, v in alarms.items():
        label = {"betting": "confidence sequence (betting)",
                 "normal_mixture": "confidence sequence (normal mixture)",
                 "naive": "naive weekly 95 % interval"}[k]
        print(f"   {label:<38} false alarm in: {mc_interval(v, R)}")
    check("betting CS false alarms", alarms["betting"] / R, 0.0, 0.05)
    check("normal-mixture CS false alarms", alarms["normal_mixture"] / R, 0.0, 0.05)

    print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'} "
          f"in {time.perf_counter() - t0:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
