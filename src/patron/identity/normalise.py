"""Normalised identity values, so every input form of one address or number matches.

Email and phone go through the quality checks (patron.quality): email-validator's syntax and
normalisation, lower-cased; E.164 through libphonenumber, read in the record's country or the
default region. A value that does not normalise is not an identity.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from patron.identity.rules import DEFAULT_RULES, IdentityRules
from patron.quality.emails import check_email
from patron.quality.phones import check_phone

STANDARD_KINDS = ("user_id", "email", "phone", "anonymous_id")
EXTERNAL_PREFIX = "ext:"
MAX_VALUE_LENGTH = 512

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,47}$")


class IdentityError(ValueError):
    """A value that cannot be an identity of its kind; the message says why."""


class Identity(NamedTuple):
    """One normalised (kind, value) pair (a tuple: cheap to hash, it keys every batch lookup)."""

    kind: str
    value: str

    def as_dict(self) -> dict[str, str]:
        """The public JSON form."""
        return {"kind": self.kind, "value": self.value}


def check_source_name(source: str) -> str:
    """A source (app) name: lower-case letters, digits, '_', '-', '.'; at most 48 characters."""
    if not _SOURCE_NAME.match(source):
        raise IdentityError(
            f"source {source!r} must be lower-case letters, digits, '_', '-' or '.' "
            "(at most 48 characters), e.g. 'shop'"
        )
    return source


def check_kind(kind: str) -> str:
    """One of user_id, email, phone, anonymous_id or ext:SOURCE."""
    if kind in STANDARD_KINDS:
        return kind
    if kind.startswith(EXTERNAL_PREFIX):
        check_source_name(kind[len(EXTERNAL_PREFIX) :])
        return kind
    raise IdentityError(f"identity kind {kind!r} is not one of {', '.join(STANDARD_KINDS)} or ext:SOURCE")


def normalise_email(raw: str) -> str:
    """The normalised address (email-validator's rules, lower-cased); IdentityError when invalid."""
    check = check_email(raw)
    if check.address is None:
        raise IdentityError(check.error or f"{raw!r} is not an email address")
    return check.address


def normalise_phone(raw: str, region: str | None) -> str:
    """E.164 form of `raw`, read in `region` when it has no country code."""
    check = check_phone(raw, region)
    if check.e164 is None:
        raise IdentityError(check.error or f"{raw!r} is not a phone number")
    return check.e164


def normalise(
    kind: str, raw: object, *, region: str | None = None, rules: IdentityRules = DEFAULT_RULES
) -> Identity:
    """The normalised identity of `kind` for `raw`; IdentityError says what is wrong."""
    kind = check_kind(kind)
    if raw is None or isinstance(raw, bool | dict | list):
        raise IdentityError(f"{kind} must be text, got {type(raw).__name__}")
    text = str(raw)
    if not text.strip():
        raise IdentityError(f"{kind} is empty")
    if rules.is_blocked(text):
        raise IdentityError(f"{kind} {text.strip()!r} is a blocked value: it identifies no one")
    if kind == "email":
        return Identity(kind, normalise_email(text))
    if kind == "phone":
        return Identity(kind, normalise_phone(text, region))
    value = text.strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise IdentityError(f"{kind} is longer than {MAX_VALUE_LENGTH} characters")
    return Identity(kind, value)
