"""The fake WeCom server over loopback: real response shapes, real validation, faults.

Most tests serve the hand-built organisation of ``tests/fixtures/wecom`` (whose numbers are
worked out in its README) and speak plain HTTP to the server, as any WeCom client would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from wecom_eval.errors import InputError
from wecom_eval.fakeserver import FakeOrg, FakeWecom, Faults

FIXTURES = Path(__file__).parent / "fixtures" / "wecom"
SECRETS = {
    "CONTACTS": "fx-contacts-secret-01",
    "APPROVAL": "fx-approval-secret-02",
    "CHECKIN": "fx-checkin-secret-03",
    "CUSTOMER": "fx-customer-secret-04",
    "SECURITY": "fx-security-secret-05",
}
ROBOT = "fx-robot-key-0123456789"


def small_org() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in sorted(FIXTURES.glob("*.csv"))}


def ts(text: str) -> int:
    """Unix seconds of a China Standard Time wall-clock time."""
    return int(pd.Timestamp(text, tz="Asia/Shanghai").timestamp())


@pytest.fixture
def server():
    with FakeWecom(small_org(), corp_id="wwfixture000001", secrets=SECRETS, webhook_keys=[ROBOT]) as fake:
        yield fake


class Speaker:
    """Plain HTTP to the fake, the way any WeCom client talks."""

    def __init__(self, fake: FakeWecom) -> None:
        self.fake = fake
        self.http = httpx.Client(base_url=f"{fake.base_url}/cgi-bin/", timeout=10)

    def token(self, app: str) -> str:
        for _ in range(5):  # faults are transient: a few tries always get through
            try:
                answer = self.http.get(
                    "gettoken", params={"corpid": self.fake.corp_id, "corpsecret": self.fake.secrets[app]}
                )
            except httpx.RemoteProtocolError:
                self.http.close()
                self.http = httpx.Client(base_url=f"{self.fake.base_url}/cgi-bin/", timeout=10)
                continue
            if answer.status_code == 200 and answer.json()["errcode"] == 0:
                return answer.json()["access_token"]
        raise AssertionError("no token from the fake server")

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.http.get(path, params=params).json()

    def post(self, path: str, body: dict[str, Any], *, app: str | None = None, **params: Any) -> dict[str, Any]:
        if app is not None:
            params["access_token"] = self.token(app)
        return self.http.post(path, params=params, json=body).json()


@pytest.fixture
def speak(server):
    speaker = Speaker(server)
    yield speaker
    speaker.http.close()


# ---- tokens and permissions ----------------------------------------------------------------
def test_gettoken_validates_the_corp_and_the_secret_and_reuses_its_token(server, speak):
    assert speak.get("gettoken", corpsecret="x")["errcode"] == 41002
    assert speak.get("gettoken", corpid="wwsomeoneelse", corpsecret=SECRETS["APPROVAL"])["errcode"] == 40013
    assert speak.get("gettoken", corpid=server.corp_id)["errcode"] == 41004
    wrong = speak.get("gettoken", corpid=server.corp_id, corpsecret="not-a-secret")
    assert wrong["errcode"] == 40001
    # reference §1: English errmsg + hint + caller IP + link
    assert "hint: [" in wrong["errmsg"] and "from ip: 127.0.0.1" in wrong["errmsg"]
    assert wrong["errmsg"].endswith("devtool/query?e=40001")
    first = speak.get("gettoken", corpid=server.corp_id, corpsecret=SECRETS["APPROVAL"])
    again = speak.get("gettoken", corpid=server.corp_id, corpsecret=SECRETS["APPROVAL"])
    other = speak.get("gettoken", corpid=server.corp_id, corpsecret=SECRETS["CHECKIN"])
    assert first["expires_in"] == 7200 and first["access_token"] == again["access_token"]  # same until expiry
    assert other["access_token"] != first["access_token"]  # one token per secret


def test_business_calls_check_the_token_like_wecom(server, speak):
    body = {"sp_no": "SP-0001"}
    assert speak.post("oa/getapprovaldetail", body)["errcode"] == 41001
    assert speak.post("oa/getapprovaldetail", body, access_token="never-issued")["errcode"] == 40014
    assert speak.post("oa/getapprovaldetail", body, app="CHECKIN")["errcode"] == 48002  # wrong app
    token = speak.token("APPROVAL")
    assert speak.post("oa/getapprovaldetail", body, access_token=token)["errcode"] == 0
    server.expire_tokens(42001)
    assert speak.post("oa/getapprovaldetail", body, access_token=token)["errcode"] == 42001
    fresh = speak.token("APPROVAL")
    assert fresh != token and speak.post("oa/getapprovaldetail", body, access_token=fresh)["errcode"] == 0
    server.expire_tokens(40014)  # an expired token is often reported as 40014 (reference §3.1)
    assert speak.post("oa/getapprovaldetail", body, access_token=fresh)["errcode"] == 40014


def test_untrusted_ips_and_contact_sync_from_a_new_ip_are_refused():
    with FakeWecom(small_org(), secrets=SECRETS, trusted_ips={"203.0.113.7"}) as fake:
        answer = Speaker(fake).get("gettoken", corpid=fake.corp_id, corpsecret=SECRETS["CONTACTS"])
        assert answer["errcode"] == 60020 and "from ip: 127.0.0.1" in answer["errmsg"]
    with FakeWecom(small_org(), secrets=SECRETS, contact_sync_new_ip=True) as fake:
        speaker = Speaker(fake)
        token = speaker.token("CONTACTS")
        assert speaker.get("department/list", access_token=token)["errcode"] == 48009
        assert speaker.get("department/simplelist", access_token=token)["errcode"] == 0  # still allowed


# ---- contacts ------------------------------------------------------------------------------------
def test_departments_and_members_have_the_real_shapes(speak):
    token = speak.token("CONTACTS")
    departments = speak.get("department/list", access_token=token)["department"]
    assert [(d["id"], d["name"], d["parentid"]) for d in departments] == [
        (1, "示例科技", 0),
        (2, "总部", 1),
        (3, "行政部", 2),
        (4, "销售部", 2),
        (5, "华东分公司", 1),
        (6, "销售部", 5),
    ]
    assert set(departments[0]) == {"id", "name", "name_en", "department_leader", "parentid", "order"}
    sub = speak.get("department/list", access_token=token, id=2)["department"]
    assert [d["id"] for d in sub] == [2, 3, 4]  # the department and its descendants
    simple = speak.get("department/simplelist", access_token=token)["department_id"]
    assert set(simple[0]) == {"id", "parentid", "order"}
    sales = speak.get("user/list", access_token=token, department_id=4)["userlist"]
    assert {u["userid"]: u["status"] for u in sales} == {"wangwu": 1, "zhaoliu": 4, "zhoujiu": 5}
    wangwu = next(u for u in sales if u["userid"] == "wangwu")
    assert wangwu["name"] == "王五" and wangwu["main_department"] == 4 and wangwu["is_leader_in_dept"] == [1]
    assert speak.get("user/list", access_token=token, department_id=2)["userlist"] == []  # no recursion
    assert len(speak.get("user/list", access_token=token, department_id=2, fetch_child=1)["userlist"]) == 5
    assert speak.get("user/list", access_token=token, department_id=99)["errcode"] == 60123
    pages, cursor = [], ""
    while True:
        page = speak.post("user/list_id", {"limit": 3, **({"cursor": cursor} if cursor else {})}, access_token=token)
        pages.append(page["dept_user"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert sorted(r["userid"] for p in pages for r in p) == sorted(small_org()["members"]["userid"])


def test_active_stat_counts_active_members_for_recent_days_only(speak):
    token = speak.token("CONTACTS")  # the server's "now" is 2026-04-04 10:00
    assert speak.post("user/get_active_stat", {"date": "2026-04-03"}, access_token=token)["active_cnt"] == 1
    old = speak.post("user/get_active_stat", {"date": "2026-03-02"}, access_token=token)  # over 30 days ago
    assert old["errcode"] == 40058
    today = speak.post("user/get_active_stat", {"date": "2026-04-04"}, access_token=token)
    assert today["errcode"] == 40058
    with FakeWecom(FakeOrg(small_org(), now=ts("2026-03-05 10:00:00")), secrets=SECRETS) as earlier:
        speaker = Speaker(earlier)
        counts = [
            speaker.post("user/get_active_stat", {"date": f"2026-03-0{d}"}, app="CONTACTS")["active_cnt"]
            for d in (2, 3, 4)
        ]
        assert counts == [2, 2, 1]


# ---- approvals -----------------------------------------------------------------------------------
def test_approval_detail_reproduces_the_reference_sample_turnaround(speak):
    info = speak.post("oa/getapprovaldetail", {"sp_no": "202406030001"}, app="APPROVAL")["info"]
    # reference §8.2 sample: apply_time 1717380900, decision 1717463100, turnaround 82,200 s
    assert info["apply_time"] == 1717380900
    last = max(d["sptime"] for node in info["sp_record"] for d in node["details"])
    assert last == 1717463100 and last - info["apply_time"] == 82_200
    assert info["sp_status"] == 2 and info["applyer"] == {"userid": "wangwu", "partyid": "4"}


@pytest.mark.parametrize(
    "sp_no,status,decided",
    [
        ("SP-0001", 2, "2026-03-03 14:00:00"),
        ("SP-0003", 3, "2026-03-05 17:30:00"),
        ("SP-0004", 1, None),
        ("SP-0005", 4, None),
    ],
)
def test_approval_statuses_and_sptime_follow_the_record(speak, sp_no: str, status: int, decided: str | None):
    info = speak.post("oa/getapprovaldetail", {"sp_no": sp_no}, app="APPROVAL")["info"]
    times = [d["sptime"] for node in info["sp_record"] for d in node["details"]]
    assert info["sp_status"] == status
    assert (max(times) if any(times) else None) == (ts(decided) if decided else None)  # 0 = not yet acted


def test_approval_numbers_page_on_new_cursor_and_respect_the_31_day_limit(speak):
    token = speak.token("APPROVAL")
    start, end = ts("2026-03-01 00:00:00"), ts("2026-03-31 23:59:59")
    numbers, cursor, pages = [], "", 0
    while True:
        body = {"starttime": str(start), "endtime": str(end), "size": 2, "new_cursor": cursor}
        page = speak.post("oa/getapprovalinfo", body, access_token=token)
        numbers += page["sp_no_list"]
        pages += 1
        cursor = page.get("new_next_cursor", "")
        if not cursor:
            assert "new_next_cursor" not in page  # the last page omits it
            break
    assert numbers == ["SP-0001", "SP-0002", "SP-0003", "SP-0004", "SP-0005"]  # submission order; legacy not served
    assert pages >= 3
    ints = speak.post("oa/getapprovalinfo", {"starttime": start, "endtime": end}, access_token=token)
    assert ints["sp_no_list"] == numbers  # times as ints are accepted too
    too_long = speak.post(
        "oa/getapprovalinfo", {"starttime": start, "endtime": start + 31 * 86400 + 1}, access_token=token
    )
    assert too_long["errcode"] == 301025 and "invalid starttime or endtime" in too_long["errmsg"]
    mine = speak.post(
        "oa/getapprovalinfo",
        {
            "starttime": start,
            "endtime": end,
            "filters": [
                {"key": "creator", "value": "wangwu"},
                {"key": "sp_status", "value": "2"},
                {"key": "sp_status", "value": "3"},
            ],
        },
        access_token=token,
    )
    assert mine["sp_no_list"] == ["SP-0002", "SP-0003"]  # different keys AND, same key OR
    as_get = speak.http.get("oa/getapprovalinfo", params={"access_token": token, "starttime": start}).json()
    assert as_get["errcode"] == 301025 and as_get["errmsg"].startswith("Warning: wrong json format.")


# ---- attendance -----------------------------------------------------------------------------------
def test_checkin_data_serves_punches_whole_days_and_missed_clock_outs(speak):
    token = speak.token("CHECKIN")
    body = {
        "opencheckindatatype": 3,
        "useridlist": ["zhangsan", "lisi"],
        "starttime": ts("2026-03-02 12:00:00"),
        "endtime": ts("2026-03-02 13:00:00"),
    }  # one hour asked
    rows = speak.post("checkin/getcheckindata", body, access_token=token)["checkindata"]
    got = [(r["userid"], r["checkin_type"], r["exception_type"], r["checkin_time"]) for r in rows]
    assert got == [  # the whole day comes back (reference §7.1)
        ("zhangsan", "上班打卡", "", ts("2026-03-02 08:55:00")),
        ("zhangsan", "下班打卡", "时间异常", ts("2026-03-02 17:55:00")),  # left before 18:00
        ("lisi", "上班打卡", "时间异常", ts("2026-03-02 09:10:00")),  # late
        ("lisi", "下班打卡", "未打卡", ts("2026-03-02 18:00:00")),  # no clock-out: a missed punch
    ]
    assert rows[0]["location_title"] and rows[3]["location_title"] == ""
    month = {**body, "starttime": ts("2026-03-01 00:00:00")}
    assert (
        speak.post(
            "checkin/getcheckindata", {**month, "endtime": month["starttime"] + 31 * 86400 - 1}, access_token=token
        )["errcode"]
        == 301024
    )
    assert (
        speak.post("checkin/getcheckindata", {**body, "useridlist": [f"u{i}" for i in range(101)]}, access_token=token)[
            "errcode"
        ]
        == 301023
    )
    assert speak.post("checkin/getcheckindata", {**body, "useridlist": []}, access_token=token)["errcode"] == 301023


def test_checkin_day_data_summarises_each_member_day(speak):
    day = ts("2026-03-02 00:00:00")
    answer = speak.post(
        "checkin/getcheckin_daydata",
        {"starttime": day, "endtime": day + 86400, "useridlist": ["zhangsan", "lisi"]},
        app="CHECKIN",
    )
    summary = {
        (d["base_info"]["acctid"], d["base_info"]["date"]): d["summary_info"]["checkin_count"] for d in answer["datas"]
    }
    assert summary == {("zhangsan", day): 2, ("zhangsan", day + 86400): 2, ("lisi", day): 1, ("lisi", day + 86400): 0}
    lisi = next(d for d in answer["datas"] if d["base_info"]["acctid"] == "lisi" and d["base_info"]["date"] == day)
    assert {e["exception"] for e in lisi["exception_infos"]} == {1, 3}  # late, and a missed punch


# ---- customer contact ---------------------------------------------------------------------------------
def test_behavior_data_sums_the_members_given_together(speak):
    token = speak.token("CUSTOMER")
    day = ts("2026-03-02 00:00:00")
    body = {"start_time": day, "end_time": day + 2 * 86400}

    def first_day(users: list[str]) -> dict[str, Any]:
        return speak.post("externalcontact/get_user_behavior_data", {**body, "userid": users}, access_token=token)[
            "behavior_data"
        ][0]

    wangwu, qianqi, both = first_day(["wangwu"]), first_day(["qianqi"]), first_day(["wangwu", "qianqi"])
    assert (wangwu["chat_cnt"], wangwu["message_cnt"]) == (2, 5)
    assert (qianqi["chat_cnt"], qianqi["message_cnt"]) == (1, 4)
    assert (both["chat_cnt"], both["message_cnt"]) == (3, 9)  # summed, not per member (reference §9.3)
    rows = speak.post("externalcontact/get_user_behavior_data", {**body, "userid": ["wangwu"]}, access_token=token)[
        "behavior_data"
    ]
    assert [r["stat_time"] for r in rows] == [day, day + 86400, day + 2 * 86400]  # inclusive range
    assert "reply_percentage" in rows[0] and "reply_percentage" not in rows[1]  # only on days with chats
    assert (
        speak.post(
            "externalcontact/get_user_behavior_data",
            {**body, "end_time": day + 30 * 86400, "userid": ["wangwu"]},
            access_token=token,
        )["errcode"]
        == 40058
    )  # 31 days
    assert speak.post("externalcontact/get_user_behavior_data", body, access_token=token)["errcode"] == 40058
    followers = speak.get("externalcontact/get_follow_user_list", access_token=token)["follow_user"]
    # 客户联系 is configured for whole departments: 4 and 6 served customers; members who are not
    # activated (zhaoliu) or left (zhoujiu) do not have it
    assert followers == ["qianqi", "shared_desk", "sunba", "wangwu"]


# ---- activity --------------------------------------------------------------------------------------------
def test_member_oper_log_pages_on_has_more_within_its_limits(speak):
    token = speak.token("SECURITY")
    start = ts("2026-03-02 00:00:00")
    body = {"start_time": start, "end_time": start + 7 * 86400 - 1, "limit": 1}
    records, cursor = [], ""
    while True:
        page = speak.post(
            "security/member_oper_log/list", {**body, **({"cursor": cursor} if cursor else {})}, access_token=token
        )
        records += page["record_list"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    days = sorted(
        {
            (pd.Timestamp(r["time"], unit="s", tz="UTC").tz_convert("Asia/Shanghai").date().isoformat(), r["userid"])
            for r in records
        }
    )
    assert days == [
        ("2026-03-02", "lisi"),
        ("2026-03-02", "zhangsan"),
        ("2026-03-03", "wangwu"),
        ("2026-03-03", "zhangsan"),
        ("2026-03-04", "qianqi"),
    ]  # the active member-days
    assert set(records[0]) == {"time", "userid", "oper_type", "detail_info", "ip"}
    assert (
        speak.post("security/member_oper_log/list", {**body, "end_time": start + 8 * 86400}, access_token=token)[
            "errcode"
        ]
        == 40058
    )  # over 7 days
    assert speak.post("security/member_oper_log/list", {**body, "limit": 401}, access_token=token)["errcode"] == 40058


# ---- webhook ------------------------------------------------------------------------------------------------
def test_webhook_records_what_it_is_sent_and_applies_its_limits(server, speak):
    report = {"msgtype": "markdown", "markdown": {"content": "# 周报\n**注册率** 92%"}}
    ok = speak.post("webhook/send", report, key=ROBOT)
    assert ok == {"errcode": 0, "errmsg": "ok"}
    assert server.webhook_messages[0]["content"] == "# 周报\n**注册率** 92%"
    listed = httpx.get(f"{server.base_url}/_fake/webhook/messages").json()["messages"]
    assert [m["msgtype"] for m in listed] == ["markdown"]
    text = {"msgtype": "text", "text": {"content": "x"}}
    assert speak.post("webhook/send", text, key="wrong-key")["errcode"] == 93000
    too_long = speak.post("webhook/send", {"msgtype": "markdown", "markdown": {"content": "a" * 4097}}, key=ROBOT)
    assert too_long["errcode"] == 40058 and "exceed max length 4096" in too_long["errmsg"]
    answers = [
        speak.post("webhook/send", {"msgtype": "text", "text": {"content": f"#{i}"}}, key=ROBOT)["errcode"]
        for i in range(20)
    ]
    assert answers == [0] * 19 + [45009]  # 20 a minute per robot, the first message included
    assert len(server.webhook_messages) == 20


def test_documented_rate_limits_are_enforced_per_endpoint(server, speak):
    token = speak.token("CHECKIN")
    day = ts("2026-03-02 00:00:00")
    body = {"starttime": day, "endtime": day, "useridlist": ["zhangsan"]}
    codes = [speak.post("checkin/getcheckin_daydata", body, access_token=token)["errcode"] for _ in range(101)]
    assert codes == [0] * 100 + [45009]  # 100 a minute (reference §2.2)
    assert (
        speak.post(
            "checkin/getcheckindata", {**body, "opencheckindatatype": 3, "endtime": day + 10}, access_token=token
        )["errcode"]
        == 0
    )  # another endpoint's budget


# ---- faults --------------------------------------------------------------------------------------------------
def _outcomes(spec: str, requests: int = 120) -> list[object]:
    with FakeWecom(small_org(), secrets=SECRETS, faults=spec) as fake:
        speaker = Speaker(fake)
        token = speaker.token("APPROVAL")
        out: list[object] = []
        for i in range(requests):
            try:
                response = speaker.http.post(
                    "oa/getapprovaldetail", params={"access_token": token}, json={"sp_no": f"SP-000{1 + i % 5}"}
                )
                out.append(response.json()["errcode"] if response.status_code == 200 else response.status_code)
            except httpx.RemoteProtocolError:
                out.append("dropped")
                speaker.http.close()
                speaker.http = httpx.Client(base_url=f"{fake.base_url}/cgi-bin/", timeout=10)
        return out


def test_faults_are_seeded_shared_as_configured_and_transient():
    spec = "busy=0.1,freq=0.05,http502=0.05,drop=0.05,max_run=2,seed=11"
    first, again = _outcomes(spec), _outcomes(spec)
    assert first == again  # same seed, same requests: same faults
    failed = sum(1 for o in first if o != 0) / len(first)
    assert 0.12 <= failed <= 0.4  # 25 % configured, runs capped at 2
    assert {-1, 45009, 502, "dropped"} <= set(first)
    by_request: dict[int, list[object]] = {}
    for i, o in enumerate(first):
        by_request.setdefault(i % 5, []).append(o)
    for seq in by_request.values():  # never more than max_run faults in a row for one request
        assert all(any(o == 0 for o in seq[k : k + 3]) for k in range(len(seq) - 2))
    assert _outcomes("busy=0.1,freq=0.05,http502=0.05,drop=0.05,seed=12") != first


def test_drop_502_and_latency_faults():
    with FakeWecom(small_org(), secrets=SECRETS, faults="drop=1.0,max_run=1") as fake:
        speaker = Speaker(fake)
        with pytest.raises(httpx.RemoteProtocolError):
            speaker.get("gettoken", corpid=fake.corp_id, corpsecret=SECRETS["APPROVAL"])
    with FakeWecom(small_org(), secrets=SECRETS, faults="http502=1.0") as fake:
        response = httpx.get(f"{fake.base_url}/cgi-bin/gettoken")
        assert response.status_code == 502 and b"Bad Gateway" in response.content
    with FakeWecom(small_org(), secrets=SECRETS, faults="latency_ms=120") as fake:
        started = time.monotonic()
        Speaker(fake).get("gettoken", corpid=fake.corp_id, corpsecret=SECRETS["APPROVAL"])
        assert time.monotonic() - started >= 0.12


def test_a_token_expires_in_the_middle_of_a_paginated_pull():
    with FakeWecom(small_org(), secrets=SECRETS, faults="expire_at_page=1", expired_code=42001) as fake:
        speaker = Speaker(fake)
        token = speaker.token("APPROVAL")
        start, end = ts("2026-03-01 00:00:00"), ts("2026-03-31 23:59:59")
        body = {"starttime": start, "endtime": end, "size": 2}
        first = speaker.post("oa/getapprovalinfo", body, access_token=token)
        second = {**body, "new_cursor": first["new_next_cursor"]}
        assert speaker.post("oa/getapprovalinfo", second, access_token=token)["errcode"] == 42001
        fresh = speaker.token("APPROVAL")
        assert speaker.post("oa/getapprovalinfo", second, access_token=fresh)["errcode"] == 0  # same cursor, new token


def test_a_bad_fault_spec_is_an_input_error():
    with pytest.raises(InputError) as caught:
        Faults.parse("busy=2,sloow=0.1,drop=x")
    message = str(caught.value)
    assert caught.value.exit_code == 2 and "sloow" in message and "'x'" in message
    assert Faults.parse("busy=0.1,drop=0.05,expire_at_page=3").failing == pytest.approx(0.15)


def test_org_accepts_arrow_chunks_and_objects_with_tables():
    import pyarrow as pa

    tables = small_org()

    class Demo:  # the demo generator's shape: .tables plus member-day chunks
        def __init__(self) -> None:
            self.tables = {k: v for k, v in tables.items() if k != "member_days"}

        def member_days_chunks(self) -> list[pa.Table]:
            frame = tables["member_days"]
            return [pa.Table.from_pandas(frame.iloc[:3]), pa.Table.from_pandas(frame.iloc[3:])]

    org = FakeOrg(Demo())
    assert (
        org.summary()
        == FakeOrg(tables).summary()
        == {"departments": 6, "members": 8, "approvals": 7, "punches": 7, "customer_user_days": 3, "oper_records": 6}
    )
    # "now": 10:00 the day after the last data (2026-04-03)
    assert org.now == ts("2026-04-04 10:00:00")


# ---- the command ---------------------------------------------------------------------------------------------------
def test_fake_server_command_prints_its_url_and_stops_on_sigterm(tmp_path: Path):
    env_file = tmp_path / "fake.env"
    env = {**os.environ, "WECOM_EVAL_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wecom_eval.cli",
            "fake-server",
            "--employees",
            "150",
            "--baseline-weeks",
            "1",
            "--rollout-weeks",
            "2",
            "--faults",
            "latency_ms=1",
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = proc.stdout.readline().strip()  # synchronise on the line it prints, not on a sleep
        assert url.startswith("http://127.0.0.1:")
        stats = httpx.get(f"{url}/_fake/stats", timeout=10).json()
        assert stats["requests"] == 0
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        assert values["WECOM_API_BASE"] == url and oct(env_file.stat().st_mode & 0o777) == "0o600"
        answer = httpx.get(
            f"{url}/cgi-bin/gettoken",
            params={"corpid": values["WECOM_CORP_ID"], "corpsecret": values["WECOM_SECRET_CONTACTS"]},
        ).json()
        assert answer["errcode"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped after 1 requests" in err and values["WECOM_SECRET_CONTACTS"] not in err
