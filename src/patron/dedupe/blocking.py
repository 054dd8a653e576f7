"""Blocking: the candidate pairs worth comparing, from several keys so one typo cannot hide a pair.

Every field yields a blocking key: its normalised value; a phonetic code for names, the mailbox
for emails, the national number for phones. An email yields two more: its local part (one person
on two providers meets) and a long number in it (a typo in the letters does not hide the pair).
A key is one of these alone or two from different fields together; a pair is a candidate when
it shares any key. A typo in one field leaves the other keys intact, which is what keeps recall
high. Keys are kept only when they stay cheap: groups larger than `max_group` are skipped (a
thousand "Kim"s tell nothing), and a key whose pairs exceed the budget is dropped as a whole (a
country, a state, a first name alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from patron.dedupe.values import FieldValues, sorted_unique

MAX_GROUP = 40


@dataclass(frozen=True)
class BlockingKey:
    """The fields whose values must all agree for two records to share this key."""

    fields: tuple[str, ...]
    pairs: int  # candidate pairs the key yields, big groups excluded


def combine_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """One int64 group id per record from several code columns; -1 when any column is missing."""
    combined = columns[0].astype(np.int64)
    missing = combined < 0
    for column in columns[1:]:
        width = int(column.max(initial=0)) + 1
        combined = combined * width + column
        missing |= column < 0
    combined[missing] = -1
    return combined


def count_pairs(group_ids: np.ndarray, max_group: int = MAX_GROUP) -> int:
    """Pairs a key yields (groups larger than max_group skipped)."""
    present = group_ids[group_ids >= 0]
    if len(present) == 0:
        return 0
    sizes = np.unique(present, return_counts=True)[1]
    sizes = sizes[sizes <= max_group].astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pairs_of(group_ids: np.ndarray, max_group: int = MAX_GROUP) -> np.ndarray:
    """Every within-group pair as left * n + right (left < right), n = number of records."""
    n = len(group_ids)
    present = np.flatnonzero(group_ids >= 0)
    order = present[np.argsort(group_ids[present], kind="stable")]
    sorted_ids = group_ids[order]
    _, starts, sizes = np.unique(sorted_ids, return_index=True, return_counts=True)
    keep = (sizes >= 2) & (sizes <= max_group)
    if not keep.any():
        return np.zeros(0, dtype=np.int64)
    ends = np.repeat(starts + sizes, sizes)
    keep_record = np.repeat(keep, sizes)
    positions = np.flatnonzero(keep_record)
    ends = ends[keep_record]
    chunks: list[np.ndarray] = []
    for offset in range(1, int(sizes[keep].max())):
        inside = positions + offset < ends
        positions, ends = positions[inside], ends[inside]
        a, b = order[positions], order[positions + offset]
        chunks.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    return np.concatenate(chunks)


def block_sources(prepared: Sequence[FieldValues]) -> dict[str, np.ndarray]:
    """Every blocking key column: one per field, plus an email's local part and long number."""
    sources: dict[str, np.ndarray] = {}
    for fv in prepared:
        sources[fv.name] = fv.block_codes
        for form in ("local", "long_number") if fv.kind == "email" else ():
            per_code = np.append(fv.form_ids[form], -1)  # code -1 (missing) -> -1
            sources[f"{fv.name}.{form}"] = per_code[fv.codes]
    return sources


def _field_of(source: str) -> str:
    return source.split(".", 1)[0]


def choose_keys(sources: dict[str, np.ndarray], budget: int, max_group: int = MAX_GROUP) -> list[BlockingKey]:
    """Single sources and pairs of sources from two fields whose keys stay within the pair budget."""
    keys: list[BlockingKey] = []
    for size in (1, 2):
        for names in combinations(sources, size):
            if size == 2 and _field_of(names[0]) == _field_of(names[1]):
                continue
            ids = combine_codes([sources[name] for name in names])
            pairs = count_pairs(ids, max_group)
            if 0 < pairs <= budget:
                keys.append(BlockingKey(names, pairs))
    return keys


def candidate_pairs(
    prepared: Sequence[FieldValues],
    n_records: int,
    *,
    budget: int | None = None,
    max_group: int = MAX_GROUP,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[np.ndarray, list[BlockingKey]]:
    """Sorted distinct pair codes (left * n + right) sharing any chosen key, and the keys used."""
    budget = budget if budget is not None else max(10_000, 3 * n_records)
    sources = block_sources(prepared)
    keys = choose_keys(sources, budget, max_group)
    chunks: list[np.ndarray] = []
    for done, key in enumerate(keys):
        ids = combine_codes([sources[name] for name in key.fields])
        chunks.append(pairs_of(ids, max_group))
        if progress:
            progress("blocking", done + 1, len(keys))
    if not chunks:
        return np.zeros(0, dtype=np.int64), keys
    return sorted_unique(np.concatenate(chunks)), keys
