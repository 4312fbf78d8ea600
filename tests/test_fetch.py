"""``wecom-eval fetch`` end to end over loopback against the fake WeCom server.

The warehouse must hold exactly what the fake served (counts and keys equal, approval
turnarounds equal to the generator's), with faults on and a token expiring mid-pagination,
and after a SIGKILL half-way and a rerun; no secret or token may reach a log line, a raw
landing file or a warehouse table.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wecom_eval.cli import main
from wecom_eval.demo import DemoConfig, generate
from wecom_eval.errors import InputError
from wecom_eval.fakeserver import FakeWecom
from wecom_eval.fakeserver.org import FakeOrg
from wecom_eval.fetch import ACTIVITY_SOURCE, fetch
from wecom_eval.fetch.mapping import decision_time, department_paths, map_approvals, map_behavior, map_checkins
from wecom_eval.home import Home
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.warehouse import open_reader, open_writer
from wecom_eval.wecom import ClientSettings, Window

FIXTURES = Path(__file__).parent / "fixtures" / "wecom"
SINCE, UNTIL = dt.date(2026, 3, 2), dt.date(2026, 3, 29)  # four rollout weeks of the small demo
FAST = ClientSettings(backoff_base=0.002, backoff_max=0.02, freq_limit_wait=0.002, max_retries=6)


@pytest.fixture(scope="module")
def demo(plan):
    """A small demo organisation: 150 employees, a baseline week and four rollout weeks."""
    return generate(DemoConfig(employees=150, baseline_weeks=1, rollout_weeks=4), plan)


def small_org() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in sorted(FIXTURES.glob("*.csv"))}


def _cst_dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.tz_convert("Asia/Shanghai").dt.date


def expected(demo, since: dt.date = SINCE, until: dt.date = UNTIL) -> dict[str, pd.DataFrame]:
    """What the fake serves of ``demo`` for the window, in the shapes the fetch loads."""
    t = demo.tables
    pr = t["process_records"]
    pr = pr[(pr["system"] == "wecom") & _cst_dates(pr["started_at"]).between(since, until)]
    ev = t["feature_events"].assign(date=lambda f: _cst_dates(f["ts"]))
    ev = ev[ev["date"].between(since, until)]

    def per_day(feature: str) -> pd.DataFrame:
        part = ev[ev["feature"] == feature]
        return (
            part.groupby(["userid", "date"])
            .agg(count=("count", "sum"), ts=("ts", "min"))
            .reset_index()
            .sort_values(["userid", "date"], ignore_index=True)
        )

    days = demo.member_days_frame()
    days = days[days["active"] & pd.to_datetime(days["date"]).dt.date.between(since, until)]
    return {
        "departments": t["departments"],
        "members": t["members"],
        "approvals": pr,
        "attendance": per_day("attendance"),
        "customer": per_day("customer"),
        "member_days": sorted(zip(pd.to_datetime(days["date"]).dt.date, days["userid"], strict=True)),
    }


def assert_loaded_exactly(home: Home, want: dict[str, pd.DataFrame]) -> None:
    with open_reader(home) as wh:
        deps = wh.frame("departments")
        cols = ["department_id", "name", "parent_id", "path", "is_pilot"]
        assert deps[cols].astype(str).values.tolist() == want["departments"][cols].astype(str).values.tolist()
        assert (
            pd.to_datetime(deps["go_live_date"]).dt.date.tolist()
            == pd.to_datetime(want["departments"]["go_live_date"]).dt.date.tolist()
        )

        members = wh.frame("members")
        cols = ["userid", "department_id", "status"]
        assert members[cols].values.tolist() == want["members"].sort_values("userid")[cols].values.tolist()

        got = wh.query("SELECT * FROM process_records ORDER BY record_id")
        approvals = want["approvals"].sort_values("record_id", ignore_index=True)
        assert got["record_id"].tolist() == approvals["record_id"].tolist()  # keys equal, no duplicates
        assert got["status"].tolist() == approvals["status"].tolist()
        assert got["department_id"].tolist() == approvals["department_id"].tolist()
        assert got["userid"].fillna("").tolist() == approvals["userid"].fillna("").tolist()
        assert (got["started_at"] == approvals["started_at"]).all()
        decided = approvals["status"].isin(["approved", "rejected"]).to_numpy()
        turnaround = (got["finished_at"] - got["started_at"])[decided]
        truth = (approvals["finished_at"] - approvals["started_at"])[decided]
        assert turnaround.dt.total_seconds().tolist() == truth.dt.total_seconds().tolist()  # the generator's
        assert got["finished_at"][~decided].isna().all()  # pending or withdrawn: nobody decided

        for feature in ("attendance", "customer"):
            events = wh.query(
                f"SELECT userid, ts, count FROM feature_events WHERE feature = '{feature}' ORDER BY userid, ts"
            )
            events["date"] = _cst_dates(events["ts"])
            assert not events.duplicated(["userid", "date"]).any()
            want_f = want[feature]
            assert (
                events[["userid", "date", "count"]].values.tolist()
                == want_f[["userid", "date", "count"]].values.tolist()
            )
            if feature == "attendance":  # the first punch of the day is the first use
                assert (events["ts"].to_numpy() == want_f["ts"].to_numpy()).all()

        applicants = wh.query("SELECT count(*) AS n FROM feature_events WHERE event_id LIKE 'wecom-approval:%:apply'")
        assert int(applicants["n"].iloc[0]) == int(approvals["userid"].notna().sum())

        days = wh.query(
            "SELECT date, userid FROM member_days WHERE source = ? ORDER BY date, userid", [ACTIVITY_SOURCE]
        )
        assert list(zip(pd.to_datetime(days["date"]).dt.date, days["userid"], strict=True)) == want["member_days"]


def test_fetch_loads_exactly_what_the_fake_served(home, demo, plan):
    with FakeWecom(demo) as server:
        report = fetch(since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan)
        served = server.stats()
    assert_loaded_exactly(home, expected(demo))
    assert report.stubs == 0 and report.calls == served["requests"]
    want = expected(demo)
    assert report.rows["process_records"] == len(want["approvals"])
    # One detail call per approval, one behaviour call per customer-contact member (30-day window).
    assert served["by_path"]["oa/getapprovaldetail"] == len(want["approvals"])
    followers = len(server.org.follow_users)
    assert served["by_path"]["externalcontact/get_user_behavior_data"] == followers
    assert served["by_path"]["checkin/getcheckindata"] == -(-len(demo.tables["members"]) // 100)  # batches of 100
    # The KPI rollups follow the pull, so reports read fresh pre-folded tables (empty here:
    # without a roster there is no headcount to fold activity into).
    from wecom_eval.store.rollups import rollup_info
    from wecom_eval.store.warehouse import open_reader

    with open_reader(home) as wh:
        info = rollup_info(wh, plan)
    assert info is not None and info.fresh and (info.first_day, info.last_day) == (SINCE, UNTIL)


def _watch_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Record each load of a fetch: (the writer it used, whether it refreshed), and every writer opened."""
    import wecom_eval.fetch.parts as parts

    calls: list[tuple[int, bool]] = []
    real_load, real_writer = parts.load, parts.open_writer

    def load(wh, tables, **kwargs):  # noqa: ANN001, ANN202
        calls.append((id(wh), kwargs["refresh"]))
        return real_load(wh, tables, **kwargs)

    def open_writer(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append((-1, False))  # a writer opened
        return real_writer(*args, **kwargs)

    monkeypatch.setattr(parts, "load", load)
    monkeypatch.setattr(parts, "open_writer", open_writer)
    return calls


def test_parts_commit_through_the_load_path_and_a_complete_pull_refreshes_once(home, demo, plan, monkeypatch):
    calls = _watch_loads(monkeypatch)
    with FakeWecom(demo) as server:
        fetch(since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan)
    writers = [c for c in calls if c[0] == -1]
    loads = [c for c in calls if c[0] != -1]
    assert len(loads) >= 2 and len(writers) == len(loads)  # one writer per commit, none for the refresh alone
    assert [refresh for _w, refresh in loads] == [False] * (len(loads) - 1) + [True]  # once, at the end


def test_a_failed_pull_commits_its_finished_parts_without_refreshing(home, demo, plan, monkeypatch):
    from wecom_eval.store.rollups import rollup_info
    from wecom_eval.wecom import Credentials, WecomApiError

    calls = _watch_loads(monkeypatch)
    with FakeWecom(demo) as server:
        good = server.credentials()
        wrong = Credentials(good.corp_id, {**good.secrets, "CUSTOMER": "not-the-customer-secret"}, good.base_url)
        with pytest.raises(WecomApiError):
            fetch(since=SINCE, until=UNTIL, home=home, credentials=wrong, settings=FAST, plan=plan)
    assert [refresh for w, refresh in calls if w != -1] and not any(refresh for _w, refresh in calls)
    with open_reader(home) as wh:
        assert len(wh.frame("members")) == len(demo.tables["members"])  # contacts were committed
        assert rollup_info(wh, plan) is None  # and nothing refreshed after the failure


def test_faults_and_a_token_expiring_mid_pagination_lose_and_duplicate_nothing(home, demo, plan):
    faults = "busy=0.1,freq=0.05,http502=0.05,drop=0.05,slow=0.05,slow_ms=30,expire_at_page=1,seed=3"
    with FakeWecom(demo, faults=faults) as server:
        report = fetch(since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan)
        served = server.stats()
    assert served["failed_share"] >= 0.2, served  # at least a fifth of all calls failed
    assert served["outcomes"]["token expiry injected"] == 1 and report.refreshes >= 1
    assert report.retries == served["faults"]  # every injected failure was retried, once
    assert_loaded_exactly(home, expected(demo))


def test_a_rerun_of_a_finished_window_makes_no_call(home, demo, plan):
    with FakeWecom(demo) as server:
        first = fetch(since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan)
        before = server.stats()["requests"]
        again = fetch(since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan)
        assert server.stats()["requests"] == before  # not even a token
    assert first.parts_done > 0 and again.parts_done == 0 and again.calls == 0
    assert "nothing to do" in str(again)
    assert_loaded_exactly(home, expected(demo))


def test_a_fetch_killed_half_way_resumes_without_loss_or_duplicates(tmp_path: Path, demo):
    home = tmp_path / "home"
    with FakeWecom(demo, faults="latency_ms=15,busy=0.05,seed=5") as server:
        env = {**os.environ, **server.environ(), "WECOM_EVAL_HOME": str(home)}
        cmd = [
            sys.executable,
            "-m",
            "wecom_eval.cli",
            "fetch",
            "--since",
            str(SINCE),
            "--until",
            str(UNTIL),
            "--concurrency",
            "2",
            "--checkpoint-seconds",
            "0",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        progress = []
        assert proc.stderr is not None
        for line in proc.stderr:  # synchronise on the progress lines it prints
            if "parts done" in line:
                progress.append(line)
                if len(progress) == 3:
                    break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        checkpoint = next((home / "data" / "fetch").glob("wecom-*/checkpoint.json"))
        done_before = len(json.loads(checkpoint.read_text())["done"])
        assert done_before >= 3  # the parts it reported were committed
        rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "done before" in rerun.stdout and " 0 parts fetched" not in rerun.stdout
    assert_loaded_exactly(Home.from_env(home), expected(demo))


def test_no_secret_or_token_reaches_logs_raw_files_or_the_warehouse(tmp_path: Path, demo, monkeypatch, caplog, capsys):
    home = tmp_path / "home"
    env_file = tmp_path / "credentials.env"  # outside the home: it holds the secrets on purpose
    monkeypatch.setenv("WECOM_EVAL_HOME", str(home))
    caplog.set_level(logging.DEBUG)
    with FakeWecom(demo, faults="busy=0.1,http502=0.05,drop=0.05,expire_at_page=1,seed=8") as server:
        env_file.write_text("".join(f"{k}={v}\n" for k, v in server.environ().items()), encoding="utf-8")
        rc = main(["-v", "fetch", "--env-file", str(env_file), "--since", str(SINCE), "--until", str(UNTIL)])
        secrets = [*server.secrets.values(), *server.issued_tokens]
        refreshed = server.stats()["outcomes"].get("token expiry injected", 0)
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert len(secrets) >= 6 and refreshed == 1  # five secrets and at least one refreshed token to look for
    assert "access_token=***" in caplog.text  # the URLs were logged, redacted
    texts = {"log": caplog.text + "\n".join(r.getMessage() for r in caplog.records), "stdout": out, "stderr": err}
    files = [p for p in home.rglob("*") if p.is_file() and p.suffix != ".duckdb" and not p.name.endswith(".wal")]
    assert any(p.suffix == ".jsonl" for p in files)
    for path in files:
        texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    with open_reader(Home.from_env(home)) as wh:
        for name in LOAD_ORDER:
            texts[f"warehouse {name}"] = wh.frame(name).to_csv()
        texts["warehouse _loads"] = wh.load_log().to_csv()
    leaks = [(where, s[:6]) for where, text in texts.items() for s in secrets if s in text]
    assert leaks == []


@pytest.mark.parametrize(
    "problem,code,words",
    [
        ("wrong secret", 40001, ["WECOM_SECRET_CONTACTS", "Secret"]),
        ("wrong corp id", 40013, ["WECOM_CORP_ID", "企业ID"]),
        ("untrusted IP", 60020, ["企业可信IP", "from ip: 127.0.0.1"]),
    ],
)
def test_fatal_errors_exit_3_with_what_to_change_and_no_traceback(
    tmp_path: Path, monkeypatch, capsys, demo, problem: str, code: int, words: list[str]
):
    monkeypatch.setenv("WECOM_EVAL_HOME", str(tmp_path / "home"))
    trusted = {"192.0.2.1"} if problem == "untrusted IP" else None
    with FakeWecom(demo, trusted_ips=trusted) as server:
        env = server.environ()
        if problem == "wrong secret":
            env["WECOM_SECRET_CONTACTS"] = "not-the-right-secret"
        if problem == "wrong corp id":
            env["WECOM_CORP_ID"] = "wwnotmycorp"
        env_file = tmp_path / "credentials.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
        rc = main(["fetch", "--env-file", str(env_file), "--since", str(SINCE), "--until", str(UNTIL)])
    _out, err = capsys.readouterr()
    assert rc == 3
    assert f"errcode {code}" in err and all(w in err for w in words)
    assert "Traceback" not in err and "not-the-right-secret" not in err


def test_missing_secrets_and_a_bad_window_exit_2(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("WECOM_EVAL_HOME", str(tmp_path))
    env_file = tmp_path / "credentials.env"
    env_file.write_text("WECOM_CORP_ID=wwx\nWECOM_SECRET_CONTACTS=only-contacts-1\n", encoding="utf-8")
    for var in [v for v in os.environ if v.startswith("WECOM_")]:
        monkeypatch.delenv(var)
    assert main(["fetch", "--env-file", str(env_file), "--since", "2026-03-02", "--until", "2026-03-08"]) == 2
    err = capsys.readouterr().err
    assert "WECOM_SECRET_APPROVAL" in err and "WECOM_SECRET_SECURITY" in err and "--sources" in err
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert main(["fetch", "--env-file", str(env_file), "--since", "2026-03-02", "--until", tomorrow]) == 2
    assert "a day before today" in capsys.readouterr().err
    assert main(["fetch", "--env-file", str(env_file), "--since", "2026-03-02", "--sources", "contacts,gossip"]) == 2
    assert "gossip" in capsys.readouterr().err


def test_fetch_keeps_what_the_warehouse_knows_better(home, plan):
    org = small_org()
    with open_writer(home) as wh:  # the roster and an activity export came first
        wh.load_many(
            {
                "departments": org["departments"],
                "employees": org["employees"],
                "members": org["members"],
                "member_days": org["member_days"],
            },
            source="test",
        )
    with FakeWecom(org) as server:
        report = fetch(
            since=dt.date(2026, 3, 2),
            until=dt.date(2026, 3, 8),
            home=home,
            credentials=server.credentials(),
            settings=FAST,
            plan=plan,
        )
    assert report.stubs == 0
    with open_reader(home) as wh:
        members = wh.frame("members").set_index("userid")
        days = wh.frame("member_days")
    # The API knows no employee ids and no activation times: the roster's and earlier ones stay.
    assert members.loc["zhangsan", "employee_id"] == "E1" and pd.isna(members.loc["shared_desk", "employee_id"])
    assert str(members.loc["lisi", "activated_at"]) == "2026-03-02 10:30:00+08:00"
    assert pd.isna(members.loc["zhaoliu", "activated_at"])  # not activated: still none
    # The export's rows (with minutes) are not replaced by the operation log's (without).
    rows = {(str(d.date()), u): (a, m, s) for d, u, a, m, s in days.itertuples(index=False)}
    assert rows[("2026-03-02", "zhangsan")] == (True, 45, "admin_export")
    assert rows[("2026-03-02", "wangwu")] == (False, 0, "admin_export")
    assert rows[("2026-03-04", "qianqi")][2] == ACTIVITY_SOURCE


def test_userids_missing_from_contacts_are_recorded_as_members_who_left(home, plan):
    org = small_org()
    ghost = pd.DataFrame(
        [
            {
                "record_id": "SP-0099",
                "process": "approval",
                "department_id": 4,
                "userid": "ghost",
                "started_at": "2026-03-05 09:00:00",
                "finished_at": "2026-03-05 12:00:00",
                "status": "approved",
                "system": "wecom",
            }
        ]
    )
    org["process_records"] = pd.concat([org["process_records"], ghost], ignore_index=True)
    with FakeWecom(org) as server:
        report = fetch(
            since=dt.date(2026, 3, 2),
            until=dt.date(2026, 3, 8),
            home=home,
            credentials=server.credentials(),
            settings=FAST,
            plan=plan,
            sources=["contacts", "approvals"],
        )
    assert report.stubs == 1 and "status 5" in str(report)
    with open_reader(home) as wh:
        ghost_row = wh.query("SELECT department_id, status FROM members WHERE userid = 'ghost'")
    assert ghost_row.values.tolist() == [[1, 5]]  # filed under the root department


# ---- mapping, with hand-worked values -------------------------------------------------------------------
def test_approval_turnaround_is_apply_time_to_the_last_sptime():
    info = {
        "sp_no": "202406030001",
        "sp_status": 2,
        "apply_time": 1717380900,
        "applyer": {"userid": "zhaoqiang", "partyid": "3"},
        "sp_record": [
            {"sp_status": 2, "details": [{"approver": {"userid": "wangli"}, "sptime": 1717396800}]},
            {
                "sp_status": 2,
                "details": [
                    {"approver": {"userid": "chenjing"}, "sptime": 1717463100},
                    {"approver": {"userid": "later"}, "sptime": 0},
                ],
            },
        ],
    }
    assert decision_time(info) == 1717463100  # reference §8.2 sample: turnaround 82,200 s
    records, events = map_approvals([info])
    row = records.iloc[0]
    assert (row["finished_at"] - row["started_at"]).total_seconds() == 82_200
    assert (row["status"], row["department_id"], row["userid"]) == ("approved", 3, "zhaoqiang")
    assert sorted(events["userid"]) == ["chenjing", "wangli", "zhaoqiang"]  # 0 = not yet acted: no event
    pending, _ = map_approvals([{**info, "sp_status": 1}])
    assert pd.isna(pending.iloc[0]["finished_at"]) and pending.iloc[0]["status"] == "pending"


def test_missed_punches_are_not_uses_but_late_ones_are():
    day = Window(dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    start = day.start
    rows = [
        {"userid": "a", "checkin_time": start + 9 * 3600 + 600, "exception_type": "时间异常"},
        {"userid": "a", "checkin_time": start + 18 * 3600, "exception_type": "未打卡"},
        {"userid": "b", "checkin_time": start + 8 * 3600, "exception_type": "时间异常;地点异常"},
        {"userid": "b", "checkin_time": start + 17 * 3600, "exception_type": "地点异常;未打卡"},
        {"userid": "b", "checkin_time": start + 86400 + 8 * 3600, "exception_type": ""},
    ]  # the next day
    events = map_checkins(rows, day)
    assert events[["event_id", "count"]].values.tolist() == [
        ["wecom-attendance:a:2026-03-02", 1],
        ["wecom-attendance:b:2026-03-02", 1],
    ]


def test_customer_days_count_messages_requests_and_new_customers():
    w = Window(dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    rows = [
        {"stat_time": w.start, "message_cnt": 5, "new_apply_cnt": 1, "new_contact_cnt": 2, "chat_cnt": 2},
        {"stat_time": w.start + 86400, "message_cnt": 0, "new_apply_cnt": 0, "new_contact_cnt": 0},
    ]
    events = map_behavior("wangwu", rows, w)
    assert events[["event_id", "count"]].values.tolist() == [["wecom-customer:wangwu:2026-03-02", 8]]


def test_department_paths_follow_the_workbooks_convention():
    rows = [
        {"id": 1, "name": "示例集团", "parentid": 0},
        {"id": 2, "name": "总部", "parentid": 1},
        {"id": 3, "name": "华东分公司", "parentid": 1},
        {"id": 7, "name": "销售部", "parentid": 3},
        {"id": 9, "name": "一组", "parentid": 7},
    ]
    assert department_paths(rows) == {
        1: "示例集团",
        2: "总部",
        3: "华东分公司",
        7: "华东分公司/销售部",
        9: "华东分公司/销售部/一组",
    }


def test_fetch_refuses_a_window_that_is_not_over(home, plan):
    with pytest.raises(InputError, match="a day before today"):
        fetch(since=dt.date(2026, 3, 2), until=dt.date(2026, 3, 9), home=home, today=dt.date(2026, 3, 9), plan=plan)


# ---- registration dates from fetches (issue 16 item 2) ----------------------------------------


def _fetch_on(home: Home, demo, plan, day: dt.date) -> None:
    """Fetch SINCE..UNTIL with the server's clock and the fetch's day at 10:00 CST on ``day``."""
    now = int(pd.Timestamp(f"{day} 10:00", tz="Asia/Shanghai").timestamp())
    with FakeWecom(FakeOrg(demo, now=now)) as server:
        fetch(
            since=SINCE, until=UNTIL, home=home, credentials=server.credentials(), settings=FAST, plan=plan, today=day
        )


def _registration(home: Home, plan, day: dt.date) -> dict[str, int]:
    from wecom_eval.kpis.registration import registration_basis

    with open_reader(home) as wh:
        row = registration_basis(wh, plan, data_through=day).iloc[0]
    return {k: int(row[k]) for k in ("employees", "registered", "snapshot", "first_activity", "activated_unknown")}


def test_two_fetches_of_a_window_before_and_after_the_deadline_date_registrations_alike(tmp_path, demo, plan):
    deadline = plan.deadline(plan.targets.registration.deadline_day)
    assert deadline > UNTIL  # the window ends before the deadline
    before, after = Home.from_env(tmp_path / "before"), Home.from_env(tmp_path / "after")
    _fetch_on(before, demo, plan, UNTIL + dt.timedelta(days=1))  # the day after the window: before the deadline
    _fetch_on(after, demo, plan, deadline + dt.timedelta(days=40))  # weeks after the deadline
    got_before, got_after = _registration(before, plan, deadline), _registration(after, plan, deadline)
    assert got_before["registered"] == got_after["registered"]
    assert got_before["activated_unknown"] == got_after["activated_unknown"] == 0

    # Worked from the demo's own table: without a roster the people are the members who have
    # not left; registered by the deadline are those activated by then (the demo's truth),
    # every one of whom used WeCom inside the window, so the late fetch dates them all.
    members = demo.tables["members"]
    stays = members[members["status"] != 5]
    activated = stays["activated_at"].notna() & (stays["activated_at"].dt.date <= deadline)
    assert got_after["employees"] == got_before["employees"] == len(stays)
    assert got_after["registered"] == int(activated.sum())
    assert got_after["first_activity"] == got_after["registered"]  # after the deadline only activity dates them
    assert got_before["first_activity"] == got_before["registered"]  # activity comes before the day-after snapshot

    # Each member's date is no later than its first active day in the window.
    days = demo.member_days_frame()
    first_day = (
        days[days["active"]].assign(date=lambda f: pd.to_datetime(f["date"]).dt.date).groupby("userid")["date"].min()
    )
    with open_reader(after) as wh:
        dated = wh.query(
            "SELECT userid, CAST(activated_at AS DATE) AS d, activation_basis FROM members WHERE status <> 4"
        ).set_index("userid")
    by_activity = dated[dated["activation_basis"] == "first_activity"]
    assert len(by_activity) == got_after["first_activity"]
    assert all(pd.Timestamp(by_activity.loc[u, "d"]).date() <= first_day.get(u, dt.date.max) for u in by_activity.index)
    # The rest were activated after the window (or used nothing in it): the late snapshot dates
    # them on its own day, after the deadline, so they are neither registered nor "unknown" then.
    rest = dated[dated["activation_basis"].notna() & (dated["activation_basis"] != "first_activity")]
    assert set(rest["activation_basis"]) <= {"snapshot"}
    assert (pd.to_datetime(rest["d"]).dt.date == deadline + dt.timedelta(days=40)).all()


def test_identical_fetches_give_identical_tables(tmp_path, demo, plan):
    homes = [Home.from_env(tmp_path / name) for name in ("one", "two")]
    for home in homes:
        _fetch_on(home, demo, plan, UNTIL + dt.timedelta(days=3))
    tables = []
    for home in homes:
        with open_reader(home) as wh:
            tables.append({name: wh.frame(name).astype(str).values.tolist() for name in ("members", "member_status")})
    assert tables[0] == tables[1]
    assert len(tables[0]["member_status"]) == len(demo.tables["members"])  # one snapshot row per member


def test_the_fetch_package_exports_its_public_names_and_loads_them_on_first_use():
    import wecom_eval.fetch as package

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    # The command line asks for the source names at start-up: that must not load the pull itself.
    code = (
        "import sys; from wecom_eval.fetch import DEFAULT_SOURCES, SOURCES, parse_sources; "
        "print(sorted(m for m in ('pandas', 'httpx', 'wecom_eval.fetch.run') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
