"""The fake's attendance: check-in punches derived from attendance events, and their rows.

Each attendance use is one punch; a day's first punch is the clock-in (上班打卡), its last
the clock-out (下班打卡), any between an outside punch (外出打卡); later uses the same day
come 9 hours apart. A day with one punch gets a "未打卡" row for the missing clock-out. The
rule is the fake's one attendance group: 09:00–18:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.fakeserver.convert import cst_day, day_midnight, epoch_seconds, stable_int

ON_DUTY, OFF_DUTY, OUTSIDE = 0, 1, 2
CHECKIN_TYPES = ("上班打卡", "下班打卡", "外出打卡")
WORK_START, WORK_END = 9 * 3600, 18 * 3600  # the fake's one attendance rule: 09:00–18:00


@dataclass(frozen=True)
class Punches:
    """Punches sorted by (user, time): who, when, which kind, the scheduled time, a missed one."""

    user: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    sched: np.ndarray
    missing: np.ndarray
    last_day: int  # the CST day number of the last use


def build_punches(ev: pd.DataFrame) -> Punches:
    """The punches of attendance ``feature_events`` (not empty)."""
    ts = epoch_seconds(ev["ts"]).astype(np.int64)
    cnt = ev["count"].to_numpy(dtype=np.int64).clip(min=1)
    users = ev["userid"].astype(str).to_numpy(dtype=object)
    day = cst_day(ts)
    day_end = day_midnight(day + 1) - 1
    step = np.minimum(9 * 3600, (day_end - ts) // np.maximum(cnt - 1, 1))  # later uses: 9 h apart, same day
    rep = np.repeat(np.arange(len(ts)), cnt)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    t = ts[rep] + j * step[rep]
    u, d = users[rep], day[rep]
    order = np.lexsort((t, u))
    t, u, d = t[order], u[order], d[order]
    new_group = np.ones(len(t), dtype=bool)
    new_group[1:] = (u[1:] != u[:-1]) | (d[1:] != d[:-1])
    last_in_group = np.ones(len(t), dtype=bool)
    last_in_group[:-1] = new_group[1:]
    kind = np.where(new_group, ON_DUTY, np.where(last_in_group, OFF_DUTY, OUTSIDE))
    sched = np.where(
        kind == ON_DUTY, day_midnight(d) + WORK_START, np.where(kind == OFF_DUTY, day_midnight(d) + WORK_END, 0)
    )
    lone = new_group & last_in_group  # one punch that day: the clock-out is missing
    miss_u, miss_d = u[lone], d[lone]
    miss_t = np.asarray(day_midnight(miss_d)) + WORK_END
    t = np.concatenate([t, miss_t])
    u = np.concatenate([u, miss_u])
    kind = np.concatenate([kind, np.full(len(miss_t), OFF_DUTY)])
    sched = np.concatenate([sched, miss_t])
    missing = np.concatenate([np.zeros(len(order), dtype=bool), np.ones(len(miss_t), dtype=bool)])
    order = np.lexsort((missing, t, u))

    return Punches(u[order], t[order], kind[order], sched[order], missing[order], int(cst_day(ts.max())))


def checkin_record(p: Punches, i: int) -> dict[str, Any]:
    """One ``checkindata`` row (reference §7.1 shape; location fields as a real punch has)."""
    missing = bool(p.missing[i])
    kind = int(p.kind[i])
    time = int(p.time[i])
    sched = int(p.sched[i])
    if missing:
        exception = "未打卡"
    elif kind == ON_DUTY and time > sched or kind == OFF_DUTY and time < sched:
        exception = "时间异常"
    else:
        exception = ""
    here = not missing
    return {
        "userid": str(p.user[i]),
        "groupname": "标准考勤",
        "groupid": 1,
        "checkin_type": CHECKIN_TYPES[kind],
        "exception_type": exception,
        "checkin_time": time,
        "sch_checkin_time": sched if kind != OUTSIDE else 0,
        "schedule_id": 0,
        "timeline_id": 1,
        "location_title": "示例大厦" if here else "",
        "location_detail": "上海市浦东新区示例路88号" if here else "",
        "wifiname": "Office-5G" if here else "",
        "wifimac": "3c:46:d8:0c:7a:70" if here else "",
        "notes": "",
        "mediaids": [],
        "lat": 31230416 if here else 0,
        "lng": 121473701 if here else 0,
        "deviceid": f"D{stable_int('device', p.user[i]) % 10**8:08d}" if here else "",
    }


__all__ = [
    "CHECKIN_TYPES",
    "OFF_DUTY",
    "ON_DUTY",
    "OUTSIDE",
    "WORK_END",
    "WORK_START",
    "Punches",
    "build_punches",
    "checkin_record",
]
