"""Admin sessions: a random cookie token (stored hashed) and a CSRF token per session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from patron.storage.schema import sessions, users
from patron.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in admin."""

    user_id: int
    email: str
    csrf_token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: Connection, user_id: int, *, ttl: timedelta) -> tuple[str, str]:
    """(cookie token, CSRF token) for a new session of `user_id`."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    conn.execute(
        insert(sessions).values(
            token_hash=_hash(token), user_id=user_id, csrf_token=csrf, created_at=now, expires_at=now + ttl
        )
    )
    return token, csrf


def find_session(conn: Connection, token: str) -> Session | None:
    """The live session for a cookie token, or None."""
    query = (
        select(sessions.c.user_id, users.c.email, sessions.c.csrf_token, sessions.c.expires_at)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == _hash(token), sessions.c.expires_at > utcnow())
    )
    row = conn.execute(query).first()
    return Session(*row) if row else None


def end_session(conn: Connection, token: str) -> None:
    """Log out: the token stops working at once."""
    conn.execute(delete(sessions).where(sessions.c.token_hash == _hash(token)))


def purge_expired_sessions(conn: Connection) -> int:
    """Delete sessions past their expiry; returns how many."""
    return conn.execute(delete(sessions).where(sessions.c.expires_at <= utcnow())).rowcount
