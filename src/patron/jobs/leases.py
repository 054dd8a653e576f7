"""Leases: work that only one worker may do at a time, taken over if its holder goes quiet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, or_, update

from patron.storage.schema import leases
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow


def acquire(conn: Connection, name: str, holder: str, *, ttl_s: float) -> bool:
    """Take or extend the lease `name` for `holder`; False while another holder has it."""
    conn.execute(
        insert_ignoring_conflicts(conn, leases, ["name"]).values(name=name, holder=None, expires_at=None)
    )
    now = utcnow()
    taken = conn.execute(
        update(leases)
        .where(
            leases.c.name == name,
            or_(leases.c.holder.is_(None), leases.c.holder == holder, leases.c.expires_at < now),
        )
        .values(holder=holder, expires_at=now + timedelta(seconds=ttl_s))
    ).rowcount
    return bool(taken)


def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up if `holder` has it."""
    conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.holder == holder)
        .values(holder=None, expires_at=None)
    )
