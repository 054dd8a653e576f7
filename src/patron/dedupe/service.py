"""A dedupe run: read profiles, find duplicates, merge the sure ones, queue the likely ones for review."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from patron.dedupe.config import DEFAULT_CONFIG, MatchConfig, load_config
from patron.dedupe.decisions import distinct_pairs
from patron.dedupe.engine import RecordTable, find_matches
from patron.dedupe.loading import load_table
from patron.dedupe.merging import MergeRequest, merge_groups
from patron.dedupe.queue import QueuedPair, count_open, queue_pairs
from patron.dedupe.survivorship import Survivorship
from patron.errors import Invalid
from patron.identity.rules import IdentityRules
from patron.quality.standards import Standards, fold_field, load_standards
from patron.storage.engine import transaction
from patron.storage.schema import identities, merge_candidates, profiles

Progress = Callable[[str, int, int], None]
FUZZY, EMAIL_KEY, INGEST = "fuzzy", "email_key", "ingest"


@dataclass(frozen=True, slots=True)
class DedupeSummary:
    """What one run did (the `patron dedupe --json` object)."""

    profiles: int
    compared: int
    auto_merged: int  # profiles merged into another
    groups: int  # survivors that absorbed at least one profile
    queued: int  # pairs waiting for review after the run
    newly_queued: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


def match_config(settings: Any, path: str | None = None) -> MatchConfig:
    """The match configuration of a run: `path`, else PATRON_DEDUPE_CONFIG, else the defaults."""
    chosen = path or settings.dedupe_config
    return load_config(chosen) if chosen else DEFAULT_CONFIG


def survivorship_of(config: MatchConfig, settings: Any) -> Survivorship:
    """Survivorship rules from the match configuration; PATRON_DEDUPE_SOURCE_PRIORITY wins."""
    priority = settings.dedupe_source_priority or config.source_priority
    return Survivorship.of(
        default_rule=config.default_rule, rules=config.survivorship, source_priority=priority
    )


def run_dedupe(
    engine: Engine,
    *,
    config: MatchConfig,
    survivorship: Survivorship,
    rules: IdentityRules,
    threshold: float | None = None,
    actor: str = "dedupe",
    progress: Progress | None = None,
) -> DedupeSummary:
    """Find duplicates among all profiles; merge groups at or above the auto threshold, queue the rest."""
    if threshold is not None and not 0 < threshold < 1:
        raise Invalid(f"threshold {threshold} must be a probability between 0 and 1", field="threshold")
    started = time.perf_counter()
    with transaction(engine, write=False) as conn:
        config = canonical_fields(config, load_standards(conn))
        table = load_table(conn, config, rules=rules, progress=progress)
        distinct = distinct_pairs(conn)
        recorded = _recorded_pairs(conn)
        same_email = _same_email_key(conn)
    index = {pid: position for position, pid in enumerate(table.ids)}
    cannot_link = _positions(index, distinct)
    must_compare = _positions(index, list(recorded) + same_email)
    result = None
    if _comparable(table):  # a handful of profiles with nothing in common: only exact keys apply
        result = find_matches(
            table, config, auto_threshold=threshold, cannot_link=cannot_link, must_compare=must_compare,
            progress=progress,
        )  # fmt: skip
    auto = threshold if threshold is not None else config.auto_threshold
    found = result.clusters if result else []
    grouped = _with_same_email(found, _positions(index, same_email), table, set(cannot_link))
    with transaction(engine, write=False) as conn:
        too_many = _over_identity_limits(conn, grouped, table.ids, rules)
    clusters = [cluster for number, cluster in enumerate(grouped) if number not in too_many]
    held_back = {position: too_many[number] for number, cluster in enumerate(grouped) if number in too_many
                 for position in cluster}  # fmt: skip
    member_of = {position: number for number, cluster in enumerate(clusters) for position in cluster}
    probability: dict[tuple[int, int], float] = {}
    if result is not None:
        for a, b, p in zip(result.left, result.right, result.probability, strict=True):
            probability[(int(a), int(b))] = float(p)
    model = result.model if result else None
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    queued: list[QueuedPair] = []
    for (a, b), p in probability.items():
        group = member_of.get(a)
        if group is not None and group == member_of.get(b):
            edges[group].append((a, b))
            continue
        pair = (table.ids[a], table.ids[b])
        origin = recorded.get((min(pair), max(pair)), FUZZY)
        reason = held_back.get(a) if held_back.get(a) and held_back.get(a) == held_back.get(b) else None
        reason = reason or _reason(origin, p, auto, table, a, b)
        queued.append(QueuedPair(pair[0], pair[1], p, origin, reason))
    wanted = [edge for group in edges.values() for edge in group]
    wanted += [(index[pair.first], index[pair.second]) for pair in queued]
    evidence = _evidence(model, table, wanted, probability)
    folded = set(_positions(index, same_email))
    requests = []
    for number, cluster in enumerate(clusters):
        pairs = tuple(evidence[edge] for edge in edges[number])
        scores = [p["probability"] for p in pairs if p.get("probability") is not None]
        same_address = any((a, b) in folded for a in cluster for b in cluster if a < b)
        reason = "same email address (folded)" if same_address else f"match probability at least {auto:g}"
        requests.append(
            MergeRequest(tuple(table.ids[i] for i in cluster), reason, min(scores) if scores else None, pairs)
        )
    with transaction(engine) as conn:
        outcomes = merge_groups(conn, requests, survivorship=survivorship, actor=actor)
        # A pair one of whose profiles was just merged away now stands between the survivors.
        survivor = {absorbed: o.kept for o in outcomes for absorbed in o.absorbed}
        moved = [
            pair.explained(evidence[(index[pair.first], index[pair.second])]).between(
                survivor.get(pair.first, pair.first), survivor.get(pair.second, pair.second)
            )
            for pair in queued
        ]
        alive = _existing(conn, {pid for pair in moved for pid in (pair.first, pair.second)})
        strongest: dict[tuple[str, str], QueuedPair] = {}
        for pair in moved:
            key = (min(pair.first, pair.second), max(pair.first, pair.second))
            if pair.first != pair.second and pair.first in alive and pair.second in alive:
                if key not in strongest or pair.probability > strongest[key].probability:
                    strongest[key] = pair
        newly = queue_pairs(conn, list(strongest.values()))
        open_now = count_open(conn)
    return DedupeSummary(
        profiles=len(table.ids),
        compared=int(result.compared) if result else 0,
        auto_merged=sum(len(o.absorbed) for o in outcomes),
        groups=len(outcomes),
        queued=open_now,
        newly_queued=newly,
        seconds=round(time.perf_counter() - started, 3),
    )


def canonical_fields(config: MatchConfig, standards: Standards) -> MatchConfig:
    """The configuration with alias field names (date_of_birth, zip) turned into the trait names
    entry stored them under (birthday, postcode); a trait named both ways keeps its own kind."""
    fields: dict[str, str] = {}
    for name, kind in config.fields.items():
        target = standards.aliases.get(fold_field(name), name)
        if target == name or target not in config.fields:
            fields.setdefault(target, kind)
    rules = {
        standards.aliases.get(fold_field(name), name): rule for name, rule in config.survivorship.items()
    }
    return replace(config, fields=fields, survivorship=rules)


def _recorded_pairs(conn: Connection) -> dict[tuple[str, str], str]:
    """Open candidates already recorded (at ingest or by an earlier run): pair -> origin."""
    query = select(
        merge_candidates.c.profile_a, merge_candidates.c.profile_b, merge_candidates.c.origin
    ).where(merge_candidates.c.status == "open")
    return {(a, b): origin for a, b, origin in conn.execute(query)}


def _same_email_key(conn: Connection) -> list[tuple[str, str]]:
    """Pairs of profiles whose email folds to the same key (Gmail dots and +tags): one address."""
    shared = (
        select(profiles.c.email_key)
        .where(profiles.c.email_key.is_not(None))
        .group_by(profiles.c.email_key)
        .having(func.count() > 1)
    )
    holders: dict[str, list[str]] = defaultdict(list)
    query = select(profiles.c.email_key, profiles.c.id).where(profiles.c.email_key.in_(shared))
    for key, pid in conn.execute(query):
        holders[key].append(pid)
    return [(ids[0], other) for ids in holders.values() for other in ids[1:]]


def _over_identity_limits(
    conn: Connection, clusters: Sequence[Sequence[int]], ids: Sequence[str], rules: IdentityRules
) -> dict[int, str]:
    """Groups whose merge would give one profile more identities of a kind than the rules allow
    (email 5, phone 5 by default): cluster number -> why it waits for a person instead."""
    limited = {kind: limit for kind, limit in rules.limits.items() if limit > 1}
    members = sorted({ids[position] for cluster in clusters for position in cluster})
    if not limited or not members:
        return {}
    held: dict[str, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(members), 2000):
        chunk = members[start : start + 2000]
        # By profile only: with the kind in the WHERE clause SQLite walks the (kind, value) key.
        query = select(identities.c.profile_id, identities.c.kind).where(identities.c.profile_id.in_(chunk))
        for profile_id, kind in conn.execute(query):
            if kind in limited:
                held[profile_id][kind] = held[profile_id].get(kind, 0) + 1
    over: dict[int, str] = {}
    for number, cluster in enumerate(clusters):
        for kind, limit in limited.items():
            total = sum(held[ids[position]].get(kind, 0) for position in cluster)
            if total > limit:
                over[number] = (
                    f"likely the same person, but one profile would hold {total} {kind} identities "
                    f"(limit {limit})"
                )
                break
    return over


def _positions(index: dict[str, int], pairs: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
    found = []
    for a, b in pairs:
        if a in index and b in index:
            i, j = index[a], index[b]
            found.append((min(i, j), max(i, j)))
    return found


def _with_same_email(
    clusters: Sequence[Sequence[int]], same: Sequence[tuple[int, int]], table: RecordTable,
    cannot_link: set[tuple[int, int]],
) -> list[list[int]]:  # fmt: skip
    """Join profiles sharing a folded email into the engine's clusters, unless a user id or a
    reviewer's "not the same person" says otherwise."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    members: dict[int, set[int]] = {}
    for cluster in clusters:
        root = find(cluster[0])
        for position in cluster[1:]:
            parent[find(position)] = root
        members[root] = set(cluster)
    for a, b in same:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        left, right = members.get(ra, {a}), members.get(rb, {b})
        if _conflict(left, right, table, cannot_link):
            continue
        parent[rb] = ra
        members[ra] = left | right
        members.pop(rb, None)
    return [sorted(group) for root, group in members.items() if find(root) == root and len(group) > 1]


