"""What a fetch may pull: the source names, the app whose secret each needs, the defaults."""

from __future__ import annotations

from collections.abc import Sequence

from wecom_eval.errors import InputError, Problem

SOURCES: dict[str, str] = {  # source → the app whose secret it needs
    "contacts": "CONTACTS",
    "approvals": "APPROVAL",
    "checkin": "CHECKIN",
    "customer": "CUSTOMER",
    "oper_log": "SECURITY",
    "active_stat": "CONTACTS",
}
DEFAULT_SOURCES: tuple[str, ...] = ("contacts", "approvals", "checkin", "customer", "oper_log")


def parse_sources(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Source names from ``"contacts,approvals"`` (or a list); ``None`` gives the defaults."""
    if text is None:
        return DEFAULT_SOURCES
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    bad = [n for n in names if n not in SOURCES]
    if bad or not names:
        raise InputError(
            "fetch --sources",
            [
                Problem(
                    "--sources",
                    ",".join(bad) or text,
                    f"names among {', '.join(SOURCES)}",
                    "Separate them with commas.",
                )
            ],
        )
    return tuple(dict.fromkeys(names))


__all__ = ["DEFAULT_SOURCES", "SOURCES", "parse_sources"]
