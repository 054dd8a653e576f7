"""/api/v1 consent: a person's state, ledger, links and preferences; topics; region policy;
the suppression list; who may be contacted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from patron import consent
from patron.consent import regions, suppression
from patron.errors import Invalid
from patron.web.api.profiles import require_profile
from patron.web.deps import ReadDB, SettingsDep, WriteDB

router = APIRouter(tags=["consent"])
SAMPLE = 20


class ConsentIn(BaseModel):
    """One consent change with its proof."""

    model_config = ConfigDict(extra="forbid")

    channel: str = "email"
    topic: str | None = None
    action: Literal["grant", "withdraw"]
    method: str = "api"
    legal_basis: str = "consent"
    notice_version: str = ""
    notice_text: str = ""
    source: str = ""
    ip: str | None = None
    user_agent: str | None = None
    # When the person acted, if not now (a consent given in another app).
    occurred_at: datetime | None = None
    # Implied consent lapses at this moment.
    expires_at: datetime | None = None
    # None: by the region's rule (express-consent regions confirm form and API sign-ups by email).
    double_opt_in: bool | None = None


class PreferencesIn(BaseModel):
    """Frequency, pause (null ends it) and language."""

    model_config = ConfigDict(extra="forbid")

    frequency: str | None = None
    paused_until: datetime | None = Field(default=None)
    locale: str | None = None
    method: str = "api"
    ip: str | None = None


class TopicIn(BaseModel):
    """A topic as created or changed; unknown keys are refused by the domain with their name."""

    model_config = ConfigDict(extra="allow")


class RegionIn(BaseModel):
    """A region's consent model."""

    model_config = ConfigDict(extra="forbid")

    model: str


class SuppressionIn(BaseModel):
    """An address to suppress, given in clear and stored only as its hash."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms"] = "email"
    address: str
    reason: str = "manual"
    note: str = ""


def _aware(moment: datetime | None, field: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise Invalid(f"{field} needs a time zone (e.g. 2026-01-31T09:00:00Z)", field=field)
    return moment


@router.get("/profiles/{profile_id}/consent")
def get_consent(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """Current state per channel and topic, frequency and pause."""
    require_profile(conn, profile_id)
    return consent.consent_of(conn, profile_id)


@router.post("/profiles/{profile_id}/consent")
def post_consent(
    profile_id: str,
    body: ConsentIn,
    request: Request,
    response: Response,
    conn: WriteDB,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Grant or withdraw; a grant that needs double opt-in answers 202 with state pending."""
    require_profile(conn, profile_id)
    change = consent.Change(
        channel=body.channel,
        action=body.action,
        topic=body.topic or "",
        legal_basis=body.legal_basis,
        method=body.method,
        notice_text=body.notice_text,
        notice_version=body.notice_version,
        source=body.source,
        ip=body.ip,
        user_agent=body.user_agent,
        actor="api",
        occurred_at=_aware(body.occurred_at, "occurred_at"),
        expires_at=_aware(body.expires_at, "expires_at"),
    )
    outcome = consent.change_consent(conn, settings, profile_id, change, double_opt_in=body.double_opt_in)
    if outcome.confirmation_sent:
        response.status_code = 202
    return {**outcome.as_dict(), "consent": consent.consent_of(conn, profile_id)}


@router.get("/profiles/{profile_id}/consent/ledger")
def get_ledger(
    profile_id: str, conn: ReadDB, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> dict[str, Any]:
    """Every consent and preference change, newest first, with its proof."""
    require_profile(conn, profile_id)
    return {
        "data": [row.as_dict() for row in consent.ledger_of(conn, profile_id, limit=limit)],
        "next_cursor": None,
    }


@router.get("/profiles/{profile_id}/links")
def get_links(
    profile_id: str, conn: ReadDB, settings: SettingsDep, channel: str = "email", topic: str | None = None
) -> dict[str, str]:
    """Signed preference-centre and unsubscribe URLs (unsubscribe from `topic`, or from all)."""
    require_profile(conn, profile_id)
    if channel not in consent.CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(consent.CHANNELS)}", field="channel")
    if topic:
        consent.get_topic(conn, topic)
    return consent.links_for(conn, settings, profile_id, channel=channel, topic=topic or "")


