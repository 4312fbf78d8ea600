"""Raw landing: every input kept as it arrived, byte for byte, with its checksum.

Files land under ``data/raw/<source>/<YYYY-MM-DD>/``, named ``<sha256 prefix>-<original name>``
and made read-only. Landing the same bytes twice returns the first copy. Each folder has a
``SHA256SUMS`` file that ``sha256sum -c`` can check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


@dataclass(frozen=True)
class Landed:
    path: Path
    sha256: str
    new: bool  # False when the same bytes had landed before


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _existing(root: Path, source: str, checksum: str) -> Path | None:
    for found in (root / source).glob(f"*/{checksum[:16]}-*"):
        return found
    return None


def _finish(tmp: Path, target: Path, checksum: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    with (target.parent / "SHA256SUMS").open("a", encoding="utf-8") as sums:
        sums.write(f"{checksum}  {target.name}\n")


def land_file(root: Path, source: str, src: Path, *, day: dt.date | None = None) -> Landed:
    """Copy ``src`` into raw landing for ``source`` unless the same bytes are there already."""
    checksum = sha256_of(src)
    found = _existing(root, source, checksum)
    if found is not None:
        return Landed(found, checksum, new=False)
    folder = root / source / (day or dt.date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".landing-", delete=False) as tmp, src.open("rb") as fh:
        shutil.copyfileobj(fh, tmp)
    target = folder / f"{checksum[:16]}-{_SAFE.sub('_', src.name)}"
    _finish(Path(tmp.name), target, checksum)
    return Landed(target, checksum, new=True)


def land_records(
    root: Path, source: str, name: str, records: Iterable[Mapping[str, Any]], *, day: dt.date | None = None
) -> Landed:
    """Write API records as JSON lines into raw landing (for pages as they arrived)."""
    folder = root / source / (day or dt.date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".landing-", delete=False, mode="wb") as tmp:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
            digest.update(line)
            tmp.write(line)
    checksum = digest.hexdigest()
    found = _existing(root, source, checksum)
    if found is not None:
        Path(tmp.name).unlink()
        return Landed(found, checksum, new=False)
    target = folder / f"{checksum[:16]}-{_SAFE.sub('_', name)}.jsonl"
    _finish(Path(tmp.name), target, checksum)
    return Landed(target, checksum, new=True)


def land_written(
    root: Path, source: str, name: str, write: Callable[[Path], None], *, day: dt.date | None = None
) -> Landed:
    """Land the file that ``write`` creates at the path it is given (e.g. a table written as Parquet)."""
    folder = root / source / (day or dt.date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    fd, name_tmp = tempfile.mkstemp(dir=folder, prefix=".landing-")
    os.close(fd)
    tmp = Path(name_tmp)
    try:
        write(tmp)
        checksum = sha256_of(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    found = _existing(root, source, checksum)
    if found is not None:
        tmp.unlink()
        return Landed(found, checksum, new=False)
    target = folder / f"{checksum[:16]}-{_SAFE.sub('_', name)}"
    _finish(tmp, target, checksum)
    return Landed(target, checksum, new=True)
