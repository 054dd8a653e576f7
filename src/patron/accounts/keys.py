"""API keys: random tokens shown once, stored as SHA-256 hashes, each with one scope."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from patron.errors import Invalid, NotFound, Unauthorized
from patron.storage.schema import api_keys
from patron.storage.types import utcnow

ADMIN, WRITE = "admin", "write"
SCOPES = (ADMIN, WRITE)
TRACKING_MODES = ("allow", "flag", "block")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,47}$")
# Write keys end up in browsers and mobile apps (Segment's writeKey); admin keys never should.
_PREFIX = {ADMIN: "pat_", WRITE: "pwk_"}
# last_used_at is a hint for people, not an audit log: refresh it at most this often.
_USAGE_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: int
    scope: str
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    tracking_mode: str = "flag"

    @property
    def source(self) -> str:
        """The source name events sent with this key carry (a write key's name, or key<id>)."""
        return self.name if _SOURCE_NAME.match(self.name) else f"key{self.id}"


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: keys are long random strings, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    conn: Connection, scope: str, *, name: str = "", tracking_mode: str = "flag"
) -> tuple[str, ApiKey]:
    """A new key of `scope`; the plain key is returned only here.

    A write key's name is the source its events carry (e.g. "web", "ios"); its tracking mode
    says what happens to events off the tracking plan: allow, flag or block.
    """
    if scope not in SCOPES:
        raise Invalid(f"scope {scope!r} is not one of {', '.join(SCOPES)}", field="scope")
    if scope == WRITE and name and not _SOURCE_NAME.match(name):
        raise Invalid(
            "a write key's name is its source name: lower-case letters, digits, '_', '-', '.' "
            f"(got {name!r})",
            field="name",
        )
    if tracking_mode not in TRACKING_MODES:
        modes = ", ".join(TRACKING_MODES)
        raise Invalid(f"tracking mode {tracking_mode!r} is not one of {modes}", field="mode")
    key = _PREFIX[scope] + secrets.token_urlsafe(32 if scope == ADMIN else 24)
    now = utcnow()
    key_id = conn.execute(
        insert(api_keys)
        .values(
            key_hash=hash_key(key),
            prefix=key[:10],
            scope=scope,
            name=name,
            tracking_mode=tracking_mode,
            created_at=now,
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return key, ApiKey(key_id, scope, key[:10], name, now, None, tracking_mode)


def find_api_key(conn: Connection, key: str) -> ApiKey:
    """The live key matching `key`; Unauthorized when unknown or revoked."""
    row = conn.execute(
        select(api_keys).where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("unknown or revoked API key")
    return _key(row)


def usage_is_stale(key: ApiKey) -> bool:
    """True when last_used_at is old enough to be worth a write."""
    return key.last_used_at is None or utcnow() - key.last_used_at > _USAGE_RESOLUTION


def touch_api_key(conn: Connection, key_id: int) -> None:
    """Record that a key was just used."""
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=utcnow()))


def list_api_keys(conn: Connection) -> list[ApiKey]:
    """Every live key, newest first."""
    query = select(api_keys).where(api_keys.c.revoked_at.is_(None)).order_by(api_keys.c.id.desc())
    return [_key(row) for row in conn.execute(query)]


def revoke_api_key(conn: Connection, key_id: int) -> None:
    """Stop a key from working, keeping its record."""
    done = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if not done:
        raise NotFound(f"no live API key with id {key_id}", field="id")


def _key(row: object) -> ApiKey:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiKey(
        m["id"], m["scope"], m["prefix"], m["name"], m["created_at"], m["last_used_at"], m["tracking_mode"]
    )
