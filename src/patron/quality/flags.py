"""Quality flags: what is wrong with a profile's current values, stored beside them.

A profile keeps its flags in one text column, " field:code field:code ", so a report counts
profiles with a flag in one scan (LIKE '% email:role %') on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Codes, and whether the value itself is wrong (counts against validity) or only risky.
INVALID = "invalid"  # not a value of its kind (email syntax, phone number, country, time zone)
TYPO = "typo"  # looks like a misspelt common domain: the address is almost surely wrong
ROLE = "role"  # a role address (info@, sales@): valid, but no one person
DISPOSABLE = "disposable"  # a throw-away mailbox domain: valid, but short-lived
UNDELIVERABLE = "undeliverable"  # the domain has no mail server (optional DNS check)
WRONG_CODES = frozenset({INVALID, TYPO, UNDELIVERABLE})

Flags = dict[str, tuple[str, ...]]


def encode(flags: Mapping[str, Iterable[str]]) -> str:
    """The stored form: " field:code ... " in a stable order, or "" when nothing is flagged."""
    tokens = sorted(f"{name}:{code}" for name, codes in flags.items() for code in codes)
    return f" {' '.join(tokens)} " if tokens else ""


def decode(text: str | None) -> Flags:
    """{field: codes} from the stored form."""
    flags: dict[str, list[str]] = {}
    for token in (text or "").split():
        name, _, code = token.partition(":")
        flags.setdefault(name, []).append(code)
    return {name: tuple(codes) for name, codes in flags.items()}


def token(name: str, code: str) -> str:
    """The LIKE pattern that finds profiles carrying this flag."""
    return f"% {name}:{code} %"


def replace_fields(current: Flags, written: Iterable[str], new: Mapping[str, tuple[str, ...]]) -> Flags:
    """Flags after a write set the traits `written`: theirs replace the old ones, others stay."""
    written = set(written)
    merged = {name: codes for name, codes in current.items() if name not in written}
    merged.update({name: codes for name, codes in new.items() if codes})
    return merged
