"""Fit markdown into a group robot's byte limit, shortening at line boundaries first.

WeCom takes at most 4096 UTF-8 bytes of markdown (reference §10.1). :func:`fit_markdown`
drops list items (in a summary, the alerts) before it shortens anything else, counts what it
dropped in one "…另有 N 条提醒" / "… N more alerts" line, and never cuts a character in half.
"""

from __future__ import annotations

import re

from wecom_eval.wecom.robot import MARKDOWN_MAX_BYTES

MIN_LINE_BYTES = 60  # fit_markdown shortens no line below this before it drops lines
# The "more alerts" line in each language; _MORE reads either back, so that fitting again adds to its count.
MORE: dict[str, str] = {
    "zh": "…另有 {n} 条提醒，见完整报告",
    "en": "… {n} more {alerts} in the full report",
}
_MORE = re.compile(r"^(?:…另有 (?P<zh>\d+) 条提醒|… (?P<en>\d+) more alerts?).*$")
ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s")  # a markdown list item
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def utf8_bytes(value: str) -> int:
    """The UTF-8 size of ``value`` (what WeCom counts)."""
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


def more_line(count: int, language: str) -> str:
    """The line that counts ``count`` alerts the summary leaves out."""
    return MORE[language].format(n=count, alerts="alert" if count == 1 else "alerts")


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
    if utf8_bytes(text_) <= limit:
        return text_
    language = language or ("zh" if _CJK.search(text_) else "en")
    if language not in MORE:
        raise ValueError(f"language must be one of {tuple(MORE)}, got {language!r}")
    lines = text_.split("\n")
    lines = _drop_items(lines, limit, language)
    if utf8_bytes("\n".join(lines)) <= limit:
        return "\n".join(lines)
    lines = _shorten_lines(lines, limit)
    while len(lines) > 1 and utf8_bytes("\n".join(lines)) > limit:
        lines.pop()
    return cut_utf8("\n".join(lines), limit)


def _drop_items(lines: list[str], limit: int, language: str) -> list[str]:
    """Step 1 of :func:`fit_markdown`: the fewest trailing list items to drop, and the count line."""
    items = [i for i, line in enumerate(lines) if ITEM.match(line)]
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
                out.append(more_line(already + k, language))
            if i in dropped or i == more_at:
                continue
            out.append(line)
        best = out
        if utf8_bytes("\n".join(out)) <= limit:
            break
    return best


def _shorten_lines(lines: list[str], limit: int) -> list[str]:
    """Step 2 of :func:`fit_markdown`: cut the longest lines, never below MIN_LINE_BYTES."""
    lines = list(lines)
    excess = utf8_bytes("\n".join(lines)) - limit
    while excess > 0:
        sizes = [utf8_bytes(line) for line in lines]
        longest = max(range(len(lines)), key=sizes.__getitem__)
        if sizes[longest] <= MIN_LINE_BYTES:
            break
        keep = max(MIN_LINE_BYTES, sizes[longest] - excess) - utf8_bytes("…")
        shorter = cut_utf8(lines[longest], keep).rstrip() + "…"
        if utf8_bytes(shorter) >= sizes[longest]:
            break  # nothing left to gain here; step 3 drops lines
        lines[longest] = shorter
        excess = utf8_bytes("\n".join(lines)) - limit
    return lines


__all__ = ["ITEM", "MIN_LINE_BYTES", "MORE", "cut_utf8", "fit_markdown", "more_line", "utf8_bytes"]
