"""One theme with a CJK font; the chart kinds render Chinese without missing glyphs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from wecom_eval.reporting import figures, trends


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
    data = pd.DataFrame(
        {
            "week": [1, 2, 3] * 2,
            "rate": [0.2, 0.4, 0.6, 0.1, 0.3, 0.5],
            "lo": 0.05,
            "hi": 0.7,
            "series": ["日活跃率"] * 3 + ["深度使用率"] * 3,
        }
    )
    path = pd.DataFrame({"week": [1, 2, 3], "target": [0.1, 0.3, 0.6]})
    fig = trends.trend_chart(
        data,
        x="week",
        y="rate",
        low="lo",
        high="hi",
        hue="series",
        target=path,
        title="日活跃率 − 目标路径",
        xlabel="推广周次",
        target_label="目标路径",
    )
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # one interval band per series
    assert ax.lines[-1].get_linestyle() == "--"  # the target path
    _render(fig)


def test_likert_chart_diverges_around_neutral():
    figures.use_theme()
    answers = list(zip(range(1, 6), (1, 2, 4, 2, 1), strict=True))
    counts = pd.DataFrame(
        [(item, s, n) for item in ("总体满意度", "易用性") for s, n in answers], columns=["item", "score", "n"]
    )
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
    data = pd.DataFrame(
        {
            "label": ["审批", "考勤"],
            "est": [0.7, 0.9],
            "lo": [0.65, 0.85],
            "hi": [0.75, 0.95],
            "verdict": ["not_yet_shown", "met"],
        }
    )
    fig = figures.estimate_chart(
        data, label="label", estimate="est", low="lo", high="hi", target=0.8, verdict="verdict", title="渗透率"
    )
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


def test_every_line_has_a_legend_entry_and_the_forecast_fan_reaches_the_deadline():
    figures.use_theme()
    data = pd.DataFrame({"week": [1, 2, 3], "rate": [0.1, 0.3, 0.45]})
    path = pd.DataFrame({"week": [1, 2, 3], "target": [0.2, 0.5, 0.8]})
    forecast = {"x0": 3.0, "y0": 0.45, "x1": 30 / 7, "y1": 0.62, "low": 0.55, "high": 0.7, "level": 0.8}
    fig = trends.trend_chart(
        data,
        x="week",
        y="rate",
        target=path,
        title="注册率",
        label="实际",
        target_label="目标路径",
        forecast=forecast,
        forecast_label="预测（80%预测区间）",
    )
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["实际", "目标路径", "预测（80%预测区间）"]
    forecast_line = next(line for line in ax.get_lines() if line.get_label() == "预测（80%预测区间）")
    assert list(forecast_line.get_xdata()) == [3.0, 30 / 7]
    assert [tick for tick in ax.get_xticks() if 1 <= tick <= 4] == [1, 2, 3, 4]  # whole weeks only
    # the alt text states the message: the latest week against the target path
    assert fig.get_label() == "注册率：实际第3周45.0%，低于目标路径（80.0%）。"
    _render(fig)


def test_the_estimate_chart_legend_sits_beside_the_points():
    figures.use_theme()
    data = pd.DataFrame(
        {
            "label": ["审批", "文档协作", "客户管理", "考勤"],
            "est": [0.5, 0.6, 0.7, 0.95],
            "lo": [0.45, 0.55, 0.65, 0.9],
            "hi": [0.55, 0.65, 0.75, 0.99],
            "verdict": ["not_yet_shown", "not_yet_shown", "not_yet_shown", "met"],
        }
    )
    fig = figures.estimate_chart(
        data,
        label="label",
        estimate="est",
        low="lo",
        high="hi",
        target=0.8,
        title="核心功能渗透率",
        target_label="目标",
        verdict="verdict",
        verdict_labels={"met": "达成", "not_yet_shown": "尚未证实"},
    )
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["目标", "尚未证实", "达成"]  # every colour named
    points = next(c for c in ax.collections if len(c.get_offsets()) == 4).get_offsets()
    for x, y in ax.transData.transform(points):
        assert not legend.contains(x, y)
    assert fig.get_label() == "核心功能渗透率：最低为审批 50.0%，目标80.0%。"  # the weakest row against the target


def test_branch_lines_are_named_at_their_ends_with_a_caption_for_those_left_out():
    figures.use_theme()
    data = pd.DataFrame(
        {"week": [3, 4, 5, 4, 5], "rate": [0.2, 0.5, 0.7, 0.1, 0.4], "branch": ["华东分公司"] * 3 + ["华北分公司"] * 2}
    )
    fig = trends.trend_chart(
        data,
        x="week",
        y="rate",
        hue="branch",
        title="注册率",
        end_labels=True,
        caption="未画出：西南分公司（尚未上线）。",
    )
    ax = fig.axes[0]
    names = {t.get_text(): t.xy for t in ax.texts}
    assert names == {"华东分公司": (5, 0.7), "华北分公司": (5, 0.4)}
    assert "未画出：西南分公司（尚未上线）。" in [t.get_text() for t in fig.texts]
    _render(fig)


def test_branch_names_ending_at_one_value_do_not_overlap():
    figures.use_theme()
    names = ["华东分公司", "华北分公司", "华南分公司", "总部", "西南分公司"]
    data = pd.DataFrame({"week": [7, 8] * 5, "rate": [0.9, 0.97] * 5, "branch": [n for n in names for _ in (1, 2)]})
    fig = trends.trend_chart(data, x="week", y="rate", hue="branch", title="注册率", end_labels=True)
    ax = fig.axes[0]
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    top = ax.transData.transform((0, ax.get_ylim()[1]))[1]
    assert all(b.y1 <= top + 1 for b in boxes)  # none pushed above the axes


def test_event_study_chart_names_estimate_interval_and_reference_beside_the_plot():
    figures.use_theme()
    effects = pd.DataFrame(
        {
            "event_time": [-2, -1, 0, 1, 2],
            "estimate": [0.01, -0.02, -0.2, -0.3, -0.35],
            "ci_low": [-0.1, -0.12, -0.3, -0.42, -0.5],
            "ci_high": [0.12, 0.08, -0.1, -0.18, -0.2],
        }
    )
    fig = figures.event_study_chart(effects, title="办理时长变化", legend=("估计变化", "90% 置信区间", "上线 / 无变化"))
    ax = fig.axes[0]
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["估计变化", "90% 置信区间", "上线 / 无变化"]
    legend = ax.get_legend().get_window_extent()
    for x, y in ax.transData.transform(effects[["event_time", "estimate"]].to_numpy(dtype=float)):
        assert not legend.contains(x, y)  # the legend covers no estimate
