"""The organisation: the department tree, the HR roster, WeCom members and their registration.

Everything is drawn with vectorised numpy from one seeded generator, so the same
:class:`~wecom_eval.demo.config.DemoConfig` always gives the same organisation.
Days are counted as integer indices from the window's first day (``Window.day``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wecom_eval.demo.config import DemoConfig
from wecom_eval.errors import InputError, Problem
from wecom_eval.plan import RolloutPlan
from wecom_eval.workcal import WorkCalendar

TZ = "Asia/Shanghai"
NEVER = 10**6  # a day index after any window: "never" for activation, leaving, disabling

HQ = "总部"
# Level-2 departments under headquarters, with a relative size (法务部 is kept tiny on purpose).
HQ_DEPARTMENTS: tuple[tuple[str, float], ...] = (
    ("行政部", 1.0),
    ("销售部", 2.2),
    ("人力资源部", 0.7),
    ("财务部", 0.8),
    ("技术部", 1.8),
    ("市场部", 1.0),
    ("客户服务部", 1.4),
    ("法务部", 0.0),
)
SMALL_DEPARTMENT = f"{HQ}/法务部"
BRANCH_DEPARTMENTS: dict[str, tuple[tuple[str, float], ...]] = {
    "华东分公司": (
        ("销售部", 2.4),
        ("客户服务部", 1.3),
        ("行政部", 0.6),
        ("技术部", 1.0),
        ("市场部", 0.8),
        ("财务部", 0.5),
    ),
    "华南分公司": (("销售部", 2.0), ("客户服务部", 1.0), ("行政部", 0.5)),
    "西南分公司": (("销售部", 1.6), ("客户服务部", 0.9), ("财务部", 0.4)),
    "华北分公司": (("销售部", 1.8), ("行政部", 0.5), ("市场部", 0.7), ("客户服务部", 0.9)),
}
OTHER_BRANCH_DEPARTMENTS: tuple[tuple[str, float], ...] = (("销售部", 1.8), ("客户服务部", 0.9), ("行政部", 0.5))
MIN_DEPARTMENT_SIZE = 6  # every other department stays at or above the privacy floor (5)

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子轩"
    "欣怡梓涵思远佳琪嘉怡晨阳俊杰雨婷志强海峰建国晓东文博一鸣天佑若曦"
)
SHARED_ACCOUNTS: tuple[tuple[str, str], ...] = (("shared_frontdesk", "客户服务部"), ("shared_hotline", "客户服务部"))


@dataclass(frozen=True)
class Window:
    """The data window: baseline weeks before the rollout start, then the rollout weeks."""

    start: dt.date
    rollout_start: dt.date
    end: dt.date
    days: np.ndarray  # datetime64[D], every calendar day
    working: np.ndarray  # bool per day (China's calendar and the plan's extra days off)
    next_working: np.ndarray  # index of the first working day at or after each day (n_days if none)

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def rollout_day0(self) -> int:
        return (self.rollout_start - self.start).days

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=int(index))

    @classmethod
    def build(cls, config: DemoConfig, plan: RolloutPlan) -> Window:
        start = plan.start_date - dt.timedelta(weeks=config.baseline_weeks)
        end = plan.start_date + dt.timedelta(weeks=config.rollout_weeks) - dt.timedelta(days=1)
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        cal = WorkCalendar(plan)
        working = cal.working_day_mask(days.astype(object))
        nxt = np.full(len(days) + 1, len(days), dtype=np.int64)
        for i in range(len(days) - 1, -1, -1):
            nxt[i] = i if working[i] else nxt[i + 1]
        return cls(start, plan.start_date, end, days, working, nxt[:-1])


@dataclass
class Org:
    """The organisation as frames plus the per-row numpy arrays later stages draw from."""

    window: Window
    departments: pd.DataFrame
    employees: pd.DataFrame
    members: pd.DataFrame
    # departments (row order of ``departments``)
    dept_ids: np.ndarray
    dept_paths: list[str]
    dept_level: np.ndarray
    dept_branch: list[str]
    dept_pilot: np.ndarray
    dept_go_live: np.ndarray  # day index of go-live
    dept_go_live_week: np.ndarray
    # employees
    emp_dept: np.ndarray  # department row index
    emp_hire: np.ndarray  # day index (negative: before the window)
    emp_leave: np.ndarray  # day index of the last day employed, NEVER if still employed
    # members
    mem_dept: np.ndarray  # department row index (the WeCom department)
    mem_emp: np.ndarray  # employee row index, -1 for accounts with no employee
    mem_hire: np.ndarray
    mem_leave: np.ndarray
    mem_act: np.ndarray  # activation day index, NEVER if not activated in the window
    mem_last: np.ndarray  # last day the member can be active (leaving, disabling, window end)
    mem_measured: np.ndarray  # bool: the member's activity source reports minutes
    anomalies: dict[str, list[str]]

    @property
    def n_members(self) -> int:
        return len(self.mem_dept)


def serials(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Identifiers like ``E000123``: ``prefix`` + zero-padded numbers (an object array)."""
    return np.array([f"{prefix}{int(k):0{width}d}" for k in numbers], dtype=object)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
    sur = np.asarray(SURNAMES)[rng.choice(len(SURNAMES), size=n, p=weights / weights.sum())]
    g1 = np.asarray(GIVEN)[rng.integers(0, len(GIVEN), size=n)]
    g2 = np.asarray(GIVEN)[rng.integers(0, len(GIVEN), size=n)]
    two = rng.random(n) < 0.7
    return np.where(two, np.char.add(np.char.add(sur, g1), g2), np.char.add(sur, g1))


