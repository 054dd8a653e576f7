"""Provenance: which source set each trait's current value, and when.

In memory and in the API it is per trait: {"city": {"source": "shop", "at": "..."}}. Stored,
traits set by the same write share one group: [["shop", "...", ["city", "email", ...]], ...].
That is a third of the bytes for a typical profile (one group per write instead of one object
per trait), which import speed and table size feel (bench/import.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

StoredProvenance = list[list[Any]]


def encode(per_trait: Mapping[str, Mapping[str, str]]) -> StoredProvenance:
    """The stored form: one [source, at, [traits]] group per write."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, origin in per_trait.items():
        if not origin["source"] and not origin["at"]:
            continue  # a trait no write set (a computed one): nothing to record
        groups.setdefault((origin["source"], origin["at"]), []).append(name)
    return [[source, at, names] for (source, at), names in groups.items()]


def encode_one_write(source: str, at: str, names: Iterable[str]) -> StoredProvenance:
    """The stored form when every trait came from one write."""
    return [[source, at, list(names)]]


def decode(
    stored: StoredProvenance | None, present: Iterable[str] | None = None
) -> dict[str, dict[str, str]]:
    """Per-trait provenance; with `present`, only for traits the profile still has."""
    per_trait = {name: {"source": source, "at": at} for source, at, names in stored or () for name in names}
    if present is None:
        return per_trait
    keep = set(present)
    return {name: origin for name, origin in per_trait.items() if name in keep}
