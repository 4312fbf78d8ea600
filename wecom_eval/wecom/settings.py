"""How hard the WeCom client tries and how fast it may go, and what it did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from wecom_eval.wecom.endpoints import endpoint


@dataclass(frozen=True)
class ClientSettings:
    """How hard the client tries and how fast it may go. Every field has a safe default.

    Parameters
    ----------
    timeout, connect_timeout
        Seconds for a whole request and for opening a connection.
    max_retries
        Retries after the first try for transient failures (so ``max_retries + 1`` tries).
    backoff_base, backoff_max, jitter
        Delay before retry *n* is ``min(backoff_max, backoff_base · 2^(n-1))``, of which the
        share ``jitter`` is drawn uniformly at random.
    freq_limit_wait
        Least wait after errcode 45009: WeCom blocks a minute-level excess for 60 s.
    token_margin
        Refresh a token this many seconds before it expires (at most half its lifetime).
    concurrency
        Calls in flight at once across all endpoints (1 = one call at a time).
    endpoint_concurrency
        Cap on calls in flight per endpoint (default: each endpoint's own cap).
    limit_period
        Length of a rate-limit window in seconds (60: WeCom's limits are per minute).
    limits
        Per-minute limits overriding the documented ones, by endpoint path.
    rate_limits
        False turns the client-side limiter off (the server's 45009 still applies).
    """

    timeout: float = 30.0
    connect_timeout: float = 5.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 16.0
    jitter: float = 0.5
    freq_limit_wait: float = 60.0
    token_margin: float = 300.0
    concurrency: int = 32
    endpoint_concurrency: int | None = None
    limit_period: float = 60.0
    limits: Mapping[str, int] = field(default_factory=dict)
    rate_limits: bool = True

    def __post_init__(self) -> None:
        checks = {
            "timeout": self.timeout > 0,
            "connect_timeout": self.connect_timeout > 0,
            "max_retries": self.max_retries >= 0,
            "backoff_base": self.backoff_base >= 0,
            "backoff_max": self.backoff_max >= 0,
            "jitter": 0 <= self.jitter <= 1,
            "freq_limit_wait": self.freq_limit_wait >= 0,
            "token_margin": self.token_margin >= 0,
            "concurrency": self.concurrency >= 1,
            "endpoint_concurrency": self.endpoint_concurrency is None or self.endpoint_concurrency >= 1,
            "limit_period": self.limit_period > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"ClientSettings: out of range: {', '.join(f'{b}={getattr(self, b)!r}' for b in bad)}"
                " (timeouts and periods positive, counts at least 1, jitter in [0, 1])"
            )
        for path, limit in self.limits.items():
            endpoint(path)
            if limit < 1:
                raise ValueError(f"ClientSettings.limits[{path!r}] must be at least 1 call a minute, got {limit}")


@dataclass
class ClientStats:
    """What the client did: requests sent, their outcomes, retries and token fetches."""

    requests: Counter[str] = field(default_factory=Counter)  # by endpoint path
    outcomes: Counter[str] = field(default_factory=Counter)  # "ok", "errcode -1", "HTTP 502", ...
    retries: int = 0
    refreshes: int = 0
    token_fetches: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


__all__ = ["ClientSettings", "ClientStats"]
