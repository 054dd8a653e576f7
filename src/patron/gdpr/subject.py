"""Whom a data-rights request is about: the person found by email or id, the profiles merged into
them over time, and the identifiers they can be recognised by in stored text."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from patron.consent import survivor
from patron.errors import Invalid, NotFound
from patron.gdpr.traces import Traces
from patron.identity.normalise import IdentityError, normalise_email
from patron.storage.schema import identities, profile_merges, profiles

# Traits that hold an address even when it did not become an identity (a flagged email).
ADDRESS_TRAITS = ("email", "phone")


def find_subject(conn: Connection, *, email: str | None = None, profile_id: str | None = None) -> str:
    """The id of the profile an email address or a profile id (followed through merges) names."""
    if (email is None) == (profile_id is None):
        raise Invalid("give exactly one of an email address or a profile id", field="email")
    if email is not None:
        try:
            address = normalise_email(email)
        except IdentityError as exc:
            raise Invalid(f"{email!r} is not an email address: {exc}", field="email") from None
        found = conn.execute(
            select(identities.c.profile_id).where(identities.c.kind == "email", identities.c.value == address)
        ).scalar()
        if found is None:
            raise NotFound(f"no profile has the email address {address!r}", field="email")
        return found
    assert profile_id is not None
    current = survivor(conn, profile_id.strip())
    if conn.execute(select(profiles.c.id).where(profiles.c.id == current)).first() is None:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
    return current


def merged_ids(conn: Connection, profile_id: str) -> list[str]:
    """The profile and every profile merged into it, directly or through others (merges that
    were undone left a separate person behind and are not followed)."""
    found = [profile_id]
    frontier = [profile_id]
    while frontier:
        absorbed = (
            conn.execute(
                select(profile_merges.c.absorbed_id).where(
                    profile_merges.c.kept_id.in_(frontier), profile_merges.c.undone_at.is_(None)
                )
            )
            .scalars()
            .all()
        )
        frontier = [pid for pid in dict.fromkeys(absorbed) if pid not in found]
        found += frontier
    return found


def traces_of(conn: Connection, profile_id: str, absorbed: list[str]) -> Traces:
    """Every identifier the person holds now, held in a trait, or brought by a merged profile."""
    pairs: list[tuple[str, str]] = [
        (kind, value)
        for kind, value in conn.execute(
            select(identities.c.kind, identities.c.value).where(identities.c.profile_id == profile_id)
        )
    ]
    traits = conn.execute(select(profiles.c.traits).where(profiles.c.id == profile_id)).scalar() or {}
    pairs += [(name, traits[name]) for name in ADDRESS_TRAITS if isinstance(traits.get(name), str)]
    snapshots = conn.execute(
        select(profile_merges.c.snapshot).where(
            profile_merges.c.kept_id.in_(absorbed), profile_merges.c.undone_at.is_(None)
        )
    ).scalars()
    for snapshot in snapshots:
        pairs += _snapshot_pairs(snapshot or {})
    country = traits.get("country")
    return Traces.of(pairs, region=country if isinstance(country, str) and len(country) == 2 else None)


def _snapshot_pairs(snapshot: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [(i.get("kind", ""), i.get("value", "")) for i in snapshot.get("identities") or []]
    traits = snapshot.get("traits") or {}
    return pairs + [(name, traits[name]) for name in ADDRESS_TRAITS if isinstance(traits.get(name), str)]
