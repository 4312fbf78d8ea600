"""The inference methods of :func:`wecom_eval.stats.did`, and the choice ``inference="auto"`` makes.

Each method gives the standard error, the interval, the two-sided p-value of "no effect",
the p-value as a function of the null value (for a test against a target), and the method
in words; the formulas are in the docstring of :func:`~wecom_eval.stats.did`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np
from scipy import stats as sps

from ._did_design import Design
from ._ols import WildLinearTest, invert_test, wild_weights
from ._randomization import cluster_changes, randomization

Inference = Literal["auto", "classical", "cluster", "wild", "randomization", "randomization_sized"]
INFERENCES = ("auto", "classical", "cluster", "wild", "randomization", "randomization_sized")

#: ``inference="auto"`` chooses randomization inference when at least this many
#: assignments of the treated clusters are possible (2 of 12 departments give 66, 3 of 12
#: give 220). It depends on the design only, never on ``alpha``: the same data always get
#: the same method (40 assignments let the p-value reach 0.025, enough for the reports'
#: one-sided 5 % bounds).
AUTO_MIN_ASSIGNMENTS = 40
#: The wild bootstrap needs at least this many clusters.
MIN_CLUSTERS_WILD = 4

#: The CR1 companion: standard error, interval ends and p-value (NaN without clusters).
Cr1 = tuple[float, float, float, float]


class Inferred(NamedTuple):
    """What one inference method gives for the effect."""

    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    pvalue_at: Callable[[float], float]  # two-sided p-value of H0: effect = b0
    method: str
    n_draws: int = 0
    enumerated: bool = False


def choose_auto(design: Design) -> Inference:
    """Randomization inference when assignment is by cluster and rich enough, else wild."""
    n_assign = math.comb(design.n_clusters, design.n_treated_clusters)
    by_cluster = design.treated_by_cluster is not None and not np.isnan(design.treated_by_cluster).any()
    if by_cluster and n_assign >= AUTO_MIN_ASSIGNMENTS:
        return "randomization_sized" if cluster_changes(design) is not None else "randomization"
    if design.n_clusters >= MIN_CLUSTERS_WILD:
        return "wild"
    raise ValueError(
        f"only {design.n_clusters} clusters: neither the wild bootstrap (needs "
        f"{MIN_CLUSTERS_WILD}) nor randomization inference ({n_assign} "
        "possible assignments) can give a valid test. Add control departments or weeks."
    )


def cr1_companion(design: Design, beta: float, cluster: str | None, alpha: float) -> Cr1:
    """CR1 cluster-robust standard error, interval and p-value (t with G - 1 df), reported beside every method."""
    G = design.n_clusters
    if cluster is None:
        return (math.nan, math.nan, math.nan, math.nan)
    if G < 2:
        raise ValueError(
            f"cluster={cluster!r} has only {G} cluster; cluster-robust inference needs "
            "at least 2 (and few-cluster methods at least 4)"
        )
    se_c = float(math.sqrt(max(design.fit.vcov_cr1()[design.j_d, design.j_d], 0.0)))
    q = float(sps.t.ppf(1 - alpha / 2, G - 1))
    p_c = float(2 * sps.t.sf(abs(beta) / se_c, G - 1)) if se_c > 0 else math.nan
    return (se_c, beta - q * se_c, beta + q * se_c, p_c)


def infer(
    inference: str,
    design: Design,
    cr1: Cr1,
    *,
    alpha: float,
    n_boot: int,
    weights: str,
    rng: np.random.Generator,
    cluster: str | None,
    auto: bool,
    warnings: list[str],
) -> Inferred:
    """Run the named method (never ``"auto"``: :func:`choose_auto` resolves it first)."""
    beta = float(design.fit.beta[design.j_d])
    if inference == "classical":
        out = _classical(design, beta, alpha, cluster, warnings)
    elif inference == "cluster":
        out = _cluster(design, beta, cr1, warnings)
    elif inference == "wild":
        out = _wild(design, beta, alpha, n_boot, weights, rng, cluster, warnings)
    else:
        out = _randomized(inference, design, cr1, alpha, n_boot, rng, cluster, auto, warnings)
    if not (math.isfinite(out.ci_low) and math.isfinite(out.ci_high)):
        warnings.append(
            f"the {1 - alpha:.0%} interval is unbounded: the data cannot rule out effects "
            "of any size at this level (too few treated or control clusters)"
        )
    return out


def _randomized(
    inference: str,
    design: Design,
    cr1: Cr1,
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
    cluster: str | None,
    auto: bool,
    warnings: list[str],
) -> Inferred:
    """Randomization inference on size-standardised changes, or on the CR1 t."""
    G, G1 = design.n_clusters, design.n_treated_clusters
    sized = inference == "randomization_sized"
    p, lo, hi, n_draws, enumerated, pfun = randomization(
        design, sized=sized, alpha=alpha, n_boot=n_boot, rng=rng, cluster=cluster, warnings=warnings, auto=auto
    )
    how = "every one of the" if enumerated else "a random sample of"
    if sized:
        method = (
            f"randomization inference on size-standardised before-after changes of the {G} "
            f"clusters ({G1} treated; {how} {n_draws} assignments; Ferman & Pinto 2019), "
            "interval by test inversion"
        )
    else:
        method = (
            f"randomization inference on the CR1 t over which {G1} of {G} clusters are "
            f"treated ({how} {n_draws} assignments), interval by test inversion"
        )
        if not enumerated:
            warnings.append(
                f"randomization p-value from {n_draws} random assignments (Monte Carlo error about ±0.005 near 0.05)"
            )
    return Inferred(cr1[0], lo, hi, p, float(G - 1), pfun, method, n_draws, enumerated)


def _classical(design: Design, beta: float, alpha: float, cluster: str | None, warnings: list[str]) -> Inferred:
    """Plain OLS standard errors, t with n - k df."""
    fit = design.fit
    se = float(math.sqrt(max(fit.vcov_classical()[design.j_d, design.j_d], 0.0)))
    df = float(fit.df_resid)
    q = float(sps.t.ppf(1 - alpha / 2, df))
    p = float(2 * sps.t.sf(abs(beta) / se, df)) if se > 0 else math.nan
    if cluster is not None:
        warnings.append(
            "classical standard errors ignore the clustering by "
            f"{cluster!r}; they are too small when outcomes share department shocks"
        )
    method = f"OLS, classical standard errors, t with {fit.df_resid} df"
    return Inferred(se, beta - q * se, beta + q * se, p, df, _t_pvalue(beta, se, df), method)


def _cluster(design: Design, beta: float, cr1: Cr1, warnings: list[str]) -> Inferred:
    """CR1 cluster-robust standard errors, t with G - 1 df."""
    G, G1 = design.n_clusters, design.n_treated_clusters
    se, lo, hi, p = cr1
    if G < 30 or G1 < 10:
        warnings.append(
            f"CR1 with {G} clusters ({G1} treated) over-rejects; prefer "
            "inference='wild' or 'randomization' (the default picks one)"
        )
    method = f"OLS, CR1 cluster-robust standard errors, t with {G - 1} df"
    return Inferred(se, lo, hi, p, float(G - 1), _t_pvalue(beta, se, float(G - 1)), method)


def _wild(
    design: Design,
    beta: float,
    alpha: float,
    n_boot: int,
    weights: str,
    rng: np.random.Generator,
    cluster: str | None,
    warnings: list[str],
) -> Inferred:
    """Restricted wild cluster bootstrap of the CR1 t (WCR-C), interval by test inversion."""
    G, G1, G0 = design.n_clusters, design.n_treated_clusters, design.n_control_clusters
    if G < MIN_CLUSTERS_WILD:
        raise ValueError(
            f"inference='wild' needs at least {MIN_CLUSTERS_WILD} clusters; "
            f"{cluster!r} has {G}. With so few departments no method can separate the "
            "pilot effect from department shocks: add control departments or weeks."
        )
    V, enumerated, kind = wild_weights(G, n_boot, weights, rng)
    c = np.zeros(design.fit.k)
    c[design.j_d] = 1.0
    test = WildLinearTest(design.fit, c, V)
    se = test.std_error
    lo, hi = invert_test(test.pvalue, beta, se, alpha)
    n_draws = V.shape[0]
    how = "all" if enumerated else "random"
    method = (
        f"restricted wild cluster bootstrap of the CR1 t (WCR-C), {kind} weights, "
        f"{how} {n_draws} draws, interval by test inversion"
    )
    if min(G1, G0) < 3:
        warnings.append(
            f"only {min(G1, G0)} {'treated' if G0 > G1 else 'control'} cluster(s): "
            "the wild bootstrap is unreliable (usually far too conservative) with so few"
        )
    return Inferred(se, lo, hi, test.pvalue(0.0), float(G - 1), test.pvalue, method, n_draws, enumerated)


def _t_pvalue(beta: float, se: float, df: float) -> Callable[[float], float]:
    def pvalue(b0: float) -> float:
        return float(2 * sps.t.sf(abs(beta - b0) / se, df)) if se > 0 else math.nan

    return pvalue
