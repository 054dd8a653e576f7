"""Admin consent pages over HTTP on both databases: overview with rates, topics, region policy,
suppressions, and a person's consent panel (history, admin changes, export, erasure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from patron.consent import hash_address
from tests.conftest import Database
from tests.integration.calls import admin, api_get, post_profile
from tests.integration.test_admin import csrf_of, log_in


@pytest.fixture
def browser(app_client: TestClient, db: Database) -> TestClient:
    """The admin, logged in."""
    log_in(app_client, db)
    return app_client


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/admin/consent").text)


def topic(client: TestClient, db: Database, key: str, name: str) -> None:
    response = client.post("/api/v1/topics", json={"key": key, "name": name}, headers=admin(db))
    assert response.status_code == 201, response.text


def consent_change(client: TestClient, db: Database, profile_id: str, **body: object) -> None:
    body = {"channel": "email", "method": "import", "double_opt_in": False, **body}
    response = client.post(f"/api/v1/profiles/{profile_id}/consent", json=body, headers=admin(db))
    assert response.status_code == 200, response.text


def row_of(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(1)


def cell(row: str, state: str) -> str:
    match = re.search(rf'data-state="{state}">([^<]*)<', row)
    assert match, f"no {state} cell"
    return match.group(1)


def test_overview_counts_states_and_charts_rates(browser: TestClient, db: Database) -> None:
    topic(browser, db, "news", "Weekly news")
    month_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    people = [
        post_profile(browser, db, {"email": f"reader{n}@example.com", "country": "US"}) for n in range(3)
    ]
    for person in people:
        consent_change(browser, db, person["id"], topic="news", action="grant", occurred_at=month_ago)
    consent_change(browser, db, people[0]["id"], topic="news", action="withdraw", method="preference_centre")
    page = browser.get("/admin/consent")
    assert page.status_code == 200
    news = row_of(page.text, "data-topic", "news")
    assert (cell(news, "subscribed"), cell(news, "unsubscribed"), cell(news, "none")) == ("2", "1", "0")
    figure = re.search(r'<figure class="topic-rates" data-topic="news">(.*?)</figure>', page.text, re.S)
    assert figure and "<svg" in figure.group(1) and "Unsubscribes" in figure.group(1)
    assert "(1 of 3 subscribers)" in figure.group(1)  # this month: one of three left
    weekly = browser.get("/admin/consent?unit=week&periods=8")
    assert weekly.status_code == 200 and "Week from" in weekly.text


def test_creating_and_editing_a_topic(browser: TestClient, db: Database) -> None:
    token = csrf(browser)
    created = browser.post(
        "/admin/consent/topics",
        data={
            "csrf_token": token,
            "key": "offers",
            "name": "Offers",
            "default": "opt_out",
            "channels": ["email", "sms"],
        },  # fmt: skip
        follow_redirects=False,
    )
    assert (
        created.status_code == 303
        and created.headers["location"] == "/admin/consent/topics/offers?done=topic"
    )
    edited = browser.post(
        "/admin/consent/topics/offers",
        data={
            "csrf_token": token,
            "name": "Special offers",
            "description": "Discounts, now and then",
            "default": "opt_out",
            "channels": ["email"],
            "region_defaults": "kr=opt_in\nCA=opt_in",
            "ko_name": "특별 할인",
            "ko_description": "가끔 보내는 할인 소식",
        },
    )
    assert edited.status_code == 200 and "Topic saved." in edited.text
    saved = api_get(browser, db, "/api/v1/topics/offers")
    assert saved["name"] == "Special offers" and saved["channels"] == ["email"]
    assert saved["region_defaults"] == {"KR": "opt_in", "CA": "opt_in"}
    assert saved["translations"]["ko"] == {"name": "특별 할인", "description": "가끔 보내는 할인 소식"}
    assert "특별 할인" in browser.get("/admin/consent/topics").text


def test_a_topic_form_with_bad_input_says_which_field(browser: TestClient, db: Database) -> None:
    token = csrf(browser)
    refused = browser.post("/admin/consent/topics", data={"csrf_token": token, "key": "Bad Key", "name": "x"})
    assert refused.status_code == 422 and "key must start with a lower-case letter" in refused.text
    topic(browser, db, "news", "News")
    regions = browser.post(
        "/admin/consent/topics/news",
        data={"csrf_token": token, "name": "News", "channels": ["email"], "region_defaults": "KR=maybe"},
    )
    assert regions.status_code == 422 and "KR=maybe" in regions.text
    archived = browser.post(
        "/admin/consent/topics/news",
        data={"csrf_token": token, "name": "News", "channels": ["email"], "archived": "1"},
    )
    assert archived.status_code == 200 and api_get(browser, db, "/api/v1/topics/news")["archived"] is True


def test_a_region_override_is_set_and_restored(browser: TestClient, db: Database) -> None:
    token = csrf(browser)
    browser.post("/admin/consent/regions", data={"csrf_token": token, "region": "us", "model": "express"})
    page = browser.get("/admin/consent")
    us = row_of(page.text, "data-region", "US")
    assert "express" in us and "changed" in us
    restored = browser.post(
        "/admin/consent/regions", data={"csrf_token": token, "region": "US", "model": "built_in"}
    )
    assert "restored to its built-in model" in restored.text
    us = row_of(restored.text, "data-region", "US")
    assert "opt-out" in us and "changed" not in us
    refused = browser.post(
        "/admin/consent/regions", data={"csrf_token": token, "region": "USA", "model": "express"}
    )
    assert refused.status_code == 422 and "two-letter country code" in refused.text


def test_the_contact_page_shows_the_ledger_after_a_change(browser: TestClient, db: Database) -> None:
    topic(browser, db, "news", "Weekly news")
    person = post_profile(browser, db, {"email": "mina@example.com", "country": "US"})
    consent_change(browser, db, person["id"], topic="news", action="grant", notice_version="signup-v3",
                   ip="203.0.113.9", source="shop")  # fmt: skip
    page = browser.get(f"/admin/contacts/{person['id']}")
    assert page.status_code == 200
    ledger = re.search(r'<table class="ledger">(.*?)</table>', page.text, re.S)
    assert ledger, "the consent history is shown"
    assert all(
        text in ledger.group(1) for text in ("grant", "Weekly news", "signup-v3", "203.0.113.9", "shop")
    )
    news = row_of(page.text, 'data-channel="email" data-topic', "news")
    assert "subscribed" in news and "yes" in news
    assert "/p/" in page.text and "/u/" in page.text  # the person's signed links


def test_the_admin_consent_form_records_a_ledger_row_with_method_admin(
    browser: TestClient, db: Database
) -> None:
    topic(browser, db, "news", "News")
    person = post_profile(browser, db, {"email": "jun@example.kr", "country": "KR"})
    form = browser.get(f"/admin/contacts/{person['id']}")
    response = browser.post(
        f"/admin/contacts/{person['id']}/consent",
        data={
            "csrf_token": csrf_of(form.text),
            "channel": "email",
            "topic": "news",
            "action": "grant",
            "legal_basis": "consent",
            "notice_version": "call-2026-11",
        },  # fmt: skip
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Consent change recorded" in browser.get(response.headers["location"]).text
    (row,) = api_get(browser, db, f"/api/v1/profiles/{person['id']}/consent/ledger")["data"]
    assert (row["action"], row["method"], row["topic"], row["notice_version"]) == (
        "grant", "admin", "news", "call-2026-11"
    )  # fmt: skip
    assert row["actor"] == "admin:admin@example.com"
    # Korea needs express consent, but an admin's grant is not held for double opt-in.
    assert api_get(browser, db, f"/api/v1/profiles/{person['id']}/consent")["channels"]["email"][
        "topics"
    ] == {"news": "subscribed"}
    refused = browser.post(
        f"/admin/contacts/{person['id']}/consent",
        data={
            "csrf_token": csrf_of(form.text),
            "channel": "email",
            "topic": "news",
            "action": "grant",
            "legal_basis": "because",
        },  # fmt: skip
    )
    assert refused.status_code == 422 and "legal_basis must be one of" in refused.text


def test_suppressions_are_added_hashed_and_removed(browser: TestClient, db: Database) -> None:
    token = csrf(browser)
    added = browser.post(
        "/admin/consent/suppressions",
        data={
            "csrf_token": token,
            "channel": "email",
            "address": " Blocked@Example.com ",
            "note": "asked by phone",
        },
    )
    assert added.status_code == 200 and "added to the suppression list" in added.text
    hashed = hash_address("email", "blocked@example.com")
    assert hashed in added.text and "blocked@example.com" not in added.text.lower()
    row = row_of(added.text, "data-hash", hashed)
    assert "manual" in row and "asked by phone" in row
    removed = browser.post(
        "/admin/consent/suppressions/remove",
        data={"csrf_token": token, "channel": "email", "address_hash": hashed},
    )
    assert "removed from the suppression list" in removed.text and hashed not in removed.text
    refused = browser.post(
        "/admin/consent/suppressions", data={"csrf_token": token, "address": "not an email"}
    )
    assert refused.status_code == 422


def test_forms_without_the_csrf_token_are_refused(browser: TestClient, db: Database) -> None:
    response = browser.post("/admin/consent/regions", data={"region": "US", "model": "express"})
    assert response.status_code == 403
    assert "changed" not in row_of(browser.get("/admin/consent").text, "data-region", "US")


def test_download_data_gives_a_json_attachment(browser: TestClient, db: Database) -> None:
    person = post_profile(browser, db, {"email": "hana@example.com", "first_name": "Hana"})
    response = browser.get(f"/admin/contacts/{person['id']}/export")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    assert "hana@example.com" in response.text


def test_erasing_from_the_admin_needs_confirmation_and_removes_the_person(
    browser: TestClient, db: Database
) -> None:
    person = post_profile(browser, db, {"email": "gone@example.com", "first_name": "Gone"})
    token = csrf_of(browser.get(f"/admin/contacts/{person['id']}").text)
    refused = browser.post(
        f"/admin/contacts/{person['id']}/erase", data={"csrf_token": token, "confirm": "yes"}
    )
    assert refused.status_code == 422 and "Nothing was erased" in refused.text
    assert browser.get(f"/api/v1/profiles/{person['id']}", headers=admin(db)).status_code == 200
    erased = browser.post(
        f"/admin/contacts/{person['id']}/erase", data={"csrf_token": token, "confirm": "GONE@example.com"}
    )
    assert erased.status_code == 200 and "was erased" in erased.text
    assert browser.get(f"/api/v1/profiles/{person['id']}", headers=admin(db)).status_code == 404
    assert "gone@example.com" not in browser.get("/admin/contacts").text
