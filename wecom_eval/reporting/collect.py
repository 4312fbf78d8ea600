"""What a report notebook shows and hands to the exporter: tables, figures, KPIs, notes.

A notebook opens its report once, right after the ``parameters`` cell::

    from wecom_eval.reporting import open_report
    report = open_report("weekly", as_of=as_of, language=language, n_boot=n_boot, seed=seed,
                         weeks_shown=weeks_shown)

and then, section by section, *shows* what it computed through the report, which both
displays it and records it:

* ``report.show_table(frame, "registration_by_department", title=..., people="employees")``
  — translated headings, formatted numbers, privacy floor enforced (see below); the table
  goes to ``tables.xlsx``;
* ``report.show_figure(fig, "active_trend")`` — embedded as PNG in the HTML, kept for the deck;
* ``report.show_targets(scorecard)`` — the five targets with verdicts, for ``kpis.json``;
* ``report.record_kpi(...)`` / ``report.record_kpis(frame)`` / ``report.record_alerts(frame)``;
* ``report.note(markdown)`` — a sentence in the report's language.

**Hand-over.** The runner sets ``$WECOM_EVAL_RUN_DIR`` (the run's folder) in the kernel's
environment; each call above then also writes to ``<run dir>/.collected/`` (``meta.json``,
``tables/*.parquet``, ``figures/*.png``). After the notebook finishes, the runner builds
``report.html``, ``tables.xlsx``, ``kpis.json`` (and ``deck.pptx``) from it and removes the
folder. Opened in JupyterLab without that variable, a report only displays.

**Privacy.** Every table states whom it describes: ``people`` is the column holding each
row's number of people, or one number for the whole table, or None for a table about no
one (targets, parameters). Rows describing fewer people than the plan's ``min_group_size``
are hidden (their values shown as ``—``), and so is the next-smallest row when exactly one
would be hidden, so that a hidden value cannot be worked out from a total.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import text
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.reporting.params import ReportParams, validate_params
from wecom_eval.reporting.periods import Period, report_period
from wecom_eval.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar

RUN_DIR_ENV = "WECOM_EVAL_RUN_DIR"
COLLECTED = ".collected"
META = "meta.json"
TARGET_IDS: tuple[str, ...] = (
    "registration",
    "daily_active",
    "feature_penetration",
    "satisfaction",
    "pilot_efficiency",
)
VERDICTS: tuple[str, ...] = ("met", "not_yet_shown", "missed", "not_measured")
UNITS: tuple[str, ...] = ("share", "score", "relative_change", "hours", "count", "points", "ratio")
# Columns that identify a row rather than describe its people; never hidden.
KEY_COLUMNS = frozenset(
    {
        "department",
        "department_id",
        "department_path",
        "path",
        "branch",
        "week",
        "week_start",
        "date",
        "month",
        "feature",
        "item",
        "wave",
        "question",
        "choice",
        "kpi",
        "is_pilot",
        "go_live_week",
        "rank_group",
        "level",
    }
)
SUPPRESSED_TEXT = "—"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def jsonable_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` (a mapping) as a plain JSON object."""
    result: dict[str, Any] = jsonable(value)
    return result


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (NaN and NA become None; dates become ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def enforce_floor(
    frame: pd.DataFrame, *, people: str, floor: int, keys: Iterable[str] = (), within: Sequence[str] = ()
) -> tuple[pd.DataFrame, int]:
    """Hide rows of ``frame`` that describe fewer than ``floor`` people, with their siblings.

    Applies :func:`wecom_eval.privacy.suppress` (small groups, then complementary
    suppression so that a hidden value cannot be worked out from a total). Key columns
    (``keys`` and the usual :data:`KEY_COLUMNS`) stay visible; every other column,
    ``people`` included, is blanked in hidden rows. Rows hidden before (a KPI function's
    ``suppressed`` flag, or a blank ``people``) stay hidden and are protected by their
    siblings like any small group. Returns the new frame (without the
    ``suppressed``/``suppression`` flags) and the number of hidden rows; ``frame`` is not
    changed.

    Examples
    --------
    >>> df = pd.DataFrame({"department": ["A", "B", "C"], "n": [3, 6, 40], "rate": [1.0, 0.5, 0.7]})
    >>> out, hidden = enforce_floor(df, people="n", floor=5)
    >>> hidden, out["rate"].isna().tolist()
    (2, [True, True, False])
    """
    from wecom_eval import privacy

    if people not in frame.columns:
        raise ValueError(f"people={people!r} is not a column of the table; columns are {list(frame.columns)}")
    work = frame.reset_index(drop=True)
    # Rows hidden before (flagged by a KPI function, or whose number of people was left blank)
    # take part in complementary suppression like any small group.
    earlier = work[people].isna().to_numpy()
    if "suppressed" in work:
        earlier = earlier | work["suppressed"].fillna(False).astype(bool).to_numpy()
    work = work.drop(columns=[c for c in ("suppressed", "suppression") if c in work.columns])
    labels = [c for c in work.columns if (c in KEY_COLUMNS or c in set(keys)) and c != people]
    by = [c for c in labels if c not in within]
    out = privacy.suppress(
        work,
        size=people,
        by=by,
        within=list(within),
        min_group_size=floor,
        keep=[c for c in labels if c not in by],
        hidden_before=earlier,
    )
    hidden = out.pop("suppressed").to_numpy(dtype=bool)
    out = out.drop(columns=["suppression"])
    return out, int(hidden.sum())


@dataclass
class _Collected:
    tables: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)


