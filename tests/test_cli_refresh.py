"""``wecom-eval refresh``: the derived tables brought up to date without a load."""

from __future__ import annotations

from kpis_tiny_fixture import tiny

from wecom_eval import cli
from wecom_eval.home import Home
from wecom_eval.plan import load_plan
from wecom_eval.store.feature_uses import drop_feature_uses, feature_uses_info
from wecom_eval.store.rollups import rollup_info
from wecom_eval.store.warehouse import open_reader, open_writer


def test_refresh_builds_the_missing_derived_tables_and_says_so(tmp_path, capsys):
    home = Home(tmp_path)
    home.warehouse.parent.mkdir(parents=True)
    tiny.load(home.warehouse).close()  # loaded past the load path: nothing derived yet
    with open_reader(home) as wh:
        assert feature_uses_info(wh) is None and rollup_info(wh, load_plan(home.plan)) is None

    assert cli.main(["--home", str(tmp_path), "refresh"]) == 0
    out = capsys.readouterr().out
    assert "before: feature uses missing, rollups missing" in out
    assert "feature uses up to date" in out and "rollups up to date" in out
    with open_reader(home) as wh:
        uses, rollups = feature_uses_info(wh), rollup_info(wh, load_plan(home.plan))
        assert uses is not None and uses.fresh and uses.rows > 0
        assert rollups is not None and rollups.fresh and rollups.department_days > 0

    with open_writer(home) as wh:  # a table dropped (as after an upgrade) is rebuilt; the rest stays
        drop_feature_uses(wh)
    assert cli.main(["--home", str(tmp_path), "refresh"]) == 0
    assert "before: feature uses missing, rollups up to date" in capsys.readouterr().out
    with open_reader(home) as wh:
        assert feature_uses_info(wh) == uses


def test_refresh_without_a_warehouse_says_what_to_do(tmp_path, capsys):
    assert cli.main(["--home", str(tmp_path), "refresh"]) == 2
    err = capsys.readouterr().err
    assert "warehouse.duckdb" in err and "wecom-eval ingest roster" in err
    assert not (tmp_path / "data").exists()  # nothing created
