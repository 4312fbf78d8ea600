"""The five targets of a run as one PNG for a group robot: interval, estimate and target each.

Drawn with the package's figure theme (:func:`wecom_eval.reporting.figures.use_theme`) from
the run's ``kpis.json`` document, and rendered again at a lower resolution when the PNG
would exceed what a robot accepts (2 MB before base64, reference §10.1).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wecom_eval import text
from wecom_eval.reporting import registry
from wecom_eval.reporting.records import TARGET_IDS
from wecom_eval.reporting.safe_text import chart_label
from wecom_eval.reporting.tables import format_kpi_value
from wecom_eval.wecom.robot import IMAGE_MAX_BYTES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

IMAGE_DPIS = (160, 110, 80)  # tried in turn until the PNG is within max_bytes


def scorecard_png(kpis: Mapping[str, Any], *, language: str | None = None, max_bytes: int = IMAGE_MAX_BYTES) -> bytes:
    """The five targets as a PNG: per target its interval, estimate (coloured by verdict) and target.

    Raises
    ------
    wecom_eval.reporting.figures.FontMissing
        When no CJK font is installed (Chinese labels would render as boxes).
    ValueError
        When even the lowest resolution exceeds ``max_bytes``.
    """
    from matplotlib.figure import Figure

    from wecom_eval.reporting import figures

    language = language or str(kpis["language"])
    legend = text.lookup("summary", "legend", language)  # refuses a language the table does not have
    same = language == kpis["language"]
    figures.use_theme()
    fig = Figure(figsize=(8.0, 1.05 * len(TARGET_IDS) + 0.9))
    axes = fig.subplots(len(TARGET_IDS), 1)
    for ax, kid in zip(axes, TARGET_IDS, strict=True):
        _draw_target(ax, kid, kpis["targets"][kid], language=language, same_language=same)
    period = kpis["period"]["label"] if same else f"{kpis['period']['start']} – {kpis['period']['end']}"
    fig.suptitle(f"{registry.title(str(kpis['report']), language)} · {period}", x=0.01, ha="left", fontsize=13)
    levels = {k.get("confidence") for k in kpis["targets"].values() if k.get("confidence")}
    level = f"{levels.pop():.0%}" if len(levels) == 1 else ""
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.text(
        0.01,
        0.005,
        legend.format(p=level).replace("  ", " "),
        fontsize=9,
        color="#555555",
        ha="left",
        va="bottom",
    )
    return _png(fig, max_bytes)


def _draw_target(ax: Axes, kid: str, k: Mapping[str, Any], *, language: str, same_language: bool) -> None:
    """One target's row: its interval (grey), estimate (dot in the verdict's colour), target (dashes)."""
    from matplotlib.ticker import PercentFormatter

    from wecom_eval.reporting import figures

    unit = str(k.get("unit") or "share")
    verdict = k.get("verdict") or "not_measured"
    colour = figures.VERDICT_COLOURS.get(verdict, figures.VERDICT_COLOURS["not_measured"])
    label = (
        chart_label(k["label"], max_chars=60)
        if same_language and k.get("label")
        else text.lookup("targets", kid, language)
    )
    low, high = _span(k, unit)
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


def _span(k: Mapping[str, Any], unit: str) -> tuple[float, float]:
    """The x range of a target's row: the unit's natural range, widened to every value shown."""
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
    return min([low, *values]), max([high, *values])


def _png(fig: Figure, max_bytes: int) -> bytes:
    """The figure as PNG at the highest resolution of :data:`IMAGE_DPIS` within ``max_bytes``."""
    data = b""
    for dpi in IMAGE_DPIS:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        data = buf.getvalue()
        if len(data) <= max_bytes:
            return data
    raise ValueError(
        f"the scorecard PNG is {len(data):,} bytes even at {IMAGE_DPIS[-1]} dpi; WeCom accepts at most {max_bytes:,}"
    )


__all__ = ["scorecard_png"]
