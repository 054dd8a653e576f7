"""Identity resolution through the API and the worker, on SQLite and PostgreSQL: merges with
evidence and survivorship, unmerge, the review queue, remembered decisions, consent."""

from __future__ import annotations

import base64
import random
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from patron.dedupe import parse_config
from patron.dedupe.service import canonical_fields
from patron.demo.names import ENGLISH_FIRST_NAMES, ENGLISH_LAST_NAMES
from patron.jobs import list_schedules
from patron.profiles import prepare_record, upsert_records
from patron.quality.standards import load_standards
from patron.storage import transaction, utcnow
from patron.worker import Worker
from tests.conftest import Database

CITIES = ["Seoul", "Busan", "London", "Leeds", "Toronto", "Austin", "Boston", "Denver", "Incheon", "Daegu"]


@pytest.fixture(autouse=True)
def population(db: Database) -> None:
    """300 different people, as a real list has, so the model has something to learn from."""
    rng = random.Random(11)
    records = []
    for number in range(300):
        traits = {
            "first_name": rng.choice(ENGLISH_FIRST_NAMES),
            "last_name": rng.choice(ENGLISH_LAST_NAMES),
            "birthday": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
            "city": rng.choice(CITIES),
            "phone": f"+1415555{number:04d}",
            "member_no": f"M-{100000 + number * 13:06d}",
        }
        records.append(prepare_record(traits, [("email", f"person{number}@example.com")], source="seed",
                                      field_types={}, default_region="US"))  # fmt: skip
    with transaction(db.engine) as conn:
        upsert_records(conn, records)


