"""Raw landing keeps inputs byte for byte, read-only, checksummed, and lands each only once."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from wecom_eval.store.raw import land_file, land_records


def test_file_lands_byte_for_byte_once(home, tmp_path: Path):
    src = tmp_path / "名册 2026-03.csv"
    payload = "工号,姓名\nE1,张三\n".encode("gb18030")
    src.write_bytes(payload)
    first = land_file(home.raw, "roster", src)
    again = land_file(home.raw, "roster", src)
    assert first.new and not again.new and again.path == first.path
    assert first.path.read_bytes() == payload
    assert first.sha256 == hashlib.sha256(payload).hexdigest()
    assert not os.access(first.path, os.W_OK) or os.geteuid() == 0  # root may write anyway
    assert oct(first.path.stat().st_mode & 0o777) == "0o444"
    # The folder's SHA256SUMS verifies with the standard tool.
    out = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=first.path.parent, capture_output=True, text=True)
    assert out.returncode == 0 and "OK" in out.stdout


def test_records_land_as_json_lines(home):
    records = [{"userid": "u1", "name": "张三"}, {"userid": "u2", "name": "李四"}]
    landed = land_records(home.raw, "wecom", "user_list", records)
    lines = landed.path.read_text(encoding="utf-8").splitlines()
    assert lines == ['{"name": "张三", "userid": "u1"}', '{"name": "李四", "userid": "u2"}']
    assert not land_records(home.raw, "wecom", "user_list", records).new


def test_missing_file_is_an_error(home, tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        land_file(home.raw, "roster", tmp_path / "absent.csv")
