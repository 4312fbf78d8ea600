"""``deck.pptx``: titles in title placeholders, the alerts and next-steps slide, definitions in the notes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pptx import Presentation  # noqa: E402

from wecom_eval.reporting import deck  # noqa: E402
from wecom_eval.reporting.collect import COLLECTED  # noqa: E402
from wecom_eval.reporting.figures import VERDICT_COLOURS  # noqa: E402
from wecom_eval.reporting.records import TARGET_IDS  # noqa: E402


def target(kpi: str, **fields) -> dict:
    row = {
        "id": kpi,
        "label": kpi,
        "group": None,
        "unit": "share",
        "estimate": 0.5,
        "ci_low": 0.45,
        "ci_high": 0.55,
        "confidence": 0.9,
        "target": 0.8,
        "deadline": "2026-05-30",
        "verdict": "not_yet_shown",
        "n": 200,
        "method": None,
        "note": None,
    }
    return {**row, **fields}


def meta(tmp_path, *, alerts: int = 8) -> dict:
    figures_dir = tmp_path / COLLECTED / "figures"
    figures_dir.mkdir(parents=True)
    fig, ax = plt.subplots()
    ax.plot([1, 2], [0.1, 0.2])
    fig.savefig(figures_dir / "trend.png")
    plt.close(fig)
    targets = {k: target(k) for k in TARGET_IDS}
    targets["registration"] = target(
        "registration",
        estimate=0.9,
        target=1.0,
        verdict="missed",
        n=250,
        forecast={
            "at_deadline": 0.95,
            "pi_low": 0.93,
            "pi_high": 0.97,
            "level": 0.8,
            "reach_date": None,
            "needed_per_week": 0.1,
            "model": "bass_pooled",
        },
    )
    targets["daily_active"] = target("daily_active", verdict="met")
    return {
        "language": "zh",
        "as_of": "2026-06-01",
        "period": {"label": "2026年第二季度"},
        "targets": targets,
        "alerts": [
            {"kind": "behind_path", "subject": f"总部/部门{i}", "message": f"总部/部门{i}落后目标路径"}
            for i in range(alerts)
        ],
        "figures": [
            {"name": "trend", "title": "注册率趋势", "file": "figures/trend.png", "deck": True, "note": "说明"}
        ],
    }


def test_every_slide_has_its_title_in_the_title_placeholder(tmp_path):
    out = deck.write_deck(tmp_path, meta(tmp_path), tmp_path / "deck.pptx", minutes=30, window_days=28)
    prs = Presentation(str(out))
    titles = [slide.shapes.title.text if slide.shapes.title is not None else None for slide in prs.slides]
    assert titles == ["企业微信推广季度总结", "五项目标记分卡", "试点效率", "预警与下一步", "注册率趋势"]
    for slide in prs.slides:
        assert slide.shapes.title.is_placeholder
        assert not [
            s for s in slide.shapes if s.has_text_frame and not s.is_placeholder and s.text_frame.text in titles
        ]  # no second, text-box copy of the title


def test_the_alerts_slide_lists_the_top_six_and_the_next_steps(tmp_path):
    prs = Presentation(str(deck.write_deck(tmp_path, meta(tmp_path), tmp_path / "deck.pptx")))
    slide = prs.slides[3]
    texts = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert "总部/部门5落后目标路径" in texts and "总部/部门6落后目标路径" not in texts
    assert "另有 2 条预警" in texts
    # registration: 0.1 a week × 250 people = 25 registrations a week; daily active is met: no step
    assert "1. 注册率：按期达标需每周新增 25 人注册" in texts
    assert "2. 核心功能渗透率：距目标还差 30.0 个百分点" in texts
    assert "日活跃率" not in texts.split("下一步")[1]
    assert "跟进预警中的部门：总部/部门0、总部/部门1" in texts


def test_speaker_notes_hold_the_definitions_and_the_lights_use_the_verdict_colours(tmp_path):
    prs = Presentation(str(deck.write_deck(tmp_path, meta(tmp_path), tmp_path / "deck.pptx", minutes=45)))
    notes = prs.slides[1].notes_slide.notes_text_frame.text
    assert "注册率 = 当日在 HR 花名册上" in notes and "≥ 45 分钟" in notes and "**" not in notes
    assert "预警 =" in prs.slides[3].notes_slide.notes_text_frame.text
    fills = {str(s.fill.fore_color.rgb) for s in prs.slides[1].shapes if s.shape_type == 1 and s.width == s.height}
    assert fills == {
        VERDICT_COLOURS["missed"].lstrip("#").upper(),
        VERDICT_COLOURS["met"].lstrip("#").upper(),
        VERDICT_COLOURS["not_yet_shown"].lstrip("#").upper(),
    }
