"""Post a report run's summary to a WeCom group robot.

A run folder ``reports/<report>/<as_of>/`` holds ``kpis.json`` (the five targets with their
verdicts, the KPIs and the alerts; see ``docs/reports.md``) and ``manifest.json`` (how the
run ended). From them this module composes:

1. **one markdown message** (:func:`summary_markdown`): the report and its period, the five
   targets with estimate, interval, target and a coloured verdict, the most urgent alerts,
   and where the full report lives — a path, or ``$WECOM_EVAL_REPORTS_URL`` followed by the
   report's path under ``reports/`` when that variable is set. It is made to fit WeCom's
   4096 UTF-8 bytes by :func:`fit_markdown`, which drops alerts (saying how many) before it
   shortens anything else and never cuts a character in half;
2. optionally **the scorecard as an image** (:func:`scorecard_png`; ``msgtype`` ``image``
   with the PNG's base64 and md5, at most 2 MB before base64 — reference §10.1).

:func:`notify_run` (one run) and :func:`notify_runs` (several, sharing one robot's
20-messages-a-minute budget) post them through :class:`~wecom_eval.wecom.WecomClient`,
which waits for the robot's window rather than fail, retries what is safe to retry, and
raises :class:`~wecom_eval.wecom.WecomApiError` (exit 3) for a permanent refusal (93000: the
key is wrong or the robot was removed; 40058: a malformed message). The webhook key is
registered for redaction before anything is sent, so no log line, message or error shows it.

WeCom markdown (reference §10.1) knows headings, ``**bold**``, links, inline code, ``>``
quotes and ``<font color="info|comment|warning">`` (green, grey, orange-red). The verdicts
use them: met → info, missed → warning, not yet shown and not measured → comment. Text
that comes from the report's data (labels, alert subjects and messages, notes, the period)
goes through :func:`~wecom_eval.reporting.safe_text.robot_markdown`, so none of it can
mention (``<@…>``), link or format.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from wecom_eval import text
from wecom_eval.errors import InputError, Problem, SourceError, WecomEvalError
from wecom_eval.reporting.records import TARGET_IDS
from wecom_eval.reporting.safe_text import chart_label, robot_markdown
from wecom_eval.reporting.tables import format_interval, format_kpi_value
from wecom_eval.wecom.client import FILE_MAX_BYTES, FILE_MIN_BYTES, MARKDOWN_MAX_BYTES, WecomClient
from wecom_eval.wecom.credentials import DEFAULT_BASE, ENV_BASE, Credentials
from wecom_eval.wecom.errors import WecomApiError
from wecom_eval.wecom.redact import install_log_redaction, redact, register_secret

log = logging.getLogger("wecom_eval.notify")

ENV_KEY = "WECOM_WEBHOOK_KEY"
ENV_REPORTS_URL = "WECOM_EVAL_REPORTS_URL"
WEBHOOK_KEY_INVALID = 93000  # reference §10.1: bad or removed robot key
IMAGE_MAX_BYTES = 2 * 1024 * 1024  # reference §10.1: image ≤ 2 MB before base64, JPG or PNG
DEFAULT_MAX_ALERTS = 5  # alerts listed in the summary, most urgent first
ATTACHMENTS = ("tables.xlsx", "deck.pptx")  # the run's files a group gets with files=True (the deck: quarterly)
NOTE_MAX_CHARS = 60  # a target's note is cut to this many characters
MIN_LINE_BYTES = 60  # fit_markdown shortens no line below this before it drops lines
VERDICT_FONT: dict[str, str] = {
    "met": "info",
    "missed": "warning",
    "not_yet_shown": "comment",
    "not_measured": "comment",
}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_IMAGE_DPIS = (160, 110, 80)  # tried in turn until the PNG is within IMAGE_MAX_BYTES

Language = Literal["zh", "en"]

# The summary's own words; report titles, target labels and verdicts come from wecom_eval/strings.yaml.
_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "as_of": "报告日期 {as_of}",
        "data": "数据 {start} 至 {end}",
        "data_to": "数据截至 {end}",
        "incomplete": "（本期尚未结束）",
        "targets": "**五项目标**",
        "target": "目标 {value}",
        "deadline": "，截止 {deadline}",
        "interval": "{p} 区间 {interval}",
        "alerts": "**提醒**（共 {n} 条，最紧急的在前）",
        "no_alerts": "**提醒**：无",
        "full": "完整报告：{where}",
        "more": "…另有 {n} 条提醒，见完整报告",
        "sep": "，",
        "colon": "：",
        "legend": "红色虚线：目标；灰线：{p} 区间；圆点颜色：判定",
    },
    "en": {
        "as_of": "as of {as_of}",
        "data": "data {start} to {end}",
        "data_to": "data to {end}",
        "incomplete": " (period not over yet)",
        "targets": "**The five targets**",
        "target": "target {value}",
        "deadline": " by {deadline}",
        "interval": "{p} interval {interval}",
        "alerts": "**Alerts** ({n}, most urgent first)",
        "no_alerts": "**Alerts**: none",
        "full": "Full report: {where}",
        "more": "… {n} more {alerts} in the full report",
        "sep": ", ",
        "colon": ": ",
        "legend": "red dashes: target; grey line: {p} interval; dot colour: verdict",
    },
}
# The "more alerts" line in either language, so that fit_markdown can add to its count.
_MORE = re.compile(r"^(?:…另有 (?P<zh>\d+) 条提醒|… (?P<en>\d+) more alerts?).*$")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


# ---- reading a run ------------------------------------------------------------------------------
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


# ---- the markdown summary -----------------------------------------------------------------------
def _cut_chars(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


def _target_line(kpi: Mapping[str, Any], *, language: str, same_language: bool) -> str:
    w = _WORDS[language]
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
    return _compose(read_run(run_dir), language=language, link_base=link_base, max_alerts=max_alerts)


def _compose(run: Run, *, language: str | None, link_base: str | None, max_alerts: int | None) -> str:
    doc = run.kpis
    language = language or doc["language"]
    if language not in _WORDS:
        raise ValueError(f"language must be one of {tuple(_WORDS)}, got {language!r}")
    same = language == doc["language"]
    w = _WORDS[language]
    period = doc["period"]
    title = text.report_title(doc["report"], language)
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
                message = f"{subject}{_WORDS[doc['language']]['colon']}{message}"
            lines.append(f"- {robot_markdown(message)}")
        if len(alerts) > len(shown):
            lines.append(_more_line(len(alerts) - len(shown), language))
    lines.append("")
    where = report_location(run.folder, link_base=link_base)
    shown_where = f"[{run.report}/{run.as_of}/report.html]({where})" if "://" in where else f"`{where}`"
    lines.append(w["full"].format(where=shown_where))
    return "\n".join(lines)


# ---- fitting WeCom's byte limit ------------------------------------------------------------------
def _bytes(value: str) -> int:
    return len(value.encode("utf-8"))


def cut_utf8(value: str, limit: int) -> str:
    """The longest prefix of ``value`` of at most ``limit`` UTF-8 bytes (whole characters only).

    Examples
    --------
    >>> cut_utf8("周报ok", 4), cut_utf8("周报ok", 6), cut_utf8("周报ok", 7)
    ('周', '周报', '周报o')
    """
    if limit <= 0:
        return ""
    raw = value.encode("utf-8")
    if len(raw) <= limit:
        return value
    return raw[:limit].decode("utf-8", errors="ignore")  # drops only a partial last character


def _more_line(count: int, language: str) -> str:
    return _WORDS[language]["more"].format(n=count, alerts="alert" if count == 1 else "alerts")


def fit_markdown(text_: str, limit: int = MARKDOWN_MAX_BYTES, *, language: str | None = None) -> str:
    """``text_`` within ``limit`` UTF-8 bytes, shortened at line boundaries first.

    In order, until it fits:

    1. **drop list items** (lines starting ``- ``, ``* ``, ``+ `` or ``1. ``; in a summary,
       the alerts), the last first, counting them in one "…另有 N 条提醒" / "… N more alerts"
       line where they were (an existing such line has its count raised);
    2. **shorten the longest line** by cutting its end (whole characters) and adding "…",
       none below :data:`MIN_LINE_BYTES` bytes;
    3. **drop lines from the end**, keeping the first;
    4. cut what is left to ``limit`` bytes (whole characters).

    Parameters
    ----------
    text_
        Markdown; returned unchanged when it fits.
    limit
        Bytes allowed (WeCom markdown: 4096).
    language
        Language of the "more alerts" line; default Chinese when the text has CJK characters.

    Examples
    --------
    >>> md = ("# Weekly\\n- sales: behind path since week 3\\n- legal: no data in week 6\\n"
    ...       "- HR: 4 not registered\\nFull report: x")
    >>> fit_markdown(md, 100)
    '# Weekly\\n- sales: behind path since week 3\\n… 2 more alerts in the full report\\nFull report: x'
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1 byte, got {limit}")
    if _bytes(text_) <= limit:
        return text_
    language = language or ("zh" if _CJK.search(text_) else "en")
    if language not in _WORDS:
        raise ValueError(f"language must be one of {tuple(_WORDS)}, got {language!r}")
    lines = text_.split("\n")
    lines = _drop_items(lines, limit, language)
    if _bytes("\n".join(lines)) <= limit:
        return "\n".join(lines)
    lines = _shorten_lines(lines, limit)
    while len(lines) > 1 and _bytes("\n".join(lines)) > limit:
        lines.pop()
    return cut_utf8("\n".join(lines), limit)


