"""Everything Patron holds about one person, as JSON-able data (GDPR art. 15 and 20: access and
portability)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from patron.consent import consent_of, get_preferences, ledger_of
from patron.consent.suppression import ADDRESS_KIND, profile_address_hashes, suppressed_hashes
from patron.fields.types import format_datetime
from patron.gdpr.subject import merged_ids
from patron.profiles import get_profile
from patron.storage.schema import events, identities, profile_merges, segment_memberships, segments
from patron.storage.types import utcnow
from patron.tracking.accounts import accounts_of

FORMAT_VERSION = 1


def export_profile(conn: Connection, profile_id: str) -> dict[str, Any]:
    """The person's profile (each trait with its source and time), identities, events, consent and
    its ledger, preferences, accounts, merge history and messages; NotFound for an unknown id."""
    profile = get_profile(conn, profile_id)
    prefs = get_preferences(conn, profile_id)
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": format_datetime(utcnow()),
        "profile": {
            "id": profile.id,
            "created_at": format_datetime(profile.created_at),
            "updated_at": format_datetime(profile.updated_at),
            "traits": {
                name: {"value": value, **profile.provenance.get(name, {"source": None, "at": None})}
                for name, value in sorted(profile.traits.items())
            },
        },
        "identities": _identities(conn, profile_id),
        "events": _events(conn, profile_id),
        "consent": consent_of(conn, profile_id),
        "consent_ledger": [row.as_dict() for row in reversed(ledger_of(conn, profile_id))],
        "preferences": {
            "frequency": prefs.frequency,
            "paused_until": format_datetime(prefs.paused_until) if prefs.paused_until else None,
            "locale": prefs.locale,
        },
        "suppressions": _suppressions(conn, profile_id),
        "accounts": accounts_of(conn, profile_id),
        "merges": _merges(conn, merged_ids(conn, profile_id)),
        "segments": _segment_stays(conn, profile_id),
        # Messages sent to the person: the messaging capability adds its table and fills this.
        "messages": [],
    }


def _segment_stays(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    """Every stay in a segment, current ones with exited_at null."""
    rows = conn.execute(
        select(segments.c.name, segment_memberships.c.entered_at, segment_memberships.c.exited_at)
        .join(segments, segments.c.id == segment_memberships.c.segment_id)
        .where(segment_memberships.c.profile_id == profile_id)
        .order_by(segment_memberships.c.entered_at, segment_memberships.c.id)
    )
    return [
        {
            "segment": row.name,
            "entered_at": format_datetime(row.entered_at),
            "exited_at": format_datetime(row.exited_at) if row.exited_at else None,
        }
        for row in rows
    ]


def _identities(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    query = (
        select(identities.c.kind, identities.c.value, identities.c.source, identities.c.created_at)
        .where(identities.c.profile_id == profile_id)
        .order_by(identities.c.kind, identities.c.value)
    )
    return [
        {"kind": kind, "value": value, "source": source, "created_at": format_datetime(created)}
        for kind, value, source, created in conn.execute(query)
    ]


def _events(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    """Every event, oldest first, with its properties and context."""
    query = select(events).where(events.c.profile_id == profile_id).order_by(events.c.timestamp, events.c.id)
    return [
        {
            "id": row.id,
            "type": row.type,
            "event": row.event,
            "properties": row.properties,
            "context": row.context,
            "timestamp": format_datetime(row.timestamp),
            "received_at": format_datetime(row.received_at),
            "message_id": row.message_id,
            "source": row.source,
            "user_id": row.user_id,
            "anonymous_id": row.anonymous_id,
            "group_id": row.group_id,
        }
        for row in conn.execute(query)
    ]


def _suppressions(conn: Connection, profile_id: str) -> list[dict[str, str]]:
    """Which of the person's addresses may never be contacted, and why."""
    found = []
    for channel in ADDRESS_KIND:
        hashes = profile_address_hashes(conn, [profile_id], channel)[profile_id]
        for reason in suppressed_hashes(conn, channel, hashes).values():
            found.append({"channel": channel, "reason": reason})
    return found


def _merges(conn: Connection, profile_ids: list[str]) -> list[dict[str, Any]]:
    """Merges the person took part in, oldest first, with what each merged profile brought."""
    query = (
        select(profile_merges)
        .where(or_(profile_merges.c.kept_id.in_(profile_ids), profile_merges.c.absorbed_id.in_(profile_ids)))
        .order_by(profile_merges.c.id)
    )
    items = []
    for row in conn.execute(query).mappings():
        snapshot = row["snapshot"] or {}
        items.append(
            {
                "id": row["id"],
                "kept_id": row["kept_id"],
                "absorbed_id": row["absorbed_id"],
                "reason": row["reason"],
                "actor": row["actor"],
                "created_at": format_datetime(row["created_at"]),
                "undone_at": format_datetime(row["undone_at"]) if row["undone_at"] else None,
                "absorbed": {
                    "traits": snapshot.get("traits") or {},
                    "identities": [
                        {"kind": i["kind"], "value": i["value"]} for i in snapshot.get("identities") or []
                    ],
                },
            }
        )
    return items
