"""Imports: contacts from CSV exports of other apps, with every rejected row explained."""

from patron.imports.columns import ALIASES, ColumnPlan, plan_columns
from patron.imports.csvfile import decode
from patron.imports.runner import ImportSummary, IssueWriter, run_import
from patron.imports.uploads import IMPORT_JOB, enqueue_import, parse_mapping

__all__ = [
    "IMPORT_JOB",
    "enqueue_import",
    "parse_mapping",
    "ALIASES",
    "ColumnPlan",
    "ImportSummary",
    "IssueWriter",
    "decode",
    "plan_columns",
    "run_import",
]
