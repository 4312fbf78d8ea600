"""What a report is about: its parameters, plan, calendar, period, warehouse and days.

Two days name a report's time: ``as_of`` is the day the report is made, and
``data_through`` the last day of data it includes — the day before ``as_of``, the last
complete day. A report made on day D shows data through D − 1 and nothing of D.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from wecom_eval import text
from wecom_eval.home import Home
from wecom_eval.kpis.coverage import data_window
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.reporting import registry
from wecom_eval.reporting.params import ReportParams
from wecom_eval.reporting.periods import Period, report_period
from wecom_eval.reporting.records import jsonable
from wecom_eval.reporting.registry import ReportSpec
from wecom_eval.store.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar


class ReportContext:
    """A report's parameters and what follows from them (the plan, the period, the days, the data)."""

    def __init__(self, name: str, params: ReportParams, *, home: Home | None = None) -> None:
        self.name = name
        self.params = params
        self.home = home or Home.from_env()
        self._warehouse: Warehouse | None = None

    @property
    def as_of(self) -> dt.date:
        """The day the report is made; its data run to the day before (:attr:`data_through`)."""
        return self.params.as_of

    @property
    def language(self) -> str:
        return self.params.language

    @property
    def data_through(self) -> dt.date:
        """The last day of data the report includes: the day before ``as_of``."""
        return self.as_of - dt.timedelta(days=1)

    @cached_property
    def spec(self) -> ReportSpec:
        """The report's registry entry (period rule, phase, whether it is read once …)."""
        return registry.spec(self.name, self.home)

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
        """The first and the last day of activity data this report can use (none after ``data_through``)."""
        return data_window(self.warehouse, data_through=self.data_through)

    def t(self, key: str, **fields: object) -> str:
        """Report text for ``key`` in the report's language (see ``strings.yaml``)."""
        return text.t(key, self.language, **fields)

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    def coverage_records(self) -> list[dict[str, Any]]:
        """Each data source's coverage up to :attr:`data_through` (:mod:`wecom_eval.kpis.coverage`)."""
        if "_coverage" not in self.__dict__:
            if not self.home.warehouse.exists():
                return []
            from wecom_eval.kpis.coverage import source_coverage

            frame = source_coverage(self.warehouse, self.plan, end=self.data_through, cal=self.calendar)
            self.__dict__["_coverage"] = jsonable(frame.to_dict("records"))
        records: list[dict[str, Any]] = self.__dict__["_coverage"]
        return records


__all__ = ["ReportContext"]
