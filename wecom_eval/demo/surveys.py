"""Survey waves: a needs survey at launch and satisfaction waves with department effects.

Satisfaction answers come from a latent model: a person's general attitude ``eta`` and an
ease-of-use factor correlated with it, plus a department effect and a wave effect, rounded
to the 1–5 scale. The four ``ease_*`` items share one factor with loading equal to their
own noise, so their inter-item correlation is about 0.5 and Cronbach's alpha about 0.8.
Everyone invited gets an answer (the population figure in the truth); then unit
non-response (by department) and item non-response hide some of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.demo.config import DemoConfig
from wecom_eval.demo.org import Org, dates
from wecom_eval.ingest.survey import pseudonymise as respondent_pseudonym
from wecom_eval.plan import RolloutPlan

DEMO_SALT = "wecom-eval-demo-salt"
EASE_ITEMS = ("ease_1", "ease_2", "ease_3", "ease_4")
ITEMS = ("overall", *EASE_ITEMS)
NEEDS_QUESTIONS: dict[str, tuple[tuple[str, ...], tuple[float, ...], int]] = {
    "最常用的功能": (
        ("审批", "文档协作", "客户管理", "考勤打卡", "日程会议", "通讯录"),
        (0.30, 0.22, 0.12, 0.20, 0.10, 0.06),
        3,
    ),
    "最希望优化的流程": (
        ("报销审批", "请假审批", "采购审批", "合同审批", "客户跟进", "周报汇总"),
        (0.28, 0.22, 0.16, 0.12, 0.12, 0.10),
        2,
    ),
}
NEEDS_TEXT = (
    "希望审批能在手机上完成",
    "希望文档能多人同时编辑",
    "希望打卡更方便",
    "希望和现有OA打通",
    "希望客户资料集中管理",
    "希望培训多一些",
)
SATISFACTION_TEXT = (
    "审批比以前快多了",
    "希望增加移动端报表",
    "打卡偶尔定位不准",
    "文档协作很好用",
    "通知太多了",
    "希望客户管理更简单",
    "培训很有帮助",
    "登录有时很慢",
)
TEXT_QUESTION = "建议"


def salt(plan: RolloutPlan) -> tuple[str, str]:
    """The pseudonymisation salt and where it came from ("environment" or "demo default").

    The demo may run without ``$WECOM_EVAL_SALT``; it then uses a fixed demo salt and the
    truth records that it did. A salt that is set but too short is refused as everywhere.
    """
    if os.environ.get(plan.privacy.salt_env):
        return privacy.salt(plan).decode("utf-8"), "environment"
    return DEMO_SALT, "demo default"


def pseudonyms(userids: np.ndarray, key: str) -> np.ndarray:
    """Respondent ids: ``"r"`` + 15 hex digits of HMAC-SHA256(key, userid).

    The same function as :func:`wecom_eval.ingest.survey.pseudonymise`, so a survey export
    and the demo give one respondent the same id; stable across runs and waves.
    """
    return np.array([respondent_pseudonym(str(u), key) for u in userids], dtype=object)


@dataclass
class Surveys:
    responses: pd.DataFrame
    items: pd.DataFrame
    choices: pd.DataFrame
    text: pd.DataFrame
    truth: dict[str, Any]


def _multi_select(
    rng: np.random.Generator, n: int, options: tuple[str, ...], weights: tuple[float, ...], most: int
) -> tuple[np.ndarray, np.ndarray]:
    """(respondent index, option index) pairs: each respondent picks 1..most options."""
    k = rng.integers(1, most + 1, size=n)
    # Gumbel top-k: sample without replacement in proportion to the weights
    keys = np.log(np.asarray(weights))[None, :] + rng.gumbel(size=(n, len(options)))
    ranked = np.argsort(-keys, axis=1)
    take = np.arange(len(options))[None, :] < k[:, None]
    resp, pos = np.nonzero(take)
    return resp, ranked[resp, pos]


def build_surveys(org: Org, config: DemoConfig, plan: RolloutPlan, rng: np.random.Generator) -> Surveys:
    """The needs survey in launch week 1, then a satisfaction wave at each of ``config.survey_weeks``."""
    draw = _SurveyDraw(org, config, plan, rng)
    w = org.window
    close = w.rollout_day0 + 6
    if close < w.n_days:
        draw.needs_wave(close)
    for week in config.survey_weeks:
        close = w.rollout_day0 + 7 * week - 1
        if week >= 1 and close < w.n_days:
            draw.satisfaction_wave(week, close)
    return draw.result()


class _SurveyDraw:
    """The survey tables as they are drawn, wave after wave, from one generator."""

    def __init__(self, org: Org, config: DemoConfig, plan: RolloutPlan, rng: np.random.Generator) -> None:
        self.org, self.config, self.rng = org, config, rng
        key, key_source = salt(plan)
        self.ids = pseudonyms(org.members["userid"].to_numpy(dtype=object), key)
        n_dept = len(org.dept_ids)
        self.dept_effect = rng.normal(0.0, 0.25, size=n_dept) + 0.15 * org.dept_pilot
        self.dept_response = rng.normal(0.0, 0.5, size=n_dept)
        rate = config.response_rate
        self.base_logit = np.log(rate / (1 - rate)) if rate < 1 else 9.0
        self.eta = rng.standard_normal(org.n_members)
        self.ease_factor = 0.7 * self.eta + np.sqrt(1 - 0.49) * rng.standard_normal(org.n_members)
        self.responses: list[pd.DataFrame] = []
        self.items: list[pd.DataFrame] = []
        self.choices: list[pd.DataFrame] = []
        self.texts: list[pd.DataFrame] = []
        self.truth: dict[str, Any] = {"pseudonymisation": key_source, "waves": {}}

    def invite(self, close: int, *, registered: bool) -> np.ndarray:
        org = self.org
        ok = (org.mem_emp >= 0) & (org.mem_hire <= close) & (close <= org.mem_leave)
        if registered:
            ok &= org.mem_act <= close
        return np.flatnonzero(ok)

    def respond(self, invited: np.ndarray, open_day: int, close: int, wave: str) -> np.ndarray:
        org = self.org
        p = 1 / (1 + np.exp(-(self.base_logit + self.dept_response[org.mem_dept[invited]])))
        who = invited[self.rng.random(len(invited)) < p]
        day = self.rng.integers(open_day, close + 1, size=len(who))
        self.responses.append(
            pd.DataFrame(
                {
                    "wave": wave,
                    "respondent_id": self.ids[who],
                    "department_id": org.dept_ids[org.mem_dept[who]],
                    "submitted_on": dates(org.window, day),
                }
            )
        )
        return np.asarray(who)

    def add_text(self, who: np.ndarray, wave: str, pool: tuple[str, ...], share: float) -> int:
        writers = who[self.rng.random(len(who)) < share]
        self.texts.append(
            pd.DataFrame(
                {
                    "wave": wave,
                    "respondent_id": self.ids[writers],
                    "question": TEXT_QUESTION,
                    "text": np.asarray(pool, dtype=object)[self.rng.integers(0, len(pool), len(writers))],
                }
            )
        )
        return len(writers)

    def needs_wave(self, close: int) -> None:
        w = self.org.window
        wave = f"{w.rollout_start.year}-needs"
        invited = self.invite(close, registered=False)
        who = self.respond(invited, w.rollout_day0, close, wave)
        counts = {}
        for question, (options, weights, most) in NEEDS_QUESTIONS.items():
            r, o = _multi_select(self.rng, len(who), options, weights, most)
            self.choices.append(
                pd.DataFrame(
                    {
                        "wave": wave,
                        "respondent_id": self.ids[who[r]],
                        "question": question,
                        "choice": np.asarray(options, dtype=object)[o],
                    }
                )
            )
            counts[question] = {opt: int((o == i).sum()) for i, opt in enumerate(options)}
        n_text = self.add_text(who, wave, NEEDS_TEXT, 0.08)
        self.truth["waves"][wave] = {
            "kind": "needs",
            "opens": str(w.date(w.rollout_day0)),
            "closes": str(w.date(close)),
            "invited": int(len(invited)),
            "respondents": int(len(who)),
            "response_rate": len(who) / max(len(invited), 1),
            "choices": counts,
            "text_answers": n_text,
        }

    def satisfaction_wave(self, week: int, close: int) -> None:
        org, rng = self.org, self.rng
        close_date = org.window.date(close)
        wave = f"{close_date.year}-Q{(close_date.month - 1) // 3 + 1}"
        if wave in self.truth["waves"]:
            wave = f"{wave}-w{week}"
        invited = self.invite(close, registered=True)
        mu = 3.7 + 0.45 * min(week, 12) / 12
        d = org.mem_dept[invited]
        latent = {
            "overall": mu + self.dept_effect[d] + 0.75 * self.eta[invited] + 0.55 * rng.standard_normal(len(invited)),
        }
        for item in EASE_ITEMS:
            latent[item] = (
                mu
                - 0.1
                + self.dept_effect[d]
                + 0.7 * self.ease_factor[invited]
                + 0.7 * rng.standard_normal(len(invited))
            )
        scores = {k: np.clip(np.rint(v), 1, 5).astype(np.int64) for k, v in latent.items()}
        pos = {m: i for i, m in enumerate(invited)}
        who = self.respond(invited, close - 6, close, wave)
        at = np.array([pos[m] for m in who], dtype=np.int64)
        answered = {}
        for item in ITEMS:
            s = scores[item][at].astype(float)
            s[rng.random(len(at)) < self.config.item_nonresponse] = np.nan
            answered[item] = s
            self.items.append(
                pd.DataFrame(
                    {
                        "wave": wave,
                        "respondent_id": self.ids[who],
                        "item": item,
                        "score": pd.Series(np.where(np.isnan(s), 0, s).astype(np.int64), dtype="Int64")
                        .where(~np.isnan(s))
                        .array,
                    }
                )
            )
        n_text = self.add_text(who, wave, SATISFACTION_TEXT, 0.06)
        self.truth["waves"][wave] = {
            "kind": "satisfaction",
            "rollout_week": week,
            "opens": str(org.window.date(close - 6)),
            "closes": str(close_date),
            "invited": int(len(invited)),
            "respondents": int(len(who)),
            "response_rate": len(who) / max(len(invited), 1),
            "latent_mean_overall": mu,
            "population_mean_overall": float(scores["overall"].mean()) if len(invited) else None,
            **self._answers_truth(who, answered),
            "text_answers": n_text,
        }

    def _answers_truth(self, who: np.ndarray, answered: dict[str, np.ndarray]) -> dict[str, Any]:
        """What the answers show: mean and top-2 box of overall, alpha of ease, by department."""
        org = self.org
        overall = answered["overall"][~np.isnan(answered["overall"])]
        ease = np.column_stack([answered[i] for i in EASE_ITEMS])
        ease = ease[~np.isnan(ease).any(axis=1)]
        by_dept = {}
        for j in np.unique(org.mem_dept[who]):
            mask = (org.mem_dept[who] == j) & ~np.isnan(answered["overall"])
            by_dept[str(int(org.dept_ids[j]))] = {
                "n": int(mask.sum()),
                "mean_overall": float(answered["overall"][mask].mean()) if mask.any() else None,
            }
        return {
            "mean_overall": float(overall.mean()) if len(overall) else None,
            "n_overall": int(len(overall)),
            "top2box_overall": float((overall >= 4).mean()) if len(overall) else None,
            "cronbach_alpha_ease": _alpha(ease),
            "n_ease_complete": int(len(ease)),
            "by_department": by_dept,
        }

    def result(self) -> Surveys:
        def cat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
            frames = [f for f in frames if len(f)]
            if not frames:
                return pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
            return pd.concat(frames, ignore_index=True)

        return Surveys(
            responses=cat(self.responses, ["wave", "respondent_id", "department_id", "submitted_on"]),
            items=cat(self.items, ["wave", "respondent_id", "item", "score"]),
            choices=cat(self.choices, ["wave", "respondent_id", "question", "choice"]),
            text=cat(self.texts, ["wave", "respondent_id", "question", "text"]),
            truth=self.truth,
        )


def _alpha(x: np.ndarray) -> float | None:
    """Cronbach's alpha of complete rows (items in columns)."""
    if x.shape[0] < 3:
        return None
    k = x.shape[1]
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var)) if total_var > 0 else None
