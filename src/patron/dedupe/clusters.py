"""Auto-merge clusters: strongest links first, and a merge only when every cross pair holds up.

Connected components over the auto-merge edges chain people together: A~B and B~C join A and
C even when A and C plainly differ, and one weak link can fuse two families into one profile.
Here edges at or above the auto threshold are taken strongest first, and two clusters merge
only if *every* pair across them reaches a floor weight (complete linkage at a low floor): one
strong link starts a cluster, and each member must stay compatible with each other member.
The engine sets the floor at "the pair's own evidence covers half the prior odds" (see
engine.CROSS_PAIR_SHARE_OF_PRIOR): records that merely lack shared fields may join through a
record that has both, records that contradict each other may not. Cross pairs that blocking
never produced are scored on demand. A pair a person marked "not the same", or two records
with different values in an exclusive column (two user ids), never end up in one cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from patron.dedupe.blocking import pairs_of

# Groups up to this size have all their inside pairs scored up front; larger ones on demand.
PRESCORED_GROUP = 40


def _contains(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    if len(sorted_codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    at = np.searchsorted(sorted_codes, codes).clip(0, len(sorted_codes) - 1)
    return sorted_codes[at] == codes


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label per record over the given edges; -1 for records on no edge."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    labels = np.full(n, -1, dtype=np.int64)
    on_edge = np.unique(np.concatenate([left, right]))
    labels[on_edge] = [find(x) for x in on_edge.tolist()]
    return labels


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
    """Groups (size >= 2) of records to merge automatically."""
    # left/right/weight: every scored candidate pair; candidate_codes: sorted left * n + right of
    # all of them (so a cross pair missing from the plausible set was compared and found below the
    # floor, or never compared); weigh_pairs scores the pairs blocking did not produce.
    n = n_records
    codes = left.astype(np.int64) * n + right
    is_edge = (weight >= auto_weight) & ~_contains(cannot_link_codes, codes)
    is_edge &= ~exclusive_conflict(exclusive, left, right)
    order = np.flatnonzero(is_edge)[np.argsort(-weight[is_edge], kind="stable")]
    # Score, in one pass, the pairs inside each group the edges could form that blocking did not
    # compare (a one-by-one call per merge costs more than the scoring itself).
    inside = pairs_of(_components(n, left[order], right[order]), PRESCORED_GROUP)
    extra = inside[~_contains(candidate_codes, inside)]
    extra_weight = weigh_pairs(extra // n, extra % n) if len(extra) else np.zeros(0)
    candidate_codes = np.sort(np.concatenate([candidate_codes, extra]))
    plausible_codes = np.sort(
        np.concatenate([codes[weight >= floor_weight], extra[extra_weight >= floor_weight]])
    )

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

    plausible = set(plausible_codes.tolist())  # lookups one by one: groups are small, sets beat numpy
    cannot = set(cannot_link_codes.tolist())

    def holds_together(group_a: list[int], group_b: list[int]) -> bool:
        unknown: list[int] = []
        for x in group_a:
            for y in group_b:
                code = x * n + y if x < y else y * n + x
                if code in cannot:
                    return False
                if code not in plausible:
                    unknown.append(code)
        if not unknown:
            return True
        codes_left = np.asarray(unknown, dtype=np.int64)
        if _contains(candidate_codes, codes_left).any():
            return False  # compared, and below the floor
        return bool((weigh_pairs(codes_left // n, codes_left % n) >= floor_weight).all())

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
