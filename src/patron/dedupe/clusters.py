"""Auto-merge clusters: strongest links first, and a merge only when every cross pair holds up.

Connected components over the auto-merge edges chain people together: A~B and B~C join A and
C even when A and C plainly differ, and one weak link can fuse two families into one profile.
Here edges at or above the auto threshold are taken strongest first, and two clusters merge
only if *every* pair across them reaches a floor weight (complete linkage at a low floor): one
strong link starts a cluster, and each member must stay compatible with each other member.
The engine sets the floor at "the pair's own evidence favours a match" (see
engine.CROSS_PAIR_EVIDENCE_BITS): records that merely lack shared fields may join through a
record that has both, records that contradict each other may not. Cross pairs that blocking
never produced are scored on demand. A pair a person marked "not the same", or two records
with different values in an exclusive column (two user ids), never end up in one cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _contains(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    if len(sorted_codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    at = np.searchsorted(sorted_codes, codes).clip(0, len(sorted_codes) - 1)
    return sorted_codes[at] == codes


def exclusive_conflict(exclusive: Sequence[np.ndarray], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True for pairs holding different values in any exclusive column (codes, -1 = none)."""
    conflict = np.zeros(len(left), dtype=bool)
    for codes in exclusive:
        a, b = codes[left], codes[right]
        conflict |= (a >= 0) & (b >= 0) & (a != b)
    return conflict


def build_clusters(
    n_records: int,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    *,
    auto_weight: float,
    floor_weight: float,
    candidate_codes: np.ndarray,
    cannot_link_codes: np.ndarray,
    exclusive: Sequence[np.ndarray],
    weigh_pairs: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[list[int]]:
    """Groups (size >= 2) of records to merge automatically.

    left/right/weight: every scored candidate pair; candidate_codes: sorted left * n + right of
    all of them (so a missing cross pair is known to be below the floor or never compared);
    weigh_pairs scores pairs blocking did not produce.
    """
    n = n_records
    codes = left.astype(np.int64) * n + right
    is_edge = (weight >= auto_weight) & ~_contains(cannot_link_codes, codes)
    is_edge &= ~exclusive_conflict(exclusive, left, right)
    order = np.flatnonzero(is_edge)[np.argsort(-weight[is_edge], kind="stable")]
    plausible = weight >= floor_weight
    plausible_codes = np.sort(codes[plausible])

    parent = list(range(n))
    members: dict[int, list[int]] = {}
    owned: dict[int, dict[int, int]] = {}  # cluster root -> exclusive column -> value code

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def exclusive_values(record: int) -> dict[int, int]:
        return {col: int(c[record]) for col, c in enumerate(exclusive) if c[record] >= 0}

    def holds_together(group_a: list[int], group_b: list[int]) -> bool:
        a = np.repeat(np.asarray(group_a, dtype=np.int64), len(group_b))
        b = np.tile(np.asarray(group_b, dtype=np.int64), len(group_a))
        low, high = np.minimum(a, b), np.maximum(a, b)
        cross = low * n + high
        if _contains(cannot_link_codes, cross).any():
            return False
        unknown = ~_contains(plausible_codes, cross)
        if not unknown.any():
            return True
        if _contains(candidate_codes, cross[unknown]).any():
            return False  # compared, and below the floor
        return bool((weigh_pairs(low[unknown], high[unknown]) >= floor_weight).all())

    for edge in order.tolist():
        a, b = int(left[edge]), int(right[edge])
        root_a, root_b = find(a), find(b)
        if root_a == root_b:
            continue
        group_a = members.get(root_a, [a])
        group_b = members.get(root_b, [b])
        values_a = owned.get(root_a) if root_a in owned else exclusive_values(a)
        values_b = owned.get(root_b) if root_b in owned else exclusive_values(b)
        if any(col in values_a and values_a[col] != value for col, value in values_b.items()):
            continue
        if (len(group_a) > 1 or len(group_b) > 1) and not holds_together(group_a, group_b):
            continue
        if len(group_a) < len(group_b):
            root_a, root_b, group_a, group_b, values_a, values_b = (
                root_b, root_a, group_b, group_a, values_b, values_a,
            )  # fmt: skip
        parent[root_b] = root_a
        members[root_a] = group_a + group_b
        members.pop(root_b, None)
        owned[root_a] = {**values_b, **values_a}
        owned.pop(root_b, None)
    return sorted((sorted(group) for group in members.values()), key=lambda g: g[0])
