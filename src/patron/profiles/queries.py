"""Reading profiles: one by id, by identity, lists with search, filters and cursors, counts."""

from __future__ import annotations

import base64
import operator
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from patron.errors import Invalid, NotFound
from patron.fields.definitions import field_types
from patron.fields.types import coerce, format_datetime
from patron.identity.normalise import Identity, IdentityError, normalise
from patron.profiles.provenance import decode as decode_provenance
from patron.quality import flags as quality_flags
from patron.storage.ids import is_id
from patron.storage.schema import accounts, event_intake, events, identities, merge_candidates, profiles
from patron.storage.traits import has_trait, typed_trait

MAX_PAGE = 500
# Who a list shows: people known by something other than a browser id, visitors known only by
# one (the tracking API makes a profile per anonymous id), or both.
WHO = ("all", "known", "anonymous")
FILTER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "exists")
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{4,}$")


@dataclass(frozen=True, slots=True)
class Profile:
    """A person: traits with their provenance, and the identities that point at them."""

    id: str
    traits: dict[str, Any]
    provenance: dict[str, Any]
    identities: list[Identity]
    created_at: datetime
    updated_at: datetime
    # Quality flags of the current values: {field: (code, ...)}.
    quality: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form (see ARCHITECTURE.md)."""
        return {
            "id": self.id,
            "traits": self.traits,
            "identities": [identity.as_dict() for identity in self.identities],
            "provenance": self.provenance,
            "quality": {name: list(codes) for name, codes in self.quality.items()},
            "created_at": format_datetime(self.created_at),
            "updated_at": format_datetime(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class TraitFilter:
    """trait OP value, e.g. lifetime_value gte 100."""

    name: str
    op: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> TraitFilter:
        """Read NAME:OP[:VALUE] (the value may itself contain ':')."""
        parts = text.split(":", 2)
        if len(parts) < 2 or parts[1] not in FILTER_OPS:
            raise Invalid(
                f"trait filter {text!r} must be NAME:OP:VALUE with OP one of {', '.join(FILTER_OPS)}",
                field="trait",
            )
        if parts[1] != "exists" and len(parts) < 3:
            raise Invalid(f"trait filter {text!r} needs a value after {parts[1]}:", field="trait")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list and the cursor for the next (None on the last page)."""

    items: list[Profile]
    next_cursor: str | None


def get_profile(conn: Connection, profile_id: str) -> Profile:
    """The profile with this id; NotFound otherwise."""
    row = conn.execute(select(profiles).where(profiles.c.id == profile_id)).first()
    if row is None:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
    return _hydrate(conn, [row])[0]


def get_profiles(conn: Connection, profile_ids: Sequence[str]) -> dict[str, Profile]:
    """The profiles with these ids that exist, in two queries however many."""
    if not profile_ids:
        return {}
    rows = conn.execute(select(profiles).where(profiles.c.id.in_(sorted(set(profile_ids))))).all()
    return {profile.id: profile for profile in _hydrate(conn, rows)}


def lookup(conn: Connection, kind: str, value: str, *, region: str | None) -> Profile:
    """The profile an identity belongs to, after normalising the value like any input."""
    try:
        identity = normalise(kind, value, region=region)
    except IdentityError as exc:
        raise Invalid(str(exc), field=kind) from None
    query = select(identities.c.profile_id).where(
        identities.c.kind == identity.kind, identities.c.value == identity.value
    )
    profile_id = conn.execute(query).scalar()
    if profile_id is None:
        raise NotFound(f"no profile has {identity.kind} {identity.value!r}", field=kind)
    return get_profile(conn, profile_id)


