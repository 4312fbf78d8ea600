"""The trend chart: a KPI over time, a line per group with its interval, the target path and a forecast.

:func:`trend_chart` draws it in the package's look (:mod:`.figures`: theme, palette, CJK
font); :func:`trend_message` says in a sentence what it shows (its alt text).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from wecom_eval.reporting.figures import (
    PALETTE,
    TARGET_COLOUR,
    TITLE_CHARS,
    empty_chart,
    new_figure,
    percent_axis,
    value_text,
)
from wecom_eval.reporting.safe_text import chart_label


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
        value = value_text(last_y, percent)
        if language == "zh":
            text_ = f"{name}第{int(last_x)}周{value}" if whole else f"{name}在{xlabel} {last_x:.2g} 时为{value}"
            if goal is not None:
                text_ += f"，{'低于' if last_y < goal else '达到'}{target_label}（{value_text(goal, percent)}）"
        else:
            text_ = f"{name} in week {int(last_x)}: {value}" if whole else f"{name} at {xlabel} {last_x:.2g}: {value}"
            if goal is not None:
                text_ += (
                    f", {'below' if last_y < goal else 'at or above'} the {target_label.lower()} "
                    f"({value_text(goal, percent)})"
                )
        parts.append(text_)
    sep = "；" if language == "zh" else "; "
    end = "。" if language == "zh" else "."
    head = f"{title}：" if language == "zh" else f"{title}: "
    return head + sep.join(parts) + end if parts else title


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
        return empty_chart(fig, ax, title, empty_text)
    groups = [(None, data)] if hue is None else list(data.groupby(hue, sort=False))
    colours = sns.color_palette(list(PALETTE), n_colors=max(len(groups), 1))
    ends = _draw_lines(ax, groups, colours, x=x, y=y, low=low, high=high, named=hue is not None, label=label)
    xs = pd.to_numeric(data[x], errors="coerce") if not pd.api.types.is_datetime64_any_dtype(data[x]) else None
    whole = xs is not None and bool(xs.notna().all()) and bool((xs == xs.round()).all())
    if target is not None and len(target):
        _draw_target(ax, target, x=target_x or x, y=target_y, whole=whole, label=target_label)
    if forecast is not None:
        _draw_forecast(ax, forecast, colours[0], forecast_label)
    if whole and xs is not None:  # rollout weeks: whole-number ticks, and room around one or two weeks
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        right = max(float(xs.max()), forecast["x1"] if forecast is not None else float(xs.max()))
        if right - xs.min() < 3:
            ax.set_xlim(xs.min() - 0.6, right + 0.6)
    if percent:
        percent_axis(ax)
        top = np.nanmax([1.0, np.nanmax(data[high]) if high else 0.0])
        ax.set_ylim(0, min(1.05, top + 0.05))
    ax.set_title(chart_label(title, max_chars=TITLE_CHARS))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if hue is not None or target is not None or label is not None or forecast is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if end_labels and ends:
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


def _draw_lines(
    ax: Any,
    groups: list[tuple[Any, pd.DataFrame]],
    colours: Any,
    *,
    x: str,
    y: str,
    low: str | None,
    high: str | None,
    named: bool,
    label: str | None,
) -> list[tuple[float, float, str, Any]]:
    """A line per group with its interval (a band, or an error bar for a single point); the line ends."""
    ends: list[tuple[float, float, str, Any]] = []
    for (name, part), colour in zip(groups, colours, strict=True):
        part = part.sort_values(x)
        line_label = (None if name is None else chart_label(name)) if named else label
        ax.plot(part[x], part[y], marker="o", markersize=4, color=colour, label=line_label, linewidth=2)
        if named and len(part):
            ends.append((float(part[x].iloc[-1]), float(part[y].iloc[-1]), chart_label(str(name)), colour))
        if low is None or high is None:
            continue
        lo, hi = part[low].astype(float), part[high].astype(float)
        if len(part) == 1:  # a band needs two points: one week gets an error bar
            ax.errorbar(
                part[x], part[y], yerr=[part[y] - lo, hi - part[y]], color=colour, alpha=0.5, capsize=4, linewidth=1
            )
        else:
            ax.fill_between(part[x], lo, hi, color=colour, alpha=0.15, linewidth=0)
    return ends


def _draw_target(ax: Any, target: pd.DataFrame, *, x: str, y: str, whole: bool, label: str) -> None:
    """The target path, dashed; one week's target is a short level dash (a line needs two points)."""
    path = target.sort_values(x)
    px, py = path[x].to_numpy(), path[y].to_numpy(float)
    if len(path) == 1 and whole:
        px, py = np.array([px[0] - 0.35, px[0] + 0.35]), np.array([py[0], py[0]])
    ax.plot(px, py, linestyle="--", color=TARGET_COLOUR, linewidth=1.6, label=label)


def _draw_forecast(ax: Any, forecast: dict[str, float], colour: Any, label: str) -> None:
    """The projection from (x0, y0) to (x1, y1), dotted, with its prediction interval as a fan and an error bar."""
    xs, ys = [forecast["x0"], forecast["x1"]], [forecast["y0"], forecast["y1"]]
    ax.plot(xs, ys, linestyle=":", color=colour, linewidth=2, marker="D", markevery=[1], markersize=5, label=label)
    lows, highs = [forecast["y0"], forecast["low"]], [forecast["y0"], forecast["high"]]
    ax.fill_between(xs, lows, highs, color=colour, alpha=0.12, linewidth=0)
    spread = [[forecast["y1"] - forecast["low"]], [forecast["high"] - forecast["y1"]]]
    ax.errorbar([forecast["x1"]], [forecast["y1"]], yerr=spread, color=colour, capsize=4, linewidth=1.2)


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


__all__ = ["trend_chart", "trend_message"]
