"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from patron.storage.schema import metadata
from tests.conftest import Database


def test_migrations_match_the_declared_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_declared_table_exists_after_init(db: Database) -> None:
    present = set(inspect(db.engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= present
