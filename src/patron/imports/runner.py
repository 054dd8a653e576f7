"""Importing a CSV of contacts: rows -> records -> batches upserted in their own transactions.

`import_rows` is the domain step (one batch, caller's transaction). `run_import` is the
driver that CLI commands and worker jobs call: it owns one transaction per batch so progress
is visible and a crash loses at most one batch; re-running an import is idempotent.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine

from patron import derive
from patron.consent.imports import (
    ConsentOptions,
    ConsentTally,
    RowConsent,
    cell_reader,
    record_import_consent,
)
from patron.errors import ConcurrentWrite, Invalid
from patron.fields.definitions import field_types
from patron.identity.normalise import IdentityError, check_source_name
from patron.identity.rules import DEFAULT_RULES, IdentityRules
from patron.imports.columns import plan_columns
from patron.imports.csvfile import decode, rows
from patron.imports.rows import ReadRow, RowReader, read_batches, worker_count
from patron.process import frozen_heap
from patron.profiles.record import (
    DROPPED,
    FIXED,
    NOT_IDENTITY,
    REFUSED_IDENTITY,
    PreparedRecord,
)
from patron.profiles.record import FLAGGED as FLAGGED_VALUE
from patron.profiles.record import REJECTED as REJECTED_VALUE
from patron.profiles.writes import provenance_stamp, upsert_records
from patron.quality.entry import entry_rules
from patron.quality.sources import FLAG
from patron.storage.engine import bulk_connection, transaction, writer_lock
from patron.storage.types import utcnow

REJECTED, FLAGGED, FIXED_ROW = "rejected", "flagged (row kept)", "fixed (row kept)"
# How each problem effect is named in summaries.
_EFFECT_WORDS = {
    NOT_IDENTITY: "flagged",
    FLAGGED_VALUE: "flagged",
    DROPPED: "dropped",
    REFUSED_IDENTITY: "dropped",
    FIXED: "fixed",
    REJECTED_VALUE: "rejected",
}
BATCH_RETRIES = 3
# Imports at least this large refresh PostgreSQL's planner statistics when they finish.
ANALYZE_MIN_ROWS = 10_000

# Called inside each batch's transaction with (connection, totals so far, estimated rows):
# jobs record progress there so it commits with the batch.
BatchCallback = Callable[[Connection, "ImportSummary", int], None]


@dataclass(slots=True)
class ImportSummary:
    """What an import did; the CLI prints it and jobs store it as their result."""

    source: str
    encoding: str = ""
    policy: str = FLAG
    rows: int = 0
    accepted: int = 0
    normalised: int = 0
    fixed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    rejected: int = 0
    merge_candidates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)
    rejects_file: str | None = None
    seconds: float = 0.0
    # Only when the import was given consent columns.
    consent: ConsentTally | None = None

    def as_dict(self) -> dict[str, Any]:
        """The --json form (keys promised in ARCHITECTURE.md first)."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "flagged": self.flagged,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 3),
            "accepted": self.accepted,
            "normalised": self.normalised,
            "fixed": self.fixed,
            "policy": self.policy,
            "unchanged": self.unchanged,
            "merge_candidates": self.merge_candidates,
            "source": self.source,
            "encoding": self.encoding,
            "columns": self.columns,
            "reasons": dict(self.reasons.most_common()),
            **({"consent": self.consent.as_dict()} if self.consent is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class ConsentImport:
    """How an import records consent: the options, a reader of each row's consent cells, and
    the import's start (the "now" its rules are judged at)."""

    options: ConsentOptions
    cells: Callable[[int, Sequence[str]], RowConsent]
    now: datetime


class IssueWriter:
    """The rejects file: each problem row as it was read, plus its line, outcome and reason."""

    def __init__(self, stream: TextIO, header: Sequence[str] | None, *, width: int = 0) -> None:
        self.stream = stream
        self.count = 0
        self.width = len(header) if header is not None else width
        self._writer = csv.writer(stream)
        if header is not None:
            self._writer.writerow([*header, "_line", "_outcome", "_reason"])

    def write(self, line: int, row: Sequence[str], outcome: str, reason: str) -> None:
        """Record one rejected or flagged row, fitted to the header so the reason columns line up."""
        safe = [value.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for value in row]
        if len(safe) > self.width > 0:
            # Keep every cell of a malformed row: the extra ones go into the last column.
            safe = [*safe[: self.width - 1], ",".join(safe[self.width - 1 :])]
        safe += [""] * (self.width - len(safe))
        self._writer.writerow([*safe, line, outcome, reason])
        self.count += 1


def import_rows(
    conn: Connection,
    batch: Iterable[ReadRow],
    summary: ImportSummary,
    issues: IssueWriter | None,
    *,
    stamp: str | None = None,
    rules: IdentityRules = DEFAULT_RULES,
    consent: ConsentImport | None = None,
) -> None:
    """Upsert one batch of read rows in the caller's transaction, counting into `summary`;
    with `consent`, then record what each kept row says about consent."""
    good: list[PreparedRecord] = []
    good_cells: list[RowConsent] = []
    for line, row, result in batch:
        summary.rows += 1
        if isinstance(result, str) or result.rejected:
            summary.rejected += 1
            if isinstance(result, str):
                summary.reasons[f"rejected: {result.split(':')[0]}"] += 1
                reason = result
            else:
                for problem in result.problems:
                    if problem.effect == REJECTED_VALUE:
                        summary.reasons[f"rejected: {problem.field} {problem.code}".rstrip()] += 1
                reason = result.rejected_reason()
            if issues:
                issues.write(line, row, REJECTED, reason)
            continue
        _count_decisions(summary, result)
        if result.problems and issues:
            reason = "; ".join(f"{p.field}: {p.reason}" for p in result.problems)
            only_fixed = all(p.effect == FIXED for p in result.problems)
            issues.write(line, row, FIXED_ROW if only_fixed else FLAGGED, reason)
        good.append(result)
        if consent is not None:
            good_cells.append(consent.cells(line, row))
    if consent is not None and summary.consent is None:
        summary.consent = ConsentTally()
    if good:
        outcome = upsert_records(conn, good, stamp=stamp, outcomes=consent is not None, rules=rules)
        summary.created += outcome.created
        summary.updated += outcome.updated
        summary.unchanged += outcome.unchanged
        summary.merge_candidates += outcome.candidates
        summary.accepted += len(good)
        if consent is not None and summary.consent is not None:
            rows = [
                (done.profile_id, record.traits.get("country"), cells)
                for done, record, cells in zip(outcome.records, good, good_cells, strict=True)
            ]
            summary.consent.add(
                record_import_consent(conn, rows, consent.options, source=summary.source, now=consent.now)
            )
        derive.react(conn, outcome.changed, events_of=outcome.gained_events)


def _count_decisions(summary: ImportSummary, record: PreparedRecord) -> None:
    """Count a kept record's normalised, fixed and flagged values, per field and reason."""
    if record.normalised:
        summary.normalised += 1
        for name in dict.fromkeys(record.normalised):
            summary.reasons[f"normalised: {name}"] += 1
    if not record.problems:
        return
    if any(p.effect == FIXED for p in record.problems):
        summary.fixed += 1
    if any(p.effect != FIXED for p in record.problems):
        summary.flagged += 1
    for problem in record.problems:
        word = _EFFECT_WORDS.get(problem.effect, problem.effect)
        summary.reasons[f"{word}: {problem.field} {problem.code}".rstrip()] += 1


def run_import(
    engine: Engine,
    data: bytes,
    *,
    source: str,
    default_region: str | None,
    batch_size: int,
    mapping: Mapping[str, str] | None = None,
    id_column: str | None = None,
    encoding: str | None = None,
    issues_stream: TextIO | None = None,
    on_batch: BatchCallback | None = None,
    parallel_min_rows: int = 20_000,
    rules: IdentityRules = DEFAULT_RULES,
    policy: str | None = None,
    dns_timeout_s: float | None = None,
    consent: ConsentOptions | Mapping[str, Any] | None = None,
) -> ImportSummary:
    """Import a whole CSV, one transaction per batch; problem rows go to `issues_stream`.

    `policy` (reject, flag or fix) overrides the source's own quality policy for this import;
    with `dns_timeout_s`, email domains are checked in DNS. `consent` (options or their dict
    form, as a job payload keeps them) names the columns whose consent the import records.
    Files of at least `parallel_min_rows` rows are prepared in worker processes.
    """
    started = time.perf_counter()
    try:
        check_source_name(source)
    except IdentityError as exc:
        raise Invalid(str(exc), field="source") from None
    csv_text = decode(data, encoding=encoding)
    summary = ImportSummary(source=source, encoding=csv_text.encoding)
    first = next(rows(csv_text), None)
    if first is None or not any(cell.strip() for cell in first[1]):
        raise Invalid("the file is empty: the first line must name the columns", field="header")
    plan = plan_columns(first[1], source=source, overrides=mapping, id_column=id_column)
    summary.columns = plan.describe()
    options = consent if isinstance(consent, ConsentOptions) else ConsentOptions.from_dict(consent)
    options.check(plan.header)
    started_at = utcnow()
    consent_import = None
    if options.given:
        consent_import = ConsentImport(options, cell_reader(options, plan.header), started_at)
        summary.consent = ConsentTally()
    issues = IssueWriter(issues_stream, plan.header) if issues_stream is not None else None
    with transaction(engine, write=False) as conn:
        types = field_types(conn)
        entry = entry_rules(conn, source, policy=policy, dns_timeout_s=dns_timeout_s)
    summary.policy = entry.policy
    stamp = provenance_stamp(started_at)
    reader = RowReader(
        plan,
        source,
        default_region,
        types,
        stamp,
        check_bytes=csv_text.has_undecodable,
        rules=rules,
        entry=entry,
        keep_cells=consent_import is not None,
    )
    total = csv_text.estimated_rows
    workers = worker_count(total, min_rows=parallel_min_rows)
    with frozen_heap(), bulk_connection(engine) as conn:
        for batch in read_batches(reader, csv_text, batch_size=batch_size, workers=workers):
            _import_batch_with_retries(
                conn,
                batch,
                summary,
                issues,
                on_batch,
                total,
                width=len(plan.header),
                stamp=stamp,
                rules=rules,
                consent=consent_import,
            )
    if summary.accepted >= ANALYZE_MIN_ROWS and engine.dialect.name == "postgresql":
        # Fresh planner statistics now, not at autovacuum's next round: the quality report's and
        # segment queries' plans depend on them (bench/quality.py: 4.8 s -> 2.8 s after a load).
        # With consent, the state tables too: the send audience joins them, and on stale
        # statistics its plan over 100,000 profiles took 78 s instead of under one (bench/consent.py).
        tables = "profiles, identities" + (
            ", consent_states, consent_ledger, suppressions" if options.given else ""
        )
        with engine.connect() as conn:
            conn.exec_driver_sql(f"ANALYZE {tables}")
            conn.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _import_batch_with_retries(
    conn: Connection,
    batch: list[ReadRow],
    summary: ImportSummary,
    issues: IssueWriter | None,
    on_batch: BatchCallback | None,
    total: int,
    *,
    width: int,
    stamp: str,
    rules: IdentityRules,
    consent: ConsentImport | None = None,
) -> None:
    for attempt in range(1, BATCH_RETRIES + 1):
        part = ImportSummary(source=summary.source)
        buffer = io.StringIO()
        part_issues = IssueWriter(buffer, None, width=width)
        try:
            with writer_lock(conn.engine), conn.begin():
                import_rows(conn, batch, part, part_issues, stamp=stamp, rules=rules, consent=consent)
                if on_batch:
                    combined = _combined(summary, part)
                    on_batch(conn, combined, max(total, combined.rows))
        except ConcurrentWrite:
            if attempt == BATCH_RETRIES:
                raise
            continue
        # Counts and rejects of a batch count only once its transaction committed.
        _add(summary, part)
        if issues is not None:
            issues.stream.write(buffer.getvalue())
            issues.count += part_issues.count
        return


_COUNTS = (
    "rows",
    "accepted",
    "normalised",
    "fixed",
    "created",
    "updated",
    "unchanged",
    "flagged",
    "rejected",
    "merge_candidates",
)


def _add(summary: ImportSummary, part: ImportSummary) -> None:
    for name in _COUNTS:
        setattr(summary, name, getattr(summary, name) + getattr(part, name))
    summary.reasons.update(part.reasons)
    if part.consent is not None:
        if summary.consent is None:
            summary.consent = ConsentTally()
        summary.consent.add(part.consent)


def _combined(summary: ImportSummary, part: ImportSummary) -> ImportSummary:
    combined = ImportSummary(source=summary.source, encoding=summary.encoding, reasons=Counter())
    _add(combined, summary)
    _add(combined, part)
    return combined
