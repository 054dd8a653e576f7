"""Reading rows into records: CSV row -> prepared record or the reason it cannot be one.

Preparing is CPU-bound, so large imports prepare batches in read-ahead processes while this
process writes earlier batches to the database. Each read-ahead process parses the CSV itself
and streams its batches through a pipe: no helper threads here, whose pickling would hold the
GIL while the writing thread waits to get it back between SQLite steps (measured: executemany
took 2.2 s instead of 1.3 s per 100,000 rows beside a ProcessPoolExecutor).
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from types import TracebackType

from patron.identity.rules import DEFAULT_RULES, IdentityRules
from patron.imports.columns import ColumnPlan
from patron.imports.csvfile import CsvText, MalformedRow, count_undecodable, rows
from patron.process import frozen_heap, process_context
from patron.profiles.record import PreparedRecord, Problem, prepare_record, serialise_new_row
from patron.quality.entry import DEFAULT_ENTRY, EntryRules

# (line number, the row's cells, the prepared record or why the row was refused). The cells
# are kept only where the rejects file needs them (refused or flagged rows) or when the
# import records consent from them, else [].
ReadRow = tuple[int, list[str], PreparedRecord | str]
Batch = list[tuple[int, list[str]]]
MAX_WORKERS = 4


@dataclass(slots=True)
class RowReader:
    """Turns CSV rows into prepared records according to a column plan."""

    plan: ColumnPlan
    source: str
    default_region: str | None
    types: dict[str, str]
    stamp: str  # provenance time of the whole import
    check_bytes: bool = False
    rules: IdentityRules = DEFAULT_RULES
    entry: EntryRules = DEFAULT_ENTRY
    # Keep every row's cells, not only problem rows': an import recording consent reads its
    # consent columns from them after the upsert has told which profile each row became.
    keep_cells: bool = False

    def read(self, line: int, row: list[str]) -> PreparedRecord | str:
        """A prepared record, or the reason the row cannot be imported."""
        if isinstance(row, MalformedRow):
            return row.reason  # the CSV could not be split into this row's cells (an unclosed quote)
        header = self.plan.header
        if len(row) != len(header):
            if len(row) > len(header) and not any(v.strip() for v in row[len(header) :]):
                row = row[: len(header)]  # trailing empty cells from spreadsheet exports
            else:
                return f"malformed row: expected {len(header)} fields, found {len(row)}"
        traits: dict[str, str] = {}
        identity_values: list[tuple[str, str]] = []
        identity_columns: list[str] = []
        for column, target, value in zip(header, self.plan.targets, row, strict=True):
            if target.kind == "skip" or not value.strip():
                continue
            if self.check_bytes and count_undecodable(value):
                return f"column {column!r} holds bytes that are not valid text; re-save the file as UTF-8"
            if target.kind == "identity":
                identity_values.append((target.name, value))
                identity_columns.append(column)
            else:
                traits[target.name] = value
        record = prepare_record(
            traits,
            identity_values,
            source=self.source,
            field_types=self.types,
            default_region=self.default_region,
            field_prefix="",
            rules=self.rules,
            entry=self.entry,
        )
        if record.problems:
            record.problems = [self._name_column(p, identity_columns) for p in record.problems]
        self.types.update(record.new_fields)
        if record.rejected:
            return record  # refused by the source's policy; the summary counts each reason
        if not record.has_identity:
            return record.no_identity_reason()
        record.new_row = serialise_new_row(record, self.stamp)
        return record

    def _name_column(self, problem: Problem, identity_columns: list[str]) -> Problem:
        if problem.field.startswith("identities["):
            column = identity_columns[int(problem.field[len("identities[") : -1])]
        else:
            column = self.plan.column_for(problem.field)
        return Problem(column, problem.value, problem.reason, problem.effect, problem.code)


def data_batches(csv_text: CsvText, size: int) -> Iterator[Batch]:
    """(line, cells) of every data row after the header, `size` rows at a time; blank lines skipped."""
    lines = rows(csv_text)
    next(lines, None)  # the header
    batch: Batch = []
    for line, cells in lines:
        if not any(cell.strip() for cell in cells) and not isinstance(cells, MalformedRow):
            continue
        batch.append((line, cells))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_batch(reader: RowReader, batch: Batch) -> list[ReadRow]:
    """Read every row of a batch, keeping cells only for rows the rejects file will show."""
    read = []
    for line, cells in batch:
        result = reader.read(line, cells)
        keep = reader.keep_cells or isinstance(result, str) or bool(result.problems)
        read.append((line, cells if keep else [], result))
    return read


def read_batches(
    reader: RowReader, csv_text: CsvText, *, batch_size: int, workers: int
) -> Iterator[list[ReadRow]]:
    """Every batch, read, in file order: here when `workers` is 0, else in read-ahead processes."""
    if workers < 1:
        for batch in data_batches(csv_text, batch_size):
            yield read_batch(reader, batch)
        return
    with _ReadAhead(reader, csv_text, batch_size, workers) as read_ahead:
        yield from read_ahead


def worker_count(estimated_rows: int, *, min_rows: int) -> int:
    """Read-ahead processes for an import of this size: 0 reads in this process.

    One core stays with the process that writes: the database stage is the serial one.
    """
    cores = os.cpu_count() or 1
    if estimated_rows < min_rows or cores < 2:
        return 0
    return min(cores - 1, MAX_WORKERS)


class ReadAheadFailed(RuntimeError):
    """A read-ahead process failed; the message carries its traceback."""


class _ReadAhead:
    """Processes that each read every n-th batch and send it, in order, through a pipe."""

    def __init__(self, reader: RowReader, csv_text: CsvText, batch_size: int, workers: int) -> None:
        self.context = process_context()  # fork also brings the CSV along already in memory
        self.args = (reader, csv_text, batch_size, workers)
        self.pipes: list[Pipe] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def __enter__(self) -> _ReadAhead:
        reader, csv_text, batch_size, workers = self.args
        for index in range(workers):
            receiving, sending = self.context.Pipe(duplex=False)
            process = self.context.Process(
                target=_stream_batches,
                args=(sending, reader, csv_text, batch_size, index, workers),
                daemon=True,
            )
            process.start()
            sending.close()
            self.pipes.append(receiving)
            self.processes.append(process)
        return self

    def __iter__(self) -> Iterator[list[ReadRow]]:
        index = 0
        while True:
            try:
                message = self.pipes[index % len(self.pipes)].recv()
            except EOFError:
                raise ReadAheadFailed("a read-ahead process stopped without a word (killed?)") from None
            if message is None:  # batch `index` does not exist: the file is done
                return
            if isinstance(message, ReadAheadFailed):
                raise message
            yield message
            index += 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()


def _stream_batches(
    pipe: Pipe, reader: RowReader, csv_text: CsvText, size: int, index: int, count: int
) -> None:
    """Read-ahead process: read batches index, index + count, ... and send them in order."""
    try:
        with frozen_heap():  # everything inherited or imported lives until this short process ends
            for number, batch in enumerate(data_batches(csv_text, size)):
                if number % count == index:
                    pipe.send(read_batch(reader, batch))
            pipe.send(None)
    except BrokenPipeError:  # the importing process stopped early; nothing to tell it
        pass
    except BaseException:
        pipe.send(ReadAheadFailed(traceback.format_exc()))
    finally:
        pipe.close()
