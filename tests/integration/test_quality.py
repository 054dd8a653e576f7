"""Data quality end to end: the pipeline's decisions, policies, standardisation, the report."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patron.demo import generate
from patron.identity import rules_from
from patron.profiles.record import split_name
from patron.quality.report import quality_report
from patron.storage.engine import transaction
from patron.tracking.processing import process_chunk
from tests.conftest import Database, run_patron

# Seven people whose quality is easy to count by hand.
FIXTURE = [
    {
        "email": "kim@naver.com",
        "phone": "010-1234-5678",
        "first_name": "민준",
        "last_name": "김",
        "country": "대한민국",
    },
    {
        "email": "info@acme.com",
        "phone": "+1 415 555 2671",
        "first_name": "JOHN",
        "last_name": "SMITH",
        "country": "USA",
    },
    {"email": "lee@gmial.com", "phone": "+82 10 2222 3333", "country": "KR"},
    {"email": "temp@mailinator.com", "user_id": "u-4", "country": "Narnia"},
    {"email": "not-an-email", "phone": "123", "user_id": "u-5"},
    {"email": "John.Smith+news@gmail.com", "first_name": "John"},
    {"email": "johnsmith@gmail.com", "company": "Acme"},
]


def upsert(api: TestClient, person: dict, source: str = "crm") -> dict:
    traits = {k: v for k, v in person.items() if k != "user_id"}
    identities = [{"kind": "user_id", "value": person["user_id"]}] if "user_id" in person else []
    response = api.post(
        "/api/v1/profiles", json={"traits": traits, "identities": identities, "source": source}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_the_pipeline_normalises_flags_and_explains(api: TestClient) -> None:
    first = upsert(api, FIXTURE[0])
    assert first["traits"]["country"] == "KR" and first["traits"]["phone"] == "+821012345678"
    assert first["traits"]["phone_type"] == "mobile" and first["quality"] == {}
    role = upsert(api, FIXTURE[1])
    assert role["traits"]["first_name"] == "John" and role["traits"]["country"] == "US"
    assert role["quality"] == {"email": ["role"]}
    # A flagged email is kept as a trait but never an identity.
    assert {i["kind"] for i in role["identities"]} == {"phone"}
    warning = next(w for w in role["warnings"] if w["field"] == "traits.email")
    assert warning["code"] == "role" and "role address" in warning["reason"]
    typo = upsert(api, FIXTURE[2])
    assert typo["quality"] == {"email": ["typo"]}
    assert "gmail.com" in next(w["reason"] for w in typo["warnings"] if w["code"] == "typo")
    bad = upsert(api, FIXTURE[4])
    assert bad["quality"] == {"email": ["invalid"], "phone": ["invalid"]}
    assert bad["traits"]["email"] == "not-an-email" and bad["traits"]["phone"] == "123"
    narnia = upsert(api, FIXTURE[3])
    assert narnia["quality"] == {"country": ["invalid"], "email": ["disposable"]}


def test_a_source_policy_rejects_or_fixes(api: TestClient) -> None:
    assert api.put("/api/v1/quality/sources/strict", json={"policy": "reject"}).json()["policy"] == "reject"
    refused = api.post(
        "/api/v1/profiles",
        json={"traits": {"email": "lee@gmial.com", "phone": "+82 10 2222 3333"}, "source": "strict"},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["items"][0]["effect"] == "rejected"
    api.put("/api/v1/quality/sources/fixer", json={"policy": "fix"})
    fixed = upsert(api, {"email": "lee@gmial.com"}, source="fixer")
    assert fixed["traits"]["email"] == "lee@gmail.com" and fixed["quality"] == {}
    assert {"kind": "email", "value": "lee@gmail.com"} in fixed["identities"]
    assert any(w["effect"] == "fixed" for w in fixed["warnings"])
    broken = upsert(api, {"email": "park@naver..com"}, source="fixer")
    assert broken["traits"]["email"] == "park@naver.com" and broken["quality"] == {}
    unknown = api.put("/api/v1/quality/sources/x", json={"policy": "maybe"})
    assert unknown.status_code == 422 and "policy" in unknown.json()["error"]["message"]


def test_the_report_matches_a_hand_count(db: Database, api: TestClient) -> None:
    for person in FIXTURE:
        upsert(api, person)
    report = api.post("/api/v1/quality/snapshots").json()
    assert api.get("/api/v1/quality").json() == report
    assert report["profiles"] == 7
    assert report["emails"] == {"invalid": 1, "typo": 1, "role": 1, "disposable": 1, "undeliverable": 0}
    assert report["phones"] == {"invalid": 1}
    assert report["countries"] == {"invalid": 1}
    # John.Smith+news@gmail.com and johnsmith@gmail.com fold to one address.
    assert report["duplicates"] == {"exact": 1, "fuzzy": 0}
    assert report["stale"] == 0
    email, phone = report["fields"]["email"], report["fields"]["phone"]
    assert email["completeness"] == 1.0 and email["distinct"] == 7
    assert email["validity"] == round(5 / 7, 4)  # invalid and typo are wrong; role, disposable risky
    assert phone["completeness"] == round(4 / 7, 4) and phone["validity"] == 0.75
    assert report["fields"]["country"]["completeness"] == round(4 / 7, 4)
    assert report["fields"]["first_name"]["distinct"] == 2  # 민준, John (JOHN tidied)
    # Checked values: 7 emails + 4 phones + 4 countries = 15; wrong: 2 emails, 1 phone, 1 country;
    # risky: role + disposable count half.
    validity = 1 - (4 + 0.5 * 2) / 15
    completeness = (7 + 4 + 3 + 2 + 1 + 4) / 7 / 6  # email, phone, first, last, company, country
    uniqueness = 1 - 1 / 7
    expected = 100 * (0.35 * validity + 0.25 * completeness + 0.2 * uniqueness + 0.2 * 1.0)
    assert report["score"] == round(expected, 1)
    assert report["sources"]["crm"]["profiles"] == 7
    assert report["sources"]["crm"]["flagged"] == 4
    cli = json.loads(run_patron(db, "quality", "--json").stdout)
    assert {k: v for k, v in cli.items() if k != "stale_after_days"} == {
        k: v for k, v in report.items() if k != "stale_after_days"
    }
    # Large SQLite databases count half the fields in a helper process: same answer.
    assert quality_report(db.engine, helper_min_profiles=0) == quality_report(db.engine)
    days = api.get("/api/v1/quality/snapshots").json()["data"]
    assert [d["day"] for d in days] == [datetime.now(UTC).date().isoformat()]
    assert days[0]["score"] == round(report["score"])


def test_stale_contacts_come_from_activity(db: Database, api: TestClient, app_client: TestClient) -> None:
    now = datetime.now(UTC)
    for user_id, days_ago in (("old", 200), ("recent", 3)):
        moment = (now - timedelta(days=days_ago)).isoformat()
        sent = now.isoformat()  # timestamps are kept relative to sentAt (clock-skew fix)
        body = {"userId": user_id, "event": "Product Viewed", "timestamp": moment, "sentAt": sent}
        assert app_client.post("/v1/track", json=body, auth=(db.write_key, "")).status_code == 200
    upsert(api, {"email": "quiet@example.org"})
    with transaction(db.engine) as conn:
        process_chunk(conn, rules=rules_from(db.settings), default_region="US")
    # Activity follows each processed event (computed traits), not only the hourly refresh.
    assert api.get("/api/v1/quality/stale").json()["stale"] == 1
    assert api.post("/api/v1/quality/snapshots").json()["stale"] == 1
    stale = api.get("/api/v1/quality/stale").json()
    assert stale["stale"] == 1 and stale["window_days"] == 180
    (row,) = stale["data"]
    assert row["last_activity_at"].startswith((now - timedelta(days=200)).date().isoformat())
    old = api.get("/api/v1/profiles/lookup", params={"user_id": "old"}).json()
    assert old["traits"]["active"] is False
    recent = api.get("/api/v1/profiles/lookup", params={"user_id": "recent"}).json()
    assert recent["traits"]["active"] is True
    listed = api.get("/api/v1/profiles", params={"trait": "active:eq:false"}).json()["data"]
    assert [p["id"] for p in listed] == [old["id"]]


def test_standardisation_at_entry_and_on_stored_profiles(db: Database, api: TestClient) -> None:
    # Defaults installed by init: "sector" is industry, "정보기술" is Information Technology.
    entered = upsert(api, {"email": "a@example.org", "sector": "정보기술"})
    assert entered["traits"]["industry"] == "Information Technology" and "sector" not in entered["traits"]
    stored = upsert(api, {"email": "b@example.org", "vertical": "Fintech", "industry": "banking"})
    assert stored["traits"]["industry"] == "Financial Services"
    assert (
        api.post(
            "/api/v1/standards", json={"kind": "field_alias", "match": "Vertical", "target": "segment"}
        ).status_code
        == 201
    )
    api.post(
        "/api/v1/standards",
        json={"kind": "value", "field": "segment", "match": "fintech", "target": "Finance"},
    )
    preview = api.post("/api/v1/standards/preview").json()
    assert preview["profiles"] == 1 and preview["applied"] is False
    assert preview["changes"] == {"field vertical -> segment": 1, "segment: 'Fintech' -> 'Finance'": 1}
    assert api.get(f"/api/v1/profiles/{stored['id']}").json()["traits"]["vertical"] == "Fintech"
    applied = api.post("/api/v1/standards/apply").json()
    assert applied["profiles"] == 1 and applied["applied"] is True
    traits = api.get(f"/api/v1/profiles/{stored['id']}").json()["traits"]
    assert traits["segment"] == "Finance" and "vertical" not in traits
    assert api.post("/api/v1/standards/preview").json()["profiles"] == 0
    bad = api.post("/api/v1/standards", json={"kind": "value", "match": "x", "target": "y"})
    assert (
        bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "field" or "field" in bad.text
    )


def test_importing_the_demo_exports_counts_what_was_planted(db: Database, workdir: Path) -> None:
    run_patron(db, "quality", "policy", "newsletter", "fix")
    exports = {e.source: e for e in generate(people=600)}
    summaries = {}
    for source, export in exports.items():
        path = workdir / export.filename
        path.write_bytes(export.content)
        args = ["import", str(path), "--source", source, "--json"]
        if export.id_column:
            args += ["--id-column", export.id_column]
        for column, target in export.mapping.items():
            args += ["--map", f"{column}={target}"]
        summaries[source] = json.loads(run_patron(db, *args).stdout)

    def reasons(source: str, prefix: str, suffix: str) -> int:
        return sum(
            n
            for key, n in summaries[source]["reasons"].items()
            if key.startswith(prefix) and key.endswith(suffix)
        )

    for source in ("shop", "crm"):
        planted = exports[source].planted
        assert (
            reasons(source, "flagged:", " typo") == planted["email domain typos (correct in another export)"]
        )
        assert reasons(source, "flagged:", " invalid") == (
            planted["invalid emails next to a valid phone (row kept, flagged)"] + planted["invalid phones"]
        )
        assert summaries[source]["policy"] == "flag"
    newsletter, planted = summaries["newsletter"], exports["newsletter"].planted
    assert newsletter["policy"] == "fix"
    assert (
        reasons("newsletter", "fixed:", " typo")
        == newsletter["fixed"]
        == planted["email domain typos (correct in another export)"]
    )
    assert newsletter["rejected"] == (
        planted["invalid emails with nothing else to identify the row (rejected)"]
        + planted["rows with an extra field (unquoted ';')"]
    )
    for source, summary in summaries.items():
        assert summary["accepted"] + summary["rejected"] == summary["rows"]
        assert summary["normalised"] >= exports[source].planted["English names in ALL CAPS or all lower case"]
    with open(newsletter["rejects_file"], encoding="utf-8-sig", newline="") as handle:
        outcomes = [row["_outcome"] for row in csv.DictReader(handle)]
    assert outcomes.count("fixed (row kept)") == newsletter["fixed"]
    assert outcomes.count("rejected") == newsletter["rejected"]


@pytest.mark.parametrize(
    ("full", "expected"),
    [("남궁민수", ("민수", "남궁")), ("Ludwig van Beethoven", ("Ludwig", "van Beethoven"))],
)
def test_whole_names_split_the_way_people_write_them(full: str, expected: tuple[str, str]) -> None:
    assert split_name(full) == expected
