"""Statistics you can stand behind (DESIGN §7).

The pilot question — did WeCom make approvals faster? — is a difference-in-differences with
departments as clusters and very few of them treated, where ordinary cluster-robust errors
reject a true null far too often. This subpackage answers it with inference that stays valid
with few departments, and provides the other comparisons the reports need:

=============================  ==============================================================
``did``                        difference-in-differences: classical, CR1, wild cluster
                               bootstrap, randomization inference (``auto`` picks a valid one)
``event_study``                staggered go-live: effects by week since go-live, pre-trend test
``welch_log``                  ratio of geometric means (Welch t on logs)
``mann_whitney_hl``            Mann-Whitney with Hodges-Lehmann shift and Moses interval
``ratio_of_medians_bootstrap`` ratio of medians, percentile bootstrap
``proportion_vs_target``       a share against its target: Wilson / exact, verdict
``mean_vs_target``             a mean against its target: t and BCa bootstrap, verdict
``cronbach_alpha``             scale reliability with Feldt's interval
``top2box``                    share answering 4-5, Wilson interval
``compare_waves``              one survey item, wave against wave
``holm``                       family-wise error adjustment
``benjamini_hochberg``         false-discovery-rate adjustment
``did_power``                  power and minimum detectable effect of the pilot design
``variance_components``        department / department-week / within SDs for planning
``confidence_sequence``        always-valid weekly intervals for a proportion
``spent_alpha``                the error rate a weekly verdict may spend at each look
=============================  ==============================================================

Every function takes tidy inputs, raises ``ValueError`` for misuse and returns a small
dataclass with ``to_frame()`` and a ``warnings`` list for weak data.
"""

from __future__ import annotations

from ._results import (
    AlphaResult,
    ConfidenceSequenceResult,
    DidResult,
    EventStudyResult,
    MultipleTestResult,
    PowerResult,
    ProportionResult,
    TargetResult,
    TwoSampleResult,
    VarianceComponents,
    WaveComparison,
)
from .did import did
from .event_study import event_study
from .multiple import benjamini_hochberg, holm
from .power import did_power
from .sequential import confidence_sequence, spent_alpha
from .survey import compare_waves, cronbach_alpha, top2box
from .targets import mean_vs_target, proportion_vs_target
from .two_sample import mann_whitney_hl, ratio_of_medians_bootstrap, welch_log
from .variance import variance_components

__all__ = [
    "AlphaResult",
    "ConfidenceSequenceResult",
    "DidResult",
    "EventStudyResult",
    "MultipleTestResult",
    "PowerResult",
    "ProportionResult",
    "TargetResult",
    "TwoSampleResult",
    "VarianceComponents",
    "WaveComparison",
    "benjamini_hochberg",
    "compare_waves",
    "confidence_sequence",
    "cronbach_alpha",
    "did",
    "did_power",
    "event_study",
    "holm",
    "mann_whitney_hl",
    "mean_vs_target",
    "proportion_vs_target",
    "ratio_of_medians_bootstrap",
    "spent_alpha",
    "top2box",
    "variance_components",
    "welch_log",
]
