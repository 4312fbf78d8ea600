"""The demo organisation: deterministic, valid, internally consistent, and true to its truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import wecom_eval.demo as demo_pkg
from wecom_eval.cli import main as cli_main
from wecom_eval.demo import DemoConfig, build_demo, generate
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.schema import TABLES
from wecom_eval.store.validate import coerce_frame
from wecom_eval.store.warehouse import open_reader
from wecom_eval.workcal import WorkCalendar

SMALL = DemoConfig(employees=600, baseline_weeks=3, rollout_weeks=13)


@pytest.fixture(scope="module")
def small(plan: RolloutPlan) -> demo_pkg.DemoOrg:
    return generate(SMALL, plan)


@pytest.fixture(scope="module")
def days(small: demo_pkg.DemoOrg) -> pd.DataFrame:
    return small.member_days_frame()


def _day(value: str) -> pd.Timestamp:
    return pd.Timestamp(value)


def test_public_names_are_exported():
    assert sorted(demo_pkg.__all__) == ["DemoConfig", "DemoOrg", "DemoSummary", "build_demo", "generate"]
    for name in demo_pkg.__all__:
        assert hasattr(demo_pkg, name)


def test_config_refuses_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="extra"):
        DemoConfig(employes=10)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="no_minutes_branch"):
        DemoConfig(no_minutes_branch="火星分公司")
    assert DemoConfig().model_dump()["seed"] == 20260302


# ---- determinism ------------------------------------------------------------------------


def test_same_seed_same_organisation_other_seed_another(plan, small, days):
    again = generate(SMALL, plan)
    for name in small.tables:
        pd.testing.assert_frame_equal(small.tables[name], again.tables[name], check_exact=True, obj=name)
    pd.testing.assert_frame_equal(days, again.member_days_frame())
    assert json.dumps(small.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)

    other = generate(SMALL.model_copy(update={"seed": 7}), plan)
    assert not small.tables["employees"]["name"].equals(other.tables["employees"]["name"])
    assert not days["active"].equals(other.member_days_frame()["active"])


def test_chunks_are_weeks_with_canonical_types(small, days):
    chunks = list(small.member_days_chunks())
    assert len(chunks) == SMALL.baseline_weeks + SMALL.rollout_weeks
    assert all(c.num_rows == 7 * len(small.tables["members"]) for c in chunks)
    assert [str(f.type) for f in chunks[0].schema] == ["date32[day]", "string", "bool", "int16", "string"]
    assert len(days) == small.truth["counts"]["member_days"]
    assert not days.duplicated(["date", "userid"]).any()
    # feature events stream week by week too, the same rows as the whole frame
    events = pa.concat_tables(list(small.feature_events_chunks()))
    assert events.num_rows == small.truth["counts"]["feature_events"] == len(small.tables["feature_events"])
    assert events["event_id"].to_pylist() == small.tables["feature_events"]["event_id"].tolist()


# ---- validity and integrity -------------------------------------------------------------


def test_every_table_passes_validation_and_loads(home, plan):
    config = DemoConfig(employees=300, baseline_weeks=2, rollout_weeks=5)
    summary = build_demo(home, config, plan)
    demo = generate(config, plan)
    for name, frame in demo.tables.items():  # the frames themselves are valid input too
        coerce_frame(TABLES[name], frame, source=f"demo {name}")
    with open_reader(home) as wh:
        counts = wh.counts()
    assert counts == demo.truth["counts"] == summary.counts
    truth = json.loads((home.demo / "truth.json").read_text(encoding="utf-8"))
    assert truth["counts"] == counts
    assert "总部/行政部" in str(summary) and "member_days" in str(summary)
    again = build_demo(home, config, plan)  # idempotent
    assert again.counts == summary.counts
    with open_reader(home) as wh:
        assert wh.counts() == counts


def test_references_hold_and_the_reconciliation_has_something_to_find(small, days):
    t = small.tables
    dept_ids = set(t["departments"]["department_id"])
    members, employees = t["members"], t["employees"]
    assert set(employees["department_id"]) <= dept_ids
    assert set(members["department_id"]) <= dept_ids
    assert set(members["employee_id"].dropna()) <= set(employees["employee_id"])
    userids = set(members["userid"])
    for name in ("feature_events", "training_attendance"):
        assert set(t[name]["userid"]) <= userids, name
    assert set(t["process_records"]["userid"].dropna()) <= userids
    assert set(t["process_records"]["department_id"]) <= dept_ids
    assert set(days["userid"]) == userids
    responses = t["survey_responses"].set_index(["wave", "respondent_id"]).index
    for name in ("survey_items", "survey_choices", "survey_text"):
        assert t[name].set_index(["wave", "respondent_id"]).index.isin(responses).all(), name

    anomalies = small.truth["anomalies"]
    shared = members[members["employee_id"].isna()]
    assert sorted(shared["userid"]) == sorted(anomalies["shared_accounts"])
    joined = members.dropna(subset=["employee_id"]).merge(employees, on="employee_id", suffixes=("_m", "_e"))
    moved = joined[joined["department_id_m"] != joined["department_id_e"]]
    assert sorted(moved["userid"]) == anomalies["department_mismatch"] and len(moved) >= 2
    assert anomalies["stragglers"] and set(anomalies["stragglers"]) <= set(
        members.loc[members["activated_at"].isna(), "userid"]
    )
    window_end = _day(small.truth["window"]["end"])
    leavers = employees["leave_date"].notna() & (employees["leave_date"] <= window_end)
    joiners = employees["hire_date"] >= _day(small.truth["window"]["start"])
    assert leavers.sum() > 0 and joiners.sum() > 0
    left = members.merge(employees[leavers], on="employee_id")
    assert (left["status"] == 5).all()


def test_structure_has_branches_uneven_departments_and_a_tiny_one(small):
    deps = small.tables["departments"]
    root = deps[deps["parent_id"].isna()].iloc[0]
    assert (root["department_id"], root["path"]) == (1, "示例集团")
    assert not deps.loc[deps["parent_id"].notna(), "path"].str.startswith("示例集团").any()
    assert {"总部", "华南分公司", "西南分公司"} <= set(deps.loc[deps["parent_id"] == 1, "path"])
    sizes = small.tables["employees"]["department_id"].value_counts()
    assert len(sizes) >= 12
    assert sizes.min() < 5 <= sizes.quantile(0.1)
    assert sizes.max() > 3 * sizes.median()  # heavy-tailed
    roles = small.tables["employees"]["role"]
    assert (roles == "经理").sum() == len(sizes)


# ---- the plan is honoured ---------------------------------------------------------------


def test_pilots_and_go_live_weeks_follow_the_plan(plan, small):
    deps = small.tables["departments"]
    pilots = plan.resolve_pilots(zip(deps["department_id"], deps["path"], strict=True))
    assert set(deps.loc[deps["is_pilot"], "department_id"]) == pilots
    for row in deps.itertuples():
        week = plan.go_live_week(row.path, row.department_id, is_pilot=row.is_pilot)
        assert row.go_live_date.date() == plan.week_start(week), row.path
    go_live = deps.set_index("department_id")["go_live_date"]
    assert go_live[deps.loc[deps["path"] == "华南分公司/销售部", "department_id"].iloc[0]].date() == plan.week_start(5)
    assert go_live[deps.loc[deps["path"] == "西南分公司/销售部", "department_id"].iloc[0]].date() == plan.week_start(6)

    members = small.tables["members"]
    act = members["activated_at"].dt.tz_localize(None).dt.normalize()
    live = members["department_id"].map(go_live)
    is_pilot = members["department_id"].map(deps.set_index("department_id")["is_pilot"])
    assert (act.dropna() >= pd.Timestamp(plan.start_date)).all()  # nobody before the rollout
    known = act.notna()
    assert (act[is_pilot & known] >= live[is_pilot & known]).all()
    early = (act < live) & ~is_pilot
    assert 0 < early.mean() < 0.1  # a few early adopters only

    pr = small.tables["process_records"]
    started = pr["started_at"].dt.tz_localize(None).dt.normalize()
    live_pr = pr["department_id"].map(go_live)
    assert ((pr["system"] == "wecom") == (started >= live_pr)).all()
    customer = small.tables["feature_events"]
    users_dept = members.set_index("userid")["department_id"]
    names = deps.set_index("department_id")["name"]
    used_in = customer.loc[customer["feature"] == "customer", "userid"].map(users_dept).map(names)
    assert set(used_in) <= set(plan.eligible_names("customer"))


# ---- the data agree with their own truth, exactly ----------------------------------------


def test_registration_agrees_with_the_truth(small):
    truth = small.truth["registration"]
    d = pd.Timestamp(truth["as_of"])
    emp, mem = small.tables["employees"], small.tables["members"]
    on = (emp["hire_date"] <= d) & (emp["leave_date"].isna() | (d <= emp["leave_date"]))
    act = mem.dropna(subset=["employee_id"]).set_index("employee_id")["activated_at"]
    act = act.dt.tz_localize(None).dt.normalize()
    registered = on & emp["employee_id"].map(act).le(d)
    assert (int(on.sum()), int(registered.sum())) == (truth["company"]["roster"], truth["company"]["registered"])
    by_dept = registered.groupby(emp["department_id"]).sum()
    for dept, row in truth["by_department"].items():
        assert by_dept.get(int(dept), 0) == row["registered"]


def test_daily_active_and_engaged_rates_agree_with_the_truth(plan, small, days):
    truth = small.truth["activity"]
    mem, emp = small.tables["members"], small.tables["employees"]
    leave = mem["employee_id"].map(emp.set_index("employee_id")["leave_date"])
    act = mem["activated_at"].dt.tz_localize(None).dt.normalize()
    info = pd.DataFrame({"userid": mem["userid"], "act": act, "leave": leave})
    frame = days.merge(info, on="userid")
    frame["registered"] = (frame["act"] <= frame["date"]) & (frame["leave"].isna() | (frame["date"] <= frame["leave"]))
    frame["measured"] = frame["minutes"].notna()
    frame["engaged"] = frame["active"] & (frame["minutes"] >= truth["min_daily_minutes"])
    per_day = frame.groupby("date").agg(
        registered=("registered", "sum"), active=("active", "sum"), engaged=("engaged", "sum")
    )
    measured = frame[frame["registered"] & frame["measured"]].groupby("date").size()
    assert not (frame["active"] & ~frame["registered"]).any()
    cal = WorkCalendar(plan)
    for entry in truth["daily"]:
        d = pd.Timestamp(entry["date"])
        assert entry["working"] == cal.is_working_day(d.date())
        assert (entry["registered"], entry["active"], entry["engaged"]) == tuple(per_day.loc[d])
        assert entry["registered_measured"] == measured.get(d, 0)
    working = [e for e in truth["daily"] if e["working"] and e["active_rate"] is not None]
    off = [e for e in truth["daily"] if not e["working"] and e["active_rate"] is not None]
    assert np.mean([e["active_rate"] for e in working[-20:]]) > np.mean([e["active_rate"] for e in off[-8:]]) + 0.3
    # the branch without minutes: minutes all null, source named, engaged rate "not measured"
    no_minutes = days[days["source"] == "api_oper_log"]
    assert len(no_minutes) and no_minutes["minutes"].isna().all()
    assert days.loc[days["source"] == "admin_export", "minutes"].notna().all()
    deps = small.tables["departments"].set_index("department_id")["path"]
    assert {deps[i].split("/")[0] for i in truth["not_measured_departments"]} == {"西南分公司"}
    for dept in truth["not_measured_departments"]:
        assert all(w["engaged_rate"] is None for w in truth["by_department_weekly"][str(dept)])


def test_penetration_agrees_with_the_truth(plan, small):
    truth = small.truth["penetration"]
    d = pd.Timestamp(truth["as_of"])
    emp, mem, deps = small.tables["employees"], small.tables["members"], small.tables["departments"]
    on = emp[(emp["hire_date"] <= d) & (emp["leave_date"].isna() | (d <= emp["leave_date"]))]
    ev = small.tables["feature_events"]
    day = ev["ts"].dt.tz_localize(None).dt.normalize()
    recent = ev[(day > d - pd.Timedelta(days=truth["window_days"])) & (day <= d)]
    emp_of = mem.dropna(subset=["employee_id"]).set_index("userid")["employee_id"]
    names = deps.set_index("department_id")["path"]
    for feature, row in truth["features"].items():
        allowed = plan.eligible_names(feature)
        eligible = (
            on
            if allowed is None
            else on[on["department_id"].map(names).map(lambda p, a=allowed: any(part in a for part in p.split("/")))]
        )
        users = set(recent.loc[recent["feature"] == feature, "userid"].map(emp_of).dropna())
        assert (row["eligible"], row["users"]) == (len(eligible), int(eligible["employee_id"].isin(users).sum()))


def test_surveys_and_tickets_agree_with_the_truth(small):
    items = small.tables["survey_items"]
    waves = small.truth["satisfaction"]
    assert sum(1 for w in waves.values() if w["kind"] == "satisfaction") >= 2
    for wave, truth in waves.items():
        responses = small.tables["survey_responses"]
        responses = responses[responses["wave"] == wave]
        assert len(responses) == truth["respondents"]
        if truth["kind"] == "needs":
            choices = small.tables["survey_choices"]
            choices = choices[choices["wave"] == wave]
            for question, counts in truth["choices"].items():
                got = choices[choices["question"] == question]["choice"].value_counts().to_dict()
                assert {k: v for k, v in counts.items() if v} == got
            continue
        in_wave = items[items["wave"] == wave]
        overall = in_wave.loc[in_wave["item"] == "overall", "score"].dropna()
        assert overall.between(1, 5).all()
        assert overall.mean() == pytest.approx(truth["mean_overall"], abs=1e-12)
        assert (overall >= 4).mean() == pytest.approx(truth["top2box_overall"], abs=1e-12)
        assert in_wave["score"].isna().any()  # item non-response
        assert truth["response_rate"] < 0.9  # unit non-response
    assert len(small.tables["survey_text"]) > 0
    tickets = small.tables["tickets"]
    answered = (tickets["first_response_at"] - tickets["created_at"]) <= pd.Timedelta(hours=1)
    assert answered.mean() == pytest.approx(small.truth["tickets"]["answered_within_1h"])
    assert small.truth["tickets"]["answered_within_1h"] > 0.7


def test_turnaround_truth_is_what_the_records_show(small):
    eff = small.truth["efficiency"]
    assert eff["true"]["pilot_log_effect"] == pytest.approx(np.log(SMALL.pilot_effect))
    pr = small.tables["process_records"]
    assert set(pr["status"]) == {"approved", "rejected", "withdrawn", "pending"}
    assert pr.loc[pr["status"] == "pending", "finished_at"].isna().all()
    assert pr.loc[pr["status"] != "pending", "finished_at"].notna().all()
    hour = pr["started_at"].dt.hour
    assert hour.between(9, 17).mean() > 0.8  # mostly in working hours
    done = pr[pr["status"].isin(["approved", "rejected"])]
    hours = (done["finished_at"] - done["started_at"]).dt.total_seconds() / 3600
    legacy = hours[done["system"] == "legacy"]
    assert 30 < legacy.median() < 70  # about two days
    assert hours.skew() > 2  # heavy-tailed


def test_the_cli_builds_the_demo_and_refuses_bad_options(home, capsys):
    assert (
        cli_main(
            [
                "--home",
                str(home.root),
                "demo",
                "--employees",
                "200",
                "--weeks-baseline",
                "1",
                "--weeks-rollout",
                "3",
                "--seed",
                "5",
                "--no-reports",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "Demo organisation loaded" in out.out and "member_days" in out.out
    assert "organisation:" in out.err  # progress lines
    assert (home.demo / "truth.json").exists()
    assert cli_main(["--home", str(home.root), "demo", "--employees", "5"]) == 2
    assert "--employees" in capsys.readouterr().err


# ---- at a large size the statistics recover the truth ------------------------------------


def test_a_large_organisation_recovers_the_planted_effects(plan):
    config = DemoConfig(employees=20_000, baseline_weeks=8, rollout_weeks=12, seed=11)
    big = generate(config, plan)
    truth = big.truth
    # the pilot's turnaround change, net of the controls (departments not yet live), with
    # department fixed effects: a ratio of geometric means within departments
    launch = truth["efficiency"]["realised"]["launch_did"]
    start, post_end = pd.Timestamp(launch["pre"][0]), pd.Timestamp(launch["post"][1])
    rollout = pd.Timestamp(plan.start_date)
    pr = big.tables["process_records"]
    pr = pr[pr["status"].isin(["approved", "rejected"])].copy()
    day = pr["started_at"].dt.tz_localize(None).dt.normalize()
    pr = pr[(day >= start) & (day <= post_end)]
    deps = big.tables["departments"].set_index("department_id")
    pr["post"] = pr["started_at"].dt.tz_localize(None) >= rollout
    pr["pilot"] = pr["department_id"].map(deps["is_pilot"])
    pr["log_h"] = np.log((pr["finished_at"] - pr["started_at"]).dt.total_seconds() / 3600)
    cell = pr.groupby(["department_id", "post"])["log_h"].mean().unstack()
    change = cell[True] - cell[False]
    pilot = change[deps.loc[change.index, "is_pilot"]].mean()
    control = change[~deps.loc[change.index, "is_pilot"]].mean()
    assert np.exp(pilot - control) == pytest.approx(config.pilot_effect, abs=0.06)
    assert launch["ratio"] == pytest.approx(config.pilot_effect, abs=0.06)
    # surveys: the respondents' mean is close to the population's; the ease scale is reliable
    for wave in (v for v in truth["satisfaction"].values() if v["kind"] == "satisfaction"):
        assert wave["mean_overall"] == pytest.approx(wave["population_mean_overall"], abs=0.05)
        assert 0.72 < wave["cronbach_alpha_ease"] < 0.88
        assert wave["response_rate"] == pytest.approx(config.response_rate, abs=0.08)
    # activity: working days well above days off; registration follows the S-curve
    weekly = truth["registration"]["weekly"]
    rates = [w["rate"] for w in weekly]
    assert rates[0] < 0.3 < rates[3] and rates[-1] > 0.9
    assert all(b >= a - 0.01 for a, b in zip(rates, rates[1:], strict=False))
    stragglers = len(truth["anomalies"]["stragglers"]) / config.employees
    assert stragglers == pytest.approx(config.straggler_share, abs=0.005)


# ---- the warehouse's direct path for big Arrow loads (used by build_demo) ---------------
# A load of Arrow chunks into an empty table appends straight into it and checks it there;
# these tests pin that its messages and results are those of the staged path.


def _members_loaded(wh) -> None:
    wh.load_many(
        {
            "departments": pd.DataFrame(
                {
                    "department_id": [1],
                    "name": ["示例集团"],
                    "parent_id": [None],
                    "path": ["示例集团"],
                    "is_pilot": [False],
                    "go_live_date": [None],
                }
            ),
            "employees": pd.DataFrame(
                {
                    "employee_id": ["E1"],
                    "name": ["张三"],
                    "department_id": [1],
                    "hire_date": ["2020-01-01"],
                    "leave_date": [None],
                    "branch": ["总部"],
                    "role": [None],
                }
            ),
            "members": pd.DataFrame(
                {
                    "userid": ["u1", "u2", "u3"],
                    "employee_id": ["E1", None, None],
                    "department_id": [1, 1, 1],
                    "status": [1, 1, 4],
                    "activated_at": [None] * 3,
                }
            ),
        },
        source="t",
    )


def _days(start: int, userids: list[str], *, minutes: int | None = 10) -> pa.Table:
    n = len(userids)
    return pa.table(
        {
            "date": pa.array(np.full(n, 20_500 + start, dtype=np.int32), type=pa.date32()),
            "userid": pa.array(userids, type=pa.string()),
            "active": pa.array(np.ones(n, dtype=bool)),
            "minutes": pa.array([minutes] * n, type=pa.int16()),
            "source": pa.array(["t"] * n),
        }
    )


def test_direct_loads_report_the_same_rows_as_staged_ones(home):
    from wecom_eval.errors import InputError
    from wecom_eval.store.warehouse import open_writer

    with open_writer(home) as wh:
        _members_loaded(wh)
        # an exact duplicate across chunks collapses; a second load is all unchanged
        chunks = [_days(0, ["u1", "u2"]), _days(1, ["u1", "u2", "u3"]), _days(0, ["u2"])]
        first = wh.load("member_days", iter(chunks), source="t")
        assert (first.received, first.inserted) == (5, 5)
        again = wh.load("member_days", iter(chunks), source="t")
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
        assert wh.count("member_days") == 5
        wh.con.execute("DELETE FROM member_activity")  # member_days as stored (integer member keys)

        bad = [
            (_days(0, ["u1", "u2"]), _days(1, ["u1", "u2"]), _days(0, ["u2"], minutes=11)),
            (_days(0, ["u1", "u2"]), _days(1, ["u1", "u9"])),
            (_days(0, ["u1", "u2"]), _days(1, ["u1", "u2"], minutes=2000)),
            (_days(0, ["u1", "u2"]), _days(1, ["u1", None])),  # type: ignore[list-item]
        ]
        expected = [
            r"rows 2, 5: got 'date=.*userid=u2'",
            r"row 4, column userid: got 'u9'",
            r"row 3, column minutes: got 2000",
            r"row 4, column userid: got None",
        ]
        for chunks, message in zip(bad, expected, strict=True):
            with pytest.raises(InputError, match=message):
                wh.load("member_days", iter(chunks), source="t")
            assert wh.count("member_days") == 0


def test_another_demo_replaces_the_previous_one_but_real_data_is_never_touched(home, plan):
    small_config = DemoConfig(employees=200, baseline_weeks=1, rollout_weeks=3)
    first = build_demo(home, small_config, plan)
    other = build_demo(home, small_config.model_copy(update={"employees": 250}), plan)
    with open_reader(home) as wh:
        assert wh.counts() == other.counts != first.counts
        assert set(wh.load_log()["source"]) == {"demo"}
    assert json.loads((home.demo / "config.json").read_text(encoding="utf-8"))["employees"] == 250

    from wecom_eval.errors import InputError
    from wecom_eval.store.warehouse import open_writer

    with open_writer(home) as wh:
        wh.con.execute(
            "INSERT INTO _loads (table_name, source, received, inserted, updated, unchanged) "
            "VALUES ('employees', 'roster.csv', 1, 1, 0, 0)"
        )
    with pytest.raises(InputError, match="another home"):
        build_demo(home, small_config, plan)
    with open_reader(home) as wh:
        assert wh.counts() == other.counts


def test_the_demo_lands_its_tables_under_raw_and_loads_them(home, plan):
    import hashlib

    import pyarrow.parquet as pq

    config = DemoConfig(employees=200, baseline_weeks=1, rollout_weeks=3)
    build_demo(home, config, plan)
    landed = json.loads((home.demo / "build.json").read_text(encoding="utf-8"))["landed"]
    assert len(landed["member_days"]) == len(landed["feature_events"]) == config.window_weeks
    assert set(landed) == {"member_days", "feature_events", *(n for n in TABLES if n not in ("member_status",))}
    folders = {(home.raw / p).parent for paths in landed.values() for p in paths}
    assert len(folders) == 1 and folders.pop().parent == home.raw / "demo"
    # every file is listed in its folder's SHA256SUMS with the checksum of its bytes, read-only
    for paths in landed.values():
        for rel in paths:
            path = home.raw / rel
            sums = dict(line.split("  ")[::-1] for line in (path.parent / "SHA256SUMS").read_text().splitlines())
            assert sums[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert not path.stat().st_mode & 0o222
    # what is loaded is what landed: the weekly files hold the member days, in order
    with open_reader(home) as wh:
        stored = wh.query("SELECT count(*) AS n, min(date) AS lo, max(date) AS hi FROM member_days")
        events = wh.count("feature_events")
    files = [pq.read_table(home.raw / p) for p in landed["member_days"]]
    assert sum(f.num_rows for f in files) == stored["n"][0]
    assert (
        files[0]["date"][0].as_py() == stored["lo"][0].date()
        and files[-1]["date"][-1].as_py() == stored["hi"][0].date()
    )
    assert sum(pq.read_metadata(home.raw / p).num_rows for p in landed["feature_events"]) == events
    # a rebuild lands nothing new: the same bytes are found where they landed
    before = sorted(p for p in (home.raw / "demo").rglob("*.parquet"))
    build_demo(home, config, plan)
    assert sorted(p for p in (home.raw / "demo").rglob("*.parquet")) == before


def test_the_demo_runs_every_report_the_longest_first(home):
    from wecom_eval.commands.demo import LONGEST_FIRST, longest_first
    from wecom_eval.reporting import registry

    assert sorted(LONGEST_FIRST) == sorted(s.name for s in registry.BUILT_IN)  # a new built-in report is ranked
    order = longest_first(home)
    assert order[0] == "weekly" and sorted(order) == sorted(registry.names(home))
    (home.own_params).mkdir(parents=True, exist_ok=True)
    (home.own_params / registry.REGISTRY_FILE).write_text(
        "reports:\n  pilot-check:\n    notebook: notebooks/pilot-check.ipynb\n    params: weekly\n"
        "    period: month\n    due: month-start\n    title: {zh: 试点检查, en: Pilot check}\n"
        "    sample_as_of: 2026-05-25\n",
        encoding="utf-8",
    )
    assert longest_first(home)[-1] == "pilot-check"  # a company's own report comes after the ranked ones
