"""reports/index.html lists every run, newest first, failed ones included."""

from __future__ import annotations

import json

from wecom_eval.reporting import index


def write_run(root, report, as_of, started, status="succeeded", files=("report.html",)):
    folder = root / report / as_of
    folder.mkdir(parents=True)
    manifest = {
        "report": report,
        "as_of": as_of,
        "status": status,
        "started": started,
        "finished": started,
        "duration_seconds": 12.0,
        "notebook": f"{report}.ipynb",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in files:
        (folder / name).write_text("x", encoding="utf-8")


def test_index_lists_runs_newest_first_with_links(tmp_path):
    write_run(tmp_path, "weekly", "2026-05-18", "2026-05-18T09:00:00+08:00")
    write_run(tmp_path, "weekly", "2026-05-25", "2026-05-25T09:00:00+08:00", files=("report.html", "tables.xlsx"))
    write_run(tmp_path, "quarterly", "2026-05-25", "2026-05-25T09:05:00+08:00", status="failed", files=())
    (tmp_path / "weekly" / ".2026-06-01.running-1-abc").mkdir()  # a run in progress is not listed
    html = index.write_index(tmp_path).read_text(encoding="utf-8")
    order = [html.index(s) for s in ("quarterly/2026-05-25", "weekly/2026-05-25", "weekly/2026-05-18")]
    assert order == sorted(order)
    assert 'href="weekly/2026-05-25/tables.xlsx"' in html and 'href="weekly/2026-05-18/tables.xlsx"' not in html
    assert "class='failed'" in html and 'href="quarterly/2026-05-25/quarterly.ipynb"' in html
    assert "running" not in html


def test_an_empty_reports_folder_gives_a_page(tmp_path):
    html = index.write_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "暂无数据" in html
