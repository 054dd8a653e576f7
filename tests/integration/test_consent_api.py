"""Consent through the REST API: topics, grants and withdrawals, double opt-in over real SMTP,
links, preferences, suppression, the send gate, and consent across merges."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from patron.consent import CONFIRMATION_JOB
from patron.jobs import list_jobs
from patron.storage.engine import transaction
from patron.web.app import create_app
from patron.worker import HANDLERS
from patron.worker.loop import Worker
from tests.conftest import Database
from tests.integration.conftest import Mailbox


def topic(api: TestClient, key: str, **extra: object) -> dict:
    response = api.post("/api/v1/topics", json={"key": key, "name": key.title(), **extra})
    assert response.status_code == 201, response.text
    return response.json()


def person(api: TestClient, email: str, country: str, **traits: object) -> str:
    response = api.post(
        "/api/v1/profiles", json={"traits": {"email": email, "country": country, **traits}, "source": "crm"}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def consent(api: TestClient, pid: str, status: int = 200, **body: object) -> dict:
    response = api.post(f"/api/v1/profiles/{pid}/consent", json=body)
    assert response.status_code == status, response.text
    return response.json()


def state(api: TestClient, pid: str) -> dict:
    response = api.get(f"/api/v1/profiles/{pid}/consent")
    assert response.status_code == 200, response.text
    return response.json()


def run_jobs(db: Database, kind: str, mailbox: Mailbox | None = None) -> None:
    settings = db.settings.model_copy(update={"smtp_url": mailbox.url if mailbox else db.settings.smtp_url})
    worker = Worker(db.engine, settings, handlers={kind: HANDLERS[kind]})
    while worker.run_once() is not None:
        pass


def test_topics_are_created_listed_changed_and_checked(api: TestClient) -> None:
    topic(api, "newsletter", description="Monthly news", translations={"ko": {"name": "뉴스레터"}})
    topic(api, "offers", default="opt_out", region_defaults={"kr": "opt_in"}, channels=["email", "sms"])
    listed = api.get("/api/v1/topics").json()["data"]
    assert [t["key"] for t in listed] == ["newsletter", "offers"]
    assert listed[1]["region_defaults"] == {"KR": "opt_in"}
    changed = api.patch("/api/v1/topics/offers", json={"name": "Offers and discounts", "archived": True})
    assert changed.status_code == 200 and changed.json()["archived"] is True
    assert [t["key"] for t in api.get("/api/v1/topics").json()["data"]] == ["newsletter"]

    again = api.post("/api/v1/topics", json={"key": "newsletter", "name": "x"})
    assert again.status_code == 409 and again.json()["error"]["details"]["field"] == "key"
    for body, field in [
        ({"key": "Bad Key"}, "key"),
        ({"key": "ok", "default": "maybe"}, "default"),
        ({"key": "ok", "channels": ["fax"]}, "channels"),
        ({"key": "ok", "colour": "red"}, "colour"),
    ]:
        response = api.post("/api/v1/topics", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"]["field"] == field
    assert api.get("/api/v1/topics/nope").status_code == 404


def test_grant_and_withdraw_in_an_opt_out_region_need_no_confirmation(api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "ann@example.com", "US")
    assert state(api, pid)["channels"]["email"] == {
        "global": "none",
        "topics": {"newsletter": "none"},
        "can_send": {"newsletter": False},
    }
    granted = consent(
        api, pid, action="grant", topic="newsletter", method="form", notice_version="v3",
        notice_text="Yes, send me the newsletter", ip="203.0.113.9",
    )  # fmt: skip
    assert granted["state"] == "subscribed" and granted["confirmation_sent"] is False
    assert granted["consent"]["channels"]["email"]["can_send"]["newsletter"] is True
    consent(api, pid, action="withdraw", topic="newsletter", method="api")
    assert state(api, pid)["channels"]["email"]["topics"]["newsletter"] == "unsubscribed"

    ledger = api.get(f"/api/v1/profiles/{pid}/consent/ledger").json()["data"]
    assert [row["action"] for row in ledger] == ["withdraw", "grant"]
    assert ledger[1]["notice_text"] == "Yes, send me the newsletter"
    assert ledger[1]["notice_version"] == "v3" and ledger[1]["ip"] == "203.0.113.9"
    decision = api.get(f"/api/v1/profiles/{pid}/can-send", params={"topic": "newsletter"}).json()
    assert decision == {"allowed": False, "reason": "unsubscribed from newsletter"}


def test_double_opt_in_for_an_express_consent_region_over_real_smtp(
    db: Database, api: TestClient, mailbox: Mailbox
) -> None:
    topic(api, "newsletter", translations={"ko": {"name": "뉴스레터"}})
    pid = person(api, "minjun@example.kr", "KR")
    pending = consent(api, pid, 202, action="grant", topic="newsletter", method="form", notice_version="v1")
    assert pending["state"] == "pending" and pending["confirmation_sent"] is True
    assert state(api, pid)["channels"]["email"]["can_send"]["newsletter"] is False
    with transaction(db.engine, write=False) as conn:
        assert [j.kind for j in list_jobs(conn)].count(CONFIRMATION_JOB) == 1

    run_jobs(db, CONFIRMATION_JOB, mailbox)
    (message,) = mailbox.messages
    assert message["To"] == "minjun@example.kr"
    assert message["Subject"] == "구독을 확인해 주세요"  # Korean for a person in Korea
    body = message.get_content()
    assert "뉴스레터" in body
    link = re.search(r"https?://\S+/confirm/\S+", body).group(0)

    with TestClient(create_app(db.settings, engine=db.engine), client=("198.51.100.7", 50000)) as visitor:
        confirmed = visitor.get(urlsplit(link).path, headers={"User-Agent": "MailClient/1.0"})
    assert confirmed.status_code == 200, confirmed.text
    assert state(api, pid)["channels"]["email"]["topics"]["newsletter"] == "subscribed"
    ledger = api.get(f"/api/v1/profiles/{pid}/consent/ledger").json()["data"]
    assert [row["action"] for row in ledger] == ["confirm", "request"]
    assert ledger[0]["ip"] == "198.51.100.7" and ledger[0]["user_agent"] == "MailClient/1.0"
    assert ledger[0]["detail"]["request_id"] == ledger[1]["id"]
    assert api.get(urlsplit(link).path).status_code == 200  # a second click is harmless


def test_unconfirmed_requests_lapse_and_their_link_stops_working(db: Database, api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "seoyeon@example.kr", "KR")
    consent(api, pid, 202, action="grant", topic="newsletter", method="api")
    with transaction(db.engine) as conn:
        from patron.consent import confirmation_message, expire_lapsed, ledger_of

        request_id = ledger_of(conn, pid)[0].id
        link = re.search(
            r"/confirm/\S+", confirmation_message(conn, db.settings, [request_id]).get_content()
        ).group(0)
        assert expire_lapsed(conn, now=datetime.now(UTC) + timedelta(days=4)) == 1
    assert state(api, pid)["channels"]["email"]["topics"]["newsletter"] == "none"
    response = api.get(link)
    assert response.status_code == 410
    ledger = api.get(f"/api/v1/profiles/{pid}/consent/ledger").json()["data"]
    assert ledger[0]["action"] == "expire" and ledger[0]["method"] == "system"


def test_unsubscribe_from_all_suppresses_the_address_and_a_new_grant_lifts_it(api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "bob@example.com", "US")
    consent(api, pid, action="grant", topic="newsletter")
    consent(api, pid, action="withdraw", method="api")  # no topic: the whole channel
    checked = api.get("/api/v1/suppressions/check", params={"address": " BOB@example.com "}).json()
    assert checked["suppressed"] is True and checked["reason"] == "unsubscribe"
    decision = api.get(f"/api/v1/profiles/{pid}/can-send", params={"topic": "newsletter"}).json()
    assert decision["allowed"] is False
    consent(api, pid, action="grant", method="preference_centre")
    assert (
        api.get("/api/v1/suppressions/check", params={"address": "bob@example.com"}).json()["suppressed"]
        is False
    )


def test_suppression_list_holds_hashes_only_and_wins_over_consent(api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "carol@example.com", "US")
    consent(api, pid, action="grant", topic="newsletter")
    added = api.post("/api/v1/suppressions", json={"address": "Carol@Example.com", "reason": "complaint"})
    assert added.status_code == 201
    listed = api.get("/api/v1/suppressions").json()
    assert listed["counts"] == {"complaint": 1}
    assert "carol" not in str(listed).lower()
    decision = api.get(f"/api/v1/profiles/{pid}/can-send", params={"topic": "newsletter"}).json()
    assert decision == {"allowed": False, "reason": "address suppressed (complaint)"}
    assert api.get("/api/v1/audience", params={"topic": "newsletter"}).json()["count"] == 0
    hashed = added.json()["address_hash"]
    assert api.delete(f"/api/v1/suppressions/email/{hashed}").status_code == 204
    assert api.get("/api/v1/audience", params={"topic": "newsletter"}).json() == {"count": 1, "sample": [pid]}
    bad = api.post("/api/v1/suppressions", json={"address": "not an address"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "address"


def test_bad_consent_requests_name_the_field(api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "dan@example.com", "US")
    for body, field in [
        ({"action": "grant", "channel": "fax"}, "channel"),
        ({"action": "grant", "topic": "nope"}, "topic"),
        ({"action": "grant", "legal_basis": "vibes"}, "legal_basis"),
        ({"action": "grant", "method": "telepathy"}, "method"),
        ({"action": "grant", "ip": "999.1.1.1"}, "ip"),
        ({"action": "grant", "occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"action": "maybe"}, "action"),
    ]:
        response = api.post(f"/api/v1/profiles/{pid}/consent", json=body)
        assert response.status_code == 422, (body, response.text)
        details = response.json()["error"]["details"]
        named = details.get("field") if isinstance(details, dict) else details[0]["field"]
        assert named == field, (body, details)
    assert api.post("/api/v1/profiles/nope/consent", json={"action": "grant"}).status_code == 404
    assert api.get(f"/api/v1/profiles/{pid}/consent/ledger").json()["data"] == []  # nothing half-written


def test_links_are_signed_urls_to_the_public_pages(db: Database, api: TestClient) -> None:
    topic(api, "newsletter")
    pid = person(api, "erin@example.com", "US")
    links = api.get(f"/api/v1/profiles/{pid}/links").json()
    assert links["preferences"].startswith(db.settings.base_url + "/p/")
    assert links["unsubscribe"].startswith(db.settings.base_url + "/u/")
    per_topic = api.get(f"/api/v1/profiles/{pid}/links", params={"topic": "newsletter"}).json()
    assert per_topic["unsubscribe"] != links["unsubscribe"]
    assert api.get(f"/api/v1/profiles/{pid}/links", params={"topic": "nope"}).status_code == 404


def test_frequency_and_pause_are_kept_and_proven(api: TestClient) -> None:
    pid = person(api, "fay@example.com", "US")
    until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    response = api.put(
        f"/api/v1/profiles/{pid}/preferences", json={"frequency": "weekly", "paused_until": until.isoformat()}
    )
    assert response.status_code == 200, response.text
    assert response.json()["frequency"] == "weekly"
    assert datetime.fromisoformat(response.json()["paused_until"]) == until
    ledger = api.get(f"/api/v1/profiles/{pid}/consent/ledger").json()["data"]
    assert sorted(row["action"] for row in ledger) == ["frequency", "pause"]
    assert (
        api.put(f"/api/v1/profiles/{pid}/preferences", json={"paused_until": None}).json()["paused_until"]
        is None
    )
    bad = api.put(f"/api/v1/profiles/{pid}/preferences", json={"frequency": "hourly"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "frequency"


def test_regions_decide_the_model_and_can_be_overridden(api: TestClient) -> None:
    models = {row["region"]: row["model"] for row in api.get("/api/v1/regions").json()["data"]}
    assert (models["KR"], models["DE"], models["GB"], models["US"], models["CA"], models["*"]) == (
        "express", "express", "express", "opt_out", "implied", "express",
    )  # fmt: skip
    topic(api, "newsletter")
    pid = person(api, "gus@example.com", "US")
    assert consent(api, pid, action="grant", topic="newsletter", method="form")["state"] == "subscribed"
    assert api.put("/api/v1/regions/us", json={"model": "express"}).status_code == 200
    other = person(api, "hal@example.com", "US")
    assert consent(api, other, 202, action="grant", topic="newsletter", method="form")["state"] == "pending"
    assert api.delete("/api/v1/regions/US").status_code == 204
    bad = api.put("/api/v1/regions/USA", json={"model": "express"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "region"


def test_opt_out_topics_reach_people_in_opt_out_regions_until_they_decline(api: TestClient) -> None:
    topic(api, "offers", default="opt_out", region_defaults={"KR": "opt_in"})
    us = person(api, "ivy@example.com", "US")
    kr = person(api, "jiwoo@example.kr", "KR")
    assert api.get("/api/v1/audience", params={"topic": "offers"}).json()["sample"] == [us]
    consent(api, us, action="withdraw", topic="offers")
    assert api.get("/api/v1/audience", params={"topic": "offers"}).json()["count"] == 0
    consent(api, kr, action="grant", topic="offers", method="admin")
    assert api.get("/api/v1/audience", params={"topic": "offers"}).json()["sample"] == [kr]


def test_merging_keeps_both_ledgers_and_the_stricter_state_and_unmerge_hands_back(api: TestClient) -> None:
    topic(api, "newsletter")
    kept = person(api, "kim@example.com", "US", first_name="Min", last_name="Kim")
    other = person(api, "kim.work@example.com", "US", first_name="Min", last_name="Kim")
    consent(api, other, action="withdraw", topic="newsletter", occurred_at="2026-01-01T00:00:00Z")
    consent(api, kept, action="grant", topic="newsletter", occurred_at="2026-02-01T00:00:00Z")
    api.put(f"/api/v1/profiles/{other}/preferences", json={"frequency": "monthly"})
    merged = api.post(f"/api/v1/profiles/{kept}/merge", json={"other": other})
    assert merged.status_code == 200, merged.text
    survivor = merged.json().get("kept_id", kept)
    now = state(api, survivor)
    assert now["channels"]["email"]["topics"]["newsletter"] == "unsubscribed"
    assert now["frequency"] == "monthly"
    ledger = api.get(f"/api/v1/profiles/{survivor}/consent/ledger").json()["data"]
    assert ledger[0]["action"] == "withdraw" and ledger[0]["method"] == "merge"
    assert {row["action"] for row in ledger} >= {"grant", "withdraw", "frequency"}

    merge_id = api.get(f"/api/v1/profiles/{survivor}/merges").json()["data"][0]["id"]
    assert api.post(f"/api/v1/merges/{merge_id}/undo").status_code == 200
    restored = other if survivor == kept else kept
    back = api.get(f"/api/v1/profiles/{restored}/consent/ledger").json()["data"]
    assert [row["action"] for row in back if row["action"] != "frequency"] == ["withdraw"]
    assert state(api, restored)["channels"]["email"]["topics"]["newsletter"] == "unsubscribed"


def test_the_confirmation_worker_job_runs_in_serve(db: Database, mailbox: Mailbox) -> None:
    """The app with its in-process worker mails the confirmation without help."""
    import time

    settings = db.settings.model_copy(update={"smtp_url": mailbox.url, "worker_poll_interval_s": 0.05})
    with TestClient(create_app(settings, engine=db.engine, run_worker=True)) as client:
        client.headers["Authorization"] = f"Bearer {db.admin_key}"
        topic(client, "newsletter")
        pid = person(client, "nari@example.kr", "KR")
        consent(client, pid, 202, action="grant", topic="newsletter", method="form")
        deadline = time.monotonic() + 20
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["To"] == "nari@example.kr"


@pytest.mark.parametrize("channel", ["sms"])
def test_double_opt_in_is_by_email_only(api: TestClient, channel: str) -> None:
    topic(api, "alerts", channels=["sms"])
    pid = person(api, "kai@example.kr", "KR")
    response = api.post(
        f"/api/v1/profiles/{pid}/consent",
        json={"action": "grant", "channel": channel, "topic": "alerts", "double_opt_in": True},
    )
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "channel"


def test_list_unsubscribe_headers_lead_to_a_working_one_click(db: Database, api: TestClient) -> None:
    """The headers a marketing mail will carry: a POST to their URL unsubscribes (RFC 8058)."""
    from patron.consent import list_unsubscribe_headers

    topic(api, "newsletter")
    pid = person(api, "olga@example.com", "US")
    consent(api, pid, action="grant", topic="newsletter")
    with transaction(db.engine, write=False) as conn:
        headers = list_unsubscribe_headers(conn, db.settings, pid, topic="newsletter")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    response = api.post(
        urlsplit(url).path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": ""},
    )
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert state(api, pid)["channels"]["email"]["topics"]["newsletter"] == "unsubscribed"


def test_deleting_someone_who_withdrew_does_not_reopen_the_door(api: TestClient) -> None:
    """Delete (not erase) a person who unsubscribed from one topic, import them again: the address
    stays suppressed until they subscribe again themselves."""
    topic(api, "offers", default="opt_out")
    pid = person(api, "quinn@example.com", "US")
    consent(api, pid, action="withdraw", topic="offers")
    assert api.delete(f"/api/v1/profiles/{pid}").status_code == 204
    again = person(api, "quinn@example.com", "US")
    decision = api.get(f"/api/v1/profiles/{again}/can-send", params={"topic": "offers"}).json()
    assert decision == {"allowed": False, "reason": "address suppressed (unsubscribe)"}
    consent(api, again, action="grant", method="preference_centre")  # their own choice lifts it
    assert api.get(f"/api/v1/profiles/{again}/can-send", params={"topic": "offers"}).json()["allowed"] is True

    never_withdrew = person(api, "rae@example.com", "US")
    assert api.delete(f"/api/v1/profiles/{never_withdrew}").status_code == 204
    checked = api.get("/api/v1/suppressions/check", params={"address": "rae@example.com"}).json()
    assert checked["suppressed"] is False
