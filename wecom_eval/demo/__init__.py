"""The demo organisation: a deterministic synthetic company with its ground truth.

>>> from wecom_eval.demo import DemoConfig, generate
>>> demo = generate(DemoConfig(employees=300, baseline_weeks=2, rollout_weeks=4))  # doctest: +SKIP
"""

from __future__ import annotations

from wecom_eval.demo.build import DemoSummary, build_demo
from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.generator import DemoOrg, generate

__all__ = ["DemoConfig", "DemoOrg", "DemoSummary", "build_demo", "generate"]
