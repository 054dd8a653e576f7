"""Imports as background jobs: keep the upload, check its header now, import it in a worker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from patron.consent.imports import ConsentOptions
from patron.errors import Invalid
from patron.files import store_file
from patron.identity.normalise import IdentityError, check_source_name
from patron.imports.columns import plan_columns
from patron.imports.csvfile import decode, rows
from patron.jobs import enqueue
from patron.quality.sources import check_policy

IMPORT_JOB = "import.csv"


def parse_mapping(lines: str | list[str]) -> dict[str, str]:
    """COL=FIELD pairs (one per line or list item) into a dict; Invalid names the bad one."""
    items = lines.splitlines() if isinstance(lines, str) else lines
    mapping: dict[str, str] = {}
    for item in items:
        if not item.strip():
            continue
        column, sep, target = item.partition("=")
        if not sep or not column.strip():
            raise Invalid(f"mapping {item!r} must look like COLUMN=FIELD (or COLUMN=- to skip)", field="map")
        mapping[column.strip()] = target.strip()
    return mapping


def enqueue_import(
    conn: Connection,
    *,
    filename: str,
    content: bytes,
    source: str,
    mapping: Mapping[str, str] | None = None,
    id_column: str | None = None,
    encoding: str | None = None,
    policy: str | None = None,
    consent: ConsentOptions | Mapping[str, Any] | None = None,
) -> int:
    """Store the CSV and queue its import; header problems are refused now, not in the job.
    `consent` names the consent columns (see patron.consent.imports.ConsentOptions)."""
    try:
        check_source_name(source)
    except IdentityError as exc:
        raise Invalid(str(exc), field="source") from None
    if not content.strip():
        raise Invalid("the file is empty", field="file")
    first = next(rows(decode(content[:65536], encoding=encoding)), None)
    if first is None:
        raise Invalid("the file has no header line", field="file")
    plan = plan_columns(first[1], source=source, overrides=mapping, id_column=id_column)
    options = consent if isinstance(consent, ConsentOptions) else ConsentOptions.from_dict(consent)
    options.check(plan.header)
    file_id = store_file(conn, filename or "upload.csv", content)
    payload = {
        "file_id": file_id,
        "filename": filename,
        "source": source,
        "mapping": dict(mapping or {}),
        "id_column": id_column,
        "encoding": encoding,
        "policy": check_policy(policy) if policy else None,
        # The worker passes it to run_import as it is.
        "consent": options.as_dict() if options.given else None,
    }
    # Imports are idempotent upserts, so a retry after a crash is safe.
    return enqueue(conn, IMPORT_JOB, payload, priority=50, max_attempts=3)
