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

__all__ = [
    "Identity",
    "IdentityError",
    "check_kind",
    "check_source_name",
    "normalise",
    "normalise_email",
    "normalise_phone",
]
