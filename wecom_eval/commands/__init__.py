"""One module per ``wecom-eval`` subcommand; see :mod:`wecom_eval.cli`."""

from __future__ import annotations

import datetime as dt

from wecom_eval.errors import InputError, Problem

#: Every subcommand, in the order ``wecom-eval --help`` lists them, with the line it shows for
#: each: that listing imports no command's module. Each module ``<name with _ for ->`` registers
#: its subcommand with this line.
SUMMARIES: dict[str, str] = {
    "demo": "build the demo organisation and load it into the warehouse",
    "fake-server": "serve the demo organisation over the WeCom API on loopback",
    "fetch": "pull a date window from the WeCom API (resumable)",
    "init": "write the company's rollout plan (<home>/params/rollout.yaml)",
    "ingest": "load exported files: roster, activity, survey, legacy-approvals, training, tickets, members, "
    "approvals, checkins, customer-contacts",
    "refresh": "bring the derived tables (activation dates, feature uses, rollups) up to date",
    "run": "run a report notebook (or all of them) and publish its outputs",
    "notify": "post a run's summary to a WeCom group robot",
    "check": "validate the rollout plan, report parameters and loaded data",
}


def date_option(value: str, option: str, *, source: str, fix: str = "Write the date as YYYY-MM-DD.") -> dt.date:
    """``value`` of a date option (``--since``, ``--as-of`` …) as a date; anything else is exit 2 naming it."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(source, [Problem(option, value, "a date YYYY-MM-DD", fix)]) from None