def upsert(api: TestClient, traits: dict, identities: list[tuple[str, str]], source: str = "crm") -> dict:
    """A profile as an app would send it: its email address both as a trait and as an identity."""
    emails = [value for kind, value in identities if kind == "email"]
    if emails:
        traits = {"email": emails[0], **traits}
    response = api.post(
        "/api/v1/profiles",
        json={
            "traits": traits,
            "identities": [{"kind": k, "value": v} for k, v in identities],
            "source": source,
        },
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def get(api: TestClient, path: str, **params: object) -> dict:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def track(api: TestClient, db: Database, *messages: tuple[str, dict]) -> None:
    """Send tracking calls with the write key and run the event processor."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{db.write_key}:".encode()).decode()}
    for path, body in messages:
        response = api.post(path, json=body, headers=auth)
        assert response.status_code == 200, response.text
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def dedupe(api: TestClient, **body: object) -> dict:
    response = api.post("/api/v1/dedupe", json={"wait": True, **body})
    assert response.status_code == 200, response.text
    return response.json()


def merge(api: TestClient, keep: str, other: str) -> dict:
    response = api.post(f"/api/v1/profiles/{keep}/merge", json={"other": other})
    assert response.status_code == 200, response.text
    return response.json()


def whole(api: TestClient, profile_id: str) -> dict:
    """Everything a person is: traits, identities, events, accounts (order-free)."""
    profile = get(api, f"/api/v1/profiles/{profile_id}")
    events = get(api, f"/api/v1/profiles/{profile_id}/events", limit=100)["data"]
    accounts = get(api, f"/api/v1/profiles/{profile_id}/accounts")["data"]
    return {
        "traits": profile["traits"],
        "provenance": profile["provenance"],
        "quality": profile["quality"],
        "identities": sorted((i["kind"], i["value"]) for i in profile["identities"]),
        "events": sorted(e["message_id"] for e in events),
        "accounts": sorted(a["group_id"] for a in accounts),
    }


def test_merge_then_unmerge_restores_both_profiles(api: TestClient, db: Database) -> None:
    track(
        api,
        db,
        (
            "/v1/identify",
            {
                "userId": "u-1",
                "messageId": "m1",
                "traits": {"email": "minjun@example.com", "first_name": "Minjun", "city": "Seoul"},
            },
        ),
        ("/v1/track", {"userId": "u-1", "messageId": "m2", "event": "Order Completed"}),
        (
            "/v1/identify",
            {
                "anonymousId": "a-2",
                "messageId": "m3",
                "traits": {"phone": "+82 10-1234-5678", "first_name": "Min-jun", "company": "Acme"},
            },
        ),
        (
            "/v1/group",
            {"anonymousId": "a-2", "messageId": "m4", "groupId": "acme", "traits": {"name": "Acme"}},
        ),
    )
    first = get(api, "/api/v1/profiles/lookup", user_id="u-1")["id"]
    second = get(api, "/api/v1/profiles/lookup", anonymous_id="a-2")["id"]
    before = {first: whole(api, first), second: whole(api, second)}

    merged = merge(api, first, second)
    kept, gone = merged["kept_id"], merged["absorbed_id"]
    assert {kept, gone} == {first, second}
    missing = api.get(f"/api/v1/profiles/{gone}")
    assert missing.status_code == 404 and missing.json()["error"]["details"]["merged_into"] == kept
    after = whole(api, kept)
    assert set(after["identities"]) == set(before[first]["identities"]) | set(before[second]["identities"])
    assert set(after["events"]) == set(before[first]["events"]) | set(before[second]["events"])
    assert after["accounts"] == ["acme"]
    assert after["traits"]["company"] == "Acme" and after["traits"]["city"] == "Seoul"
    history = get(api, f"/api/v1/merges/{merged['merge_id']}")
    assert history["absorbed"]["traits"] == before[gone]["traits"]
    first_name = next(c for c in history["evidence"]["survivorship"] if c["field"] == "first_name")
    assert {first_name["value"], *(lost["value"] for lost in first_name["lost"])} == {"Minjun", "Min-jun"}

    undone = api.post(f"/api/v1/merges/{merged['merge_id']}/undo")
    assert undone.status_code == 200, undone.text
    assert whole(api, first) == before[first] and whole(api, second) == before[second]
    assert get(api, f"/api/v1/merges/{merged['merge_id']}")["undone_at"] is not None
    again = api.post(f"/api/v1/merges/{merged['merge_id']}/undo")
    assert again.status_code == 409


def test_events_that_arrive_after_a_merge_follow_their_identity_on_unmerge(
    api: TestClient, db: Database
) -> None:
    track(
        api,
        db,
        ("/v1/identify", {"userId": "u-7", "messageId": "e1", "traits": {"first_name": "Ann"}}),
        ("/v1/identify", {"userId": "u-8", "messageId": "e2", "traits": {"first_name": "Anne"}}),
    )
    seven = get(api, "/api/v1/profiles/lookup", user_id="u-7")["id"]
    eight = get(api, "/api/v1/profiles/lookup", user_id="u-8")["id"]
    merged = merge(api, seven, eight)
    track(
        api,
        db,
        ("/v1/track", {"userId": "u-8", "messageId": "e3", "event": "Product Viewed"}),
        ("/v1/track", {"userId": "u-7", "messageId": "e4", "event": "Product Viewed"}),
    )
    assert len(get(api, f"/api/v1/profiles/{merged['kept_id']}/events")["data"]) == 4
    assert api.post(f"/api/v1/merges/{merged['merge_id']}/undo").status_code == 200
    assert sorted(e["message_id"] for e in get(api, f"/api/v1/profiles/{seven}/events")["data"]) == [
        "e1",
        "e4",
    ]
    assert sorted(e["message_id"] for e in get(api, f"/api/v1/profiles/{eight}/events")["data"]) == [
        "e2",
        "e3",
    ]


def test_a_merge_never_broadens_consent(api: TestClient) -> None:
    older = upsert(
        api, {"first_name": "Ji", "accepts_marketing": False, "unsubscribed": True}, [("email", "ji@a.kr")]
    )
    newer = upsert(
        api, {"first_name": "Ji", "accepts_marketing": True, "unsubscribed": False}, [("email", "ji@b.kr")]
    )
    merged = merge(api, older["id"], newer["id"])
    traits = get(api, f"/api/v1/profiles/{merged['kept_id']}")["traits"]
    assert traits["accepts_marketing"] is False and traits["unsubscribed"] is True
    # ...whichever way round the values are
    lists = "newsletter_lists"
    a = upsert(
        api,
        {"accepts_marketing": True, "do_not_email": False, lists: ["weekly", "offers"]},
        [("email", "x@a.kr")],
    )
    b = upsert(
        api, {"accepts_marketing": False, "do_not_email": True, lists: ["weekly"]}, [("email", "x@b.kr")]
    )
    traits = get(api, f"/api/v1/profiles/{merge(api, a['id'], b['id'])['kept_id']}")["traits"]
    assert traits["accepts_marketing"] is False and traits["do_not_email"] is True
    assert traits["newsletter_lists"] == ["weekly"]  # only the lists both profiles signed up to


def test_survivorship_prefers_the_trusted_source_when_configured(api: TestClient) -> None:
    config = {
        "fields": {"first_name": "name", "last_name": "name", "birthday": "date", "city": "text"},
        "survivorship": {
            "default": "most_recent",
            "fields": {"company": "trusted_source", "job_title": "most_complete"},
        },
        "source_priority": ["crm", "shop"],
    }
    seoyeon = {"first_name": "Seoyeon", "last_name": "Park", "birthday": "1991-03-14", "city": "Seoul"}
    written = [
        ("crm", "seoyeon@acme.kr", {"company": "Acme Korea", "job_title": "Head of Marketing Operations"}),
        ("shop", "sy.park@gmail.com", {"company": "acme", "job_title": "Marketing"}),  # written last
    ]
    for source, email, work in written:
        upsert(api, {**seoyeon, **work}, [("email", email)], source=source)
    summary = dedupe(api, config=config)
    assert summary["auto_merged"] == 1
    person = get(api, "/api/v1/profiles/lookup", email="sy.park@gmail.com")
    assert person["traits"]["company"] == "Acme Korea"  # crm outranks shop, though shop wrote last
    assert person["traits"]["job_title"] == "Head of Marketing Operations"


def test_same_folded_email_is_the_same_person(api: TestClient) -> None:
    a = upsert(api, {"first_name": "Emily"}, [("email", "emily.carter@gmail.com")])
    b = upsert(api, {"last_name": "Carter"}, [("email", "emilycarter+shop@gmail.com")])
    summary = dedupe(api)
    assert summary["auto_merged"] == 1
    survivor = get(api, "/api/v1/profiles/lookup", email="emilycarter+shop@gmail.com")
    assert survivor["id"] in (a["id"], b["id"])
    assert survivor["traits"]["first_name"] == "Emily" and survivor["traits"]["last_name"] == "Carter"
    merges = get(api, f"/api/v1/profiles/{survivor['id']}/merges")["data"]
    assert merges[0]["reason"] == "same email address (folded)"


GIVEN = ["Olivia", "Hamish", "Priya", "Tomasz", "Yuki", "Oluwaseun", "Ingrid", "Mateo"]
FAMILY = ["Okafor", "Lindqvist", "Ramanathan", "Kowalczyk", "Takahashi", "Adeyemi", "Fitzgerald", "Moreau"]


def test_blocked_identity_values_never_merge_anyone(api: TestClient) -> None:
    config = {"fields": {"first_name": "name", "last_name": "name", "member_no": "identifier"}}
    twins = []
    for number in range(8):  # real twins: one person written down twice, sharing a member number
        traits = {
            "first_name": GIVEN[number],
            "last_name": FAMILY[number],
            "member_no": f"M-{number * 7919:06d}",
        }
        one = upsert(api, traits, [("email", f"p{number}-one@example.com")])
        two = upsert(api, traits, [("email", f"p{number}-two@example.org")])
        twins.append({one["id"], two["id"]})
    placeholders = set()
    for number in range(8):  # different people whose only shared "id" is a placeholder
        traits = {
            "first_name": GIVEN[(number + 3) % 8],
            "last_name": FAMILY[(number + 5) % 8],
            "member_no": "undefined",
        }
        placeholders.add(upsert(api, traits, [("email", f"other{number}@example.net")])["id"])
    summary = dedupe(api, config=config)
    queued = [
        {p["id"] for p in pair["profiles"]} for pair in get(api, "/api/v1/duplicates", limit=200)["data"]
    ]
    merged = [{m["kept_id"], m["absorbed_id"]} for m in get(api, "/api/v1/merges", limit=200)["data"]]
    assert all(pair in queued or pair in merged for pair in twins)  # the real ones are found
    assert summary["auto_merged"] == len(merged) <= 8
    touched = {pid for pair in queued + merged for pid in pair}
    assert not touched & placeholders  # "undefined" identifies no one: never merged, never queued


def test_not_the_same_person_is_remembered_across_runs(api: TestClient) -> None:
    # Two shop accounts with their own user ids: alike, but never merged automatically.
    traits = {
        "first_name": "Hajun",
        "last_name": "Choi",
        "city": "Busan",
        "birthday": "1990-04-02",
    }
    upsert(api, traits, [("user_id", "C-1"), ("email", "hajun@naver.com")], source="shop")
    upsert(api, traits, [("user_id", "C-2"), ("email", "hajun.choi@daum.net")], source="shop")
    first = dedupe(api)
    assert first["auto_merged"] == 0 and first["queued"] == 1
    queue = get(api, "/api/v1/duplicates")["data"]
    assert "user_id" in queue[0]["reason"] and len(queue[0]["profiles"]) == 2
    assert any(f["field"] == "birthday" and f["level"] == "exact" for f in queue[0]["evidence"]["fields"])
    decided = api.post(f"/api/v1/duplicates/{queue[0]['id']}/decision", json={"decision": "distinct"})
    assert decided.status_code == 200 and decided.json()["status"] == "distinct"
    again = dedupe(api)
    assert again["queued"] == 0 and again["newly_queued"] == 0 and again["auto_merged"] == 0


def test_an_unmerged_pair_is_not_merged_again(api: TestClient) -> None:
    a = upsert(api, {"first_name": "Olivia"}, [("email", "olivia.brown@gmail.com")])
    upsert(api, {"first_name": "Olivia"}, [("email", "oliviabrown@gmail.com")])
    assert dedupe(api)["auto_merged"] == 1
    merge_id = get(api, f"/api/v1/profiles/{a['id']}/merges")["data"][0]["id"]
    assert api.post(f"/api/v1/merges/{merge_id}/undo").status_code == 200
    assert dedupe(api)["auto_merged"] == 0
    assert get(api, "/api/v1/stats")["profiles"] == 300 + 2


def test_a_record_matching_two_people_is_scored_and_queued(api: TestClient) -> None:
    email_owner = upsert(
        api, {"first_name": "Emily", "last_name": "Carter"}, [("email", "emily@example.com")]
    )
    phone_owner = upsert(api, {"first_name": "Noah", "last_name": "Park"}, [("phone", "+14155550123")])
    both = upsert(api, {}, [("email", "emily@example.com"), ("phone", "+14155550123")])
    assert both["merge_candidates"] == [phone_owner["id"]]
    summary = dedupe(api)
    assert summary["auto_merged"] == 0 and summary["queued"] == 1
    pair = get(api, "/api/v1/duplicates")["data"][0]
    assert pair["origin"] == "ingest" and pair["score"] is not None and pair["score"] < 0.5
    assert {p["id"] for p in pair["profiles"]} == {email_owner["id"], phone_owner["id"]}
    merged = api.post(f"/api/v1/duplicates/{pair['id']}/decision", json={"decision": "merge"})
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert get(api, "/api/v1/duplicates")["total"] == 0


def test_dedupe_as_a_worker_job(api: TestClient, db: Database) -> None:
    upsert(api, {"first_name": "Liam"}, [("email", "liam.smith@gmail.com")])
    upsert(api, {"first_name": "Liam"}, [("email", "liamsmith@gmail.com")])
    response = api.post("/api/v1/dedupe", json={})
    assert response.status_code == 202
    job_id = response.json()["job"]["id"]
    Worker(db.engine, db.settings).run_once()
    job = get(api, f"/api/v1/jobs/{job_id}")
    assert job["status"] == "succeeded", job
    assert job["result"]["auto_merged"] == 1 and set(job["result"]) >= {"compared", "queued", "seconds"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"config": {"fields": {"first_name": "fuzzy"}}}, "fields.first_name"),
        (
            {"config": {"fields": {"first_name": "name"}, "survivorship": {"fields": {"city": "loudest"}}}},
            "survivorship.city",
        ),
    ],
)
def test_bad_dedupe_options_name_the_field(api: TestClient, body: dict, field: str) -> None:
    response = api.post("/api/v1/dedupe", json={"wait": True, **body})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in (error.get("details") or {}).get("field", "") + error["message"]


def test_a_merge_that_would_break_an_identity_limit_waits_for_review(api: TestClient) -> None:
    config = {"fields": {"first_name": "name", "last_name": "name", "birthday": "date", "city": "text"}}
    traits = {"first_name": "Sunwoo", "last_name": "Bae", "birthday": "1984-07-21", "city": "Daegu"}
    for app in ("a", "b", "c"):  # three look-alikes with two addresses each: six, over the limit of five
        upsert(api, traits, [("email", f"sunwoo@{app}.kr"), ("email", f"bae.sunwoo@{app}.kr")], source=app)
    summary = dedupe(api, config=config)
    assert summary["auto_merged"] == 0
    reasons = {pair["reason"] for pair in get(api, "/api/v1/duplicates")["data"]}
    assert any("6 email identities (limit 5)" in reason for reason in reasons), reasons


def test_an_anonymous_visitor_joined_at_sign_in_can_be_split_off_again(api: TestClient, db: Database) -> None:
    track(
        api, db,
        ("/v1/identify", {"userId": "u-9", "messageId": "k1", "traits": {"first_name": "Yuna"}}),
        ("/v1/page", {"anonymousId": "tablet-3", "messageId": "k2", "name": "Pricing"}),
        ("/v1/identify", {"anonymousId": "tablet-3", "messageId": "k3", "traits": {"company": "Hanbit"}}),
    )  # fmt: skip
    visitor = get(api, "/api/v1/profiles/lookup", anonymous_id="tablet-3")
    before = whole(api, visitor["id"])
    track(api, db, ("/v1/identify", {"userId": "u-9", "anonymousId": "tablet-3", "messageId": "k4"}))
    known = get(api, "/api/v1/profiles/lookup", user_id="u-9")["id"]
    merge = get(api, f"/api/v1/profiles/{known}/merges")["data"][0]
    assert merge["absorbed_id"] == visitor["id"] and merge["actor"] == "ingest"
    assert api.post(f"/api/v1/merges/{merge['id']}/undo").status_code == 200
    restored = whole(api, visitor["id"])
    assert restored["traits"] == before["traits"] and set(restored["events"]) >= set(before["events"])
    assert "company" not in get(api, f"/api/v1/profiles/{known}")["traits"]


def test_init_schedules_a_nightly_dedupe_that_first_runs_a_day_later(db: Database) -> None:
    with transaction(db.engine, write=False) as conn:
        schedule = {s["name"]: s for s in list_schedules(conn)}["daily-dedupe"]
    assert schedule["kind"] == "dedupe" and schedule["interval_s"] == 86400 and schedule["is_enabled"]
    # Set-up must not merge anyone by itself: the first run waits a day (or for `patron dedupe`).
    assert schedule["next_run_at"] > utcnow() + timedelta(hours=23)


def test_a_match_config_may_name_a_field_by_an_alias_the_importer_renames(db: Database) -> None:
    config = parse_config({"fields": {"date_of_birth": "date", "organisation": "text", "phone": "phone"}})
    with transaction(db.engine, write=False) as conn:
        fields = canonical_fields(config, load_standards(conn)).fields
    assert fields == {"birthday": "date", "company": "text", "phone": "phone"}


def test_a_queued_pair_follows_its_profile_into_the_survivor(api: TestClient) -> None:
    first = upsert(api, {"first_name": "Liam"}, [("email", "liam.smith@gmail.com")])
    second = upsert(
        api,
        {"first_name": "Liam", "phone": "+14155550999"},
        [("email", "liamsmith@gmail.com"), ("user_id", "U-1")],
    )
    third = upsert(api, {"first_name": "Liam", "phone": "+14155550999"}, [("user_id", "U-2")])
    assert third["merge_candidates"] == [second["id"]]  # same phone, another user id
    summary = dedupe(api)
    assert summary["auto_merged"] == 1  # the two spellings of one Gmail mailbox
    pairs = [{p["id"] for p in pair["profiles"]} for pair in get(api, "/api/v1/duplicates")["data"]]
    assert pairs == [{first["id"], third["id"]}]  # second lives on as first
