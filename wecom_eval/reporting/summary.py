"""A report run's summary for a WeCom group robot: one markdown message from ``kpis.json``.

A run folder ``reports/<report>/<as_of>/`` holds ``kpis.json`` (the five targets with their
verdicts, the KPIs and the alerts; see ``docs/reports.md``) and ``manifest.json`` (how the
run ended). :func:`summary_markdown` composes from them the report and its period, the five
targets with estimate, interval, target and a coloured verdict, the most urgent alerts, and
where the full report lives — a path, or ``$WECOM_EVAL_REPORTS_URL`` followed by the
report's path under ``reports/`` when that variable is set. :func:`~wecom_eval.reporting.summary_fit.fit_markdown`
makes it fit WeCom's 4096 bytes; :func:`~wecom_eval.reporting.summary_image.scorecard_png`
draws the same targets as an image; ``wecom-eval notify`` (:mod:`wecom_eval.commands.notify`)
sends them through :class:`~wecom_eval.wecom.robot.GroupRobot`.

WeCom markdown (reference §10.1) knows headings, ``**bold**``, links, inline code, ``>``
quotes and ``<font color="info|comment|warning">`` (green, grey, orange-red). The verdicts
use them: met → info, missed → warning, not yet shown and not measured → comment. Text
that comes from the report's data (labels, alert subjects and messages, notes, the period)
goes through :func:`~wecom_eval.reporting.safe_text.robot_markdown`, so none of it can
mention (``<@…>``), link or format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from wecom_eval import text
from wecom_eval.errors import InputError, Problem
from wecom_eval.reporting import registry
from wecom_eval.reporting.records import TARGET_IDS
from wecom_eval.reporting.safe_text import robot_markdown
from wecom_eval.reporting.summary_fit import more_line
from wecom_eval.reporting.tables import format_interval, format_kpi_value

ENV_REPORTS_URL = "WECOM_EVAL_REPORTS_URL"
DEFAULT_MAX_ALERTS = 5  # alerts listed in the summary, most urgent first
NOTE_MAX_CHARS = 60  # a target's note is cut to this many characters
VERDICT_FONT: dict[str, str] = {
    "met": "info",
    "missed": "warning",
    "not_yet_shown": "comment",
    "not_measured": "comment",
}


# The summary's own words; report titles, target labels and verdicts come from strings.yaml.
def words(language: str) -> dict[str, str]:
    """The summary's own words in ``language`` (the ``summary`` group of ``strings.yaml``), unformatted."""
    return {key: text.lookup("summary", key, language) for key in text.strings()["summary"]}


@dataclass(frozen=True)
class Run:
    """What a run folder says: its ``kpis.json`` document and its manifest (when present)."""

    folder: Path
    kpis: dict[str, Any]
    manifest: dict[str, Any] | None

    @property
    def report(self) -> str:
        return str(self.kpis["report"])

    @property
    def as_of(self) -> str:
        return str(self.kpis["as_of"])


