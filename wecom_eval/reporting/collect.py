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
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from wecom_eval import text
from wecom_eval.home import Home
from wecom_eval.reporting.context import ReportContext
from wecom_eval.reporting.display import show, show_note, show_png
from wecom_eval.reporting.floor import protect
from wecom_eval.reporting.jobs import COLLECTED, RUN_DIR_ENV
from wecom_eval.reporting.params import ReportParams, validate_params
from wecom_eval.reporting.records import (
    TARGET_IDS,
    check_name,
    jsonable,
    jsonable_dict,
    kpi_row,
    target_table,
    write_parquet,
)
from wecom_eval.workcal import WorkCalendar

META = "meta.json"


@dataclass
class _Collected:
    tables: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)


class Report(ReportContext):
    """One report being made: its context (:class:`~wecom_eval.reporting.context.ReportContext`:
    ``params``, ``as_of``, ``data_through``, ``language``, ``plan``, ``calendar``, ``warehouse``,
    ``period``, ``data_window``, ``floor``, ``t(key)``) and what it has shown so far.

    Build it with :func:`open_report`.
    """

    def __init__(
        self, name: str, params: ReportParams, *, home: Home | None = None, run_dir: Path | None = None
    ) -> None:
        super().__init__(name, params, home=home)
        self.run_dir = run_dir
        self._collected = _Collected()
        if run_dir is not None:
            (run_dir / COLLECTED / "tables").mkdir(parents=True, exist_ok=True)
            (run_dir / COLLECTED / "figures").mkdir(parents=True, exist_ok=True)
        self._save()

    # ---- showing -------------------------------------------------------------------
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
        from wecom_eval.reporting import tables

        check_name(name, "table")
        if frame is None:
            return
        if frame.empty:  # nothing to show (no alerts, no survey yet): say so, record nothing
            show_note(
                f"*{title}：{text.t('no_rows', self.language)}*"
                if self.language == "zh"
                else f"*{title}: {text.t('no_rows', self.language)}*"
            )
            return
        shown, hidden = protect(frame, name=name, people=people, floor=self.floor, keys=keys, within=within)
        if hidden:
            floor_note = text.t("suppressed_note", self.language, n=self.floor)
            note = f"{note} {floor_note}" if note else floor_note
        presented = tables.present(shown, self.language, formats=formats, labels=labels, row_formats=row_formats)
        show(tables.styled(presented, caption=title))
        if note:
            show_note(note, small=True)
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
            write_parquet(shown, self.run_dir / COLLECTED / record["file"])
        self._save()

    def show_figure(self, fig: Any, name: str, *, title: str = "", deck: bool = False, note: str = "") -> None:
        """Display a matplotlib figure as an embedded PNG and close it.

        ``deck=True`` also puts it on its own slide of ``deck.pptx`` (quarterly report),
        with ``note`` under it. ``fig=None`` (nothing to draw yet) shows nothing.
        """
        import matplotlib.pyplot as plt

        from wecom_eval.reporting.figures import png_bytes

        check_name(name, "figure")
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
        show_png(png, width=width, alt=fig.get_label() or title or axes_title)
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
        show_note(markdown)
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
        row = kpi_row(
            kpi,
            language=self.language,
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
        allowed = {"estimate", "unit", "label", "ci_low", "ci_high", "confidence", "target", "deadline"}
        allowed |= {"verdict", "n", "method", "note"}
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
        records, rows, levels = target_table(scorecard, self.language)
        for row in records:
            self._collected.targets[row["id"]] = row
        self.define(*TARGET_IDS)
        level = levels.pop() if len(levels) == 1 else None
        p = f"{level:.0%}" if level else ""
        note = (
            text.t("interval_note", self.language, p=p, q=f"{1 - (1 - level) / 2:.1%}".replace(".0%", "%"))
            if level
            else ""
        )
        self.show_table(
            rows,
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

    @staticmethod
    def _replace(items: list[dict[str, Any]], record: dict[str, Any]) -> None:
        for i, old in enumerate(items):
            if old["name"] == record["name"]:
                items[i] = record
                return
        items.append(record)

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
        meta["data_window"] = {"start": jsonable(first), "end": jsonable(last or self.data_through)}
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
    "RUN_DIR_ENV",
    "Report",
    "open_report",
    "read_meta",
    "read_table",
]
