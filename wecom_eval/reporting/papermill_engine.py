"""The papermill engine reports run on: papermill's own, saving the executed notebook less often.

Papermill writes the whole executed notebook (figures included) when each cell starts and
again when it ends, validating it each time: for a report of twenty cells, forty writes of
a notebook of a megabyte, half a second of the worker's CPU between the kernel's cells.
This engine (papermill's ``nbclient`` engine, registered under :data:`ENGINE`) lets those
writes through at most every :data:`SAVE_EVERY` seconds; the final write, which papermill
makes however the run ends (a failed cell, a dead kernel, a timeout), is always made, so a
failed run still keeps its notebook as far as it got.
"""

from __future__ import annotations

import time
from typing import Any

from papermill.engines import NBClientEngine, papermill_engines

ENGINE = "wecom-eval"
SAVE_EVERY = 2.0  # seconds between the writes of a running notebook


class ReportEngine(NBClientEngine):  # type: ignore[misc]  # papermill has no type hints
    """papermill's nbclient engine with the running notebook's writes spaced out."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
        save = nb_man.save
        last = time.monotonic()

        def spaced(**save_kwargs: Any) -> None:
            nonlocal last
            if time.monotonic() - last >= SAVE_EVERY:
                last = time.monotonic()
                save(**save_kwargs)

        nb_man.save = spaced
        try:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        finally:
            nb_man.save = save  # papermill's final write, when the run ends, goes through


papermill_engines.register(ENGINE, ReportEngine)

__all__ = ["ENGINE", "SAVE_EVERY", "ReportEngine"]