class Report:
    """One report being made: its parameters, plan, data, and what it has shown so far.

    Build it with :func:`open_report`. Attributes a notebook uses: ``params``, ``as_of``,
    ``language``, ``plan``, ``calendar``, ``warehouse`` (read-only), ``period``,
    ``data_window``, ``floor`` (the privacy floor) and ``t(key)`` for report text.
    """

    def __init__(
        self, name: str, params: ReportParams, *, home: Home | None = None, run_dir: Path | None = None
    ) -> None:
        self.name = name
        self.params = params
        self.home = home or Home.from_env()
        self.run_dir = run_dir
        self._collected = _Collected()
        self._warehouse: Warehouse | None = None
        if run_dir is not None:
            (run_dir / COLLECTED / "tables").mkdir(parents=True, exist_ok=True)
            (run_dir / COLLECTED / "figures").mkdir(parents=True, exist_ok=True)
        self._save()

    # ---- context -------------------------------------------------------------------
    @property
    def as_of(self) -> dt.date:
        return self.params.as_of

    @property
    def language(self) -> str:
        return self.params.language

    @property
    def last_day(self) -> dt.date:
        """The last complete day of data: the day before ``as_of``."""
        return self.as_of - dt.timedelta(days=1)

    @cached_property
    def plan(self) -> RolloutPlan:
        return load_plan(self.home.plan)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.plan)

    @property
    def floor(self) -> int:
        """The privacy floor: no table row describes fewer people."""
        return self.plan.privacy.min_group_size

    @cached_property
    def period(self) -> Period:
        return report_period(self.name, self.plan, self.as_of)

    @property
    def warehouse(self) -> Warehouse:
        """The warehouse, opened read-only on first use and kept open for the report."""
        if self._warehouse is None:
            self._warehouse = Warehouse(self.home.warehouse, read_only=True, tz=self.plan.timezone)
        return self._warehouse

    @cached_property
    def data_window(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and the last day of activity data this report can use (none after ``last_day``)."""
        row: Any = self.warehouse.query(
            "SELECT least((SELECT min(date) FROM member_activity), (SELECT min(started_at)::DATE FROM process_records),"
            " (SELECT min(ts)::DATE FROM feature_events)) AS first,"
            " greatest((SELECT max(date) FROM member_activity WHERE date <= $last),"
            " (SELECT max(started_at)::DATE FROM process_records WHERE started_at::DATE <= $last),"
            " (SELECT max(ts)::DATE FROM feature_events WHERE ts::DATE <= $last)) AS last",
            {"last": self.last_day},
        ).iloc[0]

        def day(value: Any) -> dt.date | None:
            return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

        return day(row["first"]), day(row["last"])

    def t(self, key: str, **fields: object) -> str:
        """Report text for ``key`` in the report's language (see ``strings.yaml``)."""
        return text.t(key, self.language, **fields)

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    # ---- showing -------------------------------------------------------------------
    def _check_name(self, name: str, kind: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"{kind} name {name!r} must be snake_case (a–z, 0–9, _; at most 63 characters)")

    def show_table(
        self,
        frame: pd.DataFrame | None,
        name: str,
        *,
        title: str,
        people: str | int | None,
        keys: Sequence[str] = (),
        within: Sequence[str] = (),
        formats: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        note: str = "",
        row_formats: Mapping[str, str] | None = None,
    ) -> None:
        """Display ``frame`` as a formatted table and record it for ``tables.xlsx``.

        Parameters
        ----------
        frame
            A tidy frame (snake_case columns); not changed. None (a figure not measured,
            its reason said in a sentence beside it) shows nothing.
        name
            A snake_case name, unique in the report (its sheet in ``tables.xlsx``).
        title
            The caption, in the report's language.
        people
            Whom the table describes: a column with each row's number of people, one
            number for the whole table, or None for a table about no one.
        keys
            Columns that identify rows (never hidden) besides the usual ones.
        within
            Columns that split the table into independent parts whose rows do not add up
            to one total (``week`` in a long department × week table).
        formats, labels
            Display formats and headings by column, overriding ``strings.yaml``.
        row_formats
            Value column → the column holding each row's format (rows mixing shares and scores).
        note
            A sentence shown under the table (and above it in the workbook).

        """
        from wecom_eval.privacy import is_restricted
        from wecom_eval.reporting import tables

        self._check_name(name, "table")
        if frame is None:
            return
        if frame.empty:  # nothing to show (no alerts, no survey yet): say so, record nothing
            _display_note(
                f"*{title}：{text.t('no_rows', self.language)}*"
                if self.language == "zh"
                else f"*{title}: {text.t('no_rows', self.language)}*"
            )
            return
        if is_restricted(frame):
            raise ValueError(
                f"table {name!r} is a restricted named list ({frame.attrs.get('wecom_eval_restricted')}); "
                "named lists never go into meeting reports — write it to its own restricted file"
            )
        shown = frame.reset_index(drop=True)
        hidden = 0
        if isinstance(people, str):
            shown, hidden = enforce_floor(shown, people=people, floor=self.floor, keys=keys, within=within)
        elif isinstance(people, (int, np.integer)) and not isinstance(people, bool):
            if people < self.floor:
                raise ValueError(
                    f"table {name!r} describes {people} people, fewer than the privacy floor "
                    f"({self.floor}); it cannot be shown in a report"
                )
        elif people is not None:
            raise ValueError(f"people must be a column name, a number or None, got {people!r}")
        shown = shown.drop(columns=[c for c in ("suppressed", "suppression") if c in shown.columns])
        if hidden:
            floor_note = text.t("suppressed_note", self.language, n=self.floor)
            note = f"{note} {floor_note}" if note else floor_note
        presented = tables.present(shown, self.language, formats=formats, labels=labels, row_formats=row_formats)
        _display(tables.styled(presented, caption=title))
        if note:
            _display_note(note, small=True)
        record = {
            "name": name,
            "title": title,
            "people": jsonable(people),
            "floor": self.floor,
            "keys": list(keys),
            "within": list(within),
            "formats": dict(formats or {}),
            "labels": dict(labels or {}),
            "row_formats": dict(row_formats or {}),
            "note": note,
            "hidden_rows": hidden,
            "rows": int(len(shown)),
            "file": f"tables/{name}.parquet",
        }
        self._replace(self._collected.tables, record)
        if self.run_dir is not None:
            _write_parquet(shown, self.run_dir / COLLECTED / record["file"])
        self._save()

    def show_figure(self, fig: Any, name: str, *, title: str = "", deck: bool = False, note: str = "") -> None:
        """Display a matplotlib figure as an embedded PNG and close it.

        ``deck=True`` also puts it on its own slide of ``deck.pptx`` (quarterly report),
        with ``note`` under it. ``fig=None`` (nothing to draw yet) shows nothing.
        """
        import matplotlib.pyplot as plt

        from wecom_eval.reporting.figures import png_bytes

        self._check_name(name, "figure")
        if fig is None:
            return
        png = png_bytes(fig)
        width = int(fig.get_figwidth() * 96)
        plt.close(fig)
        axes_title = next(
            (
                fig.axes[0].get_title(loc=loc)
                for loc in ("left", "center", "right")
                if fig.axes and fig.axes[0].get_title(loc=loc)
            ),
            "",
        )
        # The alt text states the chart's message (figures put it in the figure's label), else its title.
        _display_png(png, width=width, alt=fig.get_label() or title or axes_title)
        record = {"name": name, "title": title or axes_title, "file": f"figures/{name}.png", "deck": deck, "note": note}
        self._replace(self._collected.figures, record)
        if self.run_dir is not None:
            (self.run_dir / COLLECTED / str(record["file"])).write_bytes(png)
        self._save()

    def note(self, markdown: str) -> None:
        """Display a short markdown note (already in the report's language); an empty one shows nothing.

        Only ``**bold**``, ``*italic*`` and ``- `` lists are markup; everything else, text from
        data included, is shown as text (:func:`.safe_text.notes_html`).
        """
        if not markdown or not markdown.strip():
            return
        _display_note(markdown)
        self._collected.notes.append(markdown)
        self._save()

    def define(self, *kpis: str) -> None:
        """Add KPI definitions to the end of the report (see ``strings.yaml``)."""
        known = set(text.definition_keys())
        for kpi in kpis:
            if kpi not in known:
                raise ValueError(f"no definition for {kpi!r}; known: {', '.join(sorted(known))}")
            if kpi not in self._collected.definitions:
                self._collected.definitions.append(kpi)
        self._save()

    # ---- recording -----------------------------------------------------------------
    def record_kpi(
        self,
        kpi: str,
        *,
        estimate: float | None,
        unit: str = "share",
        label: str | None = None,
        group: str | None = None,
        ci_low: float | None = None,
        ci_high: float | None = None,
        confidence: float | None = 0.95,
        target: float | None = None,
        deadline: dt.date | None = None,
        verdict: str | None = None,
        n: int | None = None,
        method: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record one KPI value for ``kpis.json`` (a group such as a department or a feature)."""
        row = self._kpi_row(
            kpi,
            estimate=estimate,
            unit=unit,
            label=label,
            group=group,
            ci_low=ci_low,
            ci_high=ci_high,
            confidence=confidence,
            target=target,
            deadline=deadline,
            verdict=verdict,
            n=n,
            method=method,
            note=note,
        )
        self._collected.kpis = [
            k for k in self._collected.kpis if (k["id"], k["group"]) != (row["id"], row["group"])
        ] + [row]
        if kpi in text.definition_keys():
            self.define(kpi)
        self._save()

    def record_kpis(self, frame: pd.DataFrame, *, kpi: str | None = None, group: str | None = None) -> None:
        """Record one KPI per row of ``frame``.

        ``frame`` has the columns of :meth:`record_kpi` (``estimate``, ``ci_low`` …); the
        KPI id comes from ``kpi`` or the frame's ``kpi`` column, and the group from the
        column named by ``group``.
        """
        allowed = {
            "estimate",
            "unit",
            "label",
            "ci_low",
            "ci_high",
            "confidence",
            "target",
            "deadline",
            "verdict",
            "n",
            "method",
            "note",
        }
        for record in frame.to_dict("records"):
            kpi_id = kpi or record.get("kpi")
            if not kpi_id:
                raise ValueError("give kpi= or a 'kpi' column")
            fields = {k: jsonable(v) for k, v in record.items() if k in allowed}
            fields.setdefault("estimate", None)
            self.record_kpi(str(kpi_id), group=None if group is None else str(record[group]), **fields)

    def show_targets(self, scorecard: pd.DataFrame, *, title: str | None = None) -> None:
        """Show the five targets (one row each) and record them for ``kpis.json``.

        ``scorecard`` has one row per target with the columns ``kpi`` (one of
        :data:`TARGET_IDS`), ``target``, ``deadline``, ``estimate``, ``ci_low``, ``ci_high``,
        ``verdict``, ``unit`` (``share`` or ``score``), and optionally ``n``, ``method``, ``note``
        and ``change`` (from the previous period's end, shown as its own column).
        """
        from wecom_eval.reporting.tables import CHANGE_FORMATS, UNIT_FORMATS, format_interval

        missing = [k for k in TARGET_IDS if k not in set(scorecard["kpi"])]
        if missing:
            raise ValueError(f"the scorecard lacks the targets {missing}; it needs one row for each of {TARGET_IDS}")
        rows = []
        levels = set()
        for record in scorecard.to_dict("records"):
            fields = {
                k: jsonable(record.get(k))
                for k in ("estimate", "ci_low", "ci_high", "target", "deadline", "verdict", "n", "method", "note")
            }
            fields["unit"] = record.get("unit") or "share"
            confidence = jsonable(record.get("confidence")) or 0.95
            levels.add(confidence)
            row = self._kpi_row(str(record["kpi"]), group=None, label=None, confidence=confidence, **fields)
            basis = record.get("verdict_basis")
            row["verdict_basis"] = basis if isinstance(basis, str) and basis else "fixed_sample"
            self._collected.targets[row["id"]] = row
            # Numbers stay numbers (the workbook's cells are numeric); each row has its unit's format.
            rows.append(
                {
                    "kpi": row["id"],
                    "target": row["target"],
                    "deadline": row["deadline"] or SUPPRESSED_TEXT,
                    "estimate": row["estimate"],
                    "value_format": UNIT_FORMATS.get(row["unit"], "num1"),
                    "interval": format_interval(row["ci_low"], row["ci_high"], row["unit"]),
                    **(
                        {
                            "change": jsonable(record.get("change")),
                            "change_format": CHANGE_FORMATS.get(row["unit"], "num2_signed"),
                        }
                        if "change" in scorecard.columns
                        else {}
                    ),
                    "verdict": row["verdict"],
                }
            )
        self.define(*TARGET_IDS)
        level = levels.pop() if len(levels) == 1 else None
        p = f"{level:.0%}" if level else ""
        note = (
            text.t("interval_note", self.language, p=p, q=f"{1 - (1 - level) / 2:.1%}".replace(".0%", "%"))
            if level
            else ""
        )
        self.show_table(
            pd.DataFrame(rows),
            "targets",
            title=title or text.t("deck_scorecard", self.language),
            people=None,
            labels={
                "interval": text.t("interval", self.language, p=p).strip(),
                "change": text.t("change_from_last_month", self.language),
            },
            note=note,
            row_formats={
                "target": "value_format",
                "estimate": "value_format",
                **({"change": "change_format"} if "change" in scorecard.columns else {}),
            },
        )

    def record_forecasts(self, found: dict[str, dict[str, Any]]) -> None:
        """Attach each target's forecast to its ``kpis.json`` entry (call after :meth:`show_targets`).

        ``found`` is ``{target_id: {"forecast": {...} or None, "reason": str or None}}`` as
        :func:`wecom_eval.kpis.forecast.target_forecasts` gives it.
        """
        for target_id, item in found.items():
            if target_id not in self._collected.targets:
                raise ValueError(f"no target {target_id!r} recorded yet; call show_targets first")
            self._collected.targets[target_id]["forecast"] = jsonable(item["forecast"])
            self._collected.targets[target_id]["forecast_note"] = item["reason"]
        self._save()

    def record_alerts(self, frame: pd.DataFrame) -> None:
        """Record alerts (``kind``, ``subject``, ``message``, optionally ``since`` and ``gap``)."""
        for record in frame.to_dict("records"):
            self._collected.alerts.append(
                {k: jsonable(record.get(k)) for k in ("kind", "subject", "message", "since", "gap")}
            )
        self._save()

    def _kpi_row(
        self,
        kpi: str,
        *,
        estimate: Any,
        unit: str,
        label: str | None,
        group: str | None,
        ci_low: Any,
        ci_high: Any,
        confidence: Any,
        target: Any,
        deadline: Any,
        verdict: Any,
        n: Any,
        method: Any,
        note: Any,
    ) -> dict[str, Any]:
        self._check_name(kpi, "KPI")
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"verdict {verdict!r} for {kpi!r} must be one of {VERDICTS} or None")
        if unit not in UNITS:
            raise ValueError(f"unit {unit!r} for {kpi!r} must be one of {UNITS}")
        if label is None:
            label = (
                text.lookup("targets", kpi, self.language)
                if kpi in TARGET_IDS
                else text.column_label(kpi, self.language)
            )
        return jsonable_dict(
            {
                "id": kpi,
                "label": label,
                "group": group,
                "unit": unit,
                "estimate": estimate,
                "ci_low": ci_low,
                "ci_high": ci_high,
                "confidence": confidence if ci_low is not None or ci_high is not None else None,
                "target": target,
                "deadline": deadline,
                "verdict": verdict,
                "n": n,
                "method": method,
                "note": note,
            }
        )

    @staticmethod
    def _replace(items: list[dict[str, Any]], record: dict[str, Any]) -> None:
        for i, old in enumerate(items):
            if old["name"] == record["name"]:
                items[i] = record
                return
        items.append(record)

    def coverage_records(self) -> list[dict[str, Any]]:
        """Each data source's coverage up to the last day of data (:mod:`wecom_eval.kpis.coverage`)."""
        if "_coverage" not in self.__dict__:
            if not self.home.warehouse.exists():
                return []
            from wecom_eval.kpis.coverage import source_coverage

            frame = source_coverage(self.warehouse, self.plan, end=self.last_day, cal=self.calendar)
            self.__dict__["_coverage"] = jsonable(frame.to_dict("records"))
        records: list[dict[str, Any]] = self.__dict__["_coverage"]
        return records

    # ---- persistence ---------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """Everything recorded so far, as the exporter reads it."""
        c = self._collected
        return jsonable_dict(
            {
                "report": self.name,
                "params": self.params.model_dump(mode="json"),
                "language": self.language,
                "as_of": self.as_of,
                "period": None,
                "data_window": None,
                "calendar_note": None,
                "tables": c.tables,
                "figures": c.figures,
                "targets": c.targets,
                "kpis": c.kpis,
                "alerts": c.alerts,
                "notes": c.notes,
                "definitions": c.definitions,
            }
        )

    def _save(self) -> None:
        if self.run_dir is None:
            return
        meta = self.meta()
        period = self.period
        meta["period"] = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "complete": period.complete,
            "label": period.label(self.language),
        }
        first, last = self.data_window if self.home.warehouse.exists() else (None, None)
        meta["data_window"] = {"start": jsonable(first), "end": jsonable(last or self.last_day)}
        # Warn when working days of the period have no data (a source that skips weekends is fine).
        missing_days = last is None or (
            last < period.end and WorkCalendar(self.plan).working_days(last + dt.timedelta(days=1), period.end)
        )
        if self.home.warehouse.exists() and missing_days:
            meta["data_note"] = text.t("data_short", self.language, last=last or "—", end=period.end)
        if "calendar" in self.__dict__:
            meta["calendar_note"] = self.calendar.fallback_note
        meta["coverage"] = self.coverage_records()
        path = self.run_dir / COLLECTED / META
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]):
            kinds = {type(v) for v in out[column].dropna()}
            if kinds and all(
                issubclass(k, (int, float, np.number)) and not issubclass(k, (bool, np.bool_)) for k in kinds
            ):
                out[column] = pd.to_numeric(out[column])
                continue
            if len(kinds) > 1 or (kinds and not kinds <= {str, dt.date, bool}):
                out[column] = out[column].map(
                    lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                )
    out.columns = [str(c) for c in out.columns]
    out.to_parquet(path, index=False)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _display_note(markdown: str, *, small: bool = False) -> None:
    from IPython.display import HTML, display

    from wecom_eval.reporting.safe_text import notes_html

    display(HTML(notes_html(markdown, small=small)))


