"""True registration dates: status snapshots, first activity, "activated, date unknown", migration.

Four employees, worked by hand (2026-03-02 is a Monday):

======  ==============  =====================================  ===================================
who     activated on    members exports of 03-04 and 03-11     approvals and check-ins (working days)
======  ==============  =====================================  ===================================
E01     03-02 (Mon)     已激活, 已激活                          from 03-02
E02     03-05 (Thu)     未激活, 已激活                          from 03-05
E03     03-12 (Thu)     未激活, 未激活                          from 03-12
E04     never           未激活, 未激活                          none
======  ==============  =====================================  ===================================

Snapshots alone: E01 is dated 03-04 and E02 03-11 (the first snapshots showing them); E03's
latest snapshot says 未激活. On 03-03 E01 and E02 are "activated, date unknown" (no snapshot
on or before 03-03 says otherwise); from 03-04 the 03-04 snapshot shows E02 not yet activated.
With the activity, E01 is dated 03-02, E02 03-05 and E03 03-12 (used WeCom after the
snapshot that showed it 未激活), each on its first activity; before the first snapshot
(03-02, 03-03) nothing rules out that E02 and E03 were already activated: date unknown.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import sys
from pathlib import Path

import pytest

from wecom_eval import kpis
from wecom_eval.home import Home
from wecom_eval.ingest import ingest
from wecom_eval.kpis._base import Context
from wecom_eval.kpis.registration import registration_basis, registration_raw
from wecom_eval.store.activation import date_activations
from wecom_eval.store.load import refresh_dependents
from wecom_eval.store.warehouse import Warehouse, open_reader, open_writer

FIXTURES = Path(__file__).parent / "fixtures"
D = dt.date


@pytest.fixture(scope="module")
def wecom_exports():  # noqa: ANN201
    sys.path.insert(0, str(FIXTURES / "ingest"))
    try:
        from make_fixtures import wecom_exports
    finally:
        sys.path.remove(str(FIXTURES / "ingest"))
    return wecom_exports


EMPLOYEES = [
    {"employee_id": "E01", "name": "甲", "department": "总部/行政部", "activated_on": D(2026, 3, 2)},
    {"employee_id": "E02", "name": "乙", "department": "总部/行政部", "activated_on": D(2026, 3, 5)},
    {"employee_id": "E03", "name": "丙", "department": "总部/销售部", "activated_on": D(2026, 3, 12)},
    {"employee_id": "E04", "name": "丁", "department": "总部/销售部", "activated_on": None},
]
DAYS = [
    D(2026, 3, 2),
    D(2026, 3, 3),
    D(2026, 3, 4),
    D(2026, 3, 5),
    D(2026, 3, 10),
    D(2026, 3, 11),
    D(2026, 3, 12),
    D(2026, 3, 13),
]


def _basis(home: Home, plan) -> dict[dt.date, tuple[int, int, int, int]]:  # noqa: ANN001
    """(registered, by snapshot, by first activity, activated with date unknown) per day."""
    with open_reader(home) as wh:
        frame = registration_basis(wh, plan, data_through=DAYS)
        rate = registration_raw(Context.of(wh, plan), data_through=DAYS, by="company")  # four people: below the floor
    assert rate["registered"].tolist() == frame["registered"].tolist()  # the same figure as the KPI
    assert set(frame["employees"]) == {4}
    return {
        r.data_through: (r.registered, r.snapshot, r.first_activity, r.activated_unknown)
        for r in frame.itertuples(index=False)
    }


def test_snapshots_then_activity_give_the_hand_worked_registration(home: Home, plan, tmp_path: Path, wecom_exports):  # noqa: ANN001
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "工号,姓名,部门,入职日期\n"
        + "".join(f"{e['employee_id']},{e['name']},{e['department']},2020-01-01\n" for e in EMPLOYEES),
        encoding="utf-8",
    )
    files = wecom_exports(
        EMPLOYEES, tmp_path / "exports", first_day=D(2026, 3, 2), days=14, snapshots=(D(2026, 3, 4), D(2026, 3, 11))
    )
    by_name = {f.name: f for f in files}
    ingest("roster", [roster], home=home, plan=plan)
    ingest("members", [by_name["members_2026-03-04.csv"], by_name["members_2026-03-11.csv"]], home=home, plan=plan)
    assert _basis(home, plan) == {
        D(2026, 3, 2): (0, 0, 0, 2),
        D(2026, 3, 3): (0, 0, 0, 2),  # E01 and E02: activated, date unknown
        D(2026, 3, 4): (1, 1, 0, 0),
        D(2026, 3, 5): (1, 1, 0, 0),
        D(2026, 3, 10): (1, 1, 0, 0),
        D(2026, 3, 11): (2, 2, 0, 0),
        D(2026, 3, 12): (2, 2, 0, 0),
        D(2026, 3, 13): (2, 2, 0, 0),
    }

    ingest("approvals", [by_name["approvals.csv"]], home=home, plan=plan)
    ingest("checkins", [by_name["checkins.csv"]], home=home, plan=plan)
    assert _basis(home, plan) == {
        D(2026, 3, 2): (1, 0, 1, 2),
        D(2026, 3, 3): (1, 0, 1, 2),  # E02 and E03 unknown before 03-04
        D(2026, 3, 4): (1, 0, 1, 0),
        D(2026, 3, 5): (2, 0, 2, 0),
        D(2026, 3, 10): (2, 0, 2, 0),
        D(2026, 3, 11): (2, 0, 2, 0),
        D(2026, 3, 12): (3, 0, 3, 0),
        D(2026, 3, 13): (3, 0, 3, 0),
    }
    with open_reader(home) as wh:
        rows = wh.con.execute(
            "SELECT userid, status, CAST(activated_at AS DATE), activation_basis FROM members ORDER BY userid"
        ).fetchall()
    assert rows == [
        ("e01", 1, D(2026, 3, 2), "first_activity"),
        ("e02", 1, D(2026, 3, 5), "first_activity"),
        ("e03", 1, D(2026, 3, 12), "first_activity"),
        ("e04", 4, None, None),
    ]


def test_dating_is_idempotent_and_ignores_legacy_records(home: Home, plan, tmp_path: Path, wecom_exports):  # noqa: ANN001
    files = wecom_exports(
        EMPLOYEES[:2], tmp_path / "exports", first_day=D(2026, 3, 2), days=7, snapshots=(D(2026, 3, 6),)
    )
    ingest("members", [files[0]], home=home, plan=plan)
    legacy = tmp_path / "legacy.csv"  # an old-system approval by E02 before WeCom: not WeCom activity
    legacy.write_text(
        "审批编号,申请人账号,申请部门,提交时间,审批状态\nOA-1,e02,总部/行政部,2026-03-03 09:00,审批中\n",
        encoding="utf-8",
    )
    ingest("legacy-approvals", [legacy], home=home, plan=plan)
    with open_writer(home) as wh:
        assert date_activations(wh) == 0  # the load already dated everyone
        dates = wh.con.execute(
            "SELECT userid, CAST(activated_at AS DATE), activation_basis FROM members ORDER BY userid"
        ).fetchall()
    assert dates == [("e01", D(2026, 3, 6), "snapshot"), ("e02", D(2026, 3, 6), "snapshot")]


def _unpack(name: str, tmp_path: Path) -> Home:
    home = Home.from_env(tmp_path / name)
    home.warehouse.parent.mkdir(parents=True)
    with gzip.open(FIXTURES / "warehouse" / f"{name}.duckdb.gz", "rb") as src, home.warehouse.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return home


def test_a_warehouse_written_before_snapshots_is_read_then_migrated(tmp_path: Path, plan):  # noqa: ANN001
    home = _unpack("v1-roster", tmp_path)
    day = D(2026, 3, 16)
    # Read-only, not yet migrated: the KPIs still work; every time in it was stated by the roster.
    with open_reader(home) as wh:
        assert "activation_basis" not in wh.query("SELECT * FROM members LIMIT 0").columns
        before = kpis.registration_rate(wh, plan, data_through=day, by="company")["registered"].tolist()
        basis = registration_basis(wh, plan, data_through=day).iloc[0]
    # zhangwei, wangfang, lina, zhaomin (03-16 16:20) and huangqiang (03-16, disabled since): 5 of 8
    assert before == [5] and (basis["export_time"], basis["activated_unknown"]) == (5, 0)
    with open_writer(home) as wh:
        basis_of = dict(wh.con.execute("SELECT userid, activation_basis FROM members").fetchall())
        assert wh.count("member_status") == 0
    assert basis_of["zhangwei"] == "export_time" and basis_of["liuyang"] is None
    with open_reader(home) as wh:
        assert kpis.registration_rate(wh, plan, data_through=day, by="company")["registered"].tolist() == [5]


def test_a_fetched_warehouse_turns_first_seen_times_into_snapshots(tmp_path: Path, plan):  # noqa: ANN001
    # The old fetch dated a and b by its own time, 2026-04-10 (after the deadline); a used WeCom on 03-05.
    home = _unpack("v1-fetched", tmp_path)
    wh = Warehouse(home.warehouse)  # opening for writing migrates
    try:
        snaps = wh.con.execute(
            "SELECT userid, observed_on, source, status FROM member_status ORDER BY userid"
        ).fetchall()
        assert snaps == [("a", D(2026, 4, 10), "migrated", 1), ("b", D(2026, 4, 10), "migrated", 1)]
        refresh_dependents(wh, plan)  # what the next load does
        dates = wh.con.execute(
            "SELECT userid, CAST(activated_at AS DATE), activation_basis FROM members ORDER BY userid"
        ).fetchall()
        row = registration_basis(wh, plan, data_through=D(2026, 3, 31)).iloc[0]
        behind = kpis.stragglers(wh, plan, data_through=D(2026, 3, 31))
    finally:
        wh.close()
    assert dates == [("a", D(2026, 3, 5), "first_activity"), ("b", D(2026, 4, 10), "snapshot"), ("c", None, None)]
    # By the deadline: a registered (activity); b activated, date unknown — not silently "after".
    assert (row["employees"], row["registered"], row["activated_unknown"]) == (3, 1, 1)
    assert dict(zip(behind["userid"], behind["member_state"], strict=True)) == {
        "b": "activated, date unknown",
        "c": "not activated",
    }


def test_the_weekly_report_says_what_the_registration_figure_rests_on(
    tmp_path: Path,
    plan,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
):
    from wecom_eval.reporting import open_report, views

    home = _unpack("v1-fetched", tmp_path)
    with open_writer(home) as wh:  # migrate and date, as the next load would
        refresh_dependents(wh, plan)
    monkeypatch.setenv("WECOM_EVAL_HOME", str(home.root))
    monkeypatch.delenv("WECOM_EVAL_RUN_DIR", raising=False)
    for language, expected in (
        (
            "zh",
            "注册日期的依据（截至 2026-03-31，已注册 1 人）：导出的激活时间 0 人，成员状态快照 0 人，"
            "首次使用 1 人。 另有 1 人已激活但激活日期不明（2026-03-31 及以前没有快照或使用记录），"
            "未计入注册率。",
        ),
        (
            "en",
            "What the registration dates rest on (to 2026-03-31, 1 registered): the export's activation "
            "time 0, a member status snapshot 0, first use 1. 1 more are activated but their activation date "
            "is unknown (no snapshot or use on or before 2026-03-31); they are not counted as registered.",
        ),
    ):
        report = open_report("promotion-review", as_of="2026-04-27", language=language)
        try:
            assert views.registration_deadline(report) == D(2026, 3, 31)
            assert views.registration_basis_note(report, views.registration_deadline(report)) == expected
        finally:
            report.close()


def test_the_export_writer_serves_the_test_company(home: Home, plan, tmp_path: Path, wecom_exports):  # noqa: ANN001
    # The 50-person company of tests/fixtures/company: person k never activates when k is a
    # multiple of 10, else on 2026-11-02 + (k mod 5). Contacts exports of 11-04 and 11-09.
    sys.path.insert(0, str(FIXTURES / "company"))
    try:
        import make_company
    finally:
        sys.path.remove(str(FIXTURES / "company"))
    staff = [
        {
            "employee_id": p["工号"],
            "name": p["姓名"],
            "department": p["部门"],
            "userid": p["账号"],
            "activated_on": make_company.activated_on(k),
        }
        for k, p in enumerate(make_company.people(), 1)
    ]
    files = wecom_exports(
        staff, tmp_path / "exports", first_day=D(2026, 11, 2), days=14, snapshots=(D(2026, 11, 4), D(2026, 11, 9))
    )
    ingest("roster", [FIXTURES / "company" / "roster.csv"], home=home, plan=plan)
    report = str(ingest("members", files[:2], home=home, plan=plan))
    assert "joined to the roster by 工号 50; not on the roster: 0" in report  # 账号 u001… are not 工号 C001…
    with open_reader(home) as wh:
        got = registration_basis(wh, plan, data_through=[D(2026, 11, 3), D(2026, 11, 5), D(2026, 11, 9)])
    # 11-04 shows the 45 who activate at all, minus those activating on 11-05 or 11-06 (k mod 5
    # = 3 or 4: 20 people): 25. On 11-03 those 25 (and the 20 later ones: nothing rules out
    # an earlier day) are "activated, date unknown"; on 11-05 the 11-04 export shows the 20 not
    # yet activated; on 11-09 all 45 are registered.
    assert got[["registered", "snapshot", "activated_unknown"]].values.tolist() == [
        [0, 0, 45],
        [25, 25, 0],
        [45, 45, 0],
    ]
