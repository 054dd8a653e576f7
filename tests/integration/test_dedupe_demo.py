"""On the demo data, the duplicates planted across the three apps are merged or queued with
evidence, and almost nothing else is merged (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

from patron import dedupe
from patron.demo import generate
from patron.storage import transaction
from tests.conftest import Database, run_patron

PEOPLE, SEED = 1500, 7


def who_is_who(db: Database) -> dict[str, frozenset[int]]:
    """Each profile's invented people, from the generator's truth about each export row."""
    known: dict[str, int] = {}
    for export in generate(people=PEOPLE, seed=SEED):
        known.update(export.people)
    people = {}
    for line in run_patron(db, "export", "--format", "jsonl").stdout.splitlines():
        profile = json.loads(line)
        rows = (f"{i['kind']}:{i['value']}" for i in profile["identities"])
        people[profile["id"]] = frozenset(known[row] for row in rows if row in known)
    return people


def test_planted_duplicates_are_merged_or_queued_with_evidence(db: Database, workdir: Path) -> None:
    run_patron(db, "demo", "--people", str(PEOPLE), "--seed", str(SEED), "--no-dedupe",
               "--directory", str(workdir), "--json")  # fmt: skip
    before = who_is_who(db)
    summary = json.loads(run_patron(db, "dedupe", "--json").stdout)
    with transaction(db.engine, write=False) as conn:
        merges = [m for m in dedupe.list_merges(conn, limit=200) if m["actor"] == "cli"]  # not ingest's
        queue = dedupe.list_queue(conn, limit=200)
    assert len(merges) == summary["auto_merged"] < 200 and len(queue) == summary["queued"] < 200
    survivor = {m["absorbed_id"]: m["kept_id"] for m in merges}
    queued = {tuple(sorted((q["profile_a"], q["profile_b"]))) for q in queue}

    by_person: dict[int, list[str]] = defaultdict(list)
    for profile_id, people in before.items():
        for person in people:
            by_person[person].append(profile_id)
    planted = {tuple(sorted(pair)) for ids in by_person.values() for pair in itertools.combinations(ids, 2)}
    merged = {pair for pair in planted if survivor.get(pair[0], pair[0]) == survivor.get(pair[1], pair[1])}
    in_queue = {
        pair for pair in planted - merged if tuple(sorted(survivor.get(p, p) for p in pair)) in queued
    }
    assert len(planted) > 40
    assert len(merged | in_queue) >= 0.75 * len(planted), (len(merged), len(in_queue), len(planted))

    wrong = [m for m in merges if before[m["kept_id"]] and before[m["absorbed_id"]]
             and not before[m["kept_id"]] & before[m["absorbed_id"]]]  # fmt: skip
    assert len(wrong) <= max(1, len(merges) // 20)
    for merge in merges:
        assert merge["evidence"]["reason"] and merge["evidence"]["survivorship"] is not None
    for pair in queue:  # every queued pair says why: per-field evidence, or the identities one record shared
        assert pair["evidence"].get("fields") or pair["evidence"].get("identities")