def _display_png(png: bytes, *, width: int, alt: str = "") -> None:
    """The PNG as an ``<img>`` with its alt text (nbconvert gives a bare image output a
    placeholder "No description has been provided")."""
    import base64
    import html

    from IPython.display import HTML, display

    data = base64.b64encode(png).decode("ascii")
    display(HTML(f'<img src="data:image/png;base64,{data}" width="{width}" alt="{html.escape(alt, quote=True)}">'))


def open_report(report: str, **values: Any) -> Report:
    """Validate a notebook's parameters and open its report (see the module docstring).

    The run folder comes from ``$WECOM_EVAL_RUN_DIR`` (set by the runner); the home from
    ``$WECOM_EVAL_HOME`` (else the repository root). Also applies the package's figure theme.
    """
    from wecom_eval.reporting.figures import use_theme

    params = validate_params(report, values, source="the notebook's parameters cell")
    run_dir = os.environ.get(RUN_DIR_ENV)
    use_theme()
    pd.set_option("display.max_rows", 200)
    return Report(report, params, run_dir=Path(run_dir) if run_dir else None)


def read_meta(run_dir: Path) -> dict[str, Any]:
    """What a finished notebook recorded in ``run_dir`` (for the exporters)."""
    path = Path(run_dir) / COLLECTED / META
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the notebook never opened its report "
            "(it must call wecom_eval.reporting.open_report after the parameters cell)"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_table(run_dir: Path, record: Mapping[str, Any]) -> pd.DataFrame:
    return pd.read_parquet(Path(run_dir) / COLLECTED / record["file"])


__all__ = [
    "COLLECTED",
    "KEY_COLUMNS",
    "RUN_DIR_ENV",
    "TARGET_IDS",
    "VERDICTS",
    "Report",
    "enforce_floor",
    "jsonable",
    "open_report",
    "read_meta",
    "read_table",
]