def _drop_items(lines: list[str], limit: int, language: str) -> list[str]:
    """Step 1 of :func:`fit_markdown`: the fewest trailing list items to drop, and the count line."""
    items = [i for i, line in enumerate(lines) if _ITEM.match(line)]
    if not items:
        return lines
    more_at = next((i for i, line in enumerate(lines) if _MORE.match(line)), None)
    already = 0
    if more_at is not None:
        m = _MORE.match(lines[more_at])
        already = int(m.group("zh") or m.group("en")) if m else 0
    best = lines
    for k in range(1, len(items) + 1):
        dropped = set(items[-k:])
        anchor = items[-k]  # the "more" line takes the first dropped item's place
        out: list[str] = []
        for i, line in enumerate(lines):
            if i == anchor:
                out.append(_more_line(already + k, language))
            if i in dropped or i == more_at:
                continue
            out.append(line)
        best = out
        if _bytes("\n".join(out)) <= limit:
            break
    return best


def _shorten_lines(lines: list[str], limit: int) -> list[str]:
    """Step 2 of :func:`fit_markdown`: cut the longest lines, never below MIN_LINE_BYTES."""
    lines = list(lines)
    excess = _bytes("\n".join(lines)) - limit
    while excess > 0:
        sizes = [_bytes(line) for line in lines]
        longest = max(range(len(lines)), key=sizes.__getitem__)
        if sizes[longest] <= MIN_LINE_BYTES:
            break
        keep = max(MIN_LINE_BYTES, sizes[longest] - excess) - _bytes("…")
        shorter = cut_utf8(lines[longest], keep).rstrip() + "…"
        if _bytes(shorter) >= sizes[longest]:
            break  # nothing left to gain here; step 3 drops lines
        lines[longest] = shorter
        excess = _bytes("\n".join(lines)) - limit
    return lines


