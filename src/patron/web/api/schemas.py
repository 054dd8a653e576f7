"""Request and response bodies of the REST API (they also document it in /openapi.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IdentityIn(BaseModel):
    """An identity as sent: the value is normalised by kind (email lower-cased, phone to E.164)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(examples=["email", "phone", "user_id", "anonymous_id", "ext:shop"])
    value: str | int = Field(examples=["kim.minjun@example.com"])


class IdentityOut(BaseModel):
    """A normalised identity."""

    kind: str
    value: str


class ProfileIn(BaseModel):
    """Upsert: find the person by any identity (or email/phone trait), create them if none."""

    model_config = ConfigDict(extra="forbid")
    traits: dict[str, Any] = Field(
        default_factory=dict, examples=[{"email": "kim@example.com", "first_name": "민준"}]
    )
    identities: list[IdentityIn] = Field(default_factory=list)
    source: str = Field(default="api", description="The app this data comes from (provenance)")
    country: str | None = Field(
        default=None, description="Region for reading phone numbers, if not in traits"
    )


class ProfilePatch(BaseModel):
    """Change one profile: traits set to null are removed; identities are added."""

    model_config = ConfigDict(extra="forbid")
    traits: dict[str, Any] = Field(default_factory=dict)
    identities: list[IdentityIn] = Field(default_factory=list)
    source: str = "api"


class Provenance(BaseModel):
    """Which source set a trait's current value, and when."""

    source: str
    at: str


class Warning(BaseModel):
    """A value kept but flagged (an email that is not valid is not used for matching), or left out
    while the rest of the record was stored (effect dropped: wrong type or bad field name;
    refused_identity: an explicit identity that is not valid)."""

    field: str
    value: Any
    reason: str
    effect: str
    code: str = ""


class ProfileOut(BaseModel):
    """A person."""

    id: str
    traits: dict[str, Any]
    identities: list[IdentityOut]
    provenance: dict[str, Provenance]
    quality: dict[str, list[str]] = Field(
        default_factory=dict, description="Quality flags of current values, e.g. {'email': ['role']}"
    )
    created_at: str
    updated_at: str


class UpsertOut(ProfileOut):
    """The profile after an upsert, what happened, and anything flagged."""

    status: str = Field(description="created, updated or unchanged")
    warnings: list[Warning] = Field(default_factory=list)
    merge_candidates: list[str] = Field(
        default_factory=list, description="Other profiles this record also matched (kept apart for review)"
    )
    merged: list[str] = Field(
        default_factory=list, description="Anonymous profiles this record linked, now merged into this one"
    )


class PatchOut(ProfileOut):
    """The profile after a change, and any value flagged or left out."""

    warnings: list[Warning] = Field(default_factory=list)


class ProfileList(BaseModel):
    """A page of profiles."""

    data: list[ProfileOut]
    next_cursor: str | None


class FieldIn(BaseModel):
    """A custom field for the data dictionary."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["lifetime_value"])
    type: str = Field(
        examples=["number"], description="string, number, boolean, datetime, date, list or object"
    )
    description: str = ""
    source: str | None = Field(default=None, description="The app this field comes from")
    owner: str = Field(default="", description="Who answers questions about this field")


class FieldPatch(BaseModel):
    """Changes to a field; a new type converts stored values or is refused with examples."""

    model_config = ConfigDict(extra="forbid")
    type: str | None = None
    description: str | None = None
    source: str | None = None
    owner: str | None = None


class FieldOut(BaseModel):
    """A data dictionary entry."""

    name: str
    type: str
    description: str
    source: str | None
    owner: str
    status: str = Field(description="planned (defined on purpose) or unplanned (discovered in data)")
    standard: bool
    created_at: str
    updated_at: str


class FieldList(BaseModel):
    """Every field."""

    data: list[FieldOut]
    next_cursor: str | None = None


class Stats(BaseModel):
    """Exact counts."""

    model_config = ConfigDict(extra="allow")
    profiles: int
    events: int
