"""Learning m without labels, robustly: EM with expert priors, and a fallback when EM goes astray.

Plain EM finds *some* two-class split of the candidate pairs. When true duplicates are many
(FEBRL: more pairs than records) that split is "same person / not". When they are rare, as in
a real contact list after exact identities have merged the easy cases, EM happily splits
"same surname / not" or "same city / not" instead, and then scores namesakes as duplicates.

Two guards, both label-free:
- MAP estimation: every field's m starts from, and is pulled towards, an expert prior for its
  kind (pseudo-counts worth PRIOR_STRENGTH pairs). With thousands of matches the data decide;
  with a handful the prior does.
- Plausibility: a learnt m that says agreeing is no evidence for a match, disagreeing no
  evidence against, or that duplicates disagree on the field more often than MAX_DIFFERENT,
  is not a model of duplicates. Such a field is held at its prior and EM runs again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MISSING = 0
_FLOOR = 1e-9

# m per comparison level (without "missing"), in compare.LEVEL_LABELS order: how a duplicate's two
# values compare. Set from what contact data looks like: names mostly equal, with typos and
# nicknames; people have two or three email addresses; phones change; birthdays rarely.
PRIOR_M: dict[str, tuple[float, ...]] = {
    "name": (0.86, 0.07, 0.04, 0.03),
    "text": (0.70, 0.10, 0.08, 0.12),
    "address": (0.72, 0.14, 0.07, 0.07),
    "postcode": (0.90, 0.05, 0.05),
    "date": (0.88, 0.06, 0.03, 0.03),
    "identifier": (0.90, 0.06, 0.04),
    "email": (0.55, 0.10, 0.10, 0.05, 0.20),
    "phone": (0.80, 0.05, 0.05, 0.10),
    "exact": (0.95, 0.05),
}
# The largest share of duplicates that may disagree outright on a field of this kind.
MAX_DIFFERENT: dict[str, float] = {
    "name": 0.5, "text": 0.8, "address": 0.6, "postcode": 0.5, "date": 0.5, "identifier": 0.5,
    "email": 0.9, "phone": 0.7, "exact": 0.5,
}  # fmt: skip
PRIOR_STRENGTH = 30.0
# Fewest duplicate pairs assumed per record when EM finds almost none: a list where nobody is
# duplicated still gets a probability for a striking pair, rather than a prior of zero.
MIN_DUPLICATES_PER_RECORD = 0.005


def prior_m(kind: str, n_levels: int) -> np.ndarray:
    """The expert m of a kind, with index 0 (missing) set to 1."""
    values = PRIOR_M[kind]
    if len(values) != n_levels - 1:
        raise ValueError(f"prior for {kind} has {len(values)} levels, the comparison {n_levels - 1}")
    return np.array([1.0, *values])


def train_m(
    patterns: np.ndarray, counts: np.ndarray, kinds: Sequence[str], u: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], float, list[int]]:
    """m per field, EM's match share among the candidate pairs, and the fields held at their prior."""
    m = [prior_m(kind, len(u_f)) for kind, u_f in zip(kinds, u, strict=True)]
    held = [False] * len(kinds)
    share = 0.05
    for _ in range(len(kinds) + 1):
        learnt, share = _expectation_maximisation(patterns, counts, m, u, kinds, held)
        implausible = [
            c for c in range(len(kinds)) if not held[c] and _implausible(kinds[c], learnt[c], u[c])
        ]
        if not implausible:
            m = learnt
            break
        for column in implausible:
            held[column] = True
        m = [prior_m(kinds[c], len(u[c])) if held[c] else learnt[c] for c in range(len(kinds))]
    return m, share, [c for c, is_held in enumerate(held) if is_held]


def match_prior(share: float, candidates: int, n_records: int) -> float:
    """The probability that two records picked at random are one person."""
    all_pairs = max(n_records * (n_records - 1) / 2, 1.0)
    expected = max(share * candidates, MIN_DUPLICATES_PER_RECORD * n_records)
    return min(max(expected / all_pairs, 1e-12), 0.5)


def _implausible(kind: str, m: np.ndarray, u_random: np.ndarray) -> bool:
    weights = np.log2(np.maximum(m[1:], _FLOOR) / np.maximum(u_random[1:], _FLOOR))
    if weights[0] <= 1.0:  # agreeing exactly must be evidence for a match
        return True
    if weights[-1] >= -0.5:  # disagreeing outright must be evidence against
        return True
    if m[-1] > MAX_DIFFERENT[kind]:
        return True
    return bool(np.any(np.diff(weights) > 0.5))  # a weaker agreement must not weigh more


def _expectation_maximisation(
    patterns: np.ndarray, counts: np.ndarray, m: list[np.ndarray], u_random: Sequence[np.ndarray],
    kinds: Sequence[str], held: list[bool],
    *, iterations: int = 80, tolerance: float = 1e-7,
) -> tuple[list[np.ndarray], float]:  # fmt: skip
    """EM of a two-class mixture; the non-match class learns its own u (candidates agree on blocked
    fields far more often than random pairs), used only here."""
    m = [x.copy() for x in m]
    u = [x.copy() for x in u_random]
    weights = counts.astype(np.float64)
    total = weights.sum()
    share = 0.05
    for _ in range(iterations):
        log_ratio = np.full(len(patterns), np.log(share / (1.0 - share)))
        for column in range(patterns.shape[1]):
            ratio = np.log(np.maximum(m[column], _FLOOR)) - np.log(np.maximum(u[column], _FLOOR))
            ratio[MISSING] = 0.0
            log_ratio += ratio[patterns[:, column]]
        posterior = 1.0 / (1.0 + np.exp(-np.clip(log_ratio, -700, 700)))
        match_weight = weights * posterior
        other_weight = weights - match_weight
        new_share = min(max(float(match_weight.sum() / total), 1e-9), 1 - 1e-9)
        for column in range(patterns.shape[1]):
            level = patterns[:, column]
            n_levels = len(m[column])
            if not held[column]:
                sums = _level_sums(level, match_weight, n_levels)
                sums[1:] += PRIOR_STRENGTH * prior_m(kinds[column], n_levels)[1:]
                m[column] = _normalised(sums)
            u[column] = _normalised(_level_sums(level, other_weight, n_levels))
        if abs(new_share - share) < tolerance:
            return m, new_share
        share = new_share
    return m, share


def _level_sums(level: np.ndarray, weight: np.ndarray, n_levels: int) -> np.ndarray:
    sums = np.bincount(level, weights=weight, minlength=n_levels)[:n_levels].astype(np.float64)
    sums[MISSING] = 0.0
    sums[1:] += 1e-3 * max(float(weight.sum()), 1.0) / n_levels  # every level stays possible
    return sums


def _normalised(sums: np.ndarray) -> np.ndarray:
    estimate = sums / sums[1:].sum()
    estimate[MISSING] = 1.0
    return estimate
