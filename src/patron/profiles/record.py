"""Incoming records, validated and normalised the same way for every entry point.

A record is traits plus identities from one source. Preparing it yields canonical trait
values, normalised identities and a list of problems; the caller's policy decides what a
problem costs (the REST API refuses dropped values, an import keeps the row and flags it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patron.fields.definitions import is_field_name
from patron.fields.types import coerce, infer_type
from patron.identity.normalise import Identity, IdentityError, normalise

# Problem effects: what happened to the value.
DROPPED = "dropped"  # not stored (wrong type, bad name)
NOT_IDENTITY = "not_identity"  # kept as a trait, never used to match anyone
REFUSED_IDENTITY = "refused_identity"  # an explicit identity that is not valid

FULL_NAME = "name"  # a whole-name input, split into first_name / last_name
_HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one value of a record, and what it cost."""

    field: str
    value: Any
    reason: str
    effect: str

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form."""
        return {"field": self.field, "value": self.value, "reason": self.reason, "effect": self.effect}


@dataclass(slots=True)
class PreparedRecord:
    """A record ready to upsert: canonical traits, normalised identities, problems found."""

    source: str
    traits: dict[str, Any] = field(default_factory=dict)
    identities: list[Identity] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Custom traits seen for the first time: {name: inferred type}.
    new_fields: dict[str, str] = field(default_factory=dict)

    @property
    def has_identity(self) -> bool:
        """True when something can tell which person this is."""
        return bool(self.identities)

    def no_identity_reason(self) -> str:
        """Why the record identifies nobody, naming the values that failed."""
        failed = [p for p in self.problems if p.effect in (NOT_IDENTITY, REFUSED_IDENTITY)]
        if failed:
            return "no usable identity: " + "; ".join(f"{p.field}: {p.reason}" for p in failed)
        return "no usable identity: give a valid email, phone or an id"


def prepare_record(
    traits: Mapping[str, Any],
    identities: Iterable[tuple[str, Any]] = (),
    *,
    source: str,
    field_types: Mapping[str, str],
    default_region: str | None,
    field_prefix: str = "traits.",
) -> PreparedRecord:
    """Validate and normalise one record; never raises for bad values, records problems instead."""
    record = PreparedRecord(source=source)
    pending = {k: v for k, v in traits.items() if not _is_blank(v)}
    _split_full_name(pending)
    country = _normalise_country(pending.get("country"))
    if country is not None:
        pending["country"] = country
    region = country if country and _COUNTRY_CODE.match(country) else default_region

    for name, raw in pending.items():
        label = f"{field_prefix}{name}"
        if not is_field_name(name):
            record.problems.append(
                Problem(label, raw, "not a valid field name (use letters, digits and '_')", DROPPED)
            )
            continue
        if name in ("email", "phone"):
            _identity_trait(record, name, raw, region, label)
            continue
        field_type = field_types.get(name)
        if field_type is None:
            field_type = record.new_fields[name] = infer_type(raw)
        try:
            record.traits[name] = coerce(field_type, raw)
        except ValueError as exc:
            record.problems.append(Problem(label, raw, f"{exc} (field type is {field_type})", DROPPED))

    for index, (kind, raw) in enumerate(identities):
        try:
            identity = normalise(kind, raw, region=region)
        except IdentityError as exc:
            record.problems.append(Problem(f"identities[{index}]", raw, str(exc), REFUSED_IDENTITY))
            continue
        _add_identity(record, identity)
    record.identities.sort(key=lambda identity: identity.priority)
    return record


def _identity_trait(record: PreparedRecord, name: str, raw: Any, region: str | None, label: str) -> None:
    try:
        identity = normalise(name, raw, region=region)
    except IdentityError as exc:
        # Keep what the person typed so it can be fixed, but never match anyone on it.
        record.traits[name] = str(raw).strip()
        record.problems.append(Problem(label, raw, str(exc), NOT_IDENTITY))
        return
    record.traits[name] = identity.value
    _add_identity(record, identity)


def _add_identity(record: PreparedRecord, identity: Identity) -> None:
    if identity not in record.identities:
        record.identities.append(identity)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normalise_country(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text.upper() if _COUNTRY_CODE.match(text) else text


def _split_full_name(traits: dict[str, Any]) -> None:
    """Fill first_name/last_name from a whole name when both are missing; drop the whole name."""
    full = traits.pop(FULL_NAME, None)
    if not isinstance(full, str) or "first_name" in traits or "last_name" in traits:
        return
    first, last = split_name(full)
    if first:
        traits["first_name"] = first
    if last:
        traits["last_name"] = last


def split_name(full: str) -> tuple[str, str]:
    """(first, last) from a whole name; Korean names are written family name first."""
    text = " ".join(full.split())
    compact = text.replace(" ", "")
    if _HANGUL.match(compact) and 2 <= len(compact) <= 5:
        return compact[1:], compact[0]
    parts = text.split(" ")
    if len(parts) == 1:
        return parts[0], ""
    return " ".join(parts[:-1]), parts[-1]


def search_text(traits: Mapping[str, Any]) -> str:
    """What `q` searches: names, email, phone and company, lower-cased, in one string."""
    parts = [
        traits.get("first_name"),
        traits.get("last_name"),
        traits.get("email"),
        traits.get("phone"),
        traits.get("company"),
    ]
    first, last = traits.get("first_name"), traits.get("last_name")
    if isinstance(first, str) and isinstance(last, str):
        parts.append(last + first)  # Korean order without a space: 김민준
    return " ".join(str(p) for p in parts if p).lower()
