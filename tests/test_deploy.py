"""The scheduling files in ``deploy/``: a crontab line and a systemd timer/service pair.

The systemd units are checked by ``systemd-analyze`` itself (``calendar`` for the timer's
``OnCalendar``, ``verify`` for both units) when the tool is installed; the crontab by a small
validator of the five time fields (crontab(5)), which is tested on its own first.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
DOCS = REPO / "docs" / "scheduling.md"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")

# crontab(5): minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or jan-dec), day of week 0-7 (or sun-sat).
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_NICKNAMES = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_ENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")


def _value(token: str, low: int, high: int, names: tuple[str, ...], where: str) -> int:
    if token.isdigit():
        number = int(token)
    elif token.lower() in names:
        number = names.index(token.lower()) + (1 if low == 1 else 0)
    else:
        raise ValueError(f"{where}: {token!r} is not a number or a name")
    if not low <= number <= high:
        raise ValueError(f"{where}: {number} is outside {low}-{high}")
    return number


def check_cron_field(field: str, name: str, low: int, high: int, names: tuple[str, ...] = ()) -> None:
    """Raise ValueError unless ``field`` is a valid crontab(5) time field."""
    for part in field.split(","):
        where = f"{name} {field!r}"
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"{where}: step {step!r} must be a positive number")
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        first = _value(start, low, high, names, where)
        if dash and _value(end, low, high, names, where) < first:
            raise ValueError(f"{where}: range {base!r} runs backwards")
        if step and not dash:
            raise ValueError(f"{where}: a step needs * or a range, got {part!r}")


def check_cron_line(line: str) -> str:
    """Check one crontab entry's schedule; return its command. Raises ValueError."""
    fields = line.split(None, 5)
    if fields and fields[0] in _NICKNAMES:
        return line.split(None, 1)[1]
    if len(fields) < 6:
        raise ValueError(f"expected five time fields and a command, got {line!r}")
    for value, (name, low, high, names) in zip(fields[:5], FIELDS, strict=True):
        check_cron_field(value, name, low, high, names)
    command = fields[5]
    if re.search(r"(?<!\\)%", command):
        raise ValueError("an unescaped % in a crontab command starts its standard input; write \\%")
    return command


def cron_entries(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not _ENV_LINE.match(line)
    ]


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


# ---- the crontab ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "30 7 * * * true",
        "*/15 8-18 * * 1-5 true",
        "0 0 1,15 jan-jun mon true",
        "0 23 * * 0,7 true",
        "@daily true",
        "5 4 * * sun echo 50\\% done",
    ],
)
def test_the_cron_validator_accepts_valid_entries(line):
    check_cron_line(line)


@pytest.mark.parametrize(
    "line,problem",
    [
        ("60 7 * * * true", "outside 0-59"),
        ("30 24 * * * true", "outside 0-23"),
        ("0 0 0 * * true", "outside 1-31"),
        ("0 0 * 13 * true", "outside 1-12"),
        ("0 0 * * 8 true", "outside 0-7"),
        ("*/0 * * * * true", "positive"),
        ("0 18-8 * * * true", "backwards"),
        ("0 7 * * * date +%F", "unescaped %"),
        ("0 7 * * true", "five time fields"),
        ("0 7 * * funday true", "not a number"),
        ("5/10 * * * * true", "needs * or a range"),
    ],
)
def test_the_cron_validator_refuses_invalid_entries(line, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_cron_line(line)


def test_the_crontab_has_one_valid_entry_that_runs_due_reports_in_china_time():
    entries = cron_entries(DEPLOY / "crontab")
    assert len(entries) == 1
    command = check_cron_line(entries[0])
    assert "wecom-eval run --due --notify" in command and "TZ=Asia/Shanghai" in command
    assert "WECOM_WEBHOOK_KEY" not in command  # secrets come from the 0600 environment file only


def test_the_documentation_shows_the_committed_schedule():
    docs = DOCS.read_text(encoding="utf-8")
    assert cron_entries(DEPLOY / "crontab")[0] in docs
    on_calendar = unit(DEPLOY / "wecom-eval.timer")["Timer"]["OnCalendar"]
    assert f"OnCalendar={on_calendar}" in docs
    assert "wecom-eval run weekly --as-of" in docs and "run --due --force" in docs


# ---- the systemd units -----------------------------------------------------------------------------------------
def test_the_timer_starts_the_service_that_runs_what_cron_runs():
    timer, service = unit(DEPLOY / "wecom-eval.timer"), unit(DEPLOY / "wecom-eval.service")
    assert "Unit" not in timer["Timer"]  # so wecom-eval.timer starts wecom-eval.service, by name
    assert timer["Install"]["WantedBy"] == "timers.target" and timer["Timer"]["Persistent"] == "true"
    assert service["Service"]["Type"] == "oneshot"
    program, exec_args = service["Service"]["ExecStart"].split(" ", 1)
    assert program.endswith("/.venv/bin/wecom-eval") and exec_args == "run --due --notify"
    assert f"wecom-eval {exec_args}" in check_cron_line(cron_entries(DEPLOY / "crontab")[0])
    lines = (DEPLOY / "wecom-eval.service").read_text(encoding="utf-8").splitlines()
    assert "Environment=TZ=Asia/Shanghai" in lines  # "today" is China's date on a UTC machine too


@needs_systemd
def test_the_timers_calendar_is_0730_china_time_every_day():
    on_calendar = unit(DEPLOY / "wecom-eval.timer")["Timer"]["OnCalendar"]
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", "--iterations=7", on_calendar],
        capture_output=True,
        text=True,
        timeout=30,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC", done.stdout)
    assert len(elapses) == 7  # seven days in a row, weekends included (a 调休 Saturday can be due)
    assert {t for _, t in elapses} == {"23:30:00"}  # 07:30 in Shanghai (UTC+8, no daylight saving)


@needs_systemd
def test_systemd_analyze_refuses_a_bad_calendar():  # so the test above can fail
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", "*-*-* 25:30:00"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0


def _verify(folder: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *(str(folder / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_systemd
def test_systemd_analyze_verifies_the_units(tmp_path):
    # ExecStart must name an executable that exists here: the test venv's own wecom-eval.
    here = Path(sys.executable).parent / "wecom-eval"
    if not here.exists():
        pytest.skip("the wecom-eval console script is not installed in this environment")
    for name in ("wecom-eval.service", "wecom-eval.timer"):
        content = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(
            content.replace("/opt/wecom-eval/.venv/bin/wecom-eval", str(here)), encoding="utf-8"
        )
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "wecom-eval.timer").write_text(
        (tmp_path / "wecom-eval.timer").read_text(encoding="utf-8").replace("Persistent=", "Persistant="),
        encoding="utf-8",
    )
    shutil.copy(tmp_path / "wecom-eval.service", bad / "wecom-eval.service")
    done = _verify(tmp_path, "wecom-eval.service", "wecom-eval.timer")
    if done.returncode != 0 and "wecom-eval" not in done.stderr:
        pytest.skip(f"systemd-analyze verify does not work in this environment: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "wecom-eval" in line] == []  # no warning about our units
    misspelt = _verify(bad, "wecom-eval.service", "wecom-eval.timer")
    assert "Unknown key" in misspelt.stderr and "Persistant" in misspelt.stderr  # warnings are seen
