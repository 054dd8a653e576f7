"""/api/v1/profiles: upsert, read, change, delete, list, look up by identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection

from patron import dedupe, derive, profiles
from patron.errors import ConcurrentWrite, Invalid, NotFound
from patron.fields import field_types
from patron.identity import IdentityError, IdentityRules, check_kind, check_source_name
from patron.profiles.record import REJECTED, PreparedRecord, prepare_record
from patron.quality.entry import entry_rules
from patron.storage.engine import transaction
from patron.web.api.schemas import PatchOut, ProfileIn, ProfileList, ProfileOut, ProfilePatch, UpsertOut
from patron.web.deps import EngineDep, ReadDB, RulesDep, SettingsDep, WriteDB

router = APIRouter(tags=["profiles"])
UPSERT_RETRIES = 3


def _prepare(
    conn: Connection,
    body: ProfileIn | ProfilePatch,
    region: str | None,
    rules: IdentityRules,
    dns_timeout: float | None = None,
) -> PreparedRecord:
    """Prepare a JSON record; refused only when the source's policy rejects one of its values.

    Values the pipeline drops (wrong type, bad name) and explicit identities it refuses are left
    out and reported in the problems: the rest of the record is still worth keeping.
    """
    try:
        check_source_name(body.source)
    except IdentityError as exc:
        raise Invalid(str(exc), field="source") from None
    record = prepare_record(
        {k: v for k, v in body.traits.items() if v is not None},
        [(i.kind, i.value) for i in body.identities],
        source=body.source,
        field_types=field_types(conn),
        default_region=region,
        rules=rules,
        entry=entry_rules(conn, body.source, dns_timeout_s=dns_timeout),
    )
    if record.rejected:
        refused = [p for p in record.problems if p.effect == REJECTED]
        raise Invalid(
            f"source {body.source!r} has policy reject, which refuses a record with a wrong value: "
            + "; ".join(f"{p.field}: {p.reason}" for p in refused),
            field=refused[0].field,
            details=[p.as_dict() for p in refused],
        )
    return record


@router.post("/profiles", response_model=UpsertOut, status_code=200, responses={201: {"model": UpsertOut}})
def upsert_profile(
    body: ProfileIn, response: Response, engine: EngineDep, settings: SettingsDep, rules: RulesDep
) -> dict[str, Any]:
    """Create or update the person this record identifies."""
    region = body.country or settings.default_region
    for attempt in range(1, UPSERT_RETRIES + 1):
        try:
            with transaction(engine) as conn:
                record = _prepare(conn, body, region, rules, settings.dns_timeout)
                if not record.has_identity:
                    raise Invalid(record.no_identity_reason(), field="identities")
                outcome = profiles.upsert_records(conn, [record], rules=rules).records[0]
                derive.react(conn, [outcome.profile_id])
                profile = profiles.get_profile(conn, outcome.profile_id)
            break
        except ConcurrentWrite:
            if attempt == UPSERT_RETRIES:
                raise
    if outcome.status == profiles.CREATED:
        response.status_code = 201
    refused = [
        {"field": i.kind, "value": i.value, "effect": "refused_identity",
         "reason": f"the profile already holds the most {i.kind} identities allowed ({rules.limit(i.kind)})"}
        for i in outcome.refused
    ]  # fmt: skip
    return {
        **profile.as_dict(),
        "status": outcome.status,
        "warnings": [p.as_dict() for p in record.problems] + refused,
        "merge_candidates": list(outcome.merge_candidates),
        "merged": list(outcome.merged),
    }


@router.get("/profiles", response_model=ProfileList)
def list_profiles(
    conn: ReadDB,
    q: Annotated[str | None, Query(description="Search names, email, phone and company")] = None,
    trait: Annotated[
        list[str] | None,
        Query(description="NAME:OP:VALUE, OP one of eq ne gt gte lt lte contains exists; repeatable"),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=profiles.queries.MAX_PAGE)] = 50,
    who: Annotated[
        str,
        Query(description="all; known (an email, phone or id besides a browser's anonymous id); anonymous"),
    ] = "all",
) -> dict[str, Any]:
    """Profiles newest first, searched and filtered, a page at a time."""
    filters = [profiles.TraitFilter.parse(text) for text in trait or []]
    page = profiles.list_profiles(conn, q=q, filters=filters, cursor=cursor, limit=limit, who=who)
    return {"data": [p.as_dict() for p in page.items], "next_cursor": page.next_cursor}


@router.get("/profiles/lookup", response_model=ProfileOut)
def lookup_profile(
    conn: ReadDB,
    settings: SettingsDep,
    email: str | None = None,
    phone: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    kind: str | None = None,
    value: str | None = None,
    country: Annotated[str | None, Query(description="Region for a phone without country code")] = None,
) -> dict[str, Any]:
    """The profile an identity belongs to; the value is normalised like any input."""
    given = {
        k: v
        for k, v in {"email": email, "phone": phone, "user_id": user_id, "anonymous_id": anonymous_id}.items()
        if v is not None
    }
    if kind is not None or value is not None:
        if kind is None or value is None:
            raise Invalid(
                "kind and value go together: ?kind=ext:shop&value=123",
                field="kind" if kind is None else "value",
            )
        try:
            check_kind(kind)
        except IdentityError as exc:
            raise Invalid(str(exc), field="kind") from None
        given[kind] = value
    if len(given) != 1:
        raise Invalid("give exactly one of email, phone, user_id, anonymous_id or kind+value", field="query")
    ((lookup_kind, lookup_value),) = given.items()
    region = country or settings.default_region
    try:
        return profiles.lookup(conn, lookup_kind, lookup_value, region=region).as_dict()
    except Invalid as exc:
        if kind is None:
            raise
        # The domain names the identity kind; here the parameter at fault is `value`.
        raise Invalid(exc.message, field="value", details=exc.details) from None


@router.get("/profiles/{profile_id}", response_model=ProfileOut)
def get_profile(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """One profile; a profile merged into another answers 404 naming the one it lives on as."""
    return require_profile(conn, profile_id).as_dict()


def require_profile(conn: Connection, profile_id: str) -> profiles.Profile:
    """The profile, or NotFound that names the survivor when it was merged away."""
    try:
        return profiles.get_profile(conn, profile_id)
    except NotFound:
        survivor = dedupe.survivor_of(conn, profile_id)
        if survivor is None:
            raise
        raise NotFound(
            f"profile {profile_id} was merged into {survivor}", field="id", details={"merged_into": survivor}
        ) from None


@router.patch("/profiles/{profile_id}", response_model=PatchOut)
def patch_profile(
    profile_id: str, body: ProfilePatch, conn: WriteDB, settings: SettingsDep, rules: RulesDep
) -> dict[str, Any]:
    """Set or remove (null) traits and add identities on one profile."""
    current = profiles.get_profile(conn, profile_id)
    country = body.traits.get("country") or current.traits.get("country")
    region = country if isinstance(country, str) and len(country) == 2 else settings.default_region
    record = _prepare(conn, body, region, rules, settings.dns_timeout)
    unset = [name for name, value in body.traits.items() if value is None]
    profiles.patch_profile(conn, profile_id, record, unset=unset, rules=rules)
    derive.react(conn, [profile_id])
    return {
        **profiles.get_profile(conn, profile_id).as_dict(),
        "warnings": [p.as_dict() for p in record.problems],
    }


@router.delete("/profiles/{profile_id}", status_code=204)
def delete_profile(profile_id: str, conn: WriteDB) -> Response:
    """Delete a profile and its identities."""
    profiles.delete_profile(conn, profile_id)
    return Response(status_code=204)
