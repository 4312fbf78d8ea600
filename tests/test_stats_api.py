"""The public surface of wecom_eval.stats: __all__ is honest and every function teaches."""

from __future__ import annotations

import inspect

import wecom_eval.stats as stats

DESIGN_NAMES = {"did", "proportion_vs_target", "mean_vs_target", "cronbach_alpha"}
FUNCTIONS = {
    "did",
    "event_study",
    "welch_log",
    "mann_whitney_hl",
    "ratio_of_medians_bootstrap",
    "proportion_vs_target",
    "mean_vs_target",
    "cronbach_alpha",
    "top2box",
    "compare_waves",
    "holm",
    "benjamini_hochberg",
    "did_power",
    "variance_components",
    "confidence_sequence",
    "spent_alpha",
}


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        n for n, v in vars(stats).items() if not n.startswith("_") and not inspect.ismodule(v) and n != "annotations"
    }
    assert set(stats.__all__) == public
    assert len(stats.__all__) == len(set(stats.__all__))
    assert DESIGN_NAMES <= FUNCTIONS <= set(stats.__all__)


def test_design_signatures() -> None:
    # DESIGN §12: the stable call shapes other code relies on
    sig = inspect.signature(stats.did)
    assert list(sig.parameters)[:1] == ["data"]
    for name, default in (
        ("cluster", None),
        ("transform", "none"),
        ("inference", "auto"),
        ("n_boot", 9999),
        ("alpha", 0.05),
        ("seed", 0),
    ):
        assert sig.parameters[name].default == default
        assert sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
    p = inspect.signature(stats.proportion_vs_target).parameters
    assert (p["alternative"].default, p["method"].default) == ("greater", "wilson")
    assert inspect.signature(stats.mean_vs_target).parameters["alternative"].default == "greater"
    assert list(inspect.signature(stats.cronbach_alpha).parameters)[0] == "items"
    fields = set(stats.DidResult.__dataclass_fields__)
    assert {
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "p_value",
        "inference",
        "n_obs",
        "n_clusters",
        "n_treated_clusters",
        "relative_change",
        "relative_ci_low",
        "relative_ci_high",
        "warnings",
    } <= fields


def test_every_function_has_formula_references_and_example() -> None:
    for name in FUNCTIONS:
        doc = inspect.getdoc(getattr(stats, name)) or ""
        for section in ("Parameters", "Returns", "Notes", "Examples"):
            assert section in doc, f"{name} lacks {section}"
        assert ">>> " in doc
        hints = inspect.get_annotations(getattr(stats, name))
        assert "return" in hints, f"{name} lacks a return annotation"
