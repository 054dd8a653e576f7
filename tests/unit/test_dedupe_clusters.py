"""Clustering: strongest links first, and no chaining through one record."""

import numpy as np

from patron.dedupe.clusters import build_clusters


def clusters_of(n, edges, *, unknown_weight=-20.0, cannot=(), exclusive=()):
    left = np.array([a for a, _, _ in edges])
    right = np.array([b for _, b, _ in edges])
    weight = np.array([w for _, _, w in edges], dtype=float)
    codes = np.sort(left * n + right)
    cannot_codes = np.sort(np.array([min(a, b) * n + max(a, b) for a, b in cannot], dtype=np.int64))
    return build_clusters(
        n, left, right, weight, auto_weight=7.0, floor_weight=2.0, candidate_codes=codes,
        cannot_link_codes=cannot_codes, exclusive=[np.array(c) for c in exclusive],
        weigh_pairs=lambda a, b: np.full(len(a), unknown_weight),
    )  # fmt: skip


def test_chain_through_one_record_does_not_join_dissimilar_ends():
    # A~B strong, B~C strong, A and C plainly different (scored on demand: never blocked together)
    assert clusters_of(3, [(0, 1, 30.0), (1, 2, 25.0)]) == [[0, 1]]


def test_chain_is_cut_when_the_end_pair_was_compared_and_scored_low():
    assert clusters_of(3, [(0, 1, 30.0), (1, 2, 25.0), (0, 2, -5.0)]) == [[0, 1]]


def test_chain_holds_when_every_cross_pair_is_plausible():
    assert clusters_of(3, [(0, 1, 30.0), (1, 2, 25.0), (0, 2, 3.0)]) == [[0, 1, 2]]
    assert clusters_of(3, [(0, 1, 30.0), (1, 2, 25.0)], unknown_weight=4.0) == [[0, 1, 2]]


def test_cannot_link_and_exclusive_values_split_groups():
    edges = [(0, 1, 30.0), (1, 2, 25.0), (0, 2, 20.0)]
    assert clusters_of(3, edges, cannot=[(2, 0)]) == [[0, 1]]
    assert clusters_of(3, edges, exclusive=[[5, -1, 6]]) == [[0, 1]]
    assert clusters_of(3, [(0, 1, 30.0)], exclusive=[[5, 6, -1]]) == []
