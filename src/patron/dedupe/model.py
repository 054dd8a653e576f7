"""Unsupervised Fellegi-Sunter scoring: m and u per comparison level, learnt without labels.

u (how often two *different* people land on a level) comes from the whole record table: exact
agreement analytically from value counts, the other levels from a random sample of record
pairs (random pairs are almost all non-matches). m (how often the *same* person does) comes
from expectation-maximisation over the candidate pairs, run on distinct comparison patterns
(thousands, not millions of rows). EM there learns its own u too, because candidate non-matches
agree on blocked fields far more often than random pairs; that u stays inside training, and
scoring uses the table-wide u with the prior rescaled to all pairs, so a probability means the
same thing whatever the blocking was.

Exact agreement is term-frequency adjusted: its u is the value's own share of records, so
agreeing on a rare surname weighs more than agreeing on "smith" (weight = log2(m / share)); so
are levels that agree on a form of the value (an email's mailbox, its local part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patron.dedupe.compare import PreparedTable, compare, cross_fields, describe, prepare_table
from patron.dedupe.training import match_prior, prior_m, train_m
from patron.dedupe.values import EXACT, MISSING, FieldValues, prepare

_FLOOR = 1e-6
# Random pairs sampled for u: one per record, within these bounds. A level no sampled pair reached
# gets u = 0.5 / sample, so the sample bounds how strongly rare agreement can count; more records
# afford (and need) a finer floor. Measured on the generated contact lists: 15k pairs cost 2% of
# recall at 50k records, 30k -> 60k gains 0.3%.
_U_SAMPLE_BOUNDS = (20_000, 60_000)


@dataclass
class FieldModel:
    """The m and u probability of each comparison level of one field (index 0, missing, unused)."""

    name: str
    kind: str
    labels: tuple[str, ...]
    m: np.ndarray
    u: np.ndarray

    def weights(self) -> np.ndarray:
        """log2(m/u) per level, 0 for missing; a weaker agreement never weighs more than a stronger."""
        w = np.log2(np.maximum(self.m, _FLOOR) / np.maximum(self.u, _FLOOR))
        w[MISSING] = 0.0
        # A level random pairs never reached keeps u at the sampling floor, and then a tiny m can
        # outweigh exact agreement (a one-letter slip in a surname worth more than the surname).
        w[EXACT:] = np.minimum.accumulate(w[EXACT:])
        return w


def level_matrix(prepared: PreparedTable, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Comparison levels, one row per pair, one column per field (uint8), swapped fields crossed."""
    levels = np.empty((len(left), len(prepared.fields)), dtype=np.uint8)
    for column, fv in enumerate(prepared.fields):
        levels[:, column] = compare(fv, left, right)
    cross_fields(prepared, levels, left, right)
    return levels


