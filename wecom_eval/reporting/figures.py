"""One look for every figure: a seaborn theme with a CJK font, and the report's chart kinds.

* :func:`use_theme` — the package's single theme. Chinese labels must render, never as
  boxes, so the theme finds a CJK font through matplotlib's font manager (registering
  system fonts matplotlib's cache has not seen yet) and fails loudly when there is none.
* :func:`.trends.trend_chart` (its own module) — a KPI over time with its interval band and the target path.
* :func:`estimate_chart` — estimates with intervals (departments, features), a target line.
* :func:`likert_chart` — diverging stacked bars for Likert answers, centred on neutral.
* :func:`event_study_chart` — effects by weeks since go-live with intervals.
* :func:`bar_chart` — shares of a multi-select question.

Each returns a :class:`matplotlib.figure.Figure`; notebooks show it with
``report.show_figure`` so it is embedded in the HTML and available to the slide deck.
Titles, tick and legend labels (they may hold data: departments, survey questions, choices) go through
:func:`.safe_text.chart_label`: one short line, and a ``$`` never starts mathtext.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from wecom_eval.reporting import tables
from wecom_eval.reporting.safe_text import chart_label

# CJK families in order of preference (simplified Chinese first).
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK JP",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
# Font files that hold CJK glyphs, by name, for system fonts matplotlib's cache predates.
_CJK_FILE_MARKS = (
    "cjk",
    "wqy",
    "sourcehan",
    "simhei",
    "msyh",
    "pingfang",
    "droidsansfallback",
    "uming",
    "ukai",
    "sarasa",
    "notosanssc",
    "hiragino",
)
INSTALL_HINT = (
    "Install a CJK font, e.g. `apt-get install fonts-wqy-microhei` (Debian/Ubuntu) or "
    "`conda install -c conda-forge font-ttf-noto-cjk`; then rerun."
)

PALETTE: tuple[str, ...] = (
    "#1f5fa8",
    "#e0742b",
    "#2f9e6e",
    "#c23b4a",
    "#7b5ea7",
    "#8c6d46",
    "#d16ba5",
    "#6f7b86",
    "#b3a22f",
    "#2aa3b8",
)
VERDICT_COLOURS = tables.VERDICT_COLOURS  # the tables', the deck's and the charts' one palette
TARGET_COLOUR = "#c62828"
# Likert 1..5: two reds, a neutral grey, two blues (colour-blind safe diverging).
LIKERT_COLOURS: tuple[str, ...] = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")
PNG_DPI = 160
TITLE_CHARS = 120  # a figure title longer than this is cut with "…"


class FontMissing(RuntimeError):
    """No CJK font is installed: Chinese labels would render as boxes."""


def _has_cjk_glyphs(path: str) -> bool:
    try:
        from matplotlib.ft2font import FT2Font

        return FT2Font(path).get_char_index(ord("中")) != 0
    except Exception:  # an unreadable font file is simply not a candidate
        return False


def _system_cjk_files() -> list[str]:
    """CJK font files on the system, via fontconfig when present, else by file name."""
    files: list[str] = []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        files = [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    if not files:
        files = [
            f
            for f in font_manager.findSystemFonts()
            if any(m in Path(f).name.lower().replace("-", "").replace("_", "") for m in _CJK_FILE_MARKS)
        ]
    return files


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The family name of an installed CJK font matplotlib can use.

    Raises
    ------
    FontMissing
        When no font with Chinese glyphs is installed (the message says how to install one).
    """
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known and _has_cjk_glyphs(known[family]):
            return family
    for path in _system_cjk_files():
        if not _has_cjk_glyphs(path):
            continue
        font_manager.fontManager.addfont(path)
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known and _has_cjk_glyphs(known[family]):
            return family
    for name, path in known.items():  # any other font that has the glyphs
        if _has_cjk_glyphs(path):
            return name
    raise FontMissing(
        f"no font with Chinese glyphs is installed, so Chinese labels would render as boxes. {INSTALL_HINT}"
    )


def use_theme() -> str:
    """Apply the package's seaborn theme; return the CJK font family it uses."""
    family = cjk_font()
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=list(PALETTE),
        font="sans-serif",
        rc={
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,  # CJK fonts often lack U+2212 (the minus sign)
            "axes.titleweight": "normal",  # many CJK fonts have no bold face
            "axes.titlesize": 13,
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.figsize": (9.0, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": PNG_DPI,
            "savefig.bbox": "tight",
            "legend.frameon": False,
            "grid.color": "#e6e6e6",
        },
    )
    return family


