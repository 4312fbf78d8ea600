"""The demo organisation: a deterministic synthetic company with its ground truth.

>>> from wecom_eval.demo import DemoConfig, generate
>>> demo = generate(DemoConfig(employees=300, baseline_weeks=2, rollout_weeks=4))  # doctest: +SKIP
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.demo.build import DemoSummary, build_demo
    from wecom_eval.demo.config import DemoConfig
    from wecom_eval.demo.generator import DemoOrg, generate

# loaded on first use: a command that only names the demo's options imports no generator
__getattr__ = _lazy.lazy_exports(
    __name__,
    {"build": ("DemoSummary", "build_demo"), "config": ("DemoConfig",), "generator": ("DemoOrg", "generate")},
    globals(),
)

__all__ = ["DemoConfig", "DemoOrg", "DemoSummary", "build_demo", "generate"]
