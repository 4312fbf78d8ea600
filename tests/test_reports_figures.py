"""One theme with a CJK font; the chart kinds render Chinese without missing glyphs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from wecom_eval.reporting import figures


def test_the_theme_uses_a_font_with_chinese_glyphs():
    family = figures.use_theme()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = FT2Font(path)
    for ch in "注册率日活跃深度使用率目标路径满意度试点效率":
        assert font.get_char_index(ord(ch)) != 0, ch


def _render(fig):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = figures.png_bytes(fig)
    missing = [w for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert not missing, [str(w.message) for w in missing]
    assert png[:4] == b"\x89PNG"


def test_trend_chart_with_interval_band_and_target_path():
    figures.use_theme()
    data = pd.DataFrame({"week": [1, 2, 3] * 2, "rate": [0.2, 0.4, 0.6, 0.1, 0.3, 0.5], "lo": 0.05, "hi": 0.7,
                         "series": ["日活跃率"] * 3 + ["深度使用率"] * 3})
    path = pd.DataFrame({"week": [1, 2, 3], "target": [0.1, 0.3, 0.6]})
    fig = figures.trend_chart(data, x="week", y="rate", low="lo", high="hi", hue="series", target=path,
                              title="日活跃率 − 目标路径", xlabel="推广周次", target_label="目标路径")
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # one interval band per series
    assert ax.lines[-1].get_linestyle() == "--"  # the target path
    _render(fig)


def test_likert_chart_diverges_around_neutral():
    figures.use_theme()
    answers = list(zip(range(1, 6), (1, 2, 4, 2, 1), strict=True))
    counts = pd.DataFrame([(item, s, n) for item in ("总体满意度", "易用性") for s, n in answers],
                          columns=["item", "score", "n"])
    fig = figures.likert_chart(counts, labels=["非常不满意", "不满意", "一般", "满意", "非常满意"], title="分布")
    bars = fig.axes[0].patches
    # shares 0.1, 0.2, 0.4, 0.2, 0.1: the bars start at -(0.1 + 0.2 + 0.4/2) = -0.5, and the neutral
    # bar (0.4 wide) straddles zero from -0.2 to +0.2
    neutral = [b for b in bars if abs(b.get_width() - 0.4) < 1e-9]
    assert len(neutral) == 2 and all(b.get_x() == pytest.approx(-0.2) for b in neutral)
    assert min(b.get_x() for b in bars) == pytest.approx(-0.5)
    _render(fig)


def test_estimate_chart_colours_by_verdict_and_draws_the_target():
    figures.use_theme()
    data = pd.DataFrame({"label": ["审批", "考勤"], "est": [0.7, 0.9], "lo": [0.65, 0.85], "hi": [0.75, 0.95],
                         "verdict": ["not_yet_shown", "met"]})
    fig = figures.estimate_chart(data, label="label", estimate="est", low="lo", high="hi", target=0.8,
                                 verdict="verdict", title="渗透率")
    colours = fig.axes[0].collections[-1].get_facecolors()
    assert np.allclose(colours[1][:3], [0x2E / 255, 0x7D / 255, 0x32 / 255])
    _render(fig)


def test_missing_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(figures, "CJK_FAMILIES", ())
    monkeypatch.setattr(figures, "_system_cjk_files", lambda: [])
    monkeypatch.setattr(figures, "_has_cjk_glyphs", lambda _path: False)
    figures.cjk_font.cache_clear()
    try:
        with pytest.raises(figures.FontMissing, match="apt-get install fonts-wqy-microhei"):
            figures.cjk_font()
    finally:
        figures.cjk_font.cache_clear()
