"""The command line as people meet it: help written for them, and errors with one prefix."""

from __future__ import annotations

import pytest

from wecom_eval import cli
from wecom_eval.errors import InputError, Problem

MARKUP = (":mod:", ":func:", ":class:", ":data:", ":meth:", "``")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [c.replace("_", "-") for c in cli.COMMANDS])
def test_help_is_written_for_people(capsys, command):
    text = _help(capsys, command)
    assert not [m for m in MARKUP if m in text], text  # no reStructuredText from a docstring
    assert f"usage: wecom-eval {command}" in text
    examples = text.split("examples:\n", 1)
    assert len(examples) == 2 and f"wecom-eval {command}" in examples[1]  # runnable examples at the end


def test_the_top_level_help_lists_every_command(capsys):
    text = _help(capsys)
    assert all(c.replace("_", "-") in text for c in cli.COMMANDS)
    assert not [m for m in MARKUP if m in text]


def test_an_error_line_carries_one_prefix(tmp_path, capsys):
    bad = tmp_path / "activity.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert cli.main(["--home", str(tmp_path / "home"), "ingest", "activity", str(bad)]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("wecom-eval ingest activity: ") and first.count("wecom-eval") == 1, first


@pytest.mark.parametrize(
    ("subject", "line"),
    [
        ("options", "wecom-eval run: options: 1 problem(s)"),
        ("wecom-eval run", "wecom-eval run: 1 problem(s)"),
        ("wecom-eval run weekly", "wecom-eval run weekly: 1 problem(s)"),
        ("wecom-eval running", "wecom-eval run: wecom-eval running: 1 problem(s)"),  # another word, not the prefix
    ],
)
def test_error_line_adds_the_prefix_only_when_the_message_lacks_it(subject, line):
    assert cli.error_line("run", InputError(subject, [Problem("x", 1, "2")])).startswith(line)


def test_an_unknown_report_is_named_with_the_reports_of_the_registry(tmp_path, capsys):
    assert cli.main(["--home", str(tmp_path), "run", "daily", "--as-of", "2026-05-25"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wecom-eval run: report: 1 problem(s)") and "weekly" in err and "daily" in err


def test_building_the_command_line_imports_no_generator_server_or_pull():
    """Every command (``ingest`` of one day too) pays only for what it runs, not for the others."""
    import subprocess
    import sys

    heavy = ("wecom_eval.demo.generator", "wecom_eval.fakeserver.server", "wecom_eval.fetch.run")
    probe = (
        "import sys; from wecom_eval import cli; cli.build_parser(); "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_listing_is_the_full_parsers_help_without_importing_a_command():
    """``wecom-eval --help`` shows each command's own line, and starts no faster path to a wrong one."""
    import subprocess
    import sys

    assert cli.build_parser(listing=True).format_help() == cli.build_parser().format_help()
    from wecom_eval.ingest.kinds import KINDS

    assert cli.SUMMARIES["ingest"].endswith(": " + ", ".join(KINDS))  # every kind, in order
    probe = (
        "import sys; from wecom_eval import cli\n"
        "try: cli.main(['--help'])\nexcept SystemExit: pass\n"
        "print([m for m in sys.modules if m.startswith('wecom_eval.commands.') or m in ('pandas', 'pydantic')], "
        "file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]" and "usage: wecom-eval" in done.stdout
