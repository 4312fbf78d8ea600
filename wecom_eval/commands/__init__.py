"""One module per ``wecom-eval`` subcommand; see :mod:`wecom_eval.cli`."""

from __future__ import annotations

import datetime as dt

from wecom_eval.errors import InputError, Problem


def date_option(value: str, option: str, *, source: str, fix: str = "Write the date as YYYY-MM-DD.") -> dt.date:
    """``value`` of a date option (``--since``, ``--as-of`` …) as a date; anything else is exit 2 naming it."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(source, [Problem(option, value, "a date YYYY-MM-DD", fix)]) from None
