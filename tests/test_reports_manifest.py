"""manifest.json: parameters, versions, commit, timing, status."""

from __future__ import annotations

import datetime as dt

import pytest

from wecom_eval.reporting import manifest


def test_manifest_records_what_the_run_was(tmp_path):
    start = dt.datetime(2026, 5, 25, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    data = manifest.build(
        report="weekly",
        as_of=dt.date(2026, 5, 25),
        params={"as_of": "2026-05-25"},
        status="succeeded",
        started=start,
        finished=start + dt.timedelta(seconds=12.5),
        kernel="wecom-eval",
        cell_timeout=600.0,
        notebook="weekly.ipynb",
        outputs=["report.html"],
        tables=[{"name": "targets", "people": None}],
    )
    assert data["duration_seconds"] == 12.5 and data["started"] == "2026-05-25T09:00:00+08:00"
    assert data["versions"]["pandas"] and data["versions"]["papermill"] and data["versions"]["python"]
    assert set(data["git"]) == {"commit", "dirty"}
    path = manifest.write(data, tmp_path / "manifest.json")
    assert manifest.read(path) == data


def test_status_is_checked():
    now = dt.datetime.now()
    with pytest.raises(ValueError, match="status"):
        manifest.build(
            report="weekly",
            as_of=dt.date(2026, 5, 25),
            params={},
            status="ok",
            started=now,
            finished=now,
            kernel="k",
            cell_timeout=1,
            notebook="n",
            outputs=[],
        )
