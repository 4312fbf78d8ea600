"""The KPI tests' hand-built organisation (``tests/fixtures/kpis/tiny.py``), importable once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("kpis_tiny", Path(__file__).parent / "fixtures" / "kpis" / "tiny.py")
tiny = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(tiny)  # type: ignore[union-attr]
