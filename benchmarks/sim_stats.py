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
import pandas as pd

from wecom_eval import stats
from wecom_eval.stats._simulate import simulate_rollout, simulate_weekly_shares
from wecom_eval.stats.sequential import naive_alarm

METHODS = ("auto", "cluster", "wild", "randomization")


def mc_interval(k: int, n: int) -> str:
    p = k / n
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return f"{p:6.1%} (±{half:.1%})"


def run_did(
    reps: int, seed: int, reduction: float, pilots: str, methods: tuple[str, ...] = METHODS
) -> dict[str, tuple[int, int, str]]:
    """Per method: rejections of H0: no effect, intervals covering the truth, chosen name."""
    rng = np.random.default_rng(seed)
    truth = math.log1p(-reduction)
    rejections = dict.fromkeys(methods, 0)
    covers = dict.fromkeys(methods, 0)
    chosen = dict.fromkeys(methods, "")
    for _ in range(reps):
        df = simulate_rollout(rng, reduction=reduction, pilots=pilots)  # type: ignore[arg-type]
        for m in methods:
            r = stats.did(
                df, outcome="hours", treated="pilot", post="post", cluster="dept", transform="log", inference=m
            )  # type: ignore[arg-type]
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


# ---- issue 15: verdicts that hold up ------------------------------------------------------

UNEQUAL = np.arange(120, 0, -10).astype(float)  # 120, 110, ..., 10 staff
DESIGNS: dict[str, dict[str, object]] = {
    # sigma_department_period = 0: a shift exactly at go-live cannot be seen in the baseline
    "independent": {"sigma_department_period": 0.0, "sigma_department_week": 0.2, "staff": np.full(12, 30.0)},
    "AR(1)": {"sigma_department_period": 0.0, "sigma_department_week": 0.3, "rho": 0.7, "staff": np.full(12, 30.0)},
    "unequal sizes": {
        "sigma_department_period": 0.0,
        "sigma_department_week": 0.2,
        "staff": UNEQUAL,
        "pilots": "largest",
    },
}


def run_weekly_verdicts(reps: int, seed: int, looks: int = 12) -> dict[str, int]:
    """Rollouts with any false "met" / "missed" over ``looks`` weekly verdicts at a true rate on target."""
    from wecom_eval.kpis.verdicts import judge

    rng = np.random.default_rng(seed)
    out = {"fixed_met": 0, "fixed_missed": 0, "seq_met": 0, "seq_missed": 0}
    for _ in range(reps):
        s, n = simulate_weekly_shares(rng, share=0.6, weeks=looks)
        fixed = [judge(successes=a, n=b, value=0.6, census=False)["verdict"] for a, b in zip(s, n, strict=True)]
        seq = [
            judge(successes=a, n=b, value=0.6, census=False, look=k + 1, planned_looks=looks)["verdict"]
            for k, (a, b) in enumerate(zip(s, n, strict=True))
        ]
        out["fixed_met"] += "met" in fixed
        out["fixed_missed"] += "missed" in fixed
        out["seq_met"] += "met" in seq
        out["seq_missed"] += "missed" in seq
    return out


def run_default_did(
    reps: int, seed: int, design: dict[str, object], reduction: float, alpha: float = 0.05
) -> tuple[int, int, int, str]:
    """Default did(): rejections of no effect, covers of the truth, "met" verdicts (30 % target)."""
    from wecom_eval.kpis.efficiency import verdict_for_gain

    rng = np.random.default_rng(seed)
    truth = math.log1p(-reduction)
    rej = cov = met = 0
    chosen = ""
    for _ in range(reps):
        df = simulate_rollout(rng, reduction=reduction, **design)  # type: ignore[arg-type]
        r = stats.did(df, outcome="hours", treated="pilot", post="post", cluster="dept", transform="log", alpha=alpha)
        rej += int(r.p_value <= alpha)
        cov += int(r.ci_low <= truth <= r.ci_high)
        met += verdict_for_gain(-r.relative_ci_high, -r.relative_ci_low, 0.30) == "met"
        chosen = r.inference
    return rej, cov, met, chosen


