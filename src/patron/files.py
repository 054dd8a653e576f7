"""Files kept in the database (uploads, import reports), readable by any worker on any machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from patron.errors import NotFound
from patron.storage.ids import new_id
from patron.storage.schema import files
from patron.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's metadata and content."""

    id: str
    name: str
    content_type: str
    size_bytes: int
    content: bytes
    created_at: datetime


def store_file(conn: Connection, name: str, content: bytes, *, content_type: str = "text/csv") -> str:
    """Keep `content` under a new id."""
    file_id = new_id()
    conn.execute(
        insert(files).values(
            id=file_id,
            name=name,
            content_type=content_type,
            size_bytes=len(content),
            content=content,
            created_at=utcnow(),
        )
    )
    return file_id


def load_file(conn: Connection, file_id: str) -> StoredFile:
    """The file with this id; NotFound otherwise."""
    row = conn.execute(select(files).where(files.c.id == file_id)).first()
    if row is None:
        raise NotFound(f"no file with id {file_id!r}", field="file_id")
    return StoredFile(**row._mapping)


def delete_files_before(conn: Connection, cutoff: datetime) -> int:
    """Drop files older than `cutoff`; returns how many."""
    return conn.execute(delete(files).where(files.c.created_at < cutoff)).rowcount
