"""Malformed CSV through the real `patron import`: the broken row is explained, every other row kept."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Database, run_patron
from tests.integration.test_cli import import_json, write

UNTERMINATED = 'Email,Name\nq1@example.com,"Unterminated\nq2@example.com,Two\nq3@example.com,Three\n'
REPEATED_EMAIL = "Email,Email,Name\nkim@example.com,kim@work.example.com,Kim\n"


def name_of(api: TestClient, email: str) -> str | None:
    """The first name of the person with this email (a one-word Name column fills it), None if no one."""
    found = api.get("/api/v1/profiles/lookup", params={"email": email})
    return found.json()["traits"].get("first_name") if found.status_code == 200 else None


def test_an_unclosed_quote_rejects_its_row_and_the_rows_it_swallowed_are_imported(
    db: Database, workdir: Path, api: TestClient
) -> None:
    summary = import_json(db, write(workdir / "unterm.csv", UNTERMINATED), "--source", "t1")
    assert {k: summary[k] for k in ("rows", "created", "rejected")} == {
        "rows": 3,
        "created": 2,
        "rejected": 1,
    }
    assert summary["reasons"] == {"rejected: unclosed quote": 1}
    with open(summary["rejects_file"], encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert len(rejects) == 1
    assert (rejects[0]["Email"], rejects[0]["_line"], rejects[0]["_outcome"]) == (
        "q1@example.com",
        "2",
        "rejected",
    )
    assert rejects[0]["_reason"].startswith(
        "unclosed quote: the quoted field opened on line 2 is never closed"
    )
    assert (name_of(api, "q2@example.com"), name_of(api, "q3@example.com")) == ("Two", "Three")
    assert name_of(api, "q1@example.com") is None


def test_a_repeated_column_is_refused_with_a_fix_that_works(
    db: Database, workdir: Path, api: TestClient
) -> None:
    path = write(workdir / "crm.csv", REPEATED_EMAIL)
    refused = run_patron(db, "import", str(path), "--source", "crm", "--json", check=False)
    assert refused.returncode == 2
    error = json.loads(refused.stdout)["error"]
    assert "--map 'Email (2)=-'" in error["message"] and error["details"]["field"] == "Email (2)"

    summary = import_json(db, path, "--source", "crm", "--map", "Email (2)=work_email")
    assert summary["columns"] == {"Email": "email", "Email (2)": "work_email", "Name": "name"}
    assert (summary["created"], summary["rejected"]) == (1, 0)
    kim = api.get("/api/v1/profiles/lookup", params={"email": "kim@example.com"}).json()
    assert kim["traits"]["work_email"] == "kim@work.example.com"


def test_the_second_of_a_repeated_column_can_be_skipped_alone(
    db: Database, workdir: Path, api: TestClient
) -> None:
    path = write(workdir / "crm.csv", REPEATED_EMAIL)
    summary = import_json(db, path, "--source", "crm", "--map", "Email (2)=-")
    assert summary["columns"] == {"Email": "email", "Email (2)": "(skipped)", "Name": "name"}
    assert (summary["created"], summary["rejected"]) == (1, 0)
    assert name_of(api, "kim@example.com") == "Kim"
    assert name_of(api, "kim@work.example.com") is None
