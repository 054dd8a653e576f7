"""Consent brought in by a CSV import follows each person's region: proof or nothing in express
opt-in regions, a yes in the US, expiring implied consent in Canada, a no always withdraws
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from patron.consent.imports import ConsentOptions
from patron.imports import run_import
from tests.conftest import Database, run_patron
from tests.integration.calls import api_get

NOTICE = "shop-signup-2025-03"
HEADER = "Email,Country,Accepts Marketing,Lists,Consented At,Last Order At"
ROWS = {
    "kr.proof@example.com": "KR,yes,,2025-03-04 10:00,",
    "kr.noproof@example.com": "KR,yes,,,",
    "us.noproof@example.com": "US,yes,,,",
    "ca.buyer@example.com": "CA,yes,,,2026-06-01",
    "ca.inquiry@example.com": "CA,yes,,,",
    "ca.proof@example.com": "CA,yes,,2025-05-06T08:30:00+09:00,",
    "de.no@example.com": "DE,no,newsletter,,",
    "us.no@example.com": "US,nein,,,",
    "gb.lists@example.com": "GB,,newsletter; Offers and discounts,2025-01-02,",
    "gb.unknown@example.com": 'GB,,"webinars, 뉴스레터",2025-01-02,',
    "gb.noproof@example.com": "GB,,newsletter,,",
}


def make_topics(api: TestClient) -> None:
    """The topics the file's Lists column names, through the API."""
    for topic in (
        {"key": "newsletter", "name": "Newsletter", "translations": {"ko": {"name": "뉴스레터"}}},
        {"key": "offers", "name": "Offers and discounts", "default": "opt_out"},
    ):
        response = api.post("/api/v1/topics", json=topic)
        assert response.status_code == 201, response.text


