"""Large imports prepare rows in read-ahead processes; the outcome must not depend on it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import Database, empty_database, run_patron

HEADER = "Customer ID,E-mail,Phone,Name,Country\n"


def rows(count: int) -> str:
    lines = []
    for n in range(count):
        email = f" User{n}@Example.com " if n % 7 else f"user{n}@@broken"
        phone = f"010-{1000 + n % 9000:04d}-{n % 10000:04d}" if n % 3 else ""
        lines.append(f"C{n},{email},{phone},{'김민준' if n % 2 else 'Emily Carter'},KR\n")
        if n % 50 == 0:
            lines.append(f"C{n}-dup,user{n}@example.com,,Dup,KR,extra\n")  # malformed: one field too many
    return HEADER + "".join(lines)


def import_with(db: Database, path: Path, *, parallel_min_rows: int) -> tuple[dict, list[dict], list[dict]]:
    empty_database(db.engine)
    run_patron(db, "init")
    env = {
        **db.env(),
        "PATRON_IMPORT_PARALLEL_MIN_ROWS": str(parallel_min_rows),
        "PATRON_IMPORT_BATCH_SIZE": "700",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "patron",
            "import",
            str(path),
            "--source",
            "shop",
            "--id-column",
            "Customer ID",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    summary = json.loads(result.stdout)
    rejects = []
    if summary["rejects_file"]:
        with open(summary["rejects_file"], encoding="utf-8-sig", newline="") as handle:
            rejects = list(csv.DictReader(handle))
    exported = [json.loads(line) for line in run_patron(db, "export").stdout.splitlines()]
    people = sorted(
        (
            {"traits": p["traits"], "identities": sorted(map(tuple, (i.values() for i in p["identities"])))}
            for p in exported
        ),
        key=lambda p: json.dumps(p, sort_keys=True),
    )
    return summary, rejects, people


def test_read_ahead_processes_give_the_same_import(db: Database, workdir: Path) -> None:
    path = workdir / "big.csv"
    path.write_text(rows(3000))
    in_process, in_process_rejects, in_process_people = import_with(db, path, parallel_min_rows=10**9)
    read_ahead, read_ahead_rejects, read_ahead_people = import_with(db, path, parallel_min_rows=1)
    counts = ("rows", "created", "updated", "unchanged", "flagged", "rejected", "reasons")
    assert {k: read_ahead[k] for k in counts} == {k: in_process[k] for k in counts}
    assert read_ahead["rejected"] == 60 and read_ahead["created"] == 3000
    assert read_ahead_rejects == in_process_rejects
    assert [r["_line"] for r in read_ahead_rejects] == sorted(
        (r["_line"] for r in read_ahead_rejects), key=int
    )
    assert read_ahead_people == in_process_people


def test_a_person_twice_in_one_file_ends_as_one_profile_with_the_later_values(
    db: Database, workdir: Path
) -> None:
    lines = [HEADER]
    for n in range(1200):
        lines.append(f"C{n},person{n}@example.com,,Person {n},KR\n")
    # The same people again later in the file: within the same batch and in later batches.
    lines.append("C5,PERSON5@example.com,010-5555-0005,Changed Name,KR\n")
    lines.append("C1100,person1100@example.com,010-5555-1100,Also Changed,KR\n")
    path = workdir / "twice.csv"
    path.write_text("".join(lines))
    for parallel_min_rows in (10**9, 1):
        summary, _, people = import_with(db, path, parallel_min_rows=parallel_min_rows)
        assert (summary["created"], summary["updated"]) == (1200, 2)
        by_email = {p["traits"]["email"]: p for p in people}
        assert len(by_email) == 1200
        assert by_email["person5@example.com"]["traits"]["first_name"] == "Changed"
        assert by_email["person5@example.com"]["traits"]["phone"] == "+821055550005"
        assert ("phone", "+821055551100") in by_email["person1100@example.com"]["identities"]