def _pattern_ids(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of the level matrix, their counts, and each pair's row index."""
    if levels.shape[1] <= 21:  # 3 bits per level (fewer than 8 levels) fit one int64
        packed = np.zeros(len(levels), dtype=np.int64)
        for column in range(levels.shape[1]):
            packed |= levels[:, column].astype(np.int64) << (3 * column)
        _, first, inverse, counts = np.unique(
            packed, return_index=True, return_inverse=True, return_counts=True
        )
        return levels[first], counts, inverse
    patterns, inverse, counts = np.unique(levels, axis=0, return_inverse=True, return_counts=True)
    return patterns, counts, inverse.ravel()


def estimate_u(prepared: Sequence[FieldValues], n_records: int, seed: int = 7) -> list[np.ndarray]:
    """Per field, the share of random record pairs on each level among pairs where both have a value."""
    rng = np.random.default_rng(seed)
    sample = min(
        max(_U_SAMPLE_BOUNDS[0], min(n_records, _U_SAMPLE_BOUNDS[1])), n_records * (n_records - 1) // 2
    )
    left = rng.integers(0, n_records, size=sample)
    right = rng.integers(0, n_records - 1, size=sample)
    right = np.where(right >= left, right + 1, right)  # never a record with itself
    result: list[np.ndarray] = []
    for fv in prepared:
        n_levels = len(fv.labels)
        levels = compare(fv, left, right)
        counts = np.bincount(levels, minlength=n_levels).astype(np.float64)[:n_levels]
        counts[MISSING] = 0.0
        counts[EXACT] = 0.0
        counts[2:] += 0.5  # a level never seen in the sample is rare, not impossible
        present = np.bincount(fv.codes[fv.codes >= 0], minlength=len(fv.keys)).astype(np.float64)
        n_present = present.sum()
        exact = (np.square(present).sum() - n_present) / max(n_present * (n_present - 1), 1.0)
        exact = min(max(exact, 1.0 / max(n_present * n_present, 1.0)), 0.5)
        u = np.zeros(n_levels)
        u[EXACT] = exact
        u[2:] = (1.0 - exact) * counts[2:] / counts[2:].sum()
        u[MISSING] = 1.0
        result.append(u)
    return result


@dataclass
class MatchModel:
    """A fitted Fellegi-Sunter model over the configured fields."""

    fields: list[FieldModel]
    prior: float  # probability that two records picked at random are the same person
    candidate_share: float  # EM's share of matches among candidate pairs
    _prepared: PreparedTable | None = field(default=None, repr=False)
    _table: object = field(default=None, repr=False)
    # Fields whose m EM could not learn plausibly, kept at the expert prior (training.py).
    held_at_prior: list[str] = field(default_factory=list)

    @property
    def prior_weight(self) -> float:
        """log2 prior odds."""
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def prepared_for(self, table: Any) -> PreparedTable:
        """The table's fields prepared (cached for the fitted table; another brings its own frequencies)."""
        if table is self._table and self._prepared is not None:
            return self._prepared
        fields = [prepare(f.name, f.kind, table.values[f.name]) for f in self.fields]
        return prepare_table(fields, len(table.ids))

    def pair_weights(self, prepared: PreparedTable, levels: np.ndarray, left: np.ndarray) -> np.ndarray:
        """Per pair and field, the log2 Bayes factor, exact agreement adjusted for term frequency."""
        weights = np.empty(levels.shape, dtype=np.float64)
        for column, (fm, fv) in enumerate(zip(self.fields, prepared.fields, strict=True)):
            weights[:, column] = self._field_weights(fm, fv, levels[:, column], left)
        return weights

    @staticmethod
    def _field_weights(fm: FieldModel, fv: FieldValues, level: np.ndarray, left: np.ndarray) -> np.ndarray:
        weights = fm.weights()[level]
        for agreeing, frequency in [(EXACT, fv.frequency), *fv.level_frequency.items()]:
            at = level == agreeing
            if at.any():
                share = np.maximum(frequency[fv.codes[left[at]]], _FLOOR)
                weights[at] = np.log2(max(fm.m[agreeing], _FLOOR)) - np.log2(share)
        return weights

    def weigh(
        self, prepared: PreparedTable, left: np.ndarray, right: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Total match weight (log2 odds, prior included) and probability of each pair."""
        total = self.total_weight(prepared, level_matrix(prepared, left, right), left)
        return total, probability_of(total)

    def total_weight(self, prepared: PreparedTable, levels: np.ndarray, left: np.ndarray) -> np.ndarray:
        """Prior plus every field's weight, per pair (column by column: no pairs x fields floats)."""
        total = np.full(len(levels), self.prior_weight)
        for column, (fm, fv) in enumerate(zip(self.fields, prepared.fields, strict=True)):
            total += self._field_weights(fm, fv, levels[:, column], left)
        return total

    def score(self, table: Any, pairs: list[tuple[int, int]]) -> list[float]:
        """Match probability of each (i, j) pair of records of `table`."""
        if not pairs:
            return []
        index = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        _, probability = self.weigh(self.prepared_for(table), index[:, 0], index[:, 1])
        return probability.tolist()

    def explain(self, table: Any, i: int, j: int) -> dict:
        """Why records i and j score what they do: each field's level, values and weight."""
        return self.explain_many(table, [(i, j)])[0]

    def explain_many(self, table: Any, pairs: Sequence[tuple[int, int]]) -> list[dict]:
        """explain() for many pairs in one vectorised pass (a pair at a time costs about 1 ms)."""
        if not pairs:
            return []
        prepared = self.prepared_for(table)
        index = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        left, right = index[:, 0], index[:, 1]
        levels = np.empty((len(index), len(prepared.fields)), dtype=np.uint8)
        for column, fv in enumerate(prepared.fields):
            levels[:, column] = compare(fv, left, right)
        swapped, name_only = cross_fields(prepared, levels, left, right)
        weights = self.pair_weights(prepared, levels, left)
        totals = self.prior_weight + weights.sum(axis=1)
        probabilities = probability_of(totals)
        explained = []
        for row, (i, j) in enumerate(index.tolist()):
            fields = [
                {
                    "field": fm.name,
                    "kind": fm.kind,
                    "level": _label(
                        fm, int(levels[row, column]), name_only[row] and column in prepared.name_built
                    ),
                    "a": table.values[fm.name][i],
                    "b": table.values[fm.name][j],
                    "normalised_a": describe(fv, i),
                    "normalised_b": describe(fv, j),
                    "weight": round(float(weights[row, column]), 3),
                }
                for column, (fm, fv) in enumerate(zip(self.fields, prepared.fields, strict=True))
            ]
            explained.append({
                "probability": float(probabilities[row]),
                "weight": round(float(totals[row]), 3),
                "prior_weight": round(self.prior_weight, 3),
                "fields": fields,
                "swapped": bool(swapped[row]),  # e.g. first and last name written in each other's place
            })  # fmt: skip
        return explained

    def summary(self) -> dict:
        """The fitted parameters, JSON-able, for the admin page."""
        return {
            "lambda": self.prior,
            "prior_weight": round(self.prior_weight, 3),
            "candidate_match_share": self.candidate_share,
            "held_at_prior": self.held_at_prior,
            "fields": [
                {
                    "field": fm.name,
                    "kind": fm.kind,
                    "levels": [
                        {
                            "level": label,
                            "m": float(fm.m[k]),
                            "u": float(fm.u[k]),
                            "weight": round(float(fm.weights()[k]), 3),
                        }
                        for k, label in enumerate(fm.labels)
                        if k != MISSING
                    ],  # fmt: skip
                }
                for fm in self.fields
            ],
        }


def _label(fm: FieldModel, level: int, is_name_only: bool) -> str:
    return "same local part, only the name" if is_name_only else fm.labels[level]


def probability_of(weight: np.ndarray) -> np.ndarray:
    """Probability from log2 odds."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -1000, 1000)))


def fit(prepared: PreparedTable, levels: np.ndarray, *, table: object = None) -> MatchModel:
    """Learn m by EM over the candidate pairs (training.py) and u from the whole table; no labels."""
    n_records = prepared.n_records
    u = estimate_u(prepared.fields, n_records)
    kinds = [fv.kind for fv in prepared.fields]
    if len(levels):
        patterns, counts, _ = _pattern_ids(levels)
        m, share, held = train_m(patterns, counts, kinds, u)
    else:  # blocking paired nobody: nothing to learn from, the expert priors stand
        m, share = [prior_m(kind, len(u_f)) for kind, u_f in zip(kinds, u, strict=True)], 0.0
        held = list(range(len(kinds)))
    prior = match_prior(share, len(levels), n_records)
    fields = [
        FieldModel(fv.name, fv.kind, fv.labels, m_f, u_f)
        for fv, m_f, u_f in zip(prepared.fields, m, u, strict=True)
    ]
    model = MatchModel(fields, prior, share, prepared, table)
    model.held_at_prior = [prepared.fields[column].name for column in held]
    return model
