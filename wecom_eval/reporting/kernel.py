"""The named Jupyter kernel reports run on: ``wecom-eval``, from the project's own environment.

A kernel named after the project (not ``python3``, which could be any Python on the
machine) makes papermill and JupyterLab run the notebooks with exactly the interpreter
and packages that installed ``wecom_eval``. The kernelspec lives inside the environment
(``<prefix>/share/jupyter/kernels/wecom-eval``), like
``python -m ipykernel install --sys-prefix --name wecom-eval``.

Run ``python -m wecom_eval.reporting.kernel`` to install or refresh it (``make lab`` does).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KERNEL_NAME = "wecom-eval"
DISPLAY_NAME = "Python (wecom-eval)"
# The kernel's own extra environment: quiet the debugger's frozen-modules warning on stderr.
KERNEL_ENV = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def kernel_dir(prefix: str | None = None) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def ensure_kernel(*, prefix: str | None = None) -> Path:
    """Install the ``wecom-eval`` kernelspec for this interpreter unless it is already there.

    Returns the kernelspec folder. A spec for this environment is left as it is (whoever
    installed it); one pointing to another interpreter (a moved or rebuilt environment) is
    replaced.
    """
    folder = kernel_dir(prefix)
    spec = folder / "kernel.json"
    if spec.exists():
        try:
            current = json.loads(spec.read_text(encoding="utf-8"))
            # The same environment (bin folder), whichever name of its python started us.
            if Path(current.get("argv", [""])[0]).parent == Path(sys.executable).parent:
                return folder
        except (OSError, json.JSONDecodeError):
            pass
    from ipykernel.kernelspec import install

    return Path(
        install(kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME, prefix=prefix or sys.prefix, env=dict(KERNEL_ENV))
    )


def main() -> int:
    print(f"kernel {KERNEL_NAME!r} for {sys.executable}: {ensure_kernel()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["DISPLAY_NAME", "KERNEL_NAME", "ensure_kernel", "kernel_dir"]
