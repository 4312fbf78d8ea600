"""The canonical warehouse tables (DESIGN §4): columns, types, keys and value rules.

One :class:`Table` per table. Validation (:mod:`wecom_eval.store.validate`) and the warehouse
(:mod:`wecom_eval.store.warehouse`) both read these definitions, so a rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["int", "str", "bool", "date", "timestamp", "float"]

# DuckDB column types for each kind. Timestamps are stored timezone-aware.
DUCK_TYPES: dict[Kind, str] = {
    "int": "BIGINT",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "float": "DOUBLE",
}

FEATURES = ("approval", "docs", "customer", "attendance", "other")
MEMBER_STATUS = {1: "activated", 2: "disabled", 4: "not activated", 5: "left"}
# What a member's activation date rests on (wecom_eval.store.activation.date_activations):
# a time the source stated (激活时间), the first snapshot showing the member activated, the
# member's first activity of any kind, or nothing (activated, date unknown).
ACTIVATION_BASIS = ("export_time", "snapshot", "first_activity", "unknown")
SNAPSHOT_SOURCES = ("wecom_api", "members_export", "migrated")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    allowed: tuple[object, ...] | None = None
    min: float | None = None
    max: float | None = None
    duck_type: str | None = None  # a narrower storage type where it matters for size
    omittable: bool = False  # a load may leave the column out (it is then null); added by migration
    keep: bool = False  # a load's null keeps the stored value (values filled in after loads)

    @property
    def sql_type(self) -> str:
        return self.duck_type or DUCK_TYPES[self.kind]

    @property
    def stage_type(self) -> str:
        """The type rows are checked in: the kind's wide type, so that a range is checked before any narrowing cast."""
        return DUCK_TYPES[self.kind]


