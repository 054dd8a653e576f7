"""The instance's secret key: PATRON_SECRET_KEY, or one generated once and kept in the database."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select

from patron.config import Settings
from patron.storage.schema import instance_settings
from patron.storage.statements import insert_ignoring_conflicts

_SECRET_KEY = "secret_key"


def secret_key(conn: Connection, settings: Settings) -> str:
    """PATRON_SECRET_KEY when set, else the key `init` generated and stored."""
    if settings.secret_key:
        return settings.secret_key
    return ensure_secret_key(conn)


def ensure_secret_key(conn: Connection) -> str:
    """The stored key, generated on first use so links keep working across restarts."""
    stored = conn.execute(
        select(instance_settings.c.value).where(instance_settings.c.key == _SECRET_KEY)
    ).scalar()
    if stored is not None:  # the usual case: no write, so read-only transactions may call this
        return stored
    conn.execute(
        insert_ignoring_conflicts(conn, instance_settings, ["key"]).values(
            key=_SECRET_KEY, value=secrets.token_urlsafe(48)
        )
    )
    return conn.execute(
        select(instance_settings.c.value).where(instance_settings.c.key == _SECRET_KEY)
    ).scalar_one()