@router.put("/profiles/{profile_id}/preferences")
def put_preferences(profile_id: str, body: PreferencesIn, conn: WriteDB) -> dict[str, Any]:
    """Change frequency, pause or language; each change is written to the ledger."""
    require_profile(conn, profile_id)
    given = body.model_fields_set
    proof = consent.Change(channel="email", action="frequency", method=body.method, ip=body.ip, actor="api")
    consent.set_preferences(
        conn,
        profile_id,
        frequency=body.frequency,
        paused_until=_aware(body.paused_until, "paused_until") if "paused_until" in given else "",
        locale=body.locale,
        proof=proof,
    )
    return consent.consent_of(conn, profile_id)


@router.get("/profiles/{profile_id}/can-send")
def get_can_send(
    profile_id: str, conn: ReadDB, channel: str = "email", topic: str | None = None
) -> dict[str, Any]:
    """Whether a message on `channel` about `topic` may go to this person, and why."""
    require_profile(conn, profile_id)
    return consent.can_send(conn, profile_id, channel, topic).as_dict()


@router.get("/topics")
def get_topics(conn: ReadDB, archived: bool = False) -> dict[str, Any]:
    """Topics in display order."""
    return {
        "data": [t.as_dict() for t in consent.list_topics(conn, include_archived=archived)],
        "next_cursor": None,
    }


@router.post("/topics", status_code=201)
def post_topic(body: TopicIn, conn: WriteDB) -> dict[str, Any]:
    """Create a topic: {"key", "name", "description", "default": opt_in|opt_out, "channels", ...}."""
    return consent.create_topic(conn, body.model_dump()).as_dict()


@router.get("/topics/{key}")
def get_topic(key: str, conn: ReadDB) -> dict[str, Any]:
    """One topic."""
    return consent.get_topic(conn, key).as_dict()


@router.patch("/topics/{key}")
def patch_topic(key: str, body: TopicIn, conn: WriteDB) -> dict[str, Any]:
    """Change a topic; {"archived": true} hides it from public pages."""
    return consent.update_topic(conn, key, body.model_dump()).as_dict()


@router.get("/regions")
def get_regions(conn: ReadDB) -> dict[str, Any]:
    """The consent model per country (built in, with overrides marked)."""
    overrides = regions.overrides(conn)
    return {
        "data": [
            {"region": region, "model": model, "overridden": region in overrides}
            for region, model in sorted(regions.policies(conn).items())
        ],
        "next_cursor": None,
    }


@router.put("/regions/{region}")
def put_region(region: str, body: RegionIn, conn: WriteDB) -> dict[str, Any]:
    """Override a country's model (express, opt_out, implied)."""
    regions.set_policy(conn, region, body.model)
    return {"region": regions.check_region(region), "model": body.model, "overridden": True}


@router.delete("/regions/{region}", status_code=204)
def delete_region(region: str, conn: WriteDB) -> Response:
    """Restore the built-in model for a country."""
    regions.set_policy(conn, region, None)
    return Response(status_code=204)


@router.get("/suppressions")
def get_suppressions(
    conn: ReadDB,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Suppressed address hashes, newest first, with counts per reason."""
    rows = suppression.list_suppressions(conn, reason=reason, limit=limit, offset=offset)
    return {
        "data": [row.as_dict() for row in rows],
        "counts": suppression.counts_by_reason(conn),
        "next_cursor": None,
    }


@router.post("/suppressions", status_code=201)
def post_suppression(body: SuppressionIn, conn: WriteDB) -> dict[str, Any]:
    """Suppress an address; only its hash is kept."""
    hashed = suppression.suppress_address(
        conn, body.channel, body.address, body.reason, note=body.note, actor="api"
    )
    return {"channel": body.channel, "address_hash": hashed, "reason": body.reason}


@router.get("/suppressions/check")
def check_suppression(
    conn: ReadDB, address: str, channel: Literal["email", "sms"] = "email"
) -> dict[str, Any]:
    """Whether an address is suppressed, and why."""
    hashed = suppression.hash_address(channel, address)
    reason = suppression.suppressed_hashes(conn, channel, [hashed]).get(hashed)
    return {"address_hash": hashed, "suppressed": reason is not None, "reason": reason}


@router.delete("/suppressions/{channel}/{address_hash}", status_code=204)
def delete_suppression(channel: str, address_hash: str, conn: WriteDB) -> Response:
    """Take an address off the list (whatever the reason: an admin's decision)."""
    suppression.remove(conn, channel, address_hash)
    return Response(status_code=204)


@router.get("/audience")
def get_audience(conn: ReadDB, channel: str = "email", topic: str | None = None) -> dict[str, Any]:
    """How many people may be contacted on `channel` about `topic`, with a sample of ids."""
    ids = consent.audience(conn, channel, topic)
    return {"count": len(ids), "sample": ids[:SAMPLE]}
