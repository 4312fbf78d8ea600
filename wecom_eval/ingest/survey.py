"""Survey exports: one row per respondent, one column per question → four tidy tables.

Columns the alias table knows (答卷编号/序号/账号, 批次, 部门, 提交时间) describe the respondent;
columns it leaves out on purpose (所用时间, 来自IP, 姓名, …) are dropped; every other column
is a question, read as one of:

- **multi-select** when its header says so (（多选）, [多选题], 可多选, multi-select, select all
  that apply), when a mapping file lists it under ``survey.multi_select``, or when its answers
  use 问卷星's ``┋`` separator. Answers are split on ``┋ | 、 , ， ; ；`` and new lines into one
  ``survey_choices`` row per option; the marker is dropped from the question's name; an
  "other" option's own words (其他〖…〗) go to ``survey_text``.
- **Likert** when a mapping file says so, or when at least 80 % of its answers are scores
  1–5 or labels (非常满意 … 非常不满意, 非常同意 … 非常不同意, very satisfied …, 5分, ★★★★★).
  Every answer must then be one; a blank is a skipped item (score null). → ``survey_items``,
  the item named by the header (or by the mapping file's ``survey.items``).
- **free text** otherwise (or when a mapping file lists it under ``survey.text``) →
  ``survey_text``, one row per non-blank answer.

Respondent ids are replaced at ingest by a keyed hash, ``"r" + HMAC-SHA256(salt, id)[:15]``
(hex), the same pseudonym the demo generator gives, so that a respondent keeps one pseudonym
across waves and runs, and the raw id never reaches the warehouse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from wecom_eval import privacy
from wecom_eval.errors import Problem
from wecom_eval.ingest import labels, parse
from wecom_eval.ingest.columns import Context, Frames, Sheet, date_series, department_ids, text_series
from wecom_eval.plan import RolloutPlan

LIKERT_SHARE = 0.8  # share of a question's answers that must be scores or labels to read it as Likert
_MULTI_MARKER = re.compile(
    r"\s*[(（\[【〔]?\s*(?:多选题?|可多选|多项选择题?|复选题?|不定项(?:选择)?|multiple choice|multi-?select|"
    r"select all that apply|check all that apply)\s*[)）\]】〕]?\s*",
    re.I,
)
_NUMBERING = re.compile(r"^\s*(?:q|第)?\s*\d{1,3}\s*题?\s*[、.．:：)）]\s*(?=\S)", re.I)
_OTHER = re.compile(r"^(?P<choice>.*?)\s*〖(?P<text>.*)〗$", re.S)
OTHER_SUFFIX = "（其他）"  # question name of the words written beside an "other" option


RESPONDENT_PREFIX, RESPONDENT_DIGITS = "r", 15  # shared with the demo, so both give one respondent one id


def pseudonymise(value: str, salt: str) -> str:
    """A respondent's pseudonym: ``"r"`` + the first 15 hex digits of HMAC-SHA256(salt, value).

    Examples
    --------
    >>> pseudonymise("zhangsan", "a-long-secret-salt")  # stable: same id and salt, same pseudonym
    'rfb995d08e866530'
    """
    return privacy.keyed_token(value, salt.encode("utf-8"), prefix=RESPONDENT_PREFIX, digits=RESPONDENT_DIGITS)


def salt_from_env(plan: RolloutPlan) -> str:
    """The pseudonymisation salt, read by :func:`wecom_eval.privacy.salt` from the environment
    variable the plan names (``privacy.salt_env``).

    Raises
    ------
    InputError
        When the variable is unset or shorter than 16 characters (exit code 2). Only the
        demo generator runs without one (it uses a fixed demo salt).
    """
    return privacy.salt(plan).decode("utf-8")


def _role(header: str, cells: list[Any], ctx: Context) -> str:
    declared = ctx.mappings.survey_role(header)
    if declared is not None:
        return declared
    if _MULTI_MARKER.search(header):
        return "multi_select"
    answers = [c for c in cells if not parse.is_empty(c)]
    if any(isinstance(c, str) and "┋" in c for c in answers):
        return "multi_select"
    if not answers:
        return "text"
    words = ctx.mappings.vocabulary("likert")
    scores, _errors = parse.parse_cells(answers, lambda v: labels.parse_likert(v, extra=words))
    valid = sum(1 for s in scores if s is not None and 1 <= s <= 5)
    return "likert" if valid >= LIKERT_SHARE * len(answers) else "text"


def question_name(header: str) -> str:
    """The question as stored: without its number (1、 Q2. 第3题:) or a multi-select marker.

    Numbers are dropped because they shift between waves while the question stays the same;
    a header that is only a number (Q1) is kept as it is.

    Examples
    --------
    >>> question_name("3、您最常用的功能（多选）"), question_name("Q1. Overall satisfaction"), question_name("Q1")
    ('您最常用的功能', 'Overall satisfaction', 'Q1')
    """
    text = " ".join(_MULTI_MARKER.sub(" ", header).split()) or header.strip()
    return _NUMBERING.sub("", text) or text


def build_survey(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> Frames:
    """The four survey tables from one file (see the module notes)."""
    n, index = len(sheet.lines), sheet.index()
    if ctx.salt is None:
        raise ValueError("build_survey needs ctx.salt; the pipeline reads it with salt_from_env()")
    waves = _waves(sheet, values, ctx)
    if waves is None:
        return {}
    salt = ctx.salt
    answers = _Answers(sheet, waves, [None if r is None else pseudonymise(r, salt) for r in values["respondent"]])
    departments = department_ids(sheet, values, ctx, create=False, needed=False)
    frames: dict[str, list[pd.DataFrame]] = {"survey_items": [], "survey_choices": [], "survey_text": []}
    roles: dict[str, list[str]] = {"likert": [], "multi_select": [], "text": []}
    for position, header in sheet.match.unmatched:
        cells = sheet.raw.column(position)
        role = _role(header, cells, ctx)
        roles[role].append(header)
        if role == "likert":
            frames["survey_items"].append(_likert_items(answers, header, cells, ctx))
        elif role == "multi_select":
            choices, other_text = _choices(answers, header, cells)
            frames["survey_choices"].append(choices)
            if other_text is not None:
                frames["survey_text"].append(other_text)
        else:
            frames["survey_text"].append(_free_text(answers, header, cells))
    described = "; ".join(f"{role.replace('_', '-')}: {', '.join(h)}" for role, h in roles.items() if h)
    sheet.notes.append(f"questions — {described or 'none found'}")
    out = {
        "survey_responses": pd.DataFrame(
            {
                "wave": text_series(waves, index),
                "respondent_id": text_series(answers.respondents, index),
                "department_id": pd.Series(pd.array(departments, dtype="Int64"), index=index),
                "submitted_on": date_series(values.get("submitted_on", [None] * n), index),
            },
            index=index,
        )
    }
    for name, parts in frames.items():
        if parts:
            out[name] = pd.concat(parts)
    return out


def _waves(sheet: Sheet, values: dict[str, list[Any]], ctx: Context) -> list[Any] | None:
    """The wave of each answer (``--wave`` or the 批次 column); None, with the problem logged, if neither."""
    n = len(sheet.lines)
    if ctx.wave:
        return [ctx.wave] * n
    if not sheet.has("wave"):
        ctx.log.add(
            Problem(
                f"{sheet.source}",
                None,
                "the survey wave: --wave NAME, or a 批次 (wave) column",
                "Name the wave, e.g. --wave 2026-Q1, so that waves can be compared.",
            )
        )
        return None
    waves = list(values.get("wave", [None] * n))
    for i, w in enumerate(waves):
        if w is None:
            ctx.log.cell(
                sheet.source,
                sheet.lines[i],
                sheet.header("wave"),
                None,
                "the wave of this answer",
                "Fill it in, or pass --wave for the whole file.",
            )
    return waves


@dataclass(frozen=True)
class _Answers:
    """Who answered each row of a sheet: its line number, wave and pseudonymised respondent."""

    sheet: Sheet
    waves: list[Any]
    respondents: list[str | None]

    def frame(self, rows: list[int], **columns: Any) -> pd.DataFrame:
        """A table's rows for the sheet rows ``rows`` (positions), indexed by their line numbers."""
        return pd.DataFrame(
            {
                "wave": [self.waves[i] for i in rows],
                "respondent_id": [self.respondents[i] for i in rows],
                **columns,
            },
            index=pd.Index([self.sheet.lines[i] for i in rows], dtype="int64"),
        )


