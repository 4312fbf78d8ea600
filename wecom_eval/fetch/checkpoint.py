"""The finished parts of pulls, kept so that a rerun skips them (DESIGN §10: a fetch resumes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.wecom.windows import CST


class Checkpoint:
    """Finished parts of pulls, in a JSON file written atomically (a kill never corrupts it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._done: dict[str, str] = {}
        if path.exists():
            try:
                self._done = dict(json.loads(path.read_text(encoding="utf-8")).get("done", {}))
            except (ValueError, AttributeError):
                raise InputError(
                    "fetch checkpoint",
                    [
                        Problem(
                            str(path),
                            "(unreadable)",
                            "the JSON this tool writes",
                            "Delete the file and run the fetch again (all is fetched again; nothing duplicates).",
                        )
                    ],
                ) from None

    def done(self, unit: str) -> bool:
        return unit in self._done

    def __len__(self) -> int:
        return len(self._done)

    def mark(self, units: Iterable[str]) -> None:
        stamp = dt.datetime.now(CST).isoformat(timespec="seconds")
        for unit in units:
            self._done.setdefault(unit, stamp)
        self._write()

    def clear(self) -> None:
        self._done = {}
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".checkpoint-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "done": self._done}, fh, ensure_ascii=False, indent=0, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


__all__ = ["Checkpoint"]
