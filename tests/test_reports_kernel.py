"""The named kernel comes from the project's own environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from wecom_eval.reporting import kernel


def test_kernel_is_installed_for_this_interpreter_and_only_once(tmp_path):
    folder = kernel.ensure_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "wecom-eval"
    assert Path(spec["argv"][0]).parent == Path(sys.executable).parent
    assert spec["display_name"] == "Python (wecom-eval)"
    stamp = (folder / "kernel.json").stat().st_mtime_ns
    kernel.ensure_kernel(prefix=str(tmp_path))
    assert (folder / "kernel.json").stat().st_mtime_ns == stamp  # already right: left alone


def test_a_spec_for_another_interpreter_is_replaced(tmp_path):
    folder = kernel.ensure_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    spec["argv"][0] = "/elsewhere/bin/python"
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    kernel.ensure_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert Path(spec["argv"][0]).parent == Path(sys.executable).parent