# ---- the scorecard image ---------------------------------------------------------------------------
def scorecard_png(kpis: Mapping[str, Any], *, language: str | None = None, max_bytes: int = IMAGE_MAX_BYTES) -> bytes:
    """The five targets as a PNG: per target its interval, estimate (coloured by verdict) and target.

    Drawn with the package's figure theme (:func:`wecom_eval.reporting.figures.use_theme`);
    rendered again at a lower resolution when the PNG would exceed ``max_bytes``.

    Raises
    ------
    wecom_eval.reporting.figures.FontMissing
        When no CJK font is installed (Chinese labels would render as boxes).
    ValueError
        When even the lowest resolution exceeds ``max_bytes``.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    from wecom_eval.reporting import figures

    language = language or str(kpis["language"])
    if language not in _WORDS:
        raise ValueError(f"language must be one of {tuple(_WORDS)}, got {language!r}")
    same = language == kpis["language"]
    figures.use_theme()
    fig = Figure(figsize=(8.0, 1.05 * len(TARGET_IDS) + 0.9))
    axes = fig.subplots(len(TARGET_IDS), 1)
    for ax, kid in zip(axes, TARGET_IDS, strict=True):
        k = kpis["targets"][kid]
        unit = str(k.get("unit") or "share")
        verdict = k.get("verdict") or "not_measured"
        colour = figures.VERDICT_COLOURS.get(verdict, figures.VERDICT_COLOURS["not_measured"])
        label = (
            chart_label(k["label"], max_chars=60) if same and k.get("label") else text.lookup("targets", kid, language)
        )
        values = [
            v
            for v in (k.get("estimate"), k.get("ci_low"), k.get("ci_high"), k.get("target"))
            if isinstance(v, (int, float)) and math.isfinite(v)
        ]
        low, high = (
            (1.0, 5.0)
            if unit == "score"
            else (0.0, 1.0)
            if unit == "share"
            else (min(values, default=0.0), max(values, default=1.0))
        )
        low, high = min([low, *values]), max([high, *values])
        pad = 0.04 * (high - low or 1.0)
        ax.set_xlim(low - pad, high + pad)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.grid(axis="y", visible=False)
        if k.get("ci_low") is not None and k.get("ci_high") is not None:
            ax.hlines(0, k["ci_low"], k["ci_high"], color="#7a7a7a", linewidth=3)
        if k.get("target") is not None:
            ax.axvline(k["target"], linestyle="--", color=figures.TARGET_COLOUR, linewidth=1.5)
        if k.get("estimate") is not None:
            ax.scatter([k["estimate"]], [0], color=colour, s=90, zorder=3)
        shown = format_kpi_value(k.get("estimate"), unit)
        ax.set_title(f"{label}  {shown}", loc="left", fontsize=11)
        ax.text(
            1.0,
            1.08,
            text.verdict_label(verdict, language),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            color=colour,
            fontsize=11,
        )
        if unit in ("share", "relative_change"):
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    period = kpis["period"]["label"] if same else f"{kpis['period']['start']} – {kpis['period']['end']}"
    fig.suptitle(f"{text.report_title(str(kpis['report']), language)} · {period}", x=0.01, ha="left", fontsize=13)
    levels = {k.get("confidence") for k in kpis["targets"].values() if k.get("confidence")}
    level = f"{levels.pop():.0%}" if len(levels) == 1 else ""
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.text(
        0.01,
        0.005,
        _WORDS[language]["legend"].format(p=level).replace("  ", " "),
        fontsize=9,
        color="#555555",
        ha="left",
        va="bottom",
    )
    for dpi in _IMAGE_DPIS:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        data = buf.getvalue()
        if len(data) <= max_bytes:
            return data
    raise ValueError(
        f"the scorecard PNG is {len(data):,} bytes even at {_IMAGE_DPIS[-1]} dpi; WeCom accepts at most {max_bytes:,}"
    )


def image_body(image: bytes) -> dict[str, Any]:
    """The ``webhook/send`` body of an image message: base64 and md5 of the raw bytes.

    Raises
    ------
    ValueError
        When the bytes are not a PNG or JPEG, or exceed 2 MB (reference §10.1).
    """
    if not (image.startswith(_PNG_MAGIC) or image.startswith(_JPEG_MAGIC)):
        raise ValueError("a group robot accepts only PNG or JPEG images")
    if len(image) > IMAGE_MAX_BYTES:
        raise ValueError(
            f"the image is {len(image):,} bytes; WeCom accepts at most {IMAGE_MAX_BYTES:,} (before base64)"
        )
    return {
        "msgtype": "image",
        "image": {"base64": base64.b64encode(image).decode("ascii"), "md5": hashlib.md5(image).hexdigest()},
    }  # noqa: S324 (WeCom's checksum)


async def send_image(client: WecomClient, key: str, image: bytes) -> dict[str, Any]:
    """Post an image message to a group robot through the client's limiter and retry rules."""
    return await client.webhook_post(key, image_body(image))


