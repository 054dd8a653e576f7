"""Time-ordered identifiers (ULID layout) generated in the process, so batches need no RETURNING."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits; sorts by creation time."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    """True when `text` has the shape of an id made by `new_id`."""
    return len(text) == 26 and all(c in _CROCKFORD for c in text)