def new_figure(figsize: tuple[float, float] | None = None) -> tuple[Figure, Any]:
    """A figure and its axes, not registered with pyplot.

    Notebooks show figures through ``report.show_figure``; a figure pyplot does not know
    about is never displayed a second time by the inline backend at the end of a cell.
    """
    fig = Figure(figsize=figsize or tuple(matplotlib.rcParams["figure.figsize"]))
    return fig, fig.subplots()


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (the form embedded in the HTML and placed in the deck)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def value_text(value: float, percent: bool) -> str:
    """A share as a percentage with one decimal, any other value with two decimals."""
    return f"{value:.1%}" if percent else f"{value:.2f}"


def percent_axis(ax: Any, axis: str = "y") -> None:
    fmt = PercentFormatter(xmax=1.0, decimals=0)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def empty_chart(fig: Figure, ax: Any, title: str, message: str) -> Figure:
    """A chart with nothing to draw: its title and why, no axes to misread as 0."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#7a7a7a")
    ax.set_axis_off()
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    fig.set_figheight(min(fig.get_figheight(), 2.2))
    fig.tight_layout()
    return fig


def estimate_chart(
    data: pd.DataFrame,
    *,
    label: str,
    estimate: str,
    low: str,
    high: str,
    target: float | None = None,
    verdict: str | None = None,
    title: str = "",
    xlabel: str = "",
    target_label: str = "target",
    percent: bool = True,
    language: str = "zh",
    verdict_labels: dict[str, str] | None = None,
    empty_text: str = "no data",
) -> Figure:
    """Estimates with their intervals, one row per ``label``, and a target line (``empty_text`` without any).

    With ``verdict`` (a column of met / not_yet_shown / missed / not_measured) each dot is
    coloured by its verdict (:data:`VERDICT_COLOURS`, the same colours as the tables and the
    deck), and ``verdict_labels`` names those colours in the legend.
    """
    rows = data.dropna(subset=[estimate]).reset_index(drop=True)
    height = max(2.2, 0.38 * len(rows) + 1.2)
    fig, ax = new_figure((9.0, height))
    if rows.empty:
        return empty_chart(fig, ax, title, empty_text)
    ys = np.arange(len(rows))[::-1]
    colours = [VERDICT_COLOURS.get(str(v), PALETTE[0]) for v in rows[verdict]] if verdict else [PALETTE[0]] * len(rows)
    est = rows[estimate].to_numpy(float)
    lo = rows[low].to_numpy(float)
    hi = rows[high].to_numpy(float)
    ax.hlines(ys, lo, hi, color="#7a7a7a", linewidth=2)
    ax.scatter(est, ys, color=colours, s=45, zorder=3)
    ax.set_yticks(ys, [chart_label(v) for v in rows[label]])
    if target is not None:
        ax.axvline(target, linestyle="--", color=TARGET_COLOUR, linewidth=1.5, label=target_label)
    if verdict and verdict_labels:
        for key in dict.fromkeys(str(v) for v in rows[verdict]):
            ax.scatter([], [], color=VERDICT_COLOURS.get(key, PALETTE[0]), s=45, label=verdict_labels.get(key, key))
    if target is not None or (verdict and verdict_labels):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the plot: it never covers a point
    if percent:
        percent_axis(ax, "x")
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    if len(rows):
        lowest = int(np.argmin(est))
        name, value = str(rows[label].iloc[lowest]), value_text(float(est[lowest]), percent)
        goal = "" if target is None else value_text(float(target), percent)
        if language == "zh":
            message = f"{title}：最低为{name} {value}" + (f"，目标{goal}" if goal else "") + "。"
        else:
            message = f"{title}: lowest {name} at {value}" + (f", target {goal}" if goal else "") + "."
        fig.set_label(message)
    return fig


def likert_chart(
    counts: pd.DataFrame,
    *,
    item: str = "item",
    score: str = "score",
    n: str = "n",
    labels: Sequence[str] = ("1", "2", "3", "4", "5"),
    title: str = "",
    xlabel: str = "",
) -> Figure:
    """Diverging stacked bars for 1–5 answers: disagreement left of zero, agreement right.

    The neutral answer (3) straddles zero, half on each side. Bars are shares of each
    item's answers; items are ordered by their top-2-box share.

    Parameters
    ----------
    counts
        One row per item and score with the number of answers ``n``.
    labels
        Legend text for scores 1 to 5 (e.g. 非常不满意 … 非常满意).
    """
    wide = counts.pivot_table(index=item, columns=score, values=n, aggfunc="sum", fill_value=0).reindex(
        columns=[1, 2, 3, 4, 5], fill_value=0
    )
    shares = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    shares = shares.assign(_top=shares[4] + shares[5]).sort_values("_top").drop(columns="_top")
    fig, ax = new_figure((9.0, max(2.4, 0.5 * len(shares) + 1.4)))
    ys = np.arange(len(shares))
    left = -(shares[1] + shares[2] + shares[3] / 2).to_numpy()
    for k, colour, text in zip([1, 2, 3, 4, 5], LIKERT_COLOURS, labels, strict=True):
        width = shares[k].to_numpy()
        ax.barh(ys, width, left=left, color=colour, edgecolor="white", height=0.7, label=text)
        for yy, ll, ww in zip(ys, left, width, strict=True):
            if ww >= 0.07:
                ax.text(
                    ll + ww / 2,
                    yy,
                    f"{ww:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if k in (1, 5) else "#222222",
                )
        left = left + width
    ax.axvline(0, color="#444444", linewidth=1)
    ax.set_yticks(ys, [chart_label(v) for v in shares.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(v):.0%}"))
    ax.set_xlim(-1, 1)
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS), pad=30)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.legend(ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=9, handlelength=1.2)
    fig.tight_layout()
    return fig


def event_study_chart(
    effects: pd.DataFrame,
    *,
    x: str = "event_time",
    estimate: str = "estimate",
    low: str = "ci_low",
    high: str = "ci_high",
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    percent: bool = True,
    legend: tuple[str, str, str] = ("estimate", "interval", "go-live / no change"),
) -> Figure:
    """Effects by weeks since go-live with intervals; go-live marked, zero line drawn.

    ``legend`` names the estimate line, its interval band and the reference lines (zero, go-live),
    in the report's language; the legend sits beside the plot so it covers no point.
    """
    rows = effects.sort_values(x)
    fig, ax = new_figure()
    ax.axhline(0, color="#444444", linewidth=1, label=chart_label(legend[2]))
    ax.axvline(-0.5, color="#999999", linestyle=":", linewidth=1.2)
    ax.fill_between(
        rows[x],
        rows[low].astype(float),
        rows[high].astype(float),
        color=PALETTE[0],
        alpha=0.15,
        linewidth=0,
        label=chart_label(legend[1]),
    )
    ax.plot(rows[x], rows[estimate], marker="o", color=PALETTE[0], linewidth=2, label=chart_label(legend[0]))
    if percent:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:+.0%}"))
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, labels = ax.get_legend_handles_labels()
    order = [2, 1, 0]  # estimate, interval, reference
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def bar_chart(
    data: pd.DataFrame, *, label: str, value: str, title: str = "", xlabel: str = "", percent: bool = True
) -> Figure:
    """Horizontal bars, largest first (e.g. the needs survey's most-wanted improvements)."""
    rows = data.sort_values(value, ascending=True)
    fig, ax = new_figure((9.0, max(2.2, 0.38 * len(rows) + 1.2)))
    ax.barh(np.arange(len(rows)), rows[value], color=PALETTE[0], height=0.65)
    ax.set_yticks(np.arange(len(rows)), [chart_label(v) for v in rows[label]])
    for yy, vv in enumerate(rows[value]):
        ax.text(vv, yy, f" {vv:.0%}" if percent else f" {vv:,.0f}", va="center", fontsize=9)
    if percent:
        percent_axis(ax, "x")
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


__all__ = [
    "CJK_FAMILIES",
    "FontMissing",
    "LIKERT_COLOURS",
    "PALETTE",
    "VERDICT_COLOURS",
    "TARGET_COLOUR",
    "TITLE_CHARS",
    "bar_chart",
    "cjk_font",
    "empty_chart",
    "estimate_chart",
    "event_study_chart",
    "likert_chart",
    "new_figure",
    "percent_axis",
    "png_bytes",
    "use_theme",
    "value_text",
]
