"""Text from data made inert, one function per output format.

Department and employee names, survey answers, ticket categories, mapping-file values: any
of them may hold markup. Every writer of a report output passes such text through the one
function for its format, and nowhere else escapes:

* :func:`html` — report pages and the index (which also carry :data:`CSP_META`, a
  Content-Security-Policy that forbids every script) (``<``, ``>``, ``&``, quotes as entities);
* :func:`notes_html` — the report's own short markdown (``**bold**``, ``*italic*``, ``- ``
  lists) turned into HTML after escaping everything, so no tag, attribute or link can come
  from the text; text from data placed into a note first goes through :func:`note_field`, so
  it cannot add emphasis either;
* :func:`robot_markdown` — the group robot's markdown: characters that make mentions
  (``<@…>``), links, font tags or formatting are replaced by their full-width look-alikes;
* :func:`xlsx` — a text cell and whether it needs Excel's invisible "quote prefix" (text
  that starts like a formula: ``=``, ``+``, ``-``, ``@``);
* :func:`pptx` and :func:`chart_label` — slide text and figure labels (no mathtext).

All of them first apply :func:`clean`: control characters (tab, CR and LF included) become
a space, invisible format characters (bidirectional overrides and isolates, zero-width
spaces and joiners, the byte-order mark) are removed so that no text can reorder or hide
what is shown next to it, and very long text is cut with "…".
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from typing import Any

# Report pages run no script and load nothing: only inline styles and embedded (data:) images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
MAX_CHARS = 2000  # what any one shown text may hold; longer text is cut with "…"
LABEL_CHARS = 40  # figure labels
XLSX_MAX_CHARS = 32767  # Excel's limit for one cell
FORMULA_PREFIXES = ("=", "+", "-", "@")
ELLIPSIS = "…"
# The robot's markdown: what makes a tag, mention, link, code, quote, heading or emphasis.
_ROBOT = str.maketrans(
    {"<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "_": "＿", "`": "｀", "#": "＃", "~": "～", "\\": "＼"}
)
_URL = re.compile(r"(?i)\b(javascript|vbscript|data|file)\s*:|://")
_SPACES = re.compile(r"\s+")


def _keep(ch: str) -> bool:
    """Whether a character may be shown: not a format (Cf) character such as U+202E or U+200B."""
    return unicodedata.category(ch) != "Cf"


def clean(value: Any, *, max_chars: int = MAX_CHARS) -> str:
    """``value`` as one line of visible text: controls become spaces, format characters go.

    Examples
    --------
    >>> clean("销售\\t部\\r\\n华东")
    '销售 部 华东'
    >>> clean("abc\\u202edcba\\u200b!")
    'abcdcba!'
    >>> clean("x" * 10, max_chars=5)
    'xxxx…'
    """
    s = "".join(ch if _keep(ch) else "" for ch in str(value))
    s = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in s)
    s = _SPACES.sub(" ", s).strip()
    if len(s) > max_chars:
        s = s[: max(max_chars - 1, 0)].rstrip() + ELLIPSIS
    return s


def html(value: Any, *, max_chars: int = MAX_CHARS) -> str:
    """Text for an HTML page, element content or quoted attribute alike.

    >>> html('<img src=x onerror="alert(2)">')
    '&lt;img src=x onerror=&quot;alert(2)&quot;&gt;'
    """
    return _html.escape(clean(value, max_chars=max_chars), quote=True)


def inline_html(value: Any) -> str:
    """One line of the report's own markdown as HTML: escaped, then ``**bold**`` and ``*italic*``.

    >>> inline_html("**met** <i>x</i>")
    '<strong>met</strong> &lt;i&gt;x&lt;/i&gt;'
    """
    parts = html(value).split("**")
    if len(parts) % 2 == 0:  # unpaired: leave the last marker as text
        parts[-2:] = ["**".join(parts[-2:])]
    out = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    return re.sub(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", out)


def notes_html(markdown: str, *, small: bool = False) -> str:
    """The report's own short markdown as HTML, with every character of it escaped first.

    Paragraphs are separated by blank lines; lines starting with ``- `` form a list;
    ``**bold**`` and ``*italic*`` are kept. Nothing else is markup: no raw HTML, no links,
    no headings, so text from data inside a note stays text.

    Examples
    --------
    >>> notes_html("**61%** of <b>sales</b>\\n- [x](javascript:alert(1))")
    '<p><strong>61%</strong> of &lt;b&gt;sales&lt;/b&gt;</p>\\n<ul><li>[x](javascript:alert(1))</li></ul>'
    """
    blocks: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append("<p>" + " ".join(inline_html(p) for p in para) + "</p>")
            para.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in str(markdown).splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith(("- ", "* ")):
            if para:
                flush()
            items.append(stripped[2:])
        else:
            if items:
                flush()
            para.append(stripped)
    flush()
    body = "\n".join(blocks)
    return f"<small>{body}</small>" if small else body


def note_field(value: str) -> str:
    """Text from data placed into a note's markdown: one line (:func:`clean`), and its ``*``
    become "∗" (U+2217), never emphasis.

    >>> note_field("**销售部**\\n- 第二行")
    '∗∗销售部∗∗ - 第二行'
    """
    return clean(value).replace("*", "\u2217")


def robot_markdown(value: Any, *, max_chars: int = MAX_CHARS) -> str:
    """Text for one line of a group robot's markdown: no mention, tag, link or formatting.

    Examples
    --------
    >>> robot_markdown("<@all> **急** [点我](http://x.cn) javascript:alert(1)")
    '＜@all＞ ＊＊急＊＊ ［点我］(http:／／x.cn) javascript：alert(1)'
    """
    s = clean(value, max_chars=max_chars).translate(_ROBOT)
    # A bare address would still be turned into a link by the chat client.
    return _URL.sub(lambda m: f"{m.group(1)}：" if m.group(1) else ":／／", s)


def xlsx(value: Any) -> tuple[str, bool]:
    """A text cell's content, and whether it must be written with the quote prefix.

    The quote prefix (a cell format flag, invisible in the cell) keeps Excel from reading
    text that starts like a formula as one, also when the cell is edited or the sheet saved
    as CSV; the cell is written as a typed string, never a formula.

    Examples
    --------
    >>> xlsx('=HYPERLINK("http://x","y")'), xlsx("销售部"), xlsx("\\t-1")
    (('=HYPERLINK("http://x","y")', True), ('销售部', False), ('-1', True))
    """
    s = clean(value, max_chars=XLSX_MAX_CHARS)
    return s, s.startswith(FORMULA_PREFIXES)


def pptx(value: Any, *, max_chars: int = MAX_CHARS) -> str:
    """Text for a slide (python-pptx escapes XML itself; this removes what would hide or reorder text)."""
    return clean(value, max_chars=max_chars)


def chart_label(value: Any, *, max_chars: int = LABEL_CHARS) -> str:
    r"""Text for a matplotlib label: short, one line, and ``$`` never starting mathtext.

    >>> chart_label("$\\frac{1}{0}$ 部")
    '\\$\\frac{1}{0}\\$ 部'
    """
    return clean(value, max_chars=max_chars).replace("$", r"\$")


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSP_META",
    "FORMULA_PREFIXES",
    "MAX_CHARS",
    "chart_label",
    "clean",
    "html",
    "inline_html",
    "note_field",
    "notes_html",
    "pptx",
    "robot_markdown",
    "xlsx",
]
