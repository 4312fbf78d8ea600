"""Reports degrade to a sentence, not a crash, when there is too little data for a section."""

from __future__ import annotations

from wecom_eval.cli import main


def test_launch_review_on_a_demo_with_one_baseline_week(home, capsys):
    # One week of baseline is too little to separate department and week variance for the
    # power calculation; the report says so and still succeeds (it used to fail with exit 4).
    assert (
        main(
            [
                "demo",
                "--employees",
                "200",
                "--weeks-baseline",
                "1",
                "--weeks-rollout",
                "3",
                "--seed",
                "5",
                "--no-reports",
            ]
        )
        == 0
    )
    assert main(["run", "launch-review", "--as-of", "2026-03-16"]) == 0
    html = (home.reports / "launch-review" / "2026-03-16" / "report.html").read_text(encoding="utf-8")
    assert "暂无法计算检验功效" in html