def write_csv(workdir: Path) -> Path:
    """The shop export with one row per case."""
    path = workdir / "customers.csv"
    lines = [HEADER, *(f"{email},{rest}" for email, rest in ROWS.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_file(db: Database, path: Path, options: ConsentOptions) -> dict:
    """Import with consent options, as the CLI and the worker do; the summary's JSON form."""
    summary = run_import(
        db.engine,
        path.read_bytes(),
        source="shop",
        default_region=None,
        batch_size=4,  # several batches: consent is recorded batch by batch
        parallel_min_rows=10**9,
        consent=options,
    )
    return summary.as_dict()


def consent_for(api: TestClient, db: Database, email: str) -> tuple[dict, list[dict]]:
    """A person's email consent ({"global", "topics"}) and ledger, found by email."""
    person = api_get(api, db, "/api/v1/profiles/lookup", email=email)
    state = api_get(api, db, f"/api/v1/profiles/{person['id']}/consent")["channels"]["email"]
    ledger = api_get(api, db, f"/api/v1/profiles/{person['id']}/consent/ledger")["data"]
    return state, ledger


def full_options() -> ConsentOptions:
    """Every consent column of the file, with the notice the shop showed."""
    return ConsentOptions(
        consent_column="Accepts Marketing",
        topics_column="Lists",
        at_column="Consented At",
        purchase_column="Last Order At",
        notice_version=NOTICE,
    )


def test_each_region_gets_what_its_law_allows(db: Database, api: TestClient, workdir: Path) -> None:
    make_topics(api)
    summary = import_file(db, write_csv(workdir), full_options())
    now = datetime.now(UTC)

    state, ledger = consent_for(api, db, "kr.proof@example.com")
    assert state["global"] == "subscribed"
    (grant,) = ledger
    assert (grant["action"], grant["legal_basis"], grant["method"], grant["source"]) == (
        "grant",
        "consent",
        "import",
        "shop",
    )
    assert grant["notice_version"] == NOTICE and grant["occurred_at"].startswith("2025-03-04T10:00")
    assert grant["expires_at"] is None

    state, ledger = consent_for(api, db, "kr.noproof@example.com")
    assert state["global"] == "none" and ledger == []

    state, ledger = consent_for(api, db, "us.noproof@example.com")
    assert state["global"] == "subscribed" and ledger[0]["legal_basis"] == "legitimate_interest"

    state, ledger = consent_for(api, db, "ca.buyer@example.com")
    assert state["global"] == "subscribed" and ledger[0]["legal_basis"] == "implied"
    assert ledger[0]["expires_at"].startswith("2028-05-31")  # CASL: 2 years after the purchase

    state, ledger = consent_for(api, db, "ca.inquiry@example.com")
    assert state["global"] == "subscribed" and ledger[0]["legal_basis"] == "implied"
    expires = datetime.fromisoformat(ledger[0]["expires_at"])
    assert now + timedelta(days=170) < expires < now + timedelta(days=190)  # 6 months, no purchase

    state, ledger = consent_for(api, db, "ca.proof@example.com")
    assert state["global"] == "subscribed" and ledger[0]["legal_basis"] == "consent"
    assert ledger[0]["expires_at"] is None and ledger[0]["occurred_at"].startswith("2025-05-05T23:30")

    state, ledger = consent_for(api, db, "de.no@example.com")
    assert state["global"] == "unsubscribed" and state["topics"]["newsletter"] == "none"
    assert [row["action"] for row in ledger] == ["withdraw"]

    state, _ = consent_for(api, db, "gb.lists@example.com")
    assert state["global"] == "none"
    assert state["topics"] == {"newsletter": "subscribed", "offers": "subscribed"}

    state, _ = consent_for(api, db, "gb.unknown@example.com")
    assert state["topics"] == {"newsletter": "subscribed", "offers": "none"}  # found by its Korean name

    state, ledger = consent_for(api, db, "gb.noproof@example.com")
    assert state["topics"]["newsletter"] == "none" and ledger == []

    assert summary["rows"] == len(ROWS) and summary["created"] == len(ROWS)  # existing keys kept
    assert summary["consent"]["granted"] == 7
    assert summary["consent"]["withdrawn"] == 1
    assert summary["consent"]["unproven"] == 2  # kr.noproof, gb.noproof
    assert summary["consent"]["unknown_topics"] == {"webinars": 1}
    assert summary["consent"]["unreadable"] == 1  # "nein"
    assert summary["consent"]["implied"] == 2


def test_an_import_without_consent_options_records_no_consent(
    db: Database, api: TestClient, workdir: Path
) -> None:
    make_topics(api)
    summary = import_file(db, write_csv(workdir), ConsentOptions())
    assert "consent" not in summary
    state, ledger = consent_for(api, db, "us.noproof@example.com")
    assert state["global"] == "none" and ledger == []


def test_a_row_without_a_country_is_judged_by_the_country_already_known(
    db: Database, api: TestClient, workdir: Path
) -> None:
    make_topics(api)
    import_file(db, write_csv(workdir), ConsentOptions())  # countries known, no consent yet
    path = workdir / "newsletter.csv"
    path.write_text(
        "Email Address;Lists;Subscribed At\n"
        "us.noproof@example.com;newsletter;\n"
        "kr.noproof@example.com;newsletter;\n",
        encoding="utf-8",
    )
    summary = import_file(db, path, ConsentOptions(topics_column="Lists", at_column="Subscribed At"))
    assert summary["consent"]["granted"] == 1 and summary["consent"]["unproven"] == 1
    assert consent_for(api, db, "us.noproof@example.com")[0]["topics"]["newsletter"] == "subscribed"
    assert consent_for(api, db, "kr.noproof@example.com")[0]["topics"]["newsletter"] == "none"


def test_the_import_command_takes_the_consent_options(db: Database, api: TestClient, workdir: Path) -> None:
    make_topics(api)
    path = write_csv(workdir)
    result = run_patron(
        db, "import", str(path), "--source", "shop", "--consent", "Accepts Marketing",
        "--consent-topics", "Lists", "--consent-at", "Consented At", "--purchase-at", "Last Order At",
        "--notice-version", NOTICE, "--json",
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["consent"]["granted"] == 7 and summary["consent"]["unknown_topics"] == {"webinars": 1}
    assert consent_for(api, db, "kr.proof@example.com")[0]["global"] == "subscribed"

    missing = run_patron(
        db, "import", str(path), "--source", "shop", "--consent", "Marketing", "--json", check=False
    )
    assert missing.returncode != 0
    error = json.loads(missing.stdout or missing.stderr)["error"]
    assert "'Marketing' is not a column" in error["message"] and "Accepts Marketing" in error["message"]


def test_an_uploaded_import_records_consent_through_the_worker(
    db: Database, api: TestClient, tmp_path: Path
) -> None:
    """POST /api/v1/imports with consent columns; the worker's job records the same consent."""
    from patron.worker.loop import Worker

    make_topics(api)
    path = write_csv(tmp_path)
    response = api.post(
        "/api/v1/imports",
        data={"source": "shop", "consent_column": "Accepts Marketing", "consent_topics": "Lists",
              "consent_at": "Consented At", "purchase_at": "Last Order At", "notice_version": NOTICE},
        files={"file": ("customers.csv", path.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    worker = Worker(db.engine, db.settings)
    while worker.run_once() is not None:
        pass
    job = api_get(api, db, f"/api/v1/jobs/{response.json()['job']['id']}")
    assert job["status"] == "succeeded", job
    assert job["result"]["consent"]["unproven"] >= 1 and job["result"]["consent"]["granted"] >= 1
    kr = api_get(api, db, "/api/v1/profiles/lookup", email="kr.proof@example.com")["id"]
    state = api_get(api, db, f"/api/v1/profiles/{kr}/consent")["channels"]["email"]
    assert state["global"] == "subscribed"
    unproven = api_get(api, db, "/api/v1/profiles/lookup", email="kr.noproof@example.com")["id"]
    assert api_get(api, db, f"/api/v1/profiles/{unproven}/consent")["channels"]["email"]["global"] == "none"
