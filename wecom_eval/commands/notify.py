"""``wecom-eval notify --run reports/<report>/<as_of>``: post a run's summary to a WeCom group robot.

One markdown message (at most 4096 bytes; a longer summary lists fewer alerts and says how
many it left out) with the five targets, their verdicts, the top alerts and where the full
report lives (``$WECOM_EVAL_REPORTS_URL`` + the report's path when set, else its path);
with ``--image`` also the scorecard as a PNG; with ``--files`` also the run's ``tables.xlsx``
(and the quarterly ``deck.pptx``) as file messages after the summary (uploaded to the robot
first; at most 20 MB each). At most 20 messages a minute per robot: more wait their turn.

The robot's key comes only from the environment: ``WECOM_WEBHOOK_KEY`` (the key, or the
whole webhook URL). ``WECOM_API_BASE`` points elsewhere than WeCom (the fake server).
Exit codes: 0 posted (or, with --dry-run, composed); 2 no key, or a run folder that is
missing, failed or broken (nothing sent); 3 WeCom refused a message (93000: wrong key or
robot removed) or could not be reached after retries.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from wecom_eval.commands import SUMMARIES
from wecom_eval.errors import InputError, Problem, SourceError, WecomEvalError
from wecom_eval.home import Home
from wecom_eval.reporting.summary import DEFAULT_MAX_ALERTS, ENV_REPORTS_URL, compose, read_run
from wecom_eval.reporting.summary_fit import ITEM, fit_markdown, utf8_bytes
from wecom_eval.wecom.client import WecomClient
from wecom_eval.wecom.credentials import DEFAULT_BASE, ENV_BASE, Credentials
from wecom_eval.wecom.errors import WecomApiError
from wecom_eval.wecom.redact import install_log_redaction, redact, register_secret
from wecom_eval.wecom.robot import (
    ENV_KEY,
    MARKDOWN_MAX_BYTES,
    WEBHOOK_KEY_INVALID,
    GroupRobot,
    Message,
    webhook_key_from_env,
)

log = logging.getLogger(__name__)

ATTACHMENTS = ("tables.xlsx", "deck.pptx")  # the run's files a group gets with files=True (the deck: quarterly)

DESCRIPTION = """\
Post a report run's summary to a WeCom group robot: one markdown message of at most 4096
bytes with the five targets, their verdicts, the top alerts and where the full report
lives ($WECOM_EVAL_REPORTS_URL plus the report's path when set, else its path). A longer
summary lists fewer alerts and says how many it left out. --image adds the scorecard as a
picture; --files adds the run's tables.xlsx (and the quarterly deck.pptx) as files of at
most 20 MB. At most 20 messages a minute go to one robot; more wait their turn.

The robot's key comes only from the environment: WECOM_WEBHOOK_KEY (the key, or the whole
webhook URL). WECOM_API_BASE points elsewhere than WeCom (the fake server).

Exit status: 0 posted (or composed, with --dry-run); 2 no key, or a run folder that is
missing, failed or broken (nothing sent); 3 WeCom refused a message (93000: wrong key or
robot removed) or could not be reached after retries.
"""

EXAMPLES = """\
examples:
  wecom-eval notify --run reports/weekly/2026-05-25 --dry-run
  WECOM_WEBHOOK_KEY=… wecom-eval notify --run reports/weekly/2026-05-25 --image
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "notify",
        help=SUMMARIES["notify"],
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--run",
        dest="runs",
        action="append",
        required=True,
        metavar="DIR",
        help="a run folder reports/<report>/<as_of> (relative to here or to the home); repeat for several runs",
    )
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print exactly what would be sent; send nothing (no key needed)",
    )
    p.add_argument("--image", action="store_true", help="also post the scorecard as an image")
    p.add_argument(
        "--files",
        action="store_true",
        help="also send the run's tables.xlsx (and the quarterly deck.pptx) as file messages",
    )
    p.add_argument("--language", choices=("zh", "en"), help="summary language (default: the report's)")
    p.set_defaults(func=run)