def _clock(rng: np.random.Generator, n: int, *, office_share: float = 0.85) -> np.ndarray:
    """Seconds after midnight: mostly office hours (09:00–18:00), some early or late."""
    office = 9 * 3600 + rng.beta(2.0, 2.2, size=n) * 9 * 3600
    other = rng.uniform(7 * 3600, 23 * 3600, size=n)
    return np.where(rng.random(n) < office_share, office, other).astype(np.int64)


def timestamps(window: Window, day: np.ndarray, seconds: np.ndarray) -> pd.DatetimeIndex:
    """Local timestamps (Asia/Shanghai) from day indices and seconds after midnight."""
    base = np.datetime64(window.start, "s").astype(np.int64)
    local = base + day.astype(np.int64) * 86400 + seconds.astype(np.int64)
    return pd.DatetimeIndex(local.astype("datetime64[s]")).tz_localize(TZ)


def dates(window: Window, day: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` values (as ``datetime64[s]``, midnight) from day indices."""
    return (np.datetime64(window.start, "D") + day.astype(np.int64)).astype("datetime64[s]")


@dataclass
class _Tree:
    """The department tree: one row per department, in ``departments`` order."""

    departments: pd.DataFrame
    ids: np.ndarray
    paths: list[str]
    level: np.ndarray
    branch: list[str]
    weight: np.ndarray  # relative size of a level-2 department
    pilot: np.ndarray
    go_live: np.ndarray  # day index
    go_live_week: np.ndarray


@dataclass
class _Roster:
    employees: pd.DataFrame
    employee_ids: np.ndarray
    numbers: np.ndarray
    dept: np.ndarray
    hire: np.ndarray
    leave: np.ndarray


def build_org(config: DemoConfig, plan: RolloutPlan, rng: np.random.Generator) -> Org:
    """The organisation: tree, sizes, roster, members and registration, drawn from ``rng`` in that order."""
    window = Window.build(config, plan)
    tree = _department_tree(config, plan, window, rng)
    roster = _roster(config, window, tree, _department_sizes(config, tree, rng), rng)
    userids, mem_emp, mem_dept, moved, unsynced = _member_accounts(config, tree, roster, rng)
    with_emp = mem_emp >= 0
    mem_hire = np.where(with_emp, roster.hire[np.maximum(mem_emp, 0)], -1)
    mem_leave = np.where(with_emp, roster.leave[np.maximum(mem_emp, 0)], NEVER)
    act, disabled, stragglers, mem_last = _registration(
        config, window, tree, mem_dept, with_emp, mem_hire, mem_leave, rng
    )
    activated = act < NEVER
    status = np.where(mem_leave < window.n_days, 5, np.where(disabled, 2, np.where(activated, 1, 4)))
    act_ts = timestamps(window, np.where(activated, act, 0), _clock(rng, len(mem_emp)))
    measured = np.asarray(tree.branch, dtype=object)[mem_dept] != config.no_minutes_branch
    members = pd.DataFrame(
        {
            "userid": userids,
            "employee_id": pd.Series(roster.employee_ids[np.maximum(mem_emp, 0)], dtype="str").where(with_emp),
            "department_id": tree.ids[mem_dept],
            "status": status.astype(np.int64),
            "activated_at": pd.Series(act_ts).where(activated),
        }
    )
    anomalies = {
        "shared_accounts": [u for u, _ in SHARED_ACCOUNTS],
        "department_mismatch": sorted(userids[moved].tolist()),
        "employees_without_member": sorted(roster.employee_ids[unsynced].tolist()),
        "stragglers": sorted(userids[stragglers].tolist()),
        "disabled": sorted(userids[disabled].tolist()),
    }
    return Org(
        window,
        tree.departments,
        roster.employees,
        members,
        tree.ids,
        tree.paths,
        tree.level,
        tree.branch,
        tree.pilot,
        tree.go_live,
        tree.go_live_week,
        roster.dept,
        roster.hire,
        roster.leave,
        mem_dept,
        mem_emp,
        mem_hire,
        mem_leave,
        act,
        mem_last,
        measured,
        anomalies,
    )


def _department_tree(config: DemoConfig, plan: RolloutPlan, window: Window, rng: np.random.Generator) -> _Tree:
    rows: list[tuple[int, str, int | None, str, int, str, float]] = []  # id, name, parent, path, level, branch, weight
    rows.append((1, config.company_name, None, config.company_name, 0, HQ, 0.0))
    units = (HQ, *config.branches)
    for k, unit in enumerate(units):
        rows.append((2 + k, unit, 1, unit, 1, unit, 0.0))
    next_id = 2 + len(units)
    for k, unit in enumerate(units):
        catalogue = HQ_DEPARTMENTS if unit == HQ else BRANCH_DEPARTMENTS.get(unit, OTHER_BRANCH_DEPARTMENTS)
        unit_scale = 1.0 if unit == HQ else float(rng.lognormal(-0.35, 0.35))
        for name, weight in catalogue:
            w = weight * unit_scale * float(rng.lognormal(0.0, 0.55)) if weight > 0 else 0.0
            rows.append((next_id, name, 2 + k, f"{unit}/{name}", 2, unit, w))
            next_id += 1
    dept_ids = np.array([r[0] for r in rows], dtype=np.int64)
    dept_paths = [r[3] for r in rows]
    pilots = plan.resolve_pilots(zip(dept_ids.tolist(), dept_paths, strict=True))
    dept_pilot = np.isin(dept_ids, list(pilots))
    go_live_week = np.array(
        [
            plan.go_live_week(p, int(i), is_pilot=bool(pi))
            for i, p, pi in zip(dept_ids, dept_paths, dept_pilot, strict=True)
        ],
        dtype=np.int64,
    )
    go_live_dates = [plan.week_start(int(w)) for w in go_live_week]
    departments = pd.DataFrame(
        {
            "department_id": dept_ids,
            "name": [r[1] for r in rows],
            "parent_id": pd.array([r[2] for r in rows], dtype="Int64"),
            "path": dept_paths,
            "is_pilot": dept_pilot,
            "go_live_date": pd.to_datetime(go_live_dates),
        }
    )
    return _Tree(
        departments,
        dept_ids,
        dept_paths,
        np.array([r[4] for r in rows], dtype=np.int64),
        [r[5] for r in rows],
        np.array([r[6] for r in rows]),
        dept_pilot,
        np.array([window.day(d) for d in go_live_dates], dtype=np.int64),
        go_live_week,
    )


def _department_sizes(config: DemoConfig, tree: _Tree, rng: np.random.Generator) -> np.ndarray:
    """Each employee's department row: heavy-tailed sizes, one department under the privacy floor."""
    n = config.employees
    leaf = np.flatnonzero(tree.level == 2)
    weights = tree.weight[leaf]
    small = np.array([tree.paths[i] == SMALL_DEPARTMENT for i in leaf])
    sizes = np.zeros(len(leaf), dtype=np.int64)
    sizes[small] = config.small_department_size
    regular = ~small
    rest = n - sizes.sum() - MIN_DEPARTMENT_SIZE * regular.sum()
    if rest < 0:
        raise InputError(
            "demo organisation",
            [
                Problem(
                    "employees",
                    n,
                    f"at least {n - rest} employees for {len(leaf)} departments",
                    "Ask for more employees, or fewer branches.",
                )
            ],
        )
    sizes[regular] = MIN_DEPARTMENT_SIZE + rng.multinomial(rest, weights[regular] / weights[regular].sum())
    return rng.permutation(np.repeat(leaf, sizes))


def _roster(config: DemoConfig, window: Window, tree: _Tree, emp_dept: np.ndarray, rng: np.random.Generator) -> _Roster:
    """The HR roster: tenure, joiners and leavers."""
    n, n_days = config.employees, window.n_days
    emp_hire = -(rng.exponential(5 * 365, size=n) + 14).astype(np.int64)
    joiners = rng.random(n) < config.joiner_share
    hire_in = rng.integers(0, max(n_days - 1, 1), size=n)
    emp_hire = np.where(joiners, window.next_working[np.minimum(hire_in, n_days - 1)], emp_hire)
    emp_hire = np.minimum(emp_hire, n_days - 1)
    leavers = rng.random(n) < config.leaver_share
    leave_at = rng.integers(0, n_days, size=n)
    leave_at = np.maximum(leave_at, emp_hire + 30)
    emp_leave = np.where(leavers & (leave_at < n_days), leave_at, NEVER)
    roles = np.where(rng.random(n) < 0.08, "主管", "专员").astype(object)
    first_in_dept = np.unique(emp_dept, return_index=True)[1]
    roles[first_in_dept] = "经理"
    emp_numbers = np.arange(1, n + 1)
    employee_ids = serials("E", emp_numbers, 6)
    employees = pd.DataFrame(
        {
            "employee_id": employee_ids,
            "name": _names(rng, n),
            "department_id": tree.ids[emp_dept],
            "hire_date": dates(window, emp_hire),
            "leave_date": pd.Series(dates(window, np.where(emp_leave == NEVER, 0, emp_leave))).where(
                emp_leave != NEVER
            ),
            "branch": np.asarray(tree.branch, dtype=object)[emp_dept],
            "role": roles,
        }
    )
    return _Roster(employees, employee_ids, emp_numbers, emp_dept, emp_hire, emp_leave)


def _member_accounts(
    config: DemoConfig, tree: _Tree, roster: _Roster, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(userids, employee row, department row, moved, unsynced): one member per employee, minus a
    couple not yet synced, plus shared accounts; a few moved in HR but not (yet) in WeCom."""
    n = config.employees
    leaf = np.flatnonzero(tree.level == 2)
    unsynced = np.argsort(-roster.hire, kind="stable")[:2] if n >= 500 else np.array([], dtype=np.int64)
    has_member = np.ones(n, dtype=bool)
    has_member[unsynced] = False
    mem_emp = np.flatnonzero(has_member)
    userids = serials("u", roster.numbers[mem_emp], 6)
    mem_dept = roster.dept[mem_emp].copy()
    n_moved = max(2, n // 1000)
    moved = rng.choice(len(mem_emp), size=n_moved, replace=False)
    for m in moved:
        same_unit = [
            i
            for i in leaf
            if tree.branch[i] == tree.branch[mem_dept[m]] and i != mem_dept[m] and tree.paths[i] != SMALL_DEPARTMENT
        ]
        mem_dept[m] = rng.choice(same_unit)
    shared_dept = []
    for k, (_uid, name) in enumerate(SHARED_ACCOUNTS):
        unit = config.branches[0] if k == 0 and config.branches else HQ
        cands = [i for i in leaf if tree.paths[i] == f"{unit}/{name}"] or [
            i for i in leaf if not tree.pilot[i] and tree.paths[i] != SMALL_DEPARTMENT
        ]
        shared_dept.append(cands[0])
    userids = np.concatenate([userids, np.array([u for u, _ in SHARED_ACCOUNTS], dtype=object)])
    mem_dept = np.concatenate([mem_dept, np.array(shared_dept, dtype=np.int64)])
    mem_emp = np.concatenate([mem_emp, np.full(len(SHARED_ACCOUNTS), -1)])
    return userids, mem_emp, mem_dept, moved, unsynced


def _registration(
    config: DemoConfig,
    window: Window,
    tree: _Tree,
    mem_dept: np.ndarray,
    with_emp: np.ndarray,
    mem_hire: np.ndarray,
    mem_leave: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(activation day, disabled, stragglers, last active day) per member: a logistic S-curve by
    department, relative to its go-live."""
    n_days, m_n, d_n = window.n_days, len(mem_dept), len(tree.ids)
    mu = np.where(tree.pilot, 2.0 + rng.gamma(2.0, 0.75, size=d_n), 3.0 + rng.gamma(2.0, 2.5, size=d_n))
    scale = 1.5 + rng.gamma(2.0, 0.75, size=d_n)
    if config.registration_pace != 1.0:  # the default leaves the random stream and the data unchanged
        mu, scale = mu * config.registration_pace, scale * config.registration_pace
    g = tree.go_live[mem_dept]
    joined_late = mem_hire > g
    avail = np.maximum(g, np.maximum(mem_hire, 0))
    delay = np.where(joined_late, rng.logistic(1.5, 1.0, size=m_n), rng.logistic(mu[mem_dept], scale[mem_dept]))
    act = avail + np.maximum(0, np.rint(delay)).astype(np.int64)
    early = (~tree.pilot[mem_dept]) & (rng.random(m_n) < config.early_adopter_share) & (g > window.rollout_day0)
    early_day = window.rollout_day0 + (rng.random(m_n) * np.maximum(g - window.rollout_day0, 1)).astype(np.int64)
    act = np.where(early & (early_day >= mem_hire), early_day, act)
    shift = rng.random(m_n) < 0.75
    inside = act < n_days
    act = np.where(shift & inside, window.next_working[np.minimum(act, n_days - 1)], act)
    stragglers = with_emp & (rng.random(m_n) < config.straggler_share)
    act = np.where(stragglers | (act > np.minimum(mem_leave, n_days - 1)), NEVER, act)
    activated = act < NEVER
    disabled = activated & (mem_leave == NEVER) & with_emp & (rng.random(m_n) < config.disabled_share)
    disabled_on = np.where(disabled, act + rng.integers(10, 60, size=m_n), NEVER)
    disabled &= disabled_on < n_days
    disabled_on = np.where(disabled, disabled_on, NEVER)
    mem_last = np.minimum(np.minimum(mem_leave, disabled_on - 1), n_days - 1)
    return act, disabled, stragglers, mem_last


def eligible_departments(plan: RolloutPlan, feature: str, paths: list[str], names: np.ndarray) -> np.ndarray:
    """Per department row: may its people use ``feature`` (the plan's eligibility, by any part of the path)?"""
    allowed = plan.eligible_names(feature)
    if allowed is None:
        return np.ones(len(paths), dtype=bool)
    return np.array([any(part in allowed for part in p.split("/")) for p in paths], dtype=bool)
