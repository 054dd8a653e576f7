"""How well dedupe finds the demo's planted duplicates: pairwise precision and recall of who is who.

Loads `patron demo` into a fresh SQLite database (or PATRON_BENCH_PG_URL), then compares the
profiles with the generator's truth (each export row's identity -> the invented person):
after import alone, after `patron dedupe`, and counting pairs left in the review queue.

    .venv/bin/python bench/dedupe_demo.py [--people 5000] [--postgresql]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from patron.demo import generate

ROOT = Path(__file__).resolve().parent.parent


def patron(env: dict[str, str], *args: str) -> str:
    """Run the real CLI; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "patron", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"patron {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def truth(people: int, seed: int) -> dict[str, int]:
    """Row identity ("kind:value") -> person, for every row of the three exports."""
    known: dict[str, int] = {}
    for export in generate(people=people, seed=seed):
        known.update(export.people)
    return known


def clusters(env: dict[str, str], known: dict[str, int]) -> list[list[str]]:
    """The row identities each profile holds."""
    groups = []
    for line in patron(env, "export", "--format", "jsonl").splitlines():
        profile = json.loads(line)
        rows = [f"{i['kind']}:{i['value']}" for i in profile["identities"]]
        groups.append([row for row in rows if row in known])
    return [group for group in groups if group]


def pairs_within(groups: list[list[str]]) -> set[tuple[str, str]]:
    """Every unordered pair of rows that share a group."""
    return {tuple(sorted(pair)) for group in groups for pair in itertools.combinations(group, 2)}  # type: ignore[misc]


def score(groups: list[list[str]], known: dict[str, int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of the grouping against the truth."""
    by_person: dict[int, list[str]] = defaultdict(list)
    seen = {row for group in groups for row in group}
    for row, person in known.items():
        if row in seen:
            by_person[person].append(row)
    true_pairs = pairs_within(list(by_person.values()))
    found = pairs_within(groups)
    hits = len(true_pairs & found)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "true_pairs": len(true_pairs), "found_pairs": len(found)}  # fmt: skip


def profile_people(env: dict[str, str], known: dict[str, int]) -> dict[str, frozenset[int]]:
    """Each profile's invented people, read from its identities."""
    found = {}
    for line in patron(env, "export", "--format", "jsonl").splitlines():
        profile = json.loads(line)
        rows = (f"{i['kind']}:{i['value']}" for i in profile["identities"])
        found[profile["id"]] = frozenset(known[row] for row in rows if row in known)
    return found


def review_outcome(url: str, before: dict[str, frozenset[int]]) -> dict[str, int]:
    """Pairs of profiles that were one person before dedupe: merged, queued or missed; and merges
    of profiles that were different people."""
    from sqlalchemy import select

    from patron.storage.engine import make_engine, transaction
    from patron.storage.schema import merge_candidates, profile_merges

    with transaction(make_engine(url), write=False) as conn:
        survivor = dict(conn.execute(select(profile_merges.c.absorbed_id, profile_merges.c.kept_id)
                                     .where(profile_merges.c.undone_at.is_(None))).all())  # fmt: skip
        queued = {tuple(sorted(row)) for row in conn.execute(
            select(merge_candidates.c.profile_a, merge_candidates.c.profile_b)
            .where(merge_candidates.c.status == "open"))}  # fmt: skip

    def final(pid: str) -> str:
        while pid in survivor:
            pid = survivor[pid]
        return pid

    by_person: dict[int, list[str]] = defaultdict(list)
    for pid, people in before.items():
        for person in people:
            by_person[person].append(pid)
    same = {
        tuple(sorted(pair)) for pids in by_person.values() for pair in itertools.combinations(set(pids), 2)
    }
    outcome = {"duplicate_pairs": len(same), "merged": 0, "queued": 0, "missed": 0}
    for a, b in same:
        fa, fb = final(a), final(b)
        key = "merged" if fa == fb else "queued" if tuple(sorted((fa, fb))) in queued else "missed"
        outcome[key] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for pid in before:
        groups[final(pid)].append(pid)
    wrong = sum(1 for pids in groups.values() for a, b in itertools.combinations(pids, 2)
                if before[a] and before[b] and not before[a] & before[b])  # fmt: skip
    outcome["wrong_merges"] = wrong
    outcome["queue_size"] = len(queued)
    return outcome


def main() -> None:
    """Load the demo, score the grouping before and after dedupe, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=None, help="auto-merge threshold for the run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PATRON_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "PATRON_DEFAULT_REGION": "KR",
        }
        patron(env, "init", "--json")
        known = truth(args.people, args.seed)
        patron(env, "demo", "--json", "--no-dedupe", "--people", str(args.people), "--seed", str(args.seed),
               "--directory", f"{tmp}/demo")  # fmt: skip
        before = score(clusters(env, known), known)
        people_of = profile_people(env, known)
        threshold = ["--threshold", str(args.threshold)] if args.threshold else []
        dedupe = json.loads(patron(env, "dedupe", "--json", *threshold))
        after = score(clusters(env, known), known)
        review = review_outcome(env["PATRON_DATABASE_URL"], people_of)
    result = {"people": args.people, "after_import": before, "after_dedupe": after, "dedupe": dedupe,
              "profile_pairs": review}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"demo with {args.people:,} people: dedupe merged {dedupe['auto_merged']:,} profiles in "
        f"{dedupe['seconds']:.2f} s, {dedupe['queued']:,} pairs queued for review"
    )
    print(
        f"profile pairs that are one person after import: {review['duplicate_pairs']:,}; merged "
        f"{review['merged']:,}, queued {review['queued']:,}, missed {review['missed']:,}; wrong merges "
        f"{review['wrong_merges']:,}; queue {review['queue_size']:,} pairs"
    )
    for label, f in (("import alone", before), ("import + dedupe", after)):
        print(
            f"who-is-who after {label}: precision {f['precision']:.4f}, recall {f['recall']:.4f}, "
            f"F1 {f['f1']:.4f} ({f['found_pairs']:,} pairs grouped, {f['true_pairs']:,} true)"
        )


if __name__ == "__main__":
    main()
