"""One look for every figure: a seaborn theme with a CJK font, and the report's chart kinds.

* :func:`use_theme` — the package's single theme. Chinese labels must render, never as
  boxes, so the theme finds a CJK font through matplotlib's font manager (registering
  system fonts matplotlib's cache has not seen yet) and fails loudly when there is none.
* :func:`trend_chart` — a KPI over time with its interval band and the target path.
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
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

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


def _value_text(value: float, percent: bool) -> str:
    return f"{value:.1%}" if percent else f"{value:.2f}"


def trend_message(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None,
    target: pd.DataFrame | None,
    target_x: str | None,
    target_y: str,
    title: str,
    percent: bool,
    language: str,
    label: str | None = None,
    target_label: str = "目标",
    xlabel: str = "",
) -> str:
    """What a trend chart says, for its alt text: each line's latest value against the target path.

    Whole-number ``x`` reads as rollout weeks; any other ``x`` (an effect size) is named by ``xlabel``.

    >>> d = pd.DataFrame({"week": [1, 2], "rate": [0.4, 0.973]})
    >>> trend_message(d, x="week", y="rate", hue=None, target=pd.DataFrame({"week": [2], "target": [1.0]}),
    ...               target_x=None, target_y="target", title="注册率", percent=True, language="zh", label="注册率")
    '注册率：注册率第2周97.3%，低于目标（100.0%）。'
    """
    parts = []
    groups = [(label or "", data)] if hue is None else list(data.groupby(hue, sort=False))
    path = target.sort_values(target_x or x) if target is not None and len(target) else None
    for name, part in groups:
        part = part.dropna(subset=[y]).sort_values(x)
        if not len(part):
            continue
        last_x, last_y = part[x].iloc[-1], float(part[y].iloc[-1])
        whole = float(last_x).is_integer()
        goal = None
        if path is not None:
            at = path.loc[path[target_x or x] <= last_x]
            goal = float(at[target_y].iloc[-1]) if len(at) else None
        value = _value_text(last_y, percent)
        if language == "zh":
            text_ = f"{name}第{int(last_x)}周{value}" if whole else f"{name}在{xlabel} {last_x:.2g} 时为{value}"
            if goal is not None:
                text_ += f"，{'低于' if last_y < goal else '达到'}{target_label}（{_value_text(goal, percent)}）"
        else:
            text_ = f"{name} in week {int(last_x)}: {value}" if whole else f"{name} at {xlabel} {last_x:.2g}: {value}"
            if goal is not None:
                text_ += (
                    f", {'below' if last_y < goal else 'at or above'} the {target_label.lower()} "
                    f"({_value_text(goal, percent)})"
                )
        parts.append(text_)
    sep = "；" if language == "zh" else "; "
    end = "。" if language == "zh" else "."
    head = f"{title}：" if language == "zh" else f"{title}: "
    return head + sep.join(parts) + end if parts else title


def _percent_axis(ax: Any, axis: str = "y") -> None:
    fmt = PercentFormatter(xmax=1.0, decimals=0)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _empty(fig: Figure, ax: Any, title: str, message: str) -> Figure:
    """A chart with nothing to draw: its title and why, no axes to misread as 0."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#7a7a7a")
    ax.set_axis_off()
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    fig.set_figheight(min(fig.get_figheight(), 2.2))
    fig.tight_layout()
    return fig


