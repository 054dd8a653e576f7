"""Profiles: one per person; upserted from any source, read by id, identity or search."""

from patron.profiles.queries import (
    FILTER_OPS,
    Page,
    Profile,
    TraitFilter,
    count_profiles,
    get_profile,
    identities_by_kind,
    iter_profiles,
    list_profiles,
    lookup,
    merge_candidates_of,
    stats,
)
from patron.profiles.record import PreparedRecord, Problem, prepare_record, split_name
from patron.profiles.writes import (
    CREATED,
    UNCHANGED,
    UPDATED,
    BatchOutcome,
    RecordOutcome,
    delete_profile,
    patch_profile,
    upsert_records,
)

__all__ = [
    "CREATED",
    "FILTER_OPS",
    "UNCHANGED",
    "UPDATED",
    "BatchOutcome",
    "Page",
    "PreparedRecord",
    "Problem",
    "Profile",
    "RecordOutcome",
    "TraitFilter",
    "count_profiles",
    "delete_profile",
    "get_profile",
    "identities_by_kind",
    "iter_profiles",
    "list_profiles",
    "lookup",
    "merge_candidates_of",
    "patch_profile",
    "prepare_record",
    "split_name",
    "stats",
    "upsert_records",
]