@dataclass(frozen=True)
class Reference:
    """``columns`` of this table must match ``target_columns`` of ``target`` (when it has rows)."""

    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Ordering:
    """``later`` must not be before ``earlier`` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    orderings: tuple[Ordering, ...] = ()
    description: str = ""
    restricted: bool = field(default=False)  # holds names or other personal data

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"


C = Column
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "departments",
            (
                C("department_id", "int", min=0),
                C("name", "str"),
                C("parent_id", "int", nullable=True),
                C("path", "str"),
                C("is_pilot", "bool"),
                C("go_live_date", "date", nullable=True),
            ),
            key=("department_id",),
            description="The organisation tree (API department/list, roster).",
        ),
        Table(
            "employees",
            (
                C("employee_id", "str"),
                C("name", "str"),
                C("department_id", "int"),
                C("hire_date", "date"),
                C("leave_date", "date", nullable=True),
                C("branch", "str"),
                C("role", "str", nullable=True),
                C("mobile", "str", nullable=True, omittable=True),
            ),
            key=("employee_id",),
            references=(Reference(("department_id",), "departments", ("department_id",)),),
            orderings=(Ordering("hire_date", "leave_date"),),
            description="The HR roster: the headcount every rate divides by.",
            restricted=True,
        ),
        Table(
            "members",
            (
                C("userid", "str"),
                C("employee_id", "str", nullable=True),
                C("department_id", "int"),
                C("status", "int", allowed=tuple(MEMBER_STATUS), duck_type="TINYINT"),
                C("activated_at", "timestamp", nullable=True, keep=True),
                C("activation_basis", "str", nullable=True, allowed=ACTIVATION_BASIS, omittable=True, keep=True),
            ),
            key=("userid",),
            references=(
                Reference(("employee_id",), "employees", ("employee_id",)),
                Reference(("department_id",), "departments", ("department_id",)),
            ),
            description="WeCom members (API user/list): status 1 activated, 2 disabled, "
            "4 not activated, 5 left. activated_at is the latest day the member can have activated "
            "by, activation_basis what that rests on.",
            restricted=True,
        ),
        Table(
            "member_status",
            (
                C("userid", "str"),
                C("observed_on", "date"),
                C("source", "str", allowed=SNAPSHOT_SOURCES),
                C("status", "int", allowed=tuple(MEMBER_STATUS), duck_type="TINYINT"),
                C("activated_at", "timestamp", nullable=True),
            ),
            key=("userid", "observed_on", "source"),
            references=(Reference(("userid",), "members", ("userid",)),),
            description="Member status snapshots: what each fetch or members export showed on its day "
            "(activated_at: the export's 激活时间, when it has one).",
        ),
        Table(
            "member_days",
            (
                C("date", "date"),
                C("userid", "str"),
                C("active", "bool"),
                C("minutes", "int", nullable=True, min=0, max=24 * 60, duck_type="SMALLINT"),
                C("source", "str"),
            ),
            key=("date", "userid"),
            references=(Reference(("userid",), "members", ("userid",)),),
            description="One row per member per day: active or not, minutes of use when known.",
        ),
        Table(
            "feature_events",
            (
                C("event_id", "str"),
                C("userid", "str"),
                C("feature", "str", allowed=FEATURES),
                C("ts", "timestamp"),
                C("count", "int", min=1, duck_type="INTEGER"),
            ),
            key=("event_id",),
            references=(Reference(("userid",), "members", ("userid",)),),
            description="Uses of a feature (approvals, check-ins, customer follow-ups, documents).",
        ),
        Table(
            "process_records",
            (
                C("record_id", "str"),
                C("process", "str"),
                C("department_id", "int"),
                C("userid", "str", nullable=True),
                C("started_at", "timestamp"),
                C("finished_at", "timestamp", nullable=True),
                C("status", "str", allowed=("approved", "rejected", "pending", "withdrawn")),
                C("system", "str", allowed=("legacy", "wecom")),
            ),
            key=("record_id",),
            references=(Reference(("department_id",), "departments", ("department_id",)),),
            orderings=(Ordering("started_at", "finished_at"),),
            description="Business processes (approvals, follow-ups) in the legacy system and WeCom.",
        ),
        Table(
            "survey_responses",
            (
                C("wave", "str"),
                C("respondent_id", "str"),
                C("department_id", "int", nullable=True),
                C("submitted_on", "date", nullable=True),
            ),
            key=("wave", "respondent_id"),
            description="One row per survey respondent and wave; respondent ids are pseudonyms.",
        ),
        Table(
            "survey_items",
            (
                C("wave", "str"),
                C("respondent_id", "str"),
                C("item", "str"),
                C("score", "int", nullable=True, min=1, max=5, duck_type="TINYINT"),
            ),
            key=("wave", "respondent_id", "item"),
            references=(Reference(("wave", "respondent_id"), "survey_responses", ("wave", "respondent_id")),),
            description="Likert answers (1–5, null when skipped), one row per respondent and item.",
        ),
        Table(
            "survey_choices",
            (
                C("wave", "str"),
                C("respondent_id", "str"),
                C("question", "str"),
                C("choice", "str"),
            ),
            key=("wave", "respondent_id", "question", "choice"),
            references=(Reference(("wave", "respondent_id"), "survey_responses", ("wave", "respondent_id")),),
            description="Multi-select answers split into one row per chosen option.",
        ),
        Table(
            "survey_text",
            (
                C("wave", "str"),
                C("respondent_id", "str"),
                C("question", "str"),
                C("text", "str"),
            ),
            key=("wave", "respondent_id", "question"),
            references=(Reference(("wave", "respondent_id"), "survey_responses", ("wave", "respondent_id")),),
            description="Free-text answers; shown only for groups at or above min_group_size_text.",
            restricted=True,
        ),
        Table(
            "training_attendance",
            (C("session_id", "str"), C("userid", "str"), C("date", "date")),
            key=("session_id", "userid"),
            references=(Reference(("userid",), "members", ("userid",)),),
            description="Training sign-in sheets.",
        ),
        Table(
            "tickets",
            (
                C("ticket_id", "str"),
                C("created_at", "timestamp"),
                C("first_response_at", "timestamp", nullable=True),
                C("resolved_at", "timestamp", nullable=True),
                C("category", "str", nullable=True),
            ),
            key=("ticket_id",),
            orderings=(Ordering("created_at", "first_response_at"), Ordering("created_at", "resolved_at")),
            description="IT support tickets (optional).",
        ),
    )
}

# Tables in an order that satisfies every reference (parents first).
LOAD_ORDER: tuple[str, ...] = (
    "departments",
    "employees",
    "members",
    "member_status",
    "member_days",
    "feature_events",
    "process_records",
    "survey_responses",
    "survey_items",
    "survey_choices",
    "survey_text",
    "training_attendance",
    "tickets",
)


def table(name: str) -> Table:
    """The table called ``name``; a clear error lists the tables that exist."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; tables are {', '.join(LOAD_ORDER)}") from None
