"""Fault injection for the fake WeCom server, by configuration and reproducible.

A spec is a comma-separated list of ``name=value`` (the ``--faults`` option)::

    busy=0.1,freq=0.05,http502=0.05,drop=0.05,slow=0.05,slow_ms=400,latency_ms=50,expire_at_page=3,seed=7

============== ===================================================================
busy           share of calls answering errcode -1 (system busy)
freq           share answering errcode 45009 (frequency limit)
http502        share answering HTTP 502 with an HTML body
drop           share whose connection is closed without an answer
slow           share answered ``slow_ms`` milliseconds late (default 500)
latency_ms     milliseconds added to every answer
expire_at_page the N-th request for a later page (one carrying a cursor) finds every
               token expired — a token expiring in the middle of a paginated pull
max_run        at most this many faults in a row for the same request (default 2):
               faults are transient, as in the real service
seed           the seed of the draws
============== ===================================================================

Whether a request fails is drawn from a hash of (seed, the request without its token, how
many times that request was seen), so the same client behaviour meets the same faults
whatever the interleaving of concurrent calls.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from wecom_eval.errors import InputError, Problem
from wecom_eval.fakeserver.convert import stable_int

FAULT_KINDS = ("busy", "freq", "http502", "drop")
_SCALE = float(2**64)


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often (see the module notes)."""

    busy: float = 0.0
    freq: float = 0.0
    http502: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    slow_ms: float = 500.0
    latency_ms: float = 0.0
    expire_at_page: int = 0
    max_run: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        for name in (*FAULT_KINDS, "slow"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(Problem(f"faults: {name}", value, "a share from 0 to 1"))
        if self.failing > 1.0:
            problems.append(Problem("faults: busy+freq+http502+drop", self.failing, "at most 1"))
        for name in ("slow_ms", "latency_ms", "expire_at_page", "max_run"):
            if getattr(self, name) < 0:
                problems.append(Problem(f"faults: {name}", getattr(self, name), "zero or more"))
        if problems:
            raise InputError("fault spec", problems)

    @property
    def failing(self) -> float:
        """The share of calls configured to fail."""
        return self.busy + self.freq + self.http502 + self.drop

    @property
    def any(self) -> bool:
        return bool(self.failing or self.slow or self.latency_ms or self.expire_at_page)

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """A :class:`Faults` from ``name=value,…``; an empty spec means no faults.

        Examples
        --------
        >>> Faults.parse("busy=0.1,drop=0.05,seed=3").failing
        0.15000000000000002
        """
        if not spec or not spec.strip():
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        problems = []
        for part in spec.split(","):
            if not part.strip():
                continue
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in known:
                problems.append(
                    Problem(
                        f"faults: {part.strip()!r}", part.strip(), f"name=value with a name among {', '.join(known)}"
                    )
                )
                continue
            try:
                values[name] = int(raw) if name in ("expire_at_page", "max_run", "seed") else float(raw)
            except ValueError:
                problems.append(Problem(f"faults: {name}", raw.strip(), "a number"))
        if problems:
            raise InputError("fault spec", problems)
        return cls(**values)  # type: ignore[arg-type]

    def draw(self, key: str, seen: int) -> tuple[str | None, bool]:
        """The fault (one of :data:`FAULT_KINDS` or None) and whether to answer slowly."""
        u = stable_int(self.seed, "fault", key, seen) / _SCALE
        kind = None
        edge = 0.0
        for name in FAULT_KINDS:
            edge += getattr(self, name)
            if u < edge:
                kind = name
                break
        slow = self.slow > 0 and stable_int(self.seed, "slow", key, seen) / _SCALE < self.slow
        return kind, slow


__all__ = ["FAULT_KINDS", "Faults"]
