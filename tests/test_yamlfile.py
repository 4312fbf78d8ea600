"""Settings files in the wrong encoding: exit 2 naming the encoding found and how to re-save."""

from __future__ import annotations

from pathlib import Path

import pytest

from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.plan import load_plan
from wecom_eval.yamlfile import read_mapping

REPO = Path(__file__).resolve().parent.parent
PLAN = (REPO / "params" / "rollout.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("encoding", "named"), [("gb18030", "GB18030"), ("utf-16", "UTF-16")])
def test_a_plan_not_in_utf8_names_its_encoding_and_the_fix(encoding: str, named: str, tmp_path: Path):
    path = tmp_path / "rollout.yaml"
    path.write_bytes(PLAN.encode(encoding))
    with pytest.raises(InputError) as err:
        load_plan(path)
    message = str(err.value)
    assert f"got 'text in {named}, not UTF-8'; expected a rollout plan saved as UTF-8" in message
    assert f"iconv -f {named} -t UTF-8" in message and "Save with Encoding" in message
    assert err.value.exit_code == 2


def test_the_line_of_the_first_foreign_byte_is_named(tmp_path: Path):
    path = tmp_path / "weekly.yaml"
    path.write_bytes("language: zh\n# 周报\n".encode("gb18030"))
    with pytest.raises(InputError) as err:
        read_mapping(path, what="parameter file", fix_missing="")
    assert "line 2: got 'text in" in str(err.value)


def test_utf8_with_a_byte_order_mark_is_fine(tmp_path: Path):
    path = tmp_path / "rollout.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + PLAN.encode("utf-8"))
    assert load_plan(path).start_date.isoformat() == "2026-03-02"


def test_the_command_line_exits_2_without_a_traceback(home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    plan = tmp_path / "rollout.yaml"
    plan.write_bytes(PLAN.encode("gb18030"))
    data = tmp_path / "a.csv"
    data.write_text("日期,账号,是否活跃\n2026-03-02,a,是\n", encoding="utf-8")
    assert main(["ingest", "activity", str(data), "--plan", str(plan)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "text in GB18030, not UTF-8" in err
    assert not home.warehouse.exists()
