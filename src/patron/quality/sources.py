"""Sources (apps data comes from) and the quality policy each one's data gets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from patron.errors import Invalid
from patron.identity.normalise import IdentityError, check_source_name
from patron.storage.schema import sources
from patron.storage.statements import upsert
from patron.storage.types import utcnow

# What an invalid value costs its record.
REJECT = "reject"  # the whole row is refused, with the reasons
FLAG = "flag"  # the value is kept as a trait and flagged; a flagged email or phone never matches anyone
FIX = "fix"  # a suggestion (an email domain typo) is applied; what cannot be fixed is flagged
POLICIES = (REJECT, FLAG, FIX)
DEFAULT_POLICY = FLAG


def check_policy(policy: str) -> str:
    """`policy` if it is one of reject, flag, fix."""
    if policy not in POLICIES:
        raise Invalid(f"quality policy must be one of {', '.join(POLICIES)}, got {policy!r}", field="policy")
    return policy


def policy_for(conn: Connection, source: str) -> str:
    """The quality policy of a source (flag unless set)."""
    found = conn.execute(select(sources.c.quality_policy).where(sources.c.name == source)).scalar()
    return found or DEFAULT_POLICY


def set_policy(conn: Connection, source: str, policy: str, description: str | None = None) -> dict[str, Any]:
    """Create or change a source's policy; returns the source."""
    try:
        check_source_name(source)
    except IdentityError as exc:
        raise Invalid(str(exc), field="source") from None
    check_policy(policy)
    now = utcnow()
    row = {"name": source, "quality_policy": policy, "description": description or "", "created_at": now,
           "updated_at": now}  # fmt: skip
    changed = ["quality_policy", "updated_at"] + (["description"] if description is not None else [])
    conn.execute(upsert(conn, sources, ["name"], changed), row)
    return get_source(conn, source)


def get_source(conn: Connection, source: str) -> dict[str, Any]:
    """One source as a public dict (a source never configured has the default policy)."""
    row = conn.execute(select(sources).where(sources.c.name == source)).mappings().first()
    if row is None:
        return {"name": source, "policy": DEFAULT_POLICY, "description": "", "configured": False}
    return _public(row)


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    """Every configured source."""
    return [_public(row) for row in conn.execute(select(sources).order_by(sources.c.name)).mappings()]


def _public(row: Any) -> dict[str, Any]:
    return {
        "name": row["name"],
        "policy": row["quality_policy"],
        "description": row["description"],
        "configured": True,
    }
