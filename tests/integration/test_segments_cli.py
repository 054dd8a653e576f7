"""`patron segments` and `patron export --segment` through the real entry point (both databases)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Database, run_patron
from tests.integration.calls import post_profile

US_CUSTOMERS = 'country = "US" and total_orders >= 1'


def patron_json(db: Database, *args: str) -> dict:
    return json.loads(run_patron(db, "segments", *args, "--json").stdout)


def people(api: TestClient, db: Database) -> dict[str, str]:
    """Four people: two US customers, a US prospect and a Korean customer; email -> profile id."""
    rows = [
        {"email": "ann@example.com", "country": "US", "total_orders": 3},
        {"email": "bob@example.com", "country": "US", "total_orders": 1},
        {"email": "cy@example.com", "country": "US", "total_orders": 0},
        {"email": "dae@example.com", "country": "KR", "total_orders": 5},
    ]
    return {row["email"]: post_profile(api, db, row)["id"] for row in rows}


def test_create_preview_show_list_members_evaluate_delete(db: Database, api: TestClient) -> None:
    ids = people(api, db)
    customers = {ids["ann@example.com"], ids["bob@example.com"]}

    preview = patron_json(db, "preview", US_CUSTOMERS, "--sample", "5")
    assert preview["count"] == 2 and set(preview["sample"]) == customers

    made = patron_json(db, "create", "--name", "US customers", "--definition", US_CUSTOMERS,
                       "--description", "Bought at least once, in the US")  # fmt: skip
    assert made["name"] == "US customers" and made["count"] == 2
    assert made["description"] == "Bought at least once, in the US"
    by_id = patron_json(db, "show", str(made["id"]))
    by_name = patron_json(db, "show", "US customers")
    assert by_id == by_name and by_id["tree"]["and"][0] == {"trait": "country", "op": "=", "value": "US"}
    assert [(s["name"], s["count"]) for s in patron_json(db, "list")["data"]] == [("US customers", 2)]

    first = patron_json(db, "members", "US customers", "--limit", "1")
    rest = patron_json(db, "members", "US customers", "--limit", "1", "--cursor", first["next_cursor"])
    assert set(first["data"] + rest["data"]) == customers and rest["next_cursor"] is None

    changed = api.patch(f"/api/v1/profiles/{ids['cy@example.com']}", json={"traits": {"total_orders": 1}})
    assert changed.status_code == 200, changed.text
    evaluated = patron_json(db, "evaluate", str(made["id"]))
    assert evaluated["count"] == 3 and evaluated["exited"] == []
    # Real time already let her in on the write; a full evaluation finds nothing left to do.
    assert evaluated["entered"] in ([], [ids["cy@example.com"]])
    assert patron_json(db, "show", "US customers")["count"] == 3

    human = run_patron(db, "segments", "list").stdout
    assert "US customers" in human and "3" in human
    assert patron_json(db, "delete", "US customers") == {"deleted": made["id"], "name": "US customers"}
    assert patron_json(db, "list")["data"] == []


def test_a_definition_error_says_where_and_exits_2(db: Database) -> None:
    broken = run_patron(db, "segments", "preview", 'country = "US" and', check=False)
    assert broken.returncode == 2
    assert "line 1, column 19" in broken.stderr and "found the end" in broken.stderr

    as_json = run_patron(db, "segments", "create", "--name", "Bad", "--definition",
                         'count(event "Order Completed") >= two', "--json", check=False)  # fmt: skip
    assert as_json.returncode == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "invalid" and "line 1, column 35" in error["message"]
    assert error["details"]["details"]["column"] == 35
    missing = run_patron(db, "segments", "show", "Nobody", check=False)
    assert missing.returncode == 2 and "Nobody" in missing.stderr


def test_export_segment_writes_exactly_its_members(db: Database, api: TestClient, workdir: Path) -> None:
    ids = people(api, db)
    made = patron_json(db, "create", "--name", "US customers", "--definition", US_CUSTOMERS)
    customers = {ids["ann@example.com"], ids["bob@example.com"]}

    lines = run_patron(db, "export", "--segment", "US customers").stdout.splitlines()
    exported = [json.loads(line) for line in lines]
    assert {p["id"] for p in exported} == customers and len(exported) == 2
    assert all(p["traits"]["country"] == "US" for p in exported)

    out = workdir / "customers.csv"
    run_patron(db, "export", "--format", "csv", "--segment", str(made["id"]), "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {row["id"] for row in rows} == customers
    assert len(run_patron(db, "export").stdout.splitlines()) == 4  # without --segment: everyone

    unknown = run_patron(db, "export", "--segment", "Nobody", check=False)
    assert unknown.returncode == 2 and 'no segment named "Nobody"' in unknown.stderr
    assert unknown.stdout == ""