def predicted(
    reps: int, seed: int, design: dict[str, object], *, effect: float, gains: tuple[float, ...] = ()
) -> tuple[float, dict[float, float], tuple[float, float]]:
    """The launch-time prediction: power at ``effect`` and P(met) by gain.

    The variance components come from the baselines (before go-live) of ``reps`` simulated
    rollouts pooled (each with its own departments and weeks), so the check is of the model
    and not of one small baseline's luck; the 10-90 % range of the power predicted from
    single baselines of 12 departments x 6 weeks is returned beside it.
    """
    rng = np.random.default_rng(seed)
    staff = np.asarray(design["staff"], dtype=float)
    kw = {
        "n_departments": 12,
        "n_treated": 3,
        "staff": staff.astype(int).tolist(),
        "approvals_per_staff_week": 0.6,
        "weeks_pre": 6,
        "weeks_post": 6,
        "pilots": [0, 1, 2] if design.get("pilots") == "largest" else [3, 7, 11],
        "effect": effect,
        "max_weeks": 0,
        "seed": seed,
    }
    bases, singles = [], []
    for i in range(reps):
        base = simulate_rollout(rng, **design).query("post == 0")  # type: ignore[arg-type]
        if i < 40:
            comps = stats.variance_components(base, outcome="hours", department="dept", week="week")
            singles.append(
                stats.did_power(
                    **kw,
                    components=comps,
                    n_sim=400,  # type: ignore[arg-type]
                    met_gains=(),
                ).estimate
            )
        bases.append(base.assign(dept=base["dept"] + 100 * i, week=base["week"] + 100 * i))
    comps = stats.variance_components(
        pd.concat(bases, ignore_index=True), outcome="hours", department="dept", week="week"
    )
    pw = stats.did_power(**kw, components=comps, n_sim=4000, met_gains=gains)  # type: ignore[arg-type]
    met = pw.met.set_index("gain")["p_met"].to_dict() if gains else {}
    return pw.estimate, met, (float(np.quantile(singles, 0.1)), float(np.quantile(singles, 0.9)))


def run_behind_alerts(reps: int, seed: int, departments: int = 30, look: int = 6) -> dict[str, float]:
    """30 departments exactly on their path: behind alerts per weekly report, before and after."""
    from wecom_eval.kpis.verdicts import judge
    from wecom_eval.stats import benjamini_hochberg

    rng = np.random.default_rng(seed)
    below = fixed = sequential = adjusted = 0
    path = 0.45
    for _ in range(reps):
        n = rng.integers(20, 200, departments)
        s = rng.binomial(n, path)
        below += int(np.sum(s / n < path))
        fixed += sum(
            judge(successes=a, n=b, value=path, census=False)["verdict"] == "missed" for a, b in zip(s, n, strict=True)
        )
        p = [judge(successes=a, n=b, value=path, census=False, look=look)["p_less"] for a, b in zip(s, n, strict=True)]
        sequential += int(np.sum(np.array(p) <= 0.05))
        adjusted += int(benjamini_hochberg(p, alpha=0.05).reject.sum())
    return {
        "below the path (no test)": below / reps,
        "shown behind, one-off 95 % bound": fixed / reps,
        "shown behind, weekly sequence, unadjusted": sequential / reps,
        "shown behind, weekly sequence + Benjamini-Hochberg": adjusted / reps,
    }


STAGGERED = {0: 3, 1: 3, 2: 4, 3: 5, 4: 5, 5: 6, 6: 7, 7: 7, 8: 8, 9: 9, 10: math.nan, 11: math.nan}


def run_pretrend(reps: int, seed: int) -> tuple[int, int]:
    """Twelve departments going live in weeks 3-9 (two never), parallel trends: pre-trend rejections at 5 %."""
    rng = np.random.default_rng(seed)
    wild = f_test = 0
    for _ in range(reps):
        parts = []
        for d, g in STAGGERED.items():
            level, n = rng.normal(0, 0.3), int(rng.integers(8, 30))
            for w in range(1, 11):
                eff = math.log(0.7) if not math.isnan(g) and w >= g else 0.0
                logh = 3 + level + 0.02 * w + rng.normal(0, 0.1) + eff + rng.normal(0, 0.6, n)
                parts.append(pd.DataFrame({"dept": d, "week": w, "go_live": g, "hours": np.exp(logh)}))
        r = stats.event_study(
            pd.concat(parts, ignore_index=True),
            outcome="hours",
            unit="dept",
            time="week",
            first_treated="go_live",
            transform="log",
            n_boot=399,
            leads=3,
        )
        wild += int(r.pretrend_p_value <= 0.05)
        f_test += int(r.pretrend_f_p_value <= 0.05)
    return wild, f_test


