"""The forecast's in-place arithmetic and counted medians give the very numbers of the plain expressions.

The references below are the expressions the model was written with (temporaries, ``np.median``
over every column); the faster code must reproduce them bit for bit, not approximately.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wecom_eval.kpis import forecast_model as fm
from wecom_eval.kpis import forecast_summary as fsum


def _bass_reference(tau: np.ndarray, speed: np.ndarray, q: float) -> np.ndarray:
    t = np.maximum(np.asarray(tau, dtype=float), 0.0)
    e = np.exp(-np.asarray(speed, dtype=float) * t)
    return np.asarray((1.0 - e) / (1.0 + q * e))


def _path_reference(u: fm._Unit, days, theta, last_day, s: fm.Settings, clock) -> np.ndarray:
    logit_k, log_c = theta[:, :1], theta[:, 1:]
    tau = (clock[days] - clock[u.go_live - 1])[None, :]
    base = u.base if np.isfinite(u.base) else 0.0
    if not (s.anchor and np.isfinite(u.now)):
        k = 1.0 / (1.0 + np.exp(-logit_k))
        b = k * s.start if s.start is not None else np.minimum(base, k)
        return np.asarray(b + (k - b) * _bass_reference(tau, np.exp(log_c), s.q))
    k = np.maximum(1.0 / (1.0 + np.exp(-logit_k)), u.now)
    c = np.exp(log_c)
    f_now = _bass_reference(np.array(clock[last_day] - clock[u.go_live - 1]), c, s.q)
    remaining = np.clip((_bass_reference(tau, c, s.q) - f_now) / np.maximum(1.0 - f_now, 1e-9), 0.0, 1.0)
    return np.asarray(u.now + (k - u.now) * remaining)


def _noisy_reference(y, shock, ahead, size, noise, floor):
    sd = np.sqrt(np.clip(y * (1 - y), 0, None) / size) * np.minimum(ahead, 1.0) + noise * ahead
    y = np.clip(y + shock * sd, 0.0, 1.0)
    return np.maximum(y, floor) if np.isfinite(floor) else y


def _unit(now: float, base: float) -> fm._Unit:
    empty = np.zeros(0)
    return fm._Unit(1, go_live=8, weight=30.0, base=base, tau=empty, value=empty, n=empty, now=now, size=30.0)


@pytest.mark.parametrize("kpi", sorted(fm.SETTINGS))
@pytest.mark.parametrize(("now", "base"), [(0.35, 0.1), (math.nan, 0.05), (0.0, math.nan)])
def test_the_simulated_paths_are_the_plain_expressions_bit_for_bit(kpi: str, now: float, base: float) -> None:
    rng = np.random.default_rng(7)
    s = fm.SETTINGS[kpi]
    clock = np.concatenate([[0.0], np.cumsum(rng.random(400) < 5 / 7)])
    days = np.arange(40, 300)
    theta = np.column_stack([rng.normal(1.0, 1.5, 500), rng.normal(math.log(0.1), 0.8, 500)])
    u = _unit(now, base)
    got = fm._path(u, days, theta, 39, s, clock)
    want = _path_reference(u, days, theta, 39, s, clock)
    assert np.array_equal(got, want)
    shock = rng.standard_normal((500, 1))
    ahead = np.sqrt(np.maximum(days - 39, 7) / 28.0)[None, :]
    floor = now if s.anchor else math.nan
    want_noisy = _noisy_reference(want.copy(), shock, ahead, 30.0, s.noise, floor)
    assert np.array_equal(fm._noisy(got, shock, ahead, 30.0, s.noise, floor), want_noisy)


def test_bass_share_keeps_scalars_and_broadcasts_as_before() -> None:
    assert fm.bass_share(np.array(10.0), np.array(0.1), q=0.0) == _bass_reference(np.array(10.0), np.array(0.1), 0.0)
    tau, speed = np.linspace(-5, 90, 50)[None, :], np.geomspace(0.01, 2, 30)[:, None]
    assert np.array_equal(fm.bass_share(tau, speed, q=30.0), _bass_reference(tau, speed, 30.0))


def _first_reference(path: np.ndarray, floor: float) -> int | None:
    hit = np.nonzero(np.median(path, axis=0) >= floor)[0]
    return int(hit[0]) if len(hit) else None


@pytest.mark.parametrize("draws", [2000, 1999, 2, 1])
def test_the_counted_median_finds_the_first_column_np_median_finds(draws: int) -> None:
    rng = np.random.default_rng(draws)
    for trial in range(40):
        path = np.sort(rng.random((draws, 30)), axis=1)  # columns rising, as a path does
        floor = float(rng.choice([0.5, 0.7, 0.95, 1.5]))
        if trial % 3 == 0:  # ties: half the draws exactly at the floor, half just below or above
            col = int(rng.integers(0, 30))
            path[: draws // 2, col] = floor
            path[draws // 2 :, col] = np.nextafter(floor, -1 if trial % 2 else 2)
        assert fsum._first_median_at_least(path, floor) == _first_reference(path, floor)


def test_the_counted_median_of_two_middle_draws_whose_mean_rounds_up_to_the_floor() -> None:
    # Two middle draws on either side of the floor whose mean is the floor: np.median says yes.
    floor = 0.6
    path = np.array([[0.1], [np.nextafter(floor, 0)], [np.nextafter(floor, 1)], [0.9]])
    assert float(np.median(path[:, 0])) >= floor
    assert fsum._first_median_at_least(path, floor) == _first_reference(path, floor) == 0


def test_the_counted_median_with_missing_draws_is_np_median() -> None:
    path = np.full((4, 3), 0.9)
    path[0, 0] = np.nan
    assert fsum._first_median_at_least(path, 0.5) == _first_reference(path, 0.5) == 1


def test_a_projection_is_the_same_twice_and_its_summary_matches_np_median() -> None:
    history = fm_history()
    units = history.groupby("unit", as_index=False).agg(go_live_day=("day", "min"), weight=("n", "last"))
    proj = fm.project(history, units, kpi="feature_penetration", last_day=35, until_day=120, keep=[90], draws=400)
    again = fm.project(history, units, kpi="feature_penetration", last_day=35, until_day=120, keep=[90], draws=400)
    assert np.array_equal(proj.company, again.company)
    target = float(np.median(proj.company, axis=0)[20])
    found = fm.summarise(proj.company, proj.days, deadline_day=90, last_day=35, now=0.1, target=target)
    assert found["reach_day"] == int(proj.days[_first_reference(proj.company, target - 1e-9)])


def fm_history():
    import pandas as pd

    rows = []
    for unit, go_live, speed in [(1, 1, 0.08), (2, 8, 0.05), (3, 15, 0.12)]:
        for day in range(7, 36, 7):
            value = 0.8 * (1 - math.exp(-speed * max(day - go_live, 0)))
            rows.append({"unit": unit, "day": day, "value": value, "n": 40.0})
    return pd.DataFrame(rows)
