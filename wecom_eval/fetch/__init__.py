"""Pull a date window from the WeCom API into raw landing and the warehouse, resumably."""

from __future__ import annotations

from wecom_eval.fetch.mapping import *  # noqa: F403
from wecom_eval.fetch.mapping import __all__ as __all__