def _conflict(left: set[int], right: set[int], table: RecordTable, cannot_link: set[tuple[int, int]]) -> bool:
    for column in table.exclusive.values():
        held = {column[i] for i in left if column[i] is not None}
        other = {column[i] for i in right if column[i] is not None}
        if held and other and held != other:
            return True
    return any((min(a, b), max(a, b)) in cannot_link for a in left for b in right)


def _reason(origin: str, probability: float, auto: float, table: RecordTable, a: int, b: int) -> str:
    if origin == INGEST:
        return "one record matched both profiles"
    for kind, column in table.exclusive.items():
        if column[a] is not None and column[b] is not None and column[a] != column[b]:
            return f"likely the same person, but each has its own {kind}"
    if probability >= auto:
        return "likely the same person; left for review because it would join profiles that do not all match"
    return "possibly the same person"


def _comparable(table: RecordTable) -> bool:
    """True when at least one trait is held by two profiles: something the model can compare."""
    return any(sum(value is not None for value in column) >= 2 for column in table.values.values())


def _evidence(
    model: Any,
    table: RecordTable,
    pairs: Sequence[tuple[int, int]],
    probability: dict[tuple[int, int], float],
) -> dict[tuple[int, int], dict[str, Any]]:
    """Per pair: the probability, total weight and each field's level, values and weight, all
    pairs in one vectorised pass (one at a time cost a millisecond each: seconds per run)."""
    if model is None or not model.fields:
        return {(a, b): {"a": table.ids[a], "b": table.ids[b], "probability": probability.get((a, b))}
                for a, b in pairs}  # fmt: skip
    explained = model.explain_many(table, list(pairs))
    return {
        (a, b): {
            "a": table.ids[a],
            "b": table.ids[b],
            **evidence,
            "probability": probability.get((a, b), evidence["probability"]),
        }  # fmt: skip
        for (a, b), evidence in zip(pairs, explained, strict=True)
    }


def _existing(conn: Connection, ids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 2000):
        chunk = ordered[start : start + 2000]
        found.update(conn.execute(select(profiles.c.id).where(profiles.c.id.in_(chunk))).scalars())
    return found
