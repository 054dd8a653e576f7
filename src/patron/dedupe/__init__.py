"""Identity resolution: duplicates found, merged with evidence and survivorship, undoable."""

from patron.dedupe.config import DEFAULT_CONFIG, KINDS, MatchConfig, load_config, parse_config
from patron.dedupe.decisions import distinct_pairs, remember_distinct
from patron.dedupe.engine import MatchResult, RecordTable, find_matches
from patron.dedupe.history import get_merge, list_merges, survivor_of
from patron.dedupe.merging import MergeOutcome, MergeRequest, merge_groups
from patron.dedupe.queue import (
    DECISIONS,
    candidate_view,
    candidate_views,
    count_open,
    decide,
    get_candidate,
    list_queue,
    merge_pair,
)
from patron.dedupe.service import DedupeSummary, match_config, run_dedupe, survivorship_of
from patron.dedupe.survivorship import RULES, Survivorship, consent_direction
from patron.dedupe.unmerging import unmerge

__all__ = [
    "DECISIONS",
    "DEFAULT_CONFIG",
    "KINDS",
    "RULES",
    "DedupeSummary",
    "MatchConfig",
    "MatchResult",
    "MergeOutcome",
    "MergeRequest",
    "RecordTable",
    "Survivorship",
    "consent_direction",
    "candidate_view",
    "candidate_views",
    "count_open",
    "decide",
    "distinct_pairs",
    "find_matches",
    "get_candidate",
    "get_merge",
    "list_merges",
    "list_queue",
    "load_config",
    "match_config",
    "merge_groups",
    "merge_pair",
    "parse_config",
    "remember_distinct",
    "run_dedupe",
    "survivor_of",
    "survivorship_of",
    "unmerge",
]
