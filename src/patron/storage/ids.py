"""Time-ordered identifiers (ULID layout) generated in the process, so batches need no RETURNING."""

from __future__ import annotations

import base64
import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# base64's RFC 4648 base32 alphabet, re-lettered as Crockford's (what ULIDs use).
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


def new_id() -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits; sorts by creation time."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    # 160 bits -> 32 base32 characters; the first 6 encode the 30 always-zero high bits.
    return base64.b32encode(value.to_bytes(20, "big")).decode()[6:].translate(_TO_CROCKFORD)


def new_ids(count: int) -> list[str]:
    """`count` ULIDs sharing one timestamp (one clock read and one urandom call for a batch)."""
    stamp = new_id()[:10]  # the 48-bit millisecond part
    # 10 random bytes are exactly 16 base32 characters, so one encode serves the whole batch.
    letters = base64.b32encode(os.urandom(10 * count)).decode().translate(_TO_CROCKFORD)
    return [stamp + letters[16 * i : 16 * i + 16] for i in range(count)]


def is_id(text: str) -> bool:
    """True when `text` has the shape of an id made by `new_id`."""
    return len(text) == 26 and all(c in _CROCKFORD for c in text)