def resolve_run_dir(value: str, home: Home) -> str:
    """``value`` as given when it is a folder, else under the home, else under its ``reports/``."""
    for candidate in (Path(value), home.root / value, home.reports / value):
        if candidate.is_dir():
            return str(candidate)
    raise InputError(
        "options",
        [
            Problem(
                "--run",
                value,
                "a run folder reports/<report>/<as_of>",
                f"No such folder here, in {home.root} or in {home.reports}. List them with: ls reports/*/",
            )
        ],
    )


def run(args: argparse.Namespace) -> int:
    home = Home.from_env()
    run_dirs = [resolve_run_dir(value, home) for value in args.runs]
    key = webhook_key_from_env()
    if key is None and not args.dry_run:
        raise InputError(
            "WeCom group robot",
            [
                Problem(
                    f"environment variable {ENV_KEY}",
                    None,
                    "the group robot's webhook key",
                    "In the group: 群设置 → 消息推送 (群机器人) → the robot → copy its webhook URL; put the URL or its "
                    f"key= value in {ENV_KEY} (an environment file of mode 0600, never a command-line argument). "
                    "Or use --dry-run to see the message without sending it.",
                )
            ],
        )
    results = notify_runs(
        run_dirs, key=key, image=args.image, dry_run=args.dry_run, language=args.language, files=args.files
    )
    for result in results:
        for warning in result.warnings:
            print(f"warning: {result.report} {result.as_of}: {warning}", file=sys.stderr)
        if args.dry_run:
            print(result.preview())
        else:
            print(result.summary())
    if args.dry_run:
        where = "" if key is not None else f" ({ENV_KEY} is not set)"
        print(f"dry run: nothing was sent{where}. Links use ${ENV_REPORTS_URL} when it is set.", file=sys.stderr)
    return 0


@dataclass(frozen=True)
class NotifyResult:
    """What :func:`notify_runs` sent (or, with ``dry_run``, would send) for one run."""

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
    full = compose(run, language=language, link_base=link_base, max_alerts=max_alerts)
    lang = language or run.kpis["language"]
    markdown = fit_markdown(full, MARKDOWN_MAX_BYTES, language=lang)
    alerts = len(run.kpis.get("alerts") or [])
    listed = sum(1 for line in markdown.split("\n") if ITEM.match(line))
    messages = [Message.markdown(markdown)]
    warnings: list[str] = []
    if markdown != full:
        warnings.append(
            f"the summary was {utf8_bytes(full):,} bytes; shortened to {utf8_bytes(markdown):,} "
            f"({alerts - listed} of {alerts} alerts not listed)"
        )
    if image:
        from wecom_eval.reporting.figures import FontMissing
        from wecom_eval.reporting.summary_image import scorecard_png

        try:
            png = scorecard_png(run.kpis, language=lang)
        except (FontMissing, ValueError) as exc:
            warnings.append(f"no scorecard image: {exc}")
        else:
            messages.append(Message.image(png))
    if files:
        messages.extend(
            Message.file(run.folder / name, filename=f"{run.report}-{run.as_of}-{name}")
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
        As in :func:`~wecom_eval.reporting.summary.summary_markdown`.

    Raises
    ------
    InputError
        A run folder is missing, failed, or its kpis.json is broken (exit 2; nothing sent).
    NotifyError
        WeCom refused a message or could not be reached after the retries (exit 3); the
        message says what was posted before.
    """
    install_log_redaction([__name__])
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
    return asyncio.run(post_runs(built, key=key, client=client, base_url=base_url))


async def post_runs(
    built: Sequence[NotifyResult], *, key: str, client: WecomClient | None = None, base_url: str | None = None
) -> list[NotifyResult]:
    """Post the messages :func:`build_messages` made, run after run, through one client.

    For code already inside an event loop; :func:`notify_runs` is the whole job.
    """
    if client is None:
        base = base_url or os.environ.get(ENV_BASE, "").strip() or DEFAULT_BASE
        client = WecomClient(Credentials("", {}, base))
    done: list[NotifyResult] = []
    robot = GroupRobot(client, key)
    async with client:
        for result in built:
            posted = 0
            try:
                for message in result.messages:
                    await robot.deliver(message)
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
