"""Uploaded CSVs and import reports kept in the files table: cut a person's records out of them."""

from __future__ import annotations

import csv
import io

from sqlalchemy import Connection, select, update

from patron.gdpr.traces import Traces
from patron.storage.schema import files

# Read in batches: uploads can be large, and only one batch need be in memory.
BATCH = 20


def strip_records(content: bytes, traces: Traces) -> tuple[bytes, int]:
    """`content` without the CSV records (all their lines, quoted line breaks included) that hold
    one of the person's identifiers, and how many records were cut; every other byte is kept."""
    # surrogateescape: any bytes (CP949 from Korean Excel, broken UTF-8) come back exactly as
    # they were; identifiers are ASCII, so they are found whatever the file's encoding.
    text = content.decode("utf-8", errors="surrogateescape")
    lines = list(io.StringIO(text, newline=""))
    kept: list[str] = []
    cut = 0
    reader = csv.reader(iter(lines))
    start = 0
    try:
        for cells in reader:
            end = reader.line_num
            if traces.in_record(cells):
                cut += 1
            else:
                kept += lines[start:end]
            start = end
    except csv.Error:
        # Not CSV after all: judge the remaining lines one by one.
        for line in lines[start:]:
            if traces.in_record([line]):
                cut += 1
            else:
                kept.append(line)
    if not cut:
        return content, 0
    return "".join(kept).encode("utf-8", errors="surrogateescape"), cut


def rewrite_files(conn: Connection, traces: Traces) -> int:
    """Rewrite every stored file that holds the person's records without them; returns the
    number of records cut."""
    if traces.is_empty:
        return 0
    changed: list[tuple[str, bytes]] = []
    total = 0
    ids = conn.execute(select(files.c.id).order_by(files.c.id)).scalars().all()
    for start in range(0, len(ids), BATCH):
        query = select(files.c.id, files.c.content).where(files.c.id.in_(ids[start : start + BATCH]))
        for file_id, content in conn.execute(query):
            stripped, cut = strip_records(bytes(content), traces)
            if cut:
                changed.append((file_id, stripped))
                total += cut
    for file_id, stripped in changed:
        conn.execute(
            update(files).where(files.c.id == file_id).values(content=stripped, size_bytes=len(stripped))
        )
    return total
