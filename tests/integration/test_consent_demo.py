"""`patron demo` loads consent as the law of each customer's country allows, plus a year of
history for the rates chart, suppressions and two forms with A/B counts (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from patron.consent import forms, rates, suppression
from patron.demo import generate
from patron.demo.consent import load_demo_consent
from patron.storage import transaction
from tests.conftest import Database, run_patron
from tests.integration.calls import api_get

PEOPLE, SEED = 600, 7


def shop_only_customers() -> list[dict[str, str]]:
    """Rows of the shop export about people in no other app, as the generator wrote them."""
    exports = {e.source: e for e in generate(people=PEOPLE, seed=SEED)}
    elsewhere = set(exports["crm"].people.values()) | set(exports["newsletter"].people.values())
    shop = exports["shop"]
    rows = list(csv.DictReader(io.StringIO(shop.content.decode("utf-8-sig"))))
    count = Counter(shop.people.values())
    return [
        row
        for row in rows
        if shop.people[f"user_id:{row['Customer ID']}"] not in elsewhere
        and count[shop.people[f"user_id:{row['Customer ID']}"]] == 1  # not a planted second account
    ]


def email_consent(api: TestClient, db: Database, customer_id: str) -> tuple[dict, list[dict]]:
    """A shop customer's email consent and ledger, found by their customer id."""
    person = api_get(api, db, "/api/v1/profiles/lookup", user_id=customer_id)
    state = api_get(api, db, f"/api/v1/profiles/{person['id']}/consent")["channels"]["email"]
    ledger = api_get(api, db, f"/api/v1/profiles/{person['id']}/consent/ledger")["data"]
    return state, ledger


def test_the_demo_loads_consent_by_region_with_a_year_of_history(
    db: Database, api: TestClient, workdir: Path
) -> None:
    result = run_patron(db, "demo", "--people", str(PEOPLE), "--seed", str(SEED), "--no-dedupe",
                        "--directory", str(workdir), "--json")  # fmt: skip
    summary = json.loads(result.stdout)
    assert {"imports", "events", "dedupe", "stats", "quality_score", "consent"} <= set(summary)
    by_source = {run["source"]: run for run in summary["imports"]}
    assert by_source["shop"]["consent"]["unproven"] > 0 and "consent" not in by_source["crm"]
    assert by_source["newsletter"]["consent"]["granted"] > 0.9 * by_source["newsletter"]["accepted"]
    assert by_source["newsletter"]["consent"]["unknown_topics"] == {}

    topics = {t["key"]: t for t in api_get(api, db, "/api/v1/topics")["data"]}
    assert list(topics) == ["newsletter", "offers", "product_updates", "events"]
    assert topics["offers"]["default"] == "opt_out" and topics["offers"]["region_defaults"] == {
        "KR": "opt_in"
    }
    assert topics["events"]["translations"]["ko"]["name"] == "행사와 웨비나"

    customers = shop_only_customers()
    said_yes = [row for row in customers if row["Accepts Marketing"] == "yes"]
    korean = [row for row in said_yes if row["Country"] == "KR"]
    american = [row for row in said_yes if row["Country"] == "US"]
    assert korean and american
    for row in korean[:8]:
        state, ledger = email_consent(api, db, row["Customer ID"])
        assert state["global"] == "none", row  # a shop yes is no proof in Korea
        assert not [entry for entry in ledger if entry["method"] == "import"]
    for row in american[:5]:
        state, _ = email_consent(api, db, row["Customer ID"])
        assert state["global"] in ("subscribed", "unsubscribed"), row  # unless the year's history said no
    canadian_buyers = [
        row for row in said_yes if row["Country"] == "CA" and row["Last Order At"] >= "2025-06"
    ]
    for row in canadian_buyers[:5]:
        _, ledger = email_consent(api, db, row["Customer ID"])
        (grant,) = [entry for entry in ledger if entry["method"] == "import"]
        assert grant["legal_basis"] == "implied" and grant["expires_at"] > row["Last Order At"][:10]

    with transaction(db.engine, write=False) as conn:
        series = rates.topic_rates(conn, unit="month", periods=13, now=datetime(2026, 11, 30, tzinfo=UTC))
        newsletter = series["newsletter"]
        busy_months = [p for p in newsletter if p.opt_ins and (p.unsubscribes or p.opt_downs)]
        assert len(busy_months) >= 9, [p.as_dict() for p in newsletter]
        assert sum(p.opt_downs for p in newsletter) > 0
        by_reason = suppression.counts_by_reason(conn)
        signup = forms.results(conn, "newsletter-signup")
        preferences = forms.results(conn, "preferences")
    assert by_reason.get("hard_bounce", 0) > 0 and by_reason.get("complaint", 0) > 0
    for form in (signup, preferences):
        variants = {v["variant"]: v for v in form["variants"]}
        assert len(variants) == 2 and all(v["views"] > v["submissions"] > 0 for v in variants.values())
    assert summary["consent"]["pending_requests"] > 0 and summary["consent"]["lapsed_requests"] > 0

    again = load_demo_consent(db.engine, seed=SEED)  # as a second `patron demo` would
    assert again["skipped"] and again["ledger_rows"] == summary["consent"]["ledger_rows"]
