"""Exporting profiles as JSON lines or CSV, streaming, in a stable column order."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import orjson

from patron.fields.definitions import STANDARD_FIELDS
from patron.profiles.queries import Profile

FORMATS = ("jsonl", "csv")
IDENTITY_COLUMN = "identities"


def write_jsonl(out: TextIO, items: Iterable[Profile], *, on_row: Callable[[], None] | None = None) -> int:
    """One profile object per line; returns how many."""
    count = 0
    for profile in items:
        out.write(orjson.dumps(profile.as_dict()).decode())
        out.write("\n")
        count += 1
        if on_row:
            on_row()
    return count


def write_csv(
    out: TextIO,
    items: Iterable[Profile],
    custom_fields: list[str],
    *,
    on_row: Callable[[], None] | None = None,
) -> int:
    """id, standard traits, custom traits, identities (kind:value separated by ' | ')."""
    columns = ["id", *STANDARD_FIELDS, *custom_fields, IDENTITY_COLUMN, "created_at", "updated_at"]
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for profile in items:
        data = profile.as_dict()
        row: list[Any] = [profile.id]
        for name in [*STANDARD_FIELDS, *custom_fields]:
            row.append(_cell(profile.traits.get(name)))
        row.append(" | ".join(f"{i.kind}:{i.value}" for i in profile.identities))
        row.extend([data["created_at"], data["updated_at"]])
        writer.writerow(row)
        count += 1
        if on_row:
            on_row()
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)
