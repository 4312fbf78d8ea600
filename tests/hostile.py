"""Hostile text: strings an attacker or a careless admin could put in any free-text field.

Each carries a marker (``HX01`` …) so that a test can find where it went; no marker may end up
inside a tag name, an attribute, a formula, a link or a mention.
"""

from __future__ import annotations

BIG = "长" * 10_000  # a 10 kB answer

CORPUS: dict[str, str] = {
    "HX01": "<script>alert('HX01')</script>",
    "HX02": "<img src=x onerror=\"alert('HX02')\">",
    "HX03": "[HX03 点我](javascript:alert(3))",
    "HX04": "<a href=\"javascript:alert('HX04')\">HX04</a>",
    "HX05": '<@all> HX05 **紧急** <font color="warning">HX05</font>',
    "HX06": '=HYPERLINK("http://x","HX06")',
    "HX07": "+1 HX07",
    "HX08": "-1 HX08",
    "HX09": "@SUM(A1) HX09",
    "HX10": "\tHX10\ttab\r\nnew line",
    "HX11": "HX11 " + BIG,
    "HX12": "HX12 \u202egnp.exe\u202c zero\u200bwidth\u2066iso\u2069",
    "HX13": "$\\frac{HX13}{0}$ `code` # heading",
}
MARKERS = tuple(CORPUS)


def department(value: str) -> str:
    """``value`` as a roster department cell: ``/`` would start a sub-department and ``,`` name a second
    department (``>`` and ``\\`` also separate levels: they stay, and make nested departments)."""
    return value.translate(str.maketrans({"/": "∕", ",": "‚", "，": "‚", ";": " ", "；": " ", "、": " ", "|": " "}))
