"""The WeCom admin exports as ingest kinds: members, approvals, checkins, customer-contacts.

Real-shaped downloads (tests/fixtures/ingest/wecom/: GB18030 and GBK with title rows, UTF-8
with BOM, workbooks with merged titles and time cells) load into the tables worked out by
hand below; a members export is a dated snapshot (refused without a date); members join
the roster by account, 工号 or mobile; check-in locations never reach the warehouse or raw
landing; loading the same files again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import shutil
from pathlib import Path

import pandas as pd
import pytest

from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.warehouse import open_reader

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
WECOM = FIXTURES / "wecom"
ROSTER = FIXTURES / "good" / "roster_gb18030_title.csv"
MEMBERS_0310 = WECOM / "members_2026-03-10_gb18030_title.csv"
MEMBERS_0324 = WECOM / "成员列表_2026年3月24日.xlsx"
EXPORTS = [
    ("members", [MEMBERS_0310, MEMBERS_0324]),
    ("approvals", [WECOM / "approvals_utf8bom_title.csv"]),
    ("checkins", [WECOM / "checkins_with_location.xlsx"]),
    ("customer-contacts", [WECOM / "customer_contacts_gbk.csv"]),
]
CST = "Asia/Shanghai"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=CST)


def tables(home: Home) -> dict[str, list[list[str]]]:
    with open_reader(home) as wh:
        return {name: wh.frame(name).astype(str).values.tolist() for name in LOAD_ORDER}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict[str, str]]:
    home = Home.from_env(tmp_path_factory.mktemp("wecom-exports"))
    ingest("roster", [ROSTER], home=home)
    reports = {kind: str(ingest(kind, files, home=home)) for kind, files in EXPORTS}
    return home, reports


def test_members_exports_are_snapshots_joined_to_the_roster(loaded):
    home, reports = loaded
    with open_reader(home) as wh:
        snaps = wh.query("SELECT userid, observed_on, status FROM member_status ORDER BY userid, observed_on")
        members = wh.frame("members").set_index("userid")
    assert len(snaps) == 2 * 9  # eight on the roster and one contractor, in each export
    chen = snaps[snaps["userid"] == "chenjing"]
    assert [(str(d.date()), s) for d, s in zip(chen["observed_on"], chen["status"], strict=True)] == [
        ("2026-03-10", 4),
        ("2026-03-24", 1),
    ]  # 未激活 on the 10th, 已激活 on the 24th
    # Joined by account (the roster's 企业微信账号); the contractor is listed as not on the roster.
    assert members.loc["wangjie", "employee_id"] == "E1002" and pd.isna(members.loc["zhoujie", "employee_id"])
    assert "joined to the roster by account 8; not on the roster: 1 — zhoujie (周杰)" in reports["members"]
    # The latest snapshot gives the status; the roster's 激活时间 and the export's stay stated times.
    assert members.loc["chenjing", "status"] == 1 and members.loc["huangqiang", "status"] == 2
    assert members.loc["chenjing", "activated_at"] == ts("2026-03-17 08:55")
    assert members.loc["zhoujie", "activated_at"] == ts("2026-03-06 09:00")
    assert set(members.loc[members["activated_at"].notna(), "activation_basis"]) == {"export_time"}


def test_the_approval_export_gives_wecom_records_and_approval_use(loaded):
    home, _reports = loaded
    with open_reader(home) as wh:
        records = wh.query("SELECT * FROM process_records ORDER BY record_id").set_index("record_id")
        events = wh.query(
            "SELECT event_id, userid, ts FROM feature_events WHERE feature = 'approval' ORDER BY event_id"
        )
        depts = dict(wh.query("SELECT path, department_id FROM departments").values.tolist())
    assert list(records.index) == ["202603090001", "202603090002", "202603100003", "202603170004"]
    assert set(records["system"]) == {"wecom"} and set(records["process"]) == {"approval"}
    assert list(records["status"]) == ["approved", "approved", "pending", "rejected"]
    # 申请人 by name: 王㛃 is E1002 on the roster, member wangjie; no 申请人部门 → her WeCom department.
    assert records.loc["202603100003", "userid"] == "wangjie"
    assert records.loc["202603100003", "department_id"] == depts["总部/行政部"]
    assert pd.isna(records.loc["202603100003", "finished_at"])
    assert records.loc["202603090002", "finished_at"] - records.loc["202603090002", "started_at"] == pd.Timedelta(
        hours=19, minutes=25
    )  # 2026/3/9 14:05 → 2026/3/10 9:30
    assert events["event_id"].tolist() == [f"wecom-approval:{r}:apply" for r in records.index]  # a fetch's ids
    assert events["userid"].tolist() == ["zhangwei", "lina", "wangjie", "chenjing"]


def test_checkins_and_customer_contacts_are_uses_per_member_and_day(loaded):
    home, _reports = loaded
    with open_reader(home) as wh:
        events = wh.query(
            "SELECT event_id, userid, feature, ts, count FROM feature_events "
            "WHERE feature IN ('attendance', 'customer') ORDER BY event_id"
        )
    got = [(e, u, f, t, c) for e, u, f, t, c in events.itertuples(index=False)]
    assert got == [
        # two punches on the 9th, the first at 08:52; 王㛃's 未打卡 is not a use
        ("wecom-attendance:lina:2026-03-10", "lina", "attendance", ts("2026-03-10 09:20"), 1),
        ("wecom-attendance:zhangwei:2026-03-09", "zhangwei", "attendance", ts("2026-03-09 08:52"), 2),
        # 5 + 1 + 0 and 12 + 2 + 1 contacts; 陈静's day with nothing is no use
        ("wecom-customer:chenjing:2026-03-17", "chenjing", "customer", ts("2026-03-17 00:00"), 6),
        ("wecom-customer:lina:2026-03-09", "lina", "customer", ts("2026-03-09 00:00"), 15),
    ]


def test_locations_are_kept_nowhere_and_other_exports_land_byte_for_byte(loaded):
    home, reports = loaded
    assert "columns left out on purpose: 打卡地点, 打卡设备" in reports["checkins"]
    landed = [p for p in home.raw.rglob("*") if p.is_file() and p.name != "SHA256SUMS"]
    checkins = [p for p in landed if "file-checkins" in p.parts]
    assert len(checkins) == 1
    text = checkins[0].read_text(encoding="utf-8")
    assert "08:52" in text and "世纪大道" not in text and "iPhone" not in text
    members = {p.name.split("-", 1)[1]: p for p in landed if "file-members" in p.parts}
    assert filecmp.cmp(members[MEMBERS_0310.name], MEMBERS_0310, shallow=False)


def test_the_same_exports_again_change_nothing(loaded):
    home, _reports = loaded
    before = tables(home)
    for kind, files in EXPORTS:
        assert ingest(kind, files, home=home).changed == 0, kind
    assert tables(home) == before


def test_a_members_export_without_a_date_is_refused_until_given_one(home: Home, tmp_path: Path, capsys):
    assert main(["ingest", "roster", str(ROSTER)]) == 0
    undated = tmp_path / "通讯录.csv"
    shutil.copyfile(MEMBERS_0310, undated)
    before = tables(home)
    capsys.readouterr()
    assert main(["ingest", "members", str(undated)]) == 2
    err = capsys.readouterr().err
    assert str(undated) in err and "no export date" in err and "--as-of YYYY-MM-DD" in err
    assert tables(home) == before
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    assert main(["ingest", "members", str(undated), "--as-of", future]) == 2
    assert "--as-of" in capsys.readouterr().err and tables(home) == before
    assert main(["ingest", "checkins", str(WECOM / "checkins_with_location.xlsx"), "--as-of", "2026-03-10"]) == 2
    assert "no --as-of for this kind" in capsys.readouterr().err
    assert main(["ingest", "members", str(undated), "--snapshot-date", "2026-03-10"]) == 0
    with open_reader(home) as wh:
        days = wh.query("SELECT DISTINCT observed_on FROM member_status")["observed_on"]
    assert [d.date() for d in days] == [dt.date(2026, 3, 10)]


def test_members_join_by_account_then_employee_number_then_mobile(home: Home, tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "工号,姓名,部门,入职日期,手机\n"
        "E1,张三,总部/行政部,2020-01-01,13800000001\n"
        "E2,李四,总部/行政部,2020-01-01,13800000002\n"
        "E3,王五,总部/行政部,2020-01-01,138 0000 0003\n",
        encoding="utf-8",
    )
    contacts = tmp_path / "members_2026-03-05.csv"
    contacts.write_text(
        "姓名,账号,工号,部门,手机,激活状态\n"
        "张三,E1,,总部/行政部,,已激活\n"  # the account is the employee id
        "李四,lisi,E2,总部/行政部,,已激活\n"  # by 工号
        "王五,wangwu,,总部/行政部,+86 138-0000-0003,未激活\n"  # by mobile
        "访客,guest,E9,总部/行政部,13900000000,已激活\n",
        encoding="utf-8",
    )  # no one
    ingest("roster", [roster], home=home)
    report = str(ingest("members", [contacts], home=home))
    assert "joined to the roster by account 1, 工号 1, mobile 1; not on the roster: 1 — guest (访客)" in report
    with open_reader(home) as wh:
        linked = dict(wh.con.execute("SELECT userid, employee_id FROM members").fetchall())
    assert linked == {"E1": "E1", "lisi": "E2", "wangwu": "E3", "guest": None}


def test_an_applicant_no_one_can_be_found_is_refused_naming_the_row(home: Home, tmp_path: Path):
    ingest("roster", [ROSTER], home=home)
    bad = tmp_path / "approvals.csv"
    bad.write_text(
        "审批编号,申请人,申请人部门,提交时间,审批状态\n"
        "SP1,张伟,总部/行政部,2026-03-09 09:00,已通过\n"
        "SP2,路人甲,总部/行政部,2026-03-09 10:00,已通过\n",
        encoding="utf-8",
    )
    before = tables(home)
    with pytest.raises(InputError) as caught:
        ingest("approvals", [bad], home=home)
    message = str(caught.value)
    assert f"{bad}, row 3, column 申请人" in message and "路人甲" in message and "账号" in message
    assert tables(home) == before


def test_a_count_out_of_range_is_refused_naming_the_cell(home: Home, tmp_path: Path):
    ingest("roster", [ROSTER], home=home)
    bad = tmp_path / "customers.csv"
    bad.write_text(
        "日期,账号,聊天总数,新增客户数\n2026-03-09,lina,12,1\n2026-03-09,zhangwei,-3,0\n"
        "2026-03-10,lina,99999999999,0\n",
        encoding="utf-8",
    )
    before = tables(home)
    with pytest.raises(InputError) as caught:
        ingest("customer-contacts", [bad], home=home)
    message = str(caught.value)
    assert f"{bad}, row 3, column 聊天总数: got -3" in message and f"{bad}, row 4, column 聊天总数" in message
    assert "a count from 0 to 100,000" in message
    assert tables(home) == before
