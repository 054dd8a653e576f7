"""Identities: normalised (kind, value) pairs that say which profile a record belongs to."""

from patron.identity.normalise import (
    Identity,
    IdentityError,
    check_kind,
    check_source_name,
    normalise,
    normalise_email,
    normalise_phone,
)
from patron.identity.rules import DEFAULT_RULES, IdentityRules, rules_from

__all__ = [
    "DEFAULT_RULES",
    "IdentityRules",
    "Identity",
    "IdentityError",
    "check_kind",
    "check_source_name",
    "normalise",
    "normalise_email",
    "normalise_phone",
    "rules_from",
]
