"""find_matches: record table in, scored pairs and auto-merge clusters out (no database here).

Prepare each configured field -> block on several keys -> compare candidate pairs level by
level -> fit the Fellegi-Sunter model by EM (no labels) -> score -> cluster at the auto
threshold. bench/dedupe_engine.py runs it on the FEBRL sets and a synthetic 200k table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from patron.dedupe.blocking import candidate_pairs
from patron.dedupe.clusters import build_clusters
from patron.dedupe.compare import PreparedTable
from patron.dedupe.compare import prepare_table as prepare_fields_table
from patron.dedupe.config import DEFAULT_CONFIG, MatchConfig
from patron.dedupe.model import MatchModel, fit, level_matrix, probability_of
from patron.dedupe.values import FieldValues, prepare, sorted_unique
from patron.errors import Invalid

Progress = Callable[[str, int, int], None]

# A cluster grows only while every pair inside it, on its own evidence, covers at least half the
# prior odds against a match (weight >= prior_weight / 2; FEBRL3 prior is about -12 bits, a 200k
# contact list about -18). Missing fields cost nothing, so a shop record with only an email and a
# till record with only a phone join through the CRM record that has both (same name: +12 bits
# or so). Two namesakes with different phones and emails (name +16, phone and email -15) do not,
# however strongly each links to a third. Half the prior, not zero, measured on the generated
# contact lists: precision 0.9990 -> 0.9996 for 0.3% of recall, FEBRL unchanged.
CROSS_PAIR_SHARE_OF_PRIOR = 0.5


@dataclass
class RecordTable:
    """One text value per record and trait (None = missing), by profile id."""

    ids: list[str]
    values: dict[str, list[str | None]]
    # Two records with different non-None values in an exclusive column (e.g. user_id) are
    # different people as far as auto-merging goes; they may still be returned for review.
    exclusive: dict[str, list[str | None]] = field(default_factory=dict)


@dataclass
class MatchResult:
    """Scored pairs at or above the review threshold, auto-merge clusters, and the fitted model."""

    compared: int  # candidate pairs compared after blocking
    left: np.ndarray  # record indices, left < right
    right: np.ndarray
    probability: np.ndarray
    weight: np.ndarray  # log2 Bayes factor total, prior included
    clusters: list[list[int]]  # groups of record indices to merge automatically, size >= 2
    model: MatchModel
    seconds: float


def log_odds(probability: float) -> float:
    """log2(p / (1 - p))."""
    return math.log2(probability / (1.0 - probability))


def _pair_codes(pairs: Iterable[tuple[int, int]], n: int) -> np.ndarray:
    array = np.asarray([(int(a), int(b)) for a, b in pairs], dtype=np.int64).reshape(-1, 2)
    array = array[array[:, 0] != array[:, 1]]
    if len(array) and (array.min() < 0 or array.max() >= n):
        raise Invalid(f"a pair refers to a record outside 0..{n - 1}", field="pairs")
    return np.unique(array.min(axis=1) * n + array.max(axis=1))


def _exclusive_codes(table: RecordTable) -> list[np.ndarray]:
    columns: list[np.ndarray] = []
    for name, values in table.exclusive.items():
        if len(values) != len(table.ids):
            raise Invalid(f"exclusive column {name!r} has {len(values)} values for {len(table.ids)} records",
                          field=name)  # fmt: skip
        seen: dict[str, int] = {}
        codes = np.array([-1 if v is None else seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)
        columns.append(codes)
    return columns


def prepare_table(table: RecordTable, config: MatchConfig, progress: Progress | None = None) -> PreparedTable:
    """The configured fields the table holds, normalised and coded."""
    n = len(table.ids)
    fields = [(name, kind) for name, kind in config.fields.items() if name in table.values]
    prepared: list[FieldValues] = []
    for done, (name, kind) in enumerate(fields):
        values = table.values[name]
        if len(values) != n:
            raise Invalid(f"trait {name!r} has {len(values)} values for {n} records", field=name)
        fv = prepare(name, kind, values)
        if (fv.codes >= 0).sum() >= 2:  # a trait nobody has cannot tell anyone apart
            prepared.append(fv)
        if progress:
            progress("preparing", done + 1, len(fields))
    if not prepared:
        configured = ", ".join(config.fields) if config is not DEFAULT_CONFIG else "the standard traits"
        raise Invalid(f"no record has any of the traits to compare ({configured})", field="fields")
    return prepare_fields_table(prepared, n)


def find_matches(
    table: RecordTable,
    config: MatchConfig,
    *,
    auto_threshold: float | None = None,
    review_threshold: float | None = None,
    cannot_link: Iterable[tuple[int, int]] = (),
    must_compare: Iterable[tuple[int, int]] = (),
    progress: Progress | None = None,
) -> MatchResult:
    """Score likely duplicate pairs and group the certain ones; labels are never used."""
    started = time.perf_counter()
    n = len(table.ids)
    auto = config.auto_threshold if auto_threshold is None else auto_threshold
    review = config.review_threshold if review_threshold is None else review_threshold
    if review_threshold is None and auto_threshold is not None:
        review = min(review, auto)  # --threshold 0.7 asks for more merges, not for an error
    if not 0 < review <= auto < 1:
        raise Invalid(
            f"thresholds must satisfy 0 < review ({review}) <= auto ({auto}) < 1", field="thresholds"
        )
    must_codes = _pair_codes(must_compare, n)
    cannot_codes = _pair_codes(cannot_link, n)
    if n < 2:
        none = np.zeros(0, dtype=np.int64)
        return MatchResult(0, none, none, np.zeros(0), np.zeros(0), [], MatchModel([], 0.5, 0.0),
                           time.perf_counter() - started)  # fmt: skip
    prepared = prepare_table(table, config, progress)

    codes, _ = candidate_pairs(prepared.fields, n, progress=progress)
    compared = len(codes)
    codes = sorted_unique(np.concatenate([codes, must_codes]))
    left, right = (codes // n).astype(np.int64), (codes % n).astype(np.int64)
    if progress:
        progress("comparing", 0, len(codes))
    levels = level_matrix(prepared, left, right)
    if progress:
        progress("comparing", len(codes), len(codes))
        progress("training", 0, 1)
    model = fit(prepared, levels, table=table)
    weight = model.total_weight(prepared, levels, left)
    del levels
    probability = probability_of(weight)
    if progress:
        progress("training", 1, 1)
        progress("clustering", 0, 1)

    def weigh_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return model.weigh(prepared, a, b)[0]

    clusters = build_clusters(
        n, left, right, weight,
        auto_weight=log_odds(auto), floor_weight=model.prior_weight * (1 - CROSS_PAIR_SHARE_OF_PRIOR),
        candidate_codes=codes, cannot_link_codes=cannot_codes,
        exclusive=_exclusive_codes(table), weigh_pairs=weigh_pairs,
    )  # fmt: skip
    if progress:
        progress("clustering", 1, 1)
    # must_compare pairs come back whatever they score; a "not the same person" decision still wins.
    keep = ((probability >= review) | np.isin(codes, must_codes)) & ~np.isin(codes, cannot_codes)
    return MatchResult(
        compared=compared,
        left=left[keep],
        right=right[keep],
        probability=probability[keep],
        weight=weight[keep],
        clusters=clusters,
        model=model,
        seconds=time.perf_counter() - started,
    )