async def send_file(client: WecomClient, key: str, path: Path, *, filename: str) -> dict[str, Any]:
    """Upload a file to the robot and post it as a file message (the media id is the robot's own)."""
    media_id = await client.webhook_upload(key, filename=filename, content=path.read_bytes())
    return await client.webhook_post(key, {"msgtype": "file", "file": {"media_id": media_id}})


# ---- messages and sending ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """One ``webhook/send`` message: its type, the exact JSON body, and its size in bytes.

    ``size`` is the markdown's UTF-8 bytes, the image's bytes before base64, or the file's
    bytes. A ``file`` message carries the ``path`` it uploads first (``webhook/upload_media``)
    and the ``filename`` the group sees; its body gets the ``media_id`` when it is sent.
    """

    msgtype: Literal["markdown", "image", "file"]
    body: dict[str, Any]
    size: int
    path: Path | None = None
    filename: str | None = None

    @property
    def limit(self) -> int:
        return {"markdown": MARKDOWN_MAX_BYTES, "image": IMAGE_MAX_BYTES}.get(self.msgtype, FILE_MAX_BYTES)

    @property
    def content(self) -> str | None:
        """The markdown text (None for an image)."""
        return self.body["markdown"]["content"] if self.msgtype == "markdown" else None

    def describe(self) -> str:
        """One line: type, size against the limit (and md5 for an image)."""
        if self.msgtype == "markdown":
            return f"markdown, {self.size:,} of {self.limit:,} bytes"
        if self.msgtype == "file":
            return f"file {self.filename}, {self.size:,} of {self.limit:,} bytes"
        image = self.body["image"]
        return (
            f"image (scorecard PNG), {self.size:,} of {self.limit:,} bytes, md5 {image['md5']}, "
            f"base64 {len(image['base64']):,} characters (not shown)"
        )


@dataclass(frozen=True)
class NotifyResult:
    """What :func:`notify_run` sent (or, with ``dry_run``, would send) for one run."""

    run_dir: Path
    report: str
    as_of: str
    messages: tuple[Message, ...]
    posted: int = 0
    dry_run: bool = False
    alerts: int = 0  # alerts in kpis.json
    alerts_listed: int = 0  # of which the markdown lists
    warnings: tuple[str, ...] = ()

    @property
    def markdown(self) -> str:
        return next(m.content or "" for m in self.messages if m.msgtype == "markdown")

    def summary(self) -> str:
        """One line for the terminal or a log (never the key)."""
        parts = ", ".join(m.describe().split(", md5")[0] for m in self.messages)
        verb = "would post" if self.dry_run else f"posted {self.posted} of {len(self.messages)}:"
        return f"{self.report} {self.as_of}: {verb} {parts}"

    def preview(self) -> str:
        """Exactly what would be sent: each markdown in full, each image described."""
        out = []
        for i, m in enumerate(self.messages, 1):
            out.append(f"--- {self.report} {self.as_of} · message {i} of {len(self.messages)}: {m.describe()} ---")
            if m.content is not None:
                out.append(m.content)
        return "\n".join(out)


def file_message(path: Path, *, report: str, as_of: str) -> Message:
    """A file message for one of a run's files, checked against the robot's size limits.

    Raises :class:`InputError` (exit 2, nothing sent) for a file WeCom would refuse.
    """
    size = path.stat().st_size
    if not FILE_MIN_BYTES <= size <= FILE_MAX_BYTES:
        raise InputError(
            str(path),
            [
                Problem(
                    "size",
                    f"{size:,} bytes",
                    f"more than 5 bytes and at most {FILE_MAX_BYTES:,} (20 MB)",
                    "A group robot cannot send this file: leave out --files and share the report's link instead.",
                )
            ],
        )
    return Message(
        "file",
        {"msgtype": "file", "file": {"media_id": None}},
        size,
        path=path,
        filename=f"{report}-{as_of}-{path.name}",
    )


def build_messages(
    run_dir: str | os.PathLike[str],
    *,
    image: bool = False,
    language: str | None = None,
    link_base: str | None = None,
    max_alerts: int | None = DEFAULT_MAX_ALERTS,
    files: bool = False,
) -> NotifyResult:
    """The messages for one run, checked and fitted, without sending anything (a dry run's result).

    The summary comes first, then the scorecard image (``image``), then the run's
    ``tables.xlsx`` and, where there is one, ``deck.pptx`` as file messages (``files``).
    """
    run = read_run(run_dir)
    full = _compose(run, language=language, link_base=link_base, max_alerts=max_alerts)
    lang = language or run.kpis["language"]
    markdown = fit_markdown(full, MARKDOWN_MAX_BYTES, language=lang)
    alerts = len(run.kpis.get("alerts") or [])
    listed = sum(1 for line in markdown.split("\n") if _ITEM.match(line))
    messages = [Message("markdown", {"msgtype": "markdown", "markdown": {"content": markdown}}, _bytes(markdown))]
    warnings: list[str] = []
    if markdown != full:
        warnings.append(
            f"the summary was {_bytes(full):,} bytes; shortened to {_bytes(markdown):,} "
            f"({alerts - listed} of {alerts} alerts not listed)"
        )
    if image:
        from wecom_eval.reporting.figures import FontMissing

        try:
            png = scorecard_png(run.kpis, language=lang)
        except (FontMissing, ValueError) as exc:
            warnings.append(f"no scorecard image: {exc}")
        else:
            messages.append(Message("image", image_body(png), len(png)))
    if files:
        messages.extend(
            file_message(run.folder / name, report=run.report, as_of=run.as_of)
            for name in ATTACHMENTS
            if (run.folder / name).is_file()
        )
    return NotifyResult(
        run.folder,
        run.report,
        run.as_of,
        tuple(messages),
        dry_run=True,
        alerts=alerts,
        alerts_listed=listed,
        warnings=tuple(warnings),
    )


class NotifyError(SourceError):
    """Posting failed part-way (exit 3); ``posted`` says what reached the group before."""

    def __init__(self, message: str, *, posted: Sequence[NotifyResult]) -> None:
        super().__init__(message)
        self.posted = list(posted)


def webhook_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The group robot's key from ``$WECOM_WEBHOOK_KEY`` (the key, or the whole webhook URL).

    The value is registered for redaction at once. None when the variable is unset or empty.

    Examples
    --------
    >>> webhook_key_from_env({"WECOM_WEBHOOK_KEY": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123-def"})
    'abc-123-def'
    """
    env = os.environ if environ is None else environ
    value = (env.get(ENV_KEY) or "").strip()
    if not value:
        return None
    register_secret(value)
    if "key=" in value:  # the whole URL pasted from the robot's settings
        found = parse_qs(urlsplit(value).query).get("key")
        if found and found[0].strip():
            value = found[0].strip()
    register_secret(value)
    return value


async def notify_runs_async(
    run_dirs: Iterable[str | os.PathLike[str]],
    *,
    key: str | None,
    client: WecomClient | None = None,
    image: bool = False,
    dry_run: bool = False,
    language: str | None = None,
    link_base: str | None = None,
    max_alerts: int | None = DEFAULT_MAX_ALERTS,
    base_url: str | None = None,
    files: bool = False,
) -> list[NotifyResult]:
    """:func:`notify_runs` for code already inside an event loop."""
    install_log_redaction(["wecom_eval.notify"])
    if key:
        register_secret(key)
    built = [
        build_messages(d, image=image, language=language, link_base=link_base, max_alerts=max_alerts, files=files)
        for d in run_dirs
    ]  # every run is read and checked before anything is sent
    for result in built:
        for warning in result.warnings:
            log.warning("%s %s: %s", result.report, result.as_of, warning)
    if dry_run:
        return built
    if not key:
        raise ValueError(f"a webhook key is required to post (set {ENV_KEY}); use dry_run=True to only compose")
    if client is None:
        base = base_url or os.environ.get(ENV_BASE, "").strip() or DEFAULT_BASE
        client = WecomClient(Credentials("", {}, base))
    done: list[NotifyResult] = []
    async with client:
        for result in built:
            posted = 0
            try:
                for message in result.messages:
                    if message.msgtype == "markdown":
                        await client.webhook_send(key, markdown=message.content)
                    elif message.msgtype == "file" and message.path is not None:
                        await send_file(client, key, message.path, filename=message.filename or message.path.name)
                    else:
                        await send_image(client, key, base64.b64decode(message.body["image"]["base64"]))
                    posted += 1
                    log.info("%s %s: posted %s to the group robot", result.report, result.as_of, message.describe())
            except WecomEvalError as exc:
                partial = replace(result, posted=posted, dry_run=False)
                before = [*done, partial] if posted else done
                hint = (
                    f" The key comes from {ENV_KEY}: set it to the key of a robot in the group."
                    if isinstance(exc, WecomApiError) and exc.errcode == WEBHOOK_KEY_INVALID
                    else ""
                )
                what = (
                    "Posted before the failure: " + "; ".join(r.summary() for r in before) + "."
                    if before
                    else "Nothing was posted."
                )
                raise NotifyError(redact(f"{exc}{hint} {what}"), posted=before) from None
            done.append(replace(result, posted=posted, dry_run=False))
    return done


def notify_runs(
    run_dirs: Iterable[str | os.PathLike[str]],
    *,
    key: str | None,
    client: WecomClient | None = None,
    image: bool = False,
    dry_run: bool = False,
    language: str | None = None,
    link_base: str | None = None,
    max_alerts: int | None = DEFAULT_MAX_ALERTS,
    base_url: str | None = None,
    files: bool = False,
) -> list[NotifyResult]:
    """Post the summaries of several runs to one group robot, in order, within its 20 a minute.

    Every run folder is read and checked first, so a bad one stops the batch before any
    message is posted. One client carries all the messages, so the robot's window is
    shared: a 21st message within a minute waits for its turn.

    Parameters
    ----------
    run_dirs
        Run folders ``reports/<report>/<as_of>``.
    key
        The group robot's key (from ``$WECOM_WEBHOOK_KEY``: :func:`webhook_key_from_env`);
        may be None with ``dry_run``.
    client
        A :class:`WecomClient` not yet opened (this function opens and closes it); default
        one for ``base_url`` (default ``$WECOM_API_BASE``, else WeCom).
    image
        Also post the scorecard as an image (skipped, with a warning, when it cannot be drawn).
    files
        Also send the run's ``tables.xlsx`` (and the quarterly ``deck.pptx``) as file messages,
        after the summary: each is uploaded (``webhook/upload_media``) and then posted.
    dry_run
        Compose and check, send nothing, need no key.
    language, link_base, max_alerts
        As in :func:`summary_markdown`.

    Raises
    ------
    InputError
        A run folder is missing, failed, or its kpis.json is broken (exit 2; nothing sent).
    NotifyError
        WeCom refused a message or could not be reached after the retries (exit 3); the
        message says what was posted before.
    """
    return asyncio.run(
        notify_runs_async(
            run_dirs,
            key=key,
            client=client,
            image=image,
            dry_run=dry_run,
            language=language,
            link_base=link_base,
            max_alerts=max_alerts,
            base_url=base_url,
            files=files,
        )
    )


def notify_run(
    run_dir: str | os.PathLike[str],
    *,
    key: str | None,
    client: WecomClient | None = None,
    image: bool = False,
    dry_run: bool = False,
    language: str | None = None,
    link_base: str | None = None,
) -> NotifyResult:
    """Post one run's summary (and optionally its scorecard image); see :func:`notify_runs`."""
    return notify_runs(
        [run_dir], key=key, client=client, image=image, dry_run=dry_run, language=language, link_base=link_base
    )[0]


__all__ = [
    "DEFAULT_MAX_ALERTS",
    "ENV_KEY",
    "ENV_REPORTS_URL",
    "IMAGE_MAX_BYTES",
    "Message",
    "NotifyError",
    "NotifyResult",
    "Run",
    "build_messages",
    "cut_utf8",
    "file_message",
    "fit_markdown",
    "image_body",
    "notify_run",
    "notify_runs",
    "notify_runs_async",
    "read_run",
    "report_location",
    "scorecard_png",
    "send_file",
    "send_image",
    "summary_markdown",
    "webhook_key_from_env",
]