def _likert_items(answers: _Answers, header: str, cells: list[Any], ctx: Context) -> pd.DataFrame:
    """``survey_items`` of one Likert question: a score 1–5 or null per row (a bad answer is logged)."""
    sheet = answers.sheet
    item = ctx.mappings.item_name(header) or question_name(header)
    scores, errors = parse.parse_cells(cells, lambda v: labels.parse_likert(v, extra=ctx.mappings.vocabulary("likert")))
    for i, s in enumerate(scores):
        if i in errors or (s is not None and not 1 <= s <= 5):
            ctx.log.cell(
                sheet.source,
                sheet.lines[i],
                header,
                cells[i],
                labels.LIKERT_EXPECTED,
                "Likert answers run from 1 to 5; correct the answer or leave it blank (skipped).",
            )
            scores[i] = None
    return pd.DataFrame(
        {
            "wave": answers.waves,
            "respondent_id": answers.respondents,
            "item": item,
            "score": pd.array(scores, dtype="Int64"),
        },
        index=sheet.index(),
    )


def _choices(answers: _Answers, header: str, cells: list[Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``survey_choices`` of one multi-select question, and ``survey_text`` of its "other" answers (if any)."""
    question = question_name(header)
    rows: list[tuple[int, str]] = []
    others: list[tuple[int, str]] = []
    for i, cell in enumerate(cells):
        text = None if parse.is_empty(cell) else parse.as_text(cell)
        if text is None:
            continue
        for choice in parse.split_choices(text):
            other = _OTHER.match(choice)
            if other:
                choice = other.group("choice").strip() or "其他"
                if other.group("text").strip():
                    others.append((i, other.group("text").strip()))
            rows.append((i, choice))
    choices = answers.frame([i for i, _c in rows], question=[question] * len(rows), choice=[c for _i, c in rows])
    if not others:
        return choices, None
    said = answers.frame([i for i, _t in others], question=question + OTHER_SUFFIX, text=[t for _i, t in others])
    return choices, said


def _free_text(answers: _Answers, header: str, cells: list[Any]) -> pd.DataFrame:
    """``survey_text`` of one free-text question: one row per non-blank answer."""
    texts = [parse.as_text(c) for c in cells]
    keep = [i for i, t in enumerate(texts) if t is not None]
    return answers.frame(keep, question=question_name(header), text=[texts[i] for i in keep])
