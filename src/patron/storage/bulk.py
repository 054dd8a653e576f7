"""Writing many rows in one round trip, without per-row bind processing.

PostgreSQL: COPY (11 us/row against 89 us/row for INSERT ... SELECT FROM unnest of jsonb arrays,
17 us/row for pipelined executemany; measured with 2,000-row batches). Inserts that must skip
conflicts, and updates, COPY into a temporary staging table first. SQLite: one driver-level
executemany. Rows arrive in driver form (see `driver_json`, `driver_datetime`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Table, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY


def driver_json(value: Any) -> str:
    """A JSON value as the text both drivers accept for a JSON column."""
    return orjson.dumps(value).decode()


def driver_datetime(conn: Connection, moment: datetime) -> Any:
    """An aware datetime in the form the driver stores for UTCDateTime columns."""
    if conn.dialect.name == "postgresql":
        return moment
    # The format SQLAlchemy's SQLite DATETIME writes and reads back (naive UTC).
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def in_values(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values` bound as one parameter, not one per value (a 2,000-value IN list costs
    more to compile and bind than to run): an array on PostgreSQL, a JSON array on SQLite."""
    if len(values) == 1:  # one person (a real-time write): a plain key lookup, cheapest to build
        return column == next(iter(values))
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    each = func.json_each(literal(driver_json(list(values)))).table_valued("value")
    return column.in_(select(each.c.value))


def insert_many(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts_on: Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT every row (tuples in `columns` order), optionally skipping key conflicts.

    Returns the `returning` columns of the rows actually inserted (PostgreSQL only; SQLite
    returns [] because its executemany cannot return rows).
    """
    if not rows:
        return []
    names = ", ".join(columns)
    conflict = f" ON CONFLICT ({', '.join(ignore_conflicts_on)}) DO NOTHING" if ignore_conflicts_on else ""
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks}){conflict}", list(rows))
        return []
    if not conflict and not returning:
        _copy(conn, table.name, columns, rows)
        return []
    stage = _staging_table(conn, table, columns, rows)
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    result = conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage}{conflict}{tail}"
    )
    return [tuple(row) for row in result.all()] if returning else []


def update_many(
    conn: Connection, table: Table, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """UPDATE `columns` of the row whose `key` is each tuple's first value (key first, then columns)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        sets = ", ".join(f"{name} = ?" for name in columns)
        reordered = [(*row[1:], row[0]) for row in rows]
        conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", reordered)
        return
    everything = [key, *columns]
    stage = _staging_table(conn, table, everything, rows)
    sets = ", ".join(f"{name} = s.{name}" for name in columns)
    conn.exec_driver_sql(f"UPDATE {table.name} AS t SET {sets} FROM {stage} AS s WHERE t.{key} = s.{key}")


def _copy(conn: Connection, table_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cursor = conn.connection.driver_connection.cursor()  # the psycopg connection of this transaction
    with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _staging_table(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> str:
    """A session-private table with the columns' types (no constraints), filled with `rows`."""
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:8]
    stage = f"stage_{table.name}_{digest}"
    names = ", ".join(columns)
    # ON COMMIT DELETE ROWS empties it after each transaction; TRUNCATE covers reuse within one.
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
        f"SELECT {names} FROM {table.name} WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {stage}")
    _copy(conn, stage, columns, rows)
    return stage


def repoint(conn: Connection, table: Table, column: str, moves: Sequence[tuple[Any, Any]]) -> int:
    """UPDATE table SET column = new WHERE column = old, for every (old, new), in one statement.

    SQLite: one driver-level executemany. PostgreSQL: one UPDATE joined to the unnested pairs.
    Returns the number of rows changed.
    """
    if not moves:
        return 0
    if conn.dialect.name != "postgresql":
        cursor = conn.exec_driver_sql(
            f"UPDATE {table.name} SET {column} = ? WHERE {column} = ?", [(new, old) for old, new in moves]
        )
        return cursor.rowcount
    olds = [old for old, _ in moves]
    news = [new for _, new in moves]
    result = conn.exec_driver_sql(
        f"UPDATE {table.name} AS t SET {column} = m.new FROM unnest(%(olds)s::text[], %(news)s::text[]) "
        f"AS m(old, new) WHERE t.{column} = m.old",
        {"olds": olds, "news": news},
    )
    return result.rowcount
