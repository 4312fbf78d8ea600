"""Keeping secrets out of report runs: which variables are secret, and a scan of outputs.

Secrets (the corp secret, access tokens, webhook keys, passwords, the pseudonymisation
salt) live only in the environment (DESIGN §10). A report run

* starts its kernel without the secrets it does not need (:func:`kernel_environment`
  keeps only the pseudonymisation salt, which the package may need to hash identifiers),
* and, when it has finished, scans every file it wrote for the value of every secret
  variable (:func:`scan`); a hit fails the run, naming the file and the variable — never
  the value.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

# Names of secret variables, as shell-style patterns (matched case-insensitively).
SECRET_PATTERNS: tuple[str, ...] = (
    "WECOM_SECRET*",
    "WECOM_CORP_ID",
    "*SECRET*",
    "*TOKEN*",
    "*PASSWORD*",
    "*PASSWD*",
    "*WEBHOOK*",
    "*_KEY",
    "*API_KEY*",
    "*SALT*",
)
# Values shorter than this are not scanned for (a secret of three characters is not one,
# and scanning for "1" would flag every file).
MIN_SECRET_LENGTH = 6


def is_secret_name(name: str, *, extra: Iterable[str] = ()) -> bool:
    """Whether an environment variable called ``name`` holds a secret.

    Examples
    --------
    >>> is_secret_name("WECOM_SECRET_APPROVAL"), is_secret_name("WECOM_EVAL_HOME")
    (True, False)
    """
    upper = name.upper()
    return upper in {e.upper() for e in extra} or any(fnmatch.fnmatchcase(upper, p) for p in SECRET_PATTERNS)


def secret_values(environ: Mapping[str, str] | None = None, *, extra: Iterable[str] = ()) -> dict[str, str]:
    """Secret variable names → values (long enough to scan for) in ``environ``."""
    environ = os.environ if environ is None else environ
    extra = list(extra)
    return {k: v for k, v in environ.items() if is_secret_name(k, extra=extra) and len(v.strip()) >= MIN_SECRET_LENGTH}


def kernel_environment(environ: Mapping[str, str] | None = None, *, keep: Iterable[str] = ()) -> dict[str, str]:
    """``environ`` without its secrets, except the names in ``keep`` (e.g. the salt variable)."""
    environ = os.environ if environ is None else environ
    keep_upper = {k.upper() for k in keep}
    return {k: v for k, v in environ.items() if not is_secret_name(k) or k.upper() in keep_upper}


def _forms(value: str) -> set[bytes]:
    """The byte forms a secret can take in an output file (UTF-8, JSON-escaped, UTF-16)."""
    import json

    forms = {value.encode("utf-8"), json.dumps(value)[1:-1].encode("utf-8")}
    forms.add(value.encode("utf-16-le"))
    return {f for f in forms if f}


def scan(paths: Iterable[Path], secrets: Mapping[str, str]) -> list[tuple[Path, str]]:
    """(file, variable name) for every file under ``paths`` that contains a secret value.

    Folders are walked; xlsx and pptx files are zip archives, so their members are read
    uncompressed and scanned too.
    """
    import zipfile

    forms = {name: _forms(value) for name, value in secrets.items()}
    hits: list[tuple[Path, str]] = []
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        blobs = [f.read_bytes()]
        if zipfile.is_zipfile(f):
            with zipfile.ZipFile(f) as z:
                blobs += [z.read(n) for n in z.namelist()]
        for name, variants in forms.items():
            if any(v in blob for blob in blobs for v in variants):
                hits.append((f, name))
    return hits


__all__ = ["SECRET_PATTERNS", "is_secret_name", "kernel_environment", "scan", "secret_values"]
