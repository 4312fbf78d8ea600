"""Secrets: which variables are secret, the kernel's environment, and the scan of outputs."""

from __future__ import annotations

import zipfile

from wecom_eval.reporting import secrecy


def test_secret_names():
    for name in (
        "WECOM_SECRET_APPROVAL",
        "WECOM_CORP_ID",
        "WECOM_WEBHOOK_KEY",
        "WECOM_EVAL_SALT",
        "DB_PASSWORD",
        "OPENAI_API_KEY",
        "access_token",
    ):
        assert secrecy.is_secret_name(name), name
    for name in ("WECOM_EVAL_HOME", "PATH", "HOME", "LANG", "WECOM_API_BASE"):
        assert not secrecy.is_secret_name(name), name


def test_kernel_environment_drops_secrets_but_keeps_what_it_is_told():
    env = {"PATH": "/bin", "WECOM_SECRET_X": "s3cr3t-value", "WECOM_EVAL_SALT": "salt-value-0123456789"}
    out = secrecy.kernel_environment(env, keep=["WECOM_EVAL_SALT"])
    assert out == {"PATH": "/bin", "WECOM_EVAL_SALT": "salt-value-0123456789"}


def test_short_values_are_not_scanned_for():
    assert secrecy.secret_values({"WECOM_SECRET_X": "abc", "WECOM_SECRET_Y": "long-enough"}) == {
        "WECOM_SECRET_Y": "long-enough"
    }


def test_scan_finds_secrets_in_text_json_escapes_and_zip_members(tmp_path):
    secret = 'tok"en-1234/\\x'
    (tmp_path / "clean.html").write_text("nothing here", encoding="utf-8")
    (tmp_path / "plain.txt").write_text(f"value={secret}", encoding="utf-8")
    (tmp_path / "escaped.json").write_text('{"v": "tok\\"en-1234/\\\\x"}', encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", f"<t>{secret}</t>")
    hits = secrecy.scan([tmp_path], {"WECOM_SECRET_X": secret})
    assert sorted(p.name for p, _ in hits) == ["book.xlsx", "escaped.json", "plain.txt"]
    assert {n for _, n in hits} == {"WECOM_SECRET_X"}