def list_profiles(
    conn: Connection,
    *,
    q: str | None = None,
    filters: Sequence[TraitFilter] = (),
    cursor: str | None = None,
    limit: int = 50,
    who: str = "all",
) -> Page:
    """Newest first; `q` searches names, email, phone and company; filters compare as typed;
    `who` is one of WHO."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if who not in WHO:
        raise Invalid(f"who must be one of {', '.join(WHO)}", field="who")
    query = select(profiles).order_by(profiles.c.id.desc()).limit(limit + 1)
    if who != "all":
        known = (
            select(identities.c.profile_id)
            .where(identities.c.profile_id == profiles.c.id, identities.c.kind != "anonymous_id")
            .exists()
        )
        query = query.where(known if who == "known" else ~known)
    if q and q.strip():
        query = query.where(_search(q))
    if filters:
        types = field_types(conn)
        for trait_filter in filters:
            query = query.where(_filter(conn.dialect.name, trait_filter, types))
    if cursor:
        query = query.where(profiles.c.id < decode_cursor(cursor))
    rows = conn.execute(query).all()
    more = len(rows) > limit
    items = _hydrate(conn, rows[:limit])
    return Page(items, encode_cursor(items[-1].id) if more else None)


def count_profiles(conn: Connection) -> int:
    """Exact number of profiles."""
    return conn.execute(select(func.count()).select_from(profiles)).scalar_one()


def stats(conn: Connection) -> dict[str, int]:
    """Exact counts for dashboards and health checks."""

    def count(table: Any, *where: ColumnElement[bool]) -> int:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    return {
        "profiles": count(profiles),
        "identities": count(identities),
        "events": count(events),
        "events_waiting": count(event_intake),
        "accounts": count(accounts),
        "merge_candidates": count(merge_candidates, merge_candidates.c.status == "open"),
    }


def encode_cursor(profile_id: str) -> str:
    """Opaque cursor text for the position after `profile_id`."""
    return base64.urlsafe_b64encode(profile_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The profile id inside a cursor; Invalid for anything this server did not make."""
    try:
        profile_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        profile_id = ""
    if not is_id(profile_id):
        raise Invalid("cursor is not one this server returned; start again without it", field="cursor")
    return profile_id


def _search(q: str) -> ColumnElement[bool]:
    text = q.strip().lower()
    condition = profiles.c.search.contains(text, autoescape=True)
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text).lstrip("0")  # national trunk 0 is not in E.164
        if len(digits) >= 4:
            condition = condition | profiles.c.search.contains(digits, autoescape=True)
    return condition


def _filter(dialect: str, trait_filter: TraitFilter, types: Mapping[str, str]) -> ColumnElement[bool]:
    name = trait_filter.name
    if name not in types:
        raise Invalid(f"no field named {name!r}; define it under /api/v1/fields first", field="trait")
    if trait_filter.op == "exists":
        return has_trait(dialect, name)
    field_type = types[name]
    column = typed_trait(name, field_type)
    if trait_filter.op == "contains":
        return column.contains(str(trait_filter.value), autoescape=True)
    try:
        value = coerce(field_type, trait_filter.value)
    except ValueError as exc:
        raise Invalid(f"trait filter on {name!r}: {exc}", field="trait") from None
    if field_type == "boolean" and trait_filter.op not in ("eq", "ne"):
        raise Invalid(f"trait filter on {name!r}: a true/false field compares with eq or ne", field="trait")
    return _COMPARE[trait_filter.op](column, value)


def _hydrate(conn: Connection, rows: Sequence[Any]) -> list[Profile]:
    ids = [row.id for row in rows]
    found: dict[str, list[Identity]] = defaultdict(list)
    if ids:
        query = (
            select(identities.c.profile_id, identities.c.kind, identities.c.value)
            .where(identities.c.profile_id.in_(ids))
            .order_by(identities.c.created_at, identities.c.kind)
        )
        for profile_id, kind, value in conn.execute(query):
            found[profile_id].append(Identity(kind, value))
    return [
        Profile(
            row.id,
            row.traits,
            decode_provenance(row.provenance, row.traits),
            found[row.id],
            row.created_at,
            row.updated_at,
            quality_flags.decode(row.quality),
        )
        for row in rows
    ]


def identities_by_kind(conn: Connection) -> list[tuple[str, int]]:
    """(kind, how many identities) from most to least common."""
    count = func.count().label("n")
    query = (
        select(identities.c.kind, count).group_by(identities.c.kind).order_by(count.desc(), identities.c.kind)
    )
    return [(kind, n) for kind, n in conn.execute(query)]


def merge_candidates_of(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    """Open merge candidates involving this profile: the other profile, why, and the evidence."""
    query = (
        select(merge_candidates)
        .where(
            merge_candidates.c.status == "open",
            (merge_candidates.c.profile_a == profile_id) | (merge_candidates.c.profile_b == profile_id),
        )
        .order_by(merge_candidates.c.id)
    )
    return [
        {
            "id": row.id,
            "other": row.profile_b if row.profile_a == profile_id else row.profile_a,
            "score": row.score,
            "reason": row.reason,
            "evidence": row.evidence,
            "created_at": row.created_at,
        }
        for row in conn.execute(query)
    ]


def iter_profiles(conn: Connection, *, batch_size: int = 1000) -> Iterator[Profile]:
    """Every profile, oldest first, read in keyset-paginated batches (constant memory)."""
    after = ""
    while True:
        query = select(profiles).where(profiles.c.id > after).order_by(profiles.c.id).limit(batch_size)
        rows = conn.execute(query).all()
        if not rows:
            return
        yield from _hydrate(conn, rows)
        after = rows[-1].id