def read_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read and check a run folder: a successful run with a ``kpis.json`` that follows its schema.

    Raises
    ------
    InputError
        When the folder is missing, the run failed, or ``kpis.json`` is missing, unreadable
        or does not follow ``kpis.schema.json`` (exit 2; nothing is sent).
    """
    from wecom_eval.reporting import kpis_json

    folder = Path(run_dir)
    subject = f"run folder {folder}"
    if not folder.is_dir():
        raise InputError(
            subject,
            [
                Problem(
                    "--run",
                    str(folder),
                    "a run folder reports/<report>/<as_of>",
                    "Give the folder a `wecom-eval run` wrote, e.g. reports/weekly/2026-04-13.",
                )
            ],
        )
    manifest = _read_json(folder / "manifest.json", subject, required=False)
    if manifest is not None and manifest.get("status") == "failed":
        raise InputError(
            subject,
            [
                Problem(
                    str(folder / "manifest.json"),
                    "status: failed",
                    "a run that succeeded",
                    f"The run failed ({manifest.get('error') or 'see its executed notebook'}); there is no summary to "
                    f"post. Fix the cause, rerun it (wecom-eval run {manifest.get('report', '<report>')} --as-of "
                    f"{manifest.get('as_of', '<date>')}), then notify again.",
                )
            ],
        )
    kpis = _read_json(folder / "kpis.json", subject, required=True) or {}
    found = kpis_json.problems(kpis)
    if found:
        raise InputError(
            subject,
            [
                Problem(
                    str(folder / "kpis.json"),
                    p,
                    "a document following kpis.schema.json",
                    "The run was written by another version of wecom-eval, or edited: rerun the report.",
                )
                for p in found[:20]
            ],
        )
    return Run(folder, kpis, manifest)


def _read_json(path: Path, subject: str, *, required: bool) -> dict[str, Any] | None:
    if not path.is_file():
        if not required:
            return None
        raise InputError(
            subject,
            [
                Problem(
                    str(path),
                    "(missing)",
                    f"the run's {path.name}",
                    "Run the report first (wecom-eval run REPORT --as-of DATE) and give its folder.",
                )
            ],
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            subject,
            [
                Problem(
                    str(path), type(exc).__name__, "readable UTF-8 JSON", "Rerun the report to write the file again."
                )
            ],
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            subject,
            [Problem(str(path), type(data).__name__, "a JSON object", "Rerun the report to write the file again.")],
        )
    return data


def _cut_chars(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


def _target_line(kpi: Mapping[str, Any], *, language: str, same_language: bool) -> str:
    w = words(language)
    kid = str(kpi["id"])
    label = (
        robot_markdown(kpi["label"]) if same_language and kpi.get("label") else text.lookup("targets", kid, language)
    )
    unit = str(kpi.get("unit") or "share")
    verdict = kpi.get("verdict") or "not_measured"
    verdict_text = text.verdict_label(verdict, language)
    head = (
        f'<font color="{VERDICT_FONT.get(verdict, "comment")}">{verdict_text}</font> **{label}**'
        f"{w['colon']}{format_kpi_value(kpi.get('estimate'), unit)}"
    )
    details = []
    if kpi.get("estimate") is not None and kpi.get("ci_low") is not None and kpi.get("ci_high") is not None:
        confidence = kpi.get("confidence")
        p = f"{confidence:.0%}" if isinstance(confidence, (int, float)) else ""
        interval = format_interval(kpi["ci_low"], kpi["ci_high"], unit)
        details.append(w["interval"].format(p=p, interval=interval).strip())
    target = w["target"].format(value=format_kpi_value(kpi.get("target"), unit))
    if kpi.get("deadline"):
        target += w["deadline"].format(deadline=kpi["deadline"])
    details.append(target)
    line = head + ("（" + w["sep"].join(details) + "）" if language == "zh" else " (" + "; ".join(details) + ")")
    note = kpi.get("note")
    if note and same_language:  # notes are in the report's language
        line += f' <font color="comment">{_cut_chars(robot_markdown(note), NOTE_MAX_CHARS)}</font>'
    return "> " + line


def report_location(run_dir: str | os.PathLike[str], *, link_base: str | None = None) -> str:
    """Where the full report lives: ``link_base`` + ``<report>/<as_of>/report.html``, or its path.

    ``link_base`` None reads ``$WECOM_EVAL_REPORTS_URL``; an empty string means "a path".

    Examples
    --------
    >>> report_location("reports/weekly/2026-04-13", link_base="https://bi.example.com/wecom/")
    'https://bi.example.com/wecom/weekly/2026-04-13/report.html'
    """
    folder = Path(run_dir)
    base = os.environ.get(ENV_REPORTS_URL, "") if link_base is None else link_base
    if base.strip():
        relative = "/".join(
            quote(part) for part in (folder.resolve().parent.name, folder.resolve().name, "report.html")
        )
        return f"{base.strip().rstrip('/')}/{relative}"
    return str((folder / "report.html").resolve())


def summary_markdown(
    run_dir: str | os.PathLike[str],
    *,
    language: str | None = None,
    link_base: str | None = None,
    max_alerts: int | None = DEFAULT_MAX_ALERTS,
) -> str:
    """The run's summary as WeCom markdown (before :func:`fit_markdown`; see the module notes).

    Parameters
    ----------
    run_dir
        The run folder ``reports/<report>/<as_of>``.
    language
        ``zh`` or ``en``; default the report's own. Alert messages and notes are always in the
        report's language (they are written by the report).
    link_base
        Base URL under which ``reports/`` is served; default ``$WECOM_EVAL_REPORTS_URL``; with
        neither, the summary gives the path of ``report.html``.
    max_alerts
        Alerts listed (most urgent first, as the report ordered them); the others are
        counted in a "… N more alerts" line. None lists them all.

    Returns
    -------
    str
        Markdown, one line per target and per alert; it may exceed 4096 bytes when the
        alerts are many or long (:func:`fit_markdown` shortens it).
    """
    return compose(read_run(run_dir), language=language, link_base=link_base, max_alerts=max_alerts)


def compose(run: Run, *, language: str | None, link_base: str | None, max_alerts: int | None) -> str:
    doc = run.kpis
    language = language or doc["language"]
    same = language == doc["language"]
    w = words(language)  # refuses a language the table does not have
    period = doc["period"]
    title = registry.title(doc["report"], language)
    label = robot_markdown(period["label"]) if same else f"{period['start']} – {period['end']}"
    lines = [f"# {title} · {label}{'' if period['complete'] else w['incomplete']}"]
    window = doc["data_window"]
    data = (
        w["data"].format(start=window["start"], end=window["end"])
        if window.get("start")
        else w["data_to"].format(end=window["end"])
    )
    lines.append(f'<font color="comment">{w["as_of"].format(as_of=doc["as_of"])} · {data}</font>')
    lines += ["", w["targets"]]
    for kid in TARGET_IDS:
        lines.append(_target_line(doc["targets"][kid], language=language, same_language=same))
    lines.append("")
    alerts = list(doc.get("alerts") or [])
    if not alerts:
        lines.append(w["no_alerts"])
    else:
        lines.append(w["alerts"].format(n=len(alerts)))
        shown = alerts if max_alerts is None else alerts[: max(max_alerts, 0)]
        for alert in shown:
            message = alert.get("message") or text.lookup("kinds", str(alert.get("kind")), doc["language"])
            subject = alert.get("subject")
            if subject and str(subject) not in str(message):
                message = f"{subject}{text.lookup('summary', 'colon', doc['language'])}{message}"
            lines.append(f"- {robot_markdown(message)}")
        if len(alerts) > len(shown):
            lines.append(more_line(len(alerts) - len(shown), language))
    lines.append("")
    where = report_location(run.folder, link_base=link_base)
    shown_where = f"[{run.report}/{run.as_of}/report.html]({where})" if "://" in where else f"`{where}`"
    lines.append(w["full"].format(where=shown_where))
    return "\n".join(lines)


__all__ = [
    "DEFAULT_MAX_ALERTS",
    "ENV_REPORTS_URL",
    "Run",
    "compose",
    "read_run",
    "report_location",
    "summary_markdown",
    "words",
]