def trend_chart(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    low: str | None = None,
    high: str | None = None,
    hue: str | None = None,
    target: pd.DataFrame | None = None,
    target_x: str | None = None,
    target_y: str = "target",
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    target_label: str = "target",
    percent: bool = True,
    label: str | None = None,
    forecast: dict[str, float] | None = None,
    forecast_label: str = "forecast",
    language: str = "zh",
    end_labels: bool = False,
    caption: str = "",
    empty_text: str = "no data",
) -> Figure:
    """A KPI over time: a line per group, its interval as a band, the target path dashed.

    Copes with any number of points: none (``empty_text`` in place of the axes), one (an
    error bar for the interval and a short dash for the target) or more; whole-number ``x``
    (rollout weeks) gets whole-number ticks.

    Parameters
    ----------
    data
        Long frame: one row per ``x`` (and ``hue`` group) with the estimate ``y`` and,
        when given, the interval ends ``low`` and ``high``.
    target
        The target path: ``target_x`` (default ``x``) and ``target_y`` columns.
    percent
        Format the y axis as percentages (values are shares in [0, 1]).
    label
        Legend label of the line when there is no ``hue`` (every line has a legend entry).
    forecast
        A projection drawn from ``(x0, y0)`` to ``(x1, y1)`` (dotted, in the line's colour) with
        its prediction interval ``low``–``high`` at ``x1`` as a fan and an error bar.
    end_labels
        Name each ``hue`` line at its last point (branches), as well as in the legend.
    caption
        A line of text under the chart (e.g. which groups are not drawn and why).
    language
        Language of the alt text (:func:`trend_message`), kept as the figure's label
        (``fig.get_label()``) for ``report.show_figure``.
    """
    fig, ax = new_figure()
    data = data.dropna(subset=[y]) if len(data) else data
    if data.empty:  # nothing measured yet: say so, no empty axes to misread as 0
        return _empty(fig, ax, title, empty_text)
    groups = [(None, data)] if hue is None else list(data.groupby(hue, sort=False))
    ends: list[tuple[float, float, str, Any]] = []
    colours = sns.color_palette(list(PALETTE), n_colors=max(len(groups), 1))
    for (name, part), colour in zip(groups, colours, strict=True):
        part = part.sort_values(x)
        ax.plot(
            part[x],
            part[y],
            marker="o",
            markersize=4,
            color=colour,
            label=(None if name is None else chart_label(name)) if hue else label,
            linewidth=2,
        )
        if end_labels and hue is not None and len(part):
            ends.append((float(part[x].iloc[-1]), float(part[y].iloc[-1]), chart_label(str(name)), colour))
        if low is not None and high is not None:
            if len(part) == 1:  # a band needs two points: one week gets an error bar
                ax.errorbar(
                    part[x],
                    part[y],
                    yerr=[part[y] - part[low].astype(float), part[high].astype(float) - part[y]],
                    color=colour,
                    alpha=0.5,
                    capsize=4,
                    linewidth=1,
                )
            else:
                ax.fill_between(
                    part[x], part[low].astype(float), part[high].astype(float), color=colour, alpha=0.15, linewidth=0
                )
    xs = pd.to_numeric(data[x], errors="coerce") if not pd.api.types.is_datetime64_any_dtype(data[x]) else None
    whole = xs is not None and xs.notna().all() and bool((xs == xs.round()).all())
    if target is not None and len(target):
        tx = target_x or x
        path = target.sort_values(tx)
        px, py = path[tx].to_numpy(), path[target_y].to_numpy(float)
        if len(path) == 1 and whole:  # a line needs two points: one week's target is a short level dash
            px, py = np.array([px[0] - 0.35, px[0] + 0.35]), np.array([py[0], py[0]])
        ax.plot(px, py, linestyle="--", color=TARGET_COLOUR, linewidth=1.6, label=target_label)
    if forecast is not None:
        colour = colours[0]
        ax.plot(
            [forecast["x0"], forecast["x1"]],
            [forecast["y0"], forecast["y1"]],
            linestyle=":",
            color=colour,
            linewidth=2,
            marker="D",
            markevery=[1],
            markersize=5,
            label=forecast_label,
        )
        ax.fill_between(
            [forecast["x0"], forecast["x1"]],
            [forecast["y0"], forecast["low"]],
            [forecast["y0"], forecast["high"]],
            color=colour,
            alpha=0.12,
            linewidth=0,
        )
        ax.errorbar(
            [forecast["x1"]],
            [forecast["y1"]],
            yerr=[[forecast["y1"] - forecast["low"]], [forecast["high"] - forecast["y1"]]],
            color=colour,
            capsize=4,
            linewidth=1.2,
        )
    if whole and xs is not None:  # rollout weeks: whole-number ticks, and room around one or two weeks
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        right = max(float(xs.max()), forecast["x1"] if forecast is not None else float(xs.max()))
        if right - xs.min() < 3:
            ax.set_xlim(xs.min() - 0.6, right + 0.6)
    if percent:
        _percent_axis(ax)
        top = np.nanmax([1.0, np.nanmax(data[high]) if high else 0.0])
        ax.set_ylim(0, min(1.05, top + 0.05))
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if hue is not None or target is not None or label is not None or forecast is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if ends:
        _label_line_ends(ax, ends)
    if caption:
        fig.text(0.01, 0.0, caption, ha="left", va="top", fontsize=9, color="#555555", wrap=True)
    fig.tight_layout()
    fig.set_label(
        trend_message(
            data,
            x=x,
            y=y,
            hue=hue,
            target=target,
            target_x=target_x,
            target_y=target_y,
            title=title,
            percent=percent,
            language=language,
            label=label,
            target_label=target_label,
            xlabel=xlabel,
        )
    )
    return fig


def _label_line_ends(ax: Any, ends: list[tuple[float, float, str, Any]]) -> None:
    """Name each line just right of its last point, nudging names apart so that none overlaps."""
    lo_y, hi_y = ax.get_ylim()
    gap = 0.05 * (hi_y - lo_y)
    ordered = sorted(ends, key=lambda e: e[1])
    placed: list[float] = []
    for _x, y_end, _name, _colour in ordered:
        placed.append(max(y_end, placed[-1] + gap) if placed else y_end)
    excess = placed[-1] - (hi_y - gap / 2) if placed else 0.0
    if excess > 0:  # pushed above the axes: move the stack down, keeping the gaps
        placed = [y - excess for y in placed]
    for (x_end, y_end, name, colour), y_text in zip(ordered, placed, strict=True):
        ax.annotate(
            name,
            (x_end, y_end),
            xytext=(x_end, y_text),
            textcoords="data",
            color=colour,
            fontsize=9,
            va="center",
            ha="left",
            annotation_clip=False,
        )
    lo_x, hi_x = ax.get_xlim()
    ax.set_xlim(lo_x, hi_x + 0.14 * (hi_x - lo_x))  # room for the names at the line ends
    for text_ in ax.texts[-len(ends) :]:
        text_.set_x(text_.get_position()[0] + 0.015 * (hi_x - lo_x))


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
        return _empty(fig, ax, title, empty_text)
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
        _percent_axis(ax, "x")
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    if len(rows):
        lowest = int(np.argmin(est))
        name, value = str(rows[label].iloc[lowest]), _value_text(float(est[lowest]), percent)
        goal = "" if target is None else _value_text(float(target), percent)
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
        _percent_axis(ax, "x")
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
    "bar_chart",
    "cjk_font",
    "estimate_chart",
    "event_study_chart",
    "likert_chart",
    "png_bytes",
    "trend_chart",
    "use_theme",
]
