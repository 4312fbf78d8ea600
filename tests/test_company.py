"""A company's own data, from its exports to a first honest report (tests/fixtures/company/).

The fixtures are export-shaped files written by ``make_company.py`` (not the demo generator):
50 people, 6 departments, a GB18030 roster with a title row and no activation columns,
the same roster joined with the contacts export's activation, and three weekly
member-activity exports (2026-11-02 … 2026-11-22, Wednesday 2026-11-11 missing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from wecom_eval.cli import main
from wecom_eval.home import REPO_PARAMS, Home

FIXTURES = Path(__file__).parent / "fixtures" / "company"
ACTIVITY = sorted(str(p) for p in FIXTURES.glob("activity-*.csv"))
AS_OF = "2026-11-23"  # a Monday: the weekly report of rollout week 3 (2026-11-16 … 11-22)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("WECOM_EVAL_HOME", str(tmp_path))
    return Home.from_env()


def cli(*argv: str) -> int:
    return main(list(argv))


def _init(*extra: str) -> int:
    return cli("init", "--start", "2026-11-02", "--pilots", "行政部,华东分公司/销售部", *extra)


class _Text(HTMLParser):
    """The visible text of a page (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


# ---- init ------------------------------------------------------------------------------------

def test_init_needs_a_roster_and_names_the_closest_departments(home: Home, capsys: pytest.CaptureFixture[str]):
    assert _init() == 2
    assert "wecom-eval ingest roster" in capsys.readouterr().err
    assert cli("ingest", "roster", str(FIXTURES / "roster.csv")) == 0
    assert cli("init", "--start", "2026-11-02", "--pilots", "销售部门") == 2
    err = capsys.readouterr().err
    assert "销售部门" in err and "Closest departments: 销售部" in err
    assert not (home.own_params / "rollout.yaml").exists()  # nothing written

    assert _init("--others-go-live-week", "4") == 0
    out = capsys.readouterr().out
    plan_file = home.own_params / "rollout.yaml"
    assert f"wrote {plan_file}" in out and "next: wecom-eval ingest activity" in out
    from wecom_eval.plan import load_plan

    plan = load_plan(plan_file)
    assert plan.start_date == dt.date(2026, 11, 2)
    assert plan.departments.pilot == ["总部/行政部", "华东分公司/销售部"]  # a unique name becomes its path
    assert plan.departments.others_go_live_week == 4 and plan.departments.go_live_week_by_path == {}
    assert "# Pilots go live in week 1" in plan_file.read_text(encoding="utf-8")  # the template's comments kept

    plan_file.write_text(plan_file.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert _init() == 2  # an existing plan is kept …
    assert "--force" in capsys.readouterr().err and plan_file.read_text(encoding="utf-8").endswith("# edited\n")
    assert _init("--force") == 0  # … unless --force
    assert not plan_file.read_text(encoding="utf-8").endswith("# edited\n")


# ---- the parameter overlay -------------------------------------------------------------------

def test_home_params_overlay_file_by_file(home: Home, capsys: pytest.CaptureFixture[str]):
    own = home.own_params
    (own / "mappings").mkdir(parents=True)
    (own / "weekly.yaml").write_text("language: en\n", encoding="utf-8")
    (own / "mappings" / "acme.yaml").write_text("columns:\n  employee_id: [人员代码]\n", encoding="utf-8")
    assert home.param_file("weekly.yaml") == own / "weekly.yaml"  # the home's file replaces the repository's
    assert home.param_file("monthly.yaml") == REPO_PARAMS / "monthly.yaml"  # the others keep applying
    assert home.plan == REPO_PARAMS / "rollout.yaml"
    names = [p.name for p in home.param_files("mappings")]
    assert names == ["acme.yaml", "example-oa.yaml"]  # mappings from both places

    assert cli("check") == 0
    out = capsys.readouterr().out
    assert f"{own / 'weekly.yaml'} (home): parameters OK — language" in out
    assert f"{REPO_PARAMS / 'monthly.yaml'} (repository): parameters OK" in out
    assert f"{own / 'mappings' / 'acme.yaml'} (home): mapping file" in out
    assert f"{REPO_PARAMS / 'rollout.yaml'} (repository): plan OK" in out

    # the home's mapping applies to an ingest alongside the repository's
    roster = FIXTURES / "roster.csv"
    text = roster.read_bytes().decode("gb18030").replace("工号", "人员代码")
    renamed = home.root / "hr.csv"
    renamed.write_bytes(text.encode("gb18030"))
    assert cli("ingest", "roster", str(renamed)) == 0


# ---- the plan is applied at report time --------------------------------------------------------

def test_a_plan_edited_after_ingest_is_used_by_the_next_computation(home: Home):
    from wecom_eval import kpis
    from wecom_eval.kpis._base import departments_frame
    from wecom_eval.plan import load_plan
    from wecom_eval.warehouse import open_reader

    assert cli("ingest", "roster", str(FIXTURES / "roster-activation.csv")) == 0  # ingested under the repo plan
    assert _init() == 0
    plan_file = home.own_params / "rollout.yaml"

    def frame() -> dict[str, tuple[bool, dt.date]]:
        with open_reader(home) as wh:
            deps = departments_frame(wh.con, load_plan(plan_file))
        return {d: (bool(p), g) for d, p, g in zip(deps["department"], deps["is_pilot"], deps["go_live_date"],
                                                     strict=True)}

    first = frame()
    assert first["总部/行政部"] == (True, dt.date(2026, 11, 2))  # week 1
    assert first["总部/财务部"] == (False, dt.date(2026, 11, 16))  # week 3 = 11-02 + 14 days
    edited = plan_file.read_text(encoding="utf-8")
    edited = edited.replace('pilot: ["总部/行政部", "华东分公司/销售部"]', 'pilot: ["总部/财务部"]')
    edited = edited.replace("others_go_live_week: 3", "others_go_live_week: 5")
    plan_file.write_text(edited, encoding="utf-8")
    second = frame()
    assert second["总部/财务部"] == (True, dt.date(2026, 11, 2))
    assert second["总部/行政部"] == (False, dt.date(2026, 11, 30))  # week 5 = 11-02 + 28 days
    # and the KPIs follow: 行政部's registration path now starts at its new go-live
    with open_reader(home) as wh:
        sc = kpis.scorecard(wh, load_plan(plan_file), as_of=dt.date(2026, 11, 22), by="department")
    row = sc.loc[(sc["department"] == "总部/行政部") & (sc["kpi"] == "registration")].iloc[0]
    assert row["path_start"] == dt.date(2026, 11, 30) and "not live yet" in row["note"]


# ---- the scenario: a new user's first weekly report --------------------------------------------

def test_roster_and_activity_to_a_first_honest_weekly_report(home: Home, capsys: pytest.CaptureFixture[str]):
    assert cli("ingest", "roster", str(FIXTURES / "roster.csv")) == 0
    assert _init() == 0
    assert cli("ingest", "activity", *ACTIVITY) == 0
    assert cli("check") == 0
    capsys.readouterr()

    # 1. A roster without activation columns and no member source: registration (and the
    # activity rates, which count registered members) are not measured — and say the fix.
    assert cli("run", "weekly", "--as-of", AS_OF) == 0
    folder = home.reports / "weekly" / AS_OF
    doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    targets = doc["targets"]
    assert {k: t["verdict"] for k, t in targets.items()} == dict.fromkeys(targets, "not_measured")
    assert "wecom-eval ingest members" in targets["registration"]["note"]
    assert targets["pilot_efficiency"]["note"].startswith("缺少试点部门")  # Chinese, from strings.yaml
    kinds = {a["kind"] for a in doc["alerts"]}
    assert kinds == {"data_quality"}  # no straggler, penetration or efficiency alert from absent data
    gap = doc["alerts"][0]
    assert "2026-11-11" in gap["message"]
    activity = next(c for c in doc["coverage"] if c["source"] == "activity")
    assert (activity["first_day"], activity["last_day"]) == ("2026-11-02", "2026-11-22")
    # rows: the 45 activated people, each from its activation day 2026-11-02 + (k mod 5).
    # Week 1: k mod 5 = 0 holds 10 people less the 5 multiples of 10 → 5 people × 7 days, and
    # each other residue r holds 10 people × (7 − r) days → 35 + 10 × (6 + 5 + 4 + 3) = 215;
    # week 2: 45 × 6 days (Wednesday missing) = 270; week 3: 45 × 7 = 315.
    assert activity["rows"] == 215 + 270 + 315
    assert activity["missing_working_days"] == 1 and activity["missing_days"] == "2026-11-11"
    roster = next(c for c in doc["coverage"] if c["source"] == "roster")
    assert roster["rows"] == 50 and next(c for c in doc["coverage"] if c["source"] == "members")["rows"] == 0
    _readable(folder / "report.html", expect_not_measured=True)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    plan_file = home.own_params / "rollout.yaml"
    assert manifest["plan"] == {"path": str(plan_file), "sha256": hashlib.sha256(plan_file.read_bytes()).hexdigest()}

    # 2. The same people with their activation (the roster joined with the contacts export).
    assert cli("ingest", "roster", str(FIXTURES / "roster-activation.csv")) == 0
    assert cli("run", "weekly", "--as-of", AS_OF) == 0
    doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    targets = doc["targets"]
    # Registration on 2026-11-22: 50 on the roster; person k is not activated when k is a
    # multiple of 10 (10, 20, 30, 40, 50), the other 45 activated by 2026-11-06 → 45 / 50.
    assert targets["registration"]["estimate"] == pytest.approx(45 / 50)
    assert targets["registration"]["n"] == 50
    # Engaged daily-active rate, week 3 to date (working days 11-16 … 11-20, 45 registered
    # every day): active ≥ 30 minutes when k mod 4 is 2 or 3. Among 1…50 there are 13 with
    # k mod 4 = 2 and 12 with k mod 4 = 3 (25); less the non-activated 10, 30, 50 (all ≡ 2)
    # → 22 engaged of 45 each day, so 22 / 45 (k mod 4 = 1 is active but only 20 minutes).
    assert targets["daily_active"]["estimate"] == pytest.approx(22 / 45)
    assert targets["daily_active"]["n"] == 45
    for kpi in ("feature_penetration", "satisfaction", "pilot_efficiency"):
        assert targets[kpi]["verdict"] == "not_measured" and targets[kpi]["estimate"] is None
    alerts = doc["alerts"]
    assert not [a for a in alerts if a["kind"] == "behind_path" and "渗透" in a["message"]]
    # stragglers: only 30 (华东分公司/销售部, a pilot, live since 11-02); 10, 20, 40, 50 are in
    # departments live since 11-16, within the 7-day grace on 11-22
    stragglers = {a["subject"]: a["message"] for a in alerts if a["kind"] == "registration_stragglers"}
    assert set(stragglers) == {"全公司", "华东分公司/销售部"} and "有 1 名员工" in stragglers["全公司"]
    _readable(folder / "report.html", expect_not_measured=True)

    # 3. A plan whose pilot is not a department: run refuses before any kernel starts.
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace("总部/行政部", "总部/行政中心"), encoding="utf-8")
    shutil.rmtree(home.reports)
    assert cli("run", "weekly", "--as-of", AS_OF) == 2
    err = capsys.readouterr().err
    assert "总部/行政中心" in err and "总部/行政部" in err  # the bad pilot and the closest department
    assert not home.reports.exists()  # no run folder, no kernel


def _readable(path: Path, *, expect_not_measured: bool) -> None:
    """No traceback, no NaN, no English internal message in a Chinese report."""
    page = visible_text(path)
    assert "Traceback" not in page and "Error" not in page
    assert not re.search(r"\bnan\b|\bNaN\b", page)
    for english in ("no data", "not estimable", "no rows left", "check the columns", "not measured"):
        assert english not in page
    if expect_not_measured:
        assert "未测量" in page and "数据覆盖情况" in page


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="promotion-review (IndexError in cell 5) and deepening-review (KeyError "
                   "'cells' in cell 6) still fail on a company without approvals or members; to be fixed")
@pytest.mark.parametrize("with_activity", [False, True], ids=["roster-only", "roster+activity"])
def test_all_six_reports_run_on_a_partial_company(home: Home, with_activity: bool):
    assert cli("ingest", "roster", str(FIXTURES / "roster.csv")) == 0
    assert _init() == 0
    if with_activity:
        assert cli("ingest", "activity", *ACTIVITY) == 0
    for params in ("launch-review", "quarterly"):  # fewer simulated rollouts keep this quick
        (home.own_params / f"{params}.yaml").write_text("n_boot: 199\n" + (
            "power_simulations: 60\n" if params == "launch-review" else ""), encoding="utf-8")
    assert cli("run", "--all", "--as-of", "2027-01-25") == 0
    for html in home.reports.glob("*/*/report.html"):
        _readable(html, expect_not_measured=True)
    assert len(list(home.reports.glob("*/*/report.html"))) == 6
