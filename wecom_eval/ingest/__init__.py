"""File ingest: HR roster, activity exports, surveys, legacy approvals, training, tickets, and the
WeCom admin console's members, approvals, check-in and customer-contact exports.

>>> from wecom_eval.ingest import ingest
>>> report = ingest("roster", ["data/examples/roster.csv"])  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP

One module per step: :mod:`~wecom_eval.ingest.read` (encodings, delimiters, workbooks, title
rows), :mod:`~wecom_eval.ingest.parse` (dates, durations, labels), :mod:`~wecom_eval.ingest.aliases`
and :mod:`~wecom_eval.ingest.mapping` (headers), :mod:`~wecom_eval.ingest.columns` (fields of a
sheet), :mod:`~wecom_eval.ingest.kinds` (what each kind reads) with
:mod:`~wecom_eval.ingest.build_files`, :mod:`~wecom_eval.ingest.build_wecom` and
:mod:`~wecom_eval.ingest.survey` (rows → canonical tables), :mod:`~wecom_eval.ingest.departments`
(paths → ids), :mod:`~wecom_eval.ingest.people` (joins to members and the roster),
:mod:`~wecom_eval.ingest.readfile` (one file read and typed; a plain activity export by
:mod:`~wecom_eval.ingest.fastcsv`), :mod:`~wecom_eval.ingest.precheck`
(every file checked with the warehouse's rules), :mod:`~wecom_eval.ingest.pipeline` (the
whole ingest, loaded through :func:`wecom_eval.store.load.load`). See docs/ingest.md.
"""

from __future__ import annotations

from wecom_eval.ingest.departments import derived_id
from wecom_eval.ingest.kinds import KINDS, KindSpec
from wecom_eval.ingest.pipeline import IngestReport, ingest
from wecom_eval.ingest.read import RawTable, read_table
from wecom_eval.ingest.readfile import FileReport
from wecom_eval.ingest.survey import pseudonymise

__all__ = [
    "KINDS",
    "FileReport",
    "IngestReport",
    "KindSpec",
    "RawTable",
    "derived_id",
    "ingest",
    "pseudonymise",
    "read_table",
]