def issue15(R: int, seed: int, check: object, sections: set[str]) -> None:
    chk = check  # type: ignore[assignment]
    if "weekly" in sections:
        print(f"\n5. twelve weekly verdicts, true rate exactly on the 60 % target, {R} rollouts")
        w = run_weekly_verdicts(R, seed + 5)
        print(
            f"   one-off 95 % bound each week:  any false met {mc_interval(w['fixed_met'], R)}   "
            f"any false missed {mc_interval(w['fixed_missed'], R)}"
        )
        print(
            f"   weekly confidence sequence:    any false met {mc_interval(w['seq_met'], R)}   "
            f"any false missed {mc_interval(w['seq_missed'], R)}"
        )
        chk("sequence: any false met", w["seq_met"] / R, 0.0, 0.05)  # type: ignore[operator]
        chk("sequence: any false missed", w["seq_missed"] / R, 0.0, 0.05)  # type: ignore[operator]
    if "size" in sections:
        designs = {
            "unequal sizes (120..10, 3 largest pilot)": {"staff": UNEQUAL, "pilots": "largest"},
            "equal sizes (30 staff each)": {"staff": np.full(12, 30.0)},
            "AR(1) department shocks (rho 0.7)": {"rho": 0.7, "sigma_department_week": 0.3},
        }
        for k, (label, design) in enumerate(designs.items()):
            rej, _, _, chosen = run_default_did(R, seed + 10 + k, design, 0.0)
            _, cov, _, _ = run_default_did(R, seed + 20 + k, design, 0.30)
            print(
                f"\n6. default DiD ({chosen}), {label}, {R} rollouts: size {mc_interval(rej, R)}, "
                f"95 % coverage of a true 30 % reduction {mc_interval(cov, R)}"
            )
            chk(f"size, {label}", rej / R, 0.03, 0.07)  # type: ignore[operator]
            chk(f"coverage, {label}", cov / R, 0.93, 0.97)  # type: ignore[operator]
    if "power" in sections:
        n_pred = 100
        for k, (label, design) in enumerate(DESIGNS.items()):
            effect = 0.25
            rej, _, _, chosen = run_default_did(R, seed + 30 + k, design, effect)
            pred, _, spread = predicted(n_pred, seed + 40 + k, design, effect=effect)
            print(
                f"\n7. power at a true {effect:.0%} reduction, {label}: simulated ({chosen}, {R} rollouts) "
                f"{mc_interval(rej, R)}; predicted at launch from {n_pred} pooled baselines {pred:.1%} "
                f"(from one 12 x 6-week baseline: 10-90 % range {spread[0]:.0%}-{spread[1]:.0%})"
            )
            chk(f"predicted - simulated power, {label} (+50 % = 0)", 0.5 + pred - rej / R, 0.45, 0.55)  # type: ignore[operator]
    if "met" in sections:
        n_pred = 100
        design = DESIGNS["AR(1)"]
        gains = (0.30, 0.40, 0.50)
        _, pred, _ = predicted(n_pred, seed + 50, design, effect=0.3, gains=gains)
        for k, g in enumerate(gains):
            _, _, met, chosen = run_default_did(R, seed + 60 + k, design, g, alpha=0.10)
            print(
                f"\n8. P(verdict says met) at a true {g:.0%} gain, AR(1) design: simulated ({chosen}, "
                f"{R} rollouts) {mc_interval(met, R)}; predicted at launch {pred[g]:.1%}"
            )
            chk(f"predicted - simulated P(met) at {g:.0%} (+50 % = 0)", 0.5 + pred[g] - met / R, 0.45, 0.55)  # type: ignore[operator]
    if "pretrend" in sections:
        n = max(R // 2, 100)
        wild, f_test = run_pretrend(n, seed + 80)
        print(
            f"\n9. pre-trend test under parallel trends, 12 departments (staggered), {n} rollouts: "
            f"wild bootstrap Wald (the flag) {mc_interval(wild, n)}; CR1 F {mc_interval(f_test, n)}"
        )
        chk("pre-trend test size", wild / n, 0.03, 0.07)  # type: ignore[operator]
    if "alerts" in sections:
        print(f"\n10. 30 departments exactly on their path (week 6 of 12), {R} weekly reports")
        for label, value in run_behind_alerts(R, seed + 70).items():
            print(f"   behind alerts per report, {label:<52} {value:7.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000, help="simulated rollouts per check")
    ap.add_argument("--seed", type=int, default=20260302)
    ap.add_argument("--skip-extra", action="store_true", help="skip the non-random pilot check")
    ap.add_argument(
        "--sections",
        default="classic,weekly,size,power,met,pretrend,alerts",
        help="comma-separated: classic (checks 1-4), weekly, size, power, met, pretrend, alerts",
    )
    args = ap.parse_args(argv)
    sections = set(args.sections.split(","))
    R = args.reps
    ok = True
    t0 = time.perf_counter()

    def check(label: str, value: float, lo: float, hi: float) -> None:
        nonlocal ok
        passed = lo <= value <= hi
        ok &= passed
        print(f"    -> {label}: {value:.1%} (target {lo:.0%}-{hi:.0%}) {'PASS' if passed else 'FAIL'}")

    if sections - {"classic"}:
        issue15(R, args.seed, check, sections)
    if "classic" not in sections:
        print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'} in {time.perf_counter() - t0:.0f} s")
        return 0 if ok else 1

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
        print(f"   {name:<28} 95 % interval covers: {mc_interval(cov, R)}   power: {rej / R:6.1%}")
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
        label = {
            "betting": "confidence sequence (betting)",
            "normal_mixture": "confidence sequence (normal mixture)",
            "naive": "naive weekly 95 % interval",
        }[k]
        print(f"   {label:<38} false alarm in: {mc_interval(v, R)}")
    check("betting CS false alarms", alarms["betting"] / R, 0.0, 0.05)
    check("normal-mixture CS false alarms", alarms["normal_mixture"] / R, 0.0, 0.05)

    print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'} in {time.perf_counter() - t0:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
