"""The public pages people reach from our mail: preference centre, unsubscribe (with RFC 8058
one-click exactly as mailbox providers send it), double opt-in confirmation, and the clear pages a
broken, foreign or old link gets. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from patron.consent import tokens
from patron.storage.engine import transaction
from patron.web.app import create_app
from tests.conftest import Database
from tests.integration.calls import admin

PERSON_IP = "203.0.113.7"
GMAIL_UA = "Mozilla/5.0 (compatible; GoogleOneClick)"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """A browser-like client from a real address, with no credentials."""
    with TestClient(create_app(db.settings, engine=db.engine), client=(PERSON_IP, 50123)) as client:
        yield client


def make_topic(client: TestClient, db: Database, key: str, **extra: object) -> None:
    body = {"key": key, "name": key.title(), **extra}
    response = client.post("/api/v1/topics", json=body, headers=admin(db))
    assert response.status_code == 201, response.text


def make_person(client: TestClient, db: Database, **traits: object) -> str:
    body = {"traits": {"first_name": "Ada", "last_name": "Lovelace", **traits}, "source": "crm"}
    response = client.post("/api/v1/profiles", json=body, headers=admin(db))
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def links(client: TestClient, db: Database, pid: str, **params: str) -> dict[str, str]:
    """The person's signed links as paths on this app."""
    response = client.get(f"/api/v1/profiles/{pid}/links", params=params, headers=admin(db))
    assert response.status_code == 200, response.text
    return {name: urlsplit(url).path for name, url in response.json().items()}


def consent_of(client: TestClient, db: Database, pid: str) -> dict:
    response = client.get(f"/api/v1/profiles/{pid}/consent", headers=admin(db))
    assert response.status_code == 200, response.text
    return response.json()


def ledger_of(client: TestClient, db: Database, pid: str) -> list[dict]:
    response = client.get(f"/api/v1/profiles/{pid}/consent/ledger", headers=admin(db))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def grant(client: TestClient, db: Database, pid: str, status: int = 200, **body: object) -> dict:
    response = client.post(
        f"/api/v1/profiles/{pid}/consent", json={"action": "grant", **body}, headers=admin(db)
    )
    assert response.status_code == status, response.text
    return response.json()


def checked_boxes(html: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" id="[^"]+" name="([^"]+)" value="on" checked', html))


@pytest.fixture
def newsletter_reader(db: Database, client: TestClient) -> str:
    """A person in the US with an email and a phone, and three topics on offer."""
    make_topic(
        client,
        db,
        "news",
        description="Our monthly letter",
        translations={"ko": {"name": "소식지", "description": "매월 보내드리는 소식"}},
    )
    make_topic(client, db, "offers", translations={"ko": {"name": "할인 혜택"}})
    make_topic(client, db, "alerts", channels=["sms"], translations={"ko": {"name": "배송 알림"}})
    return make_person(client, db, email="ada@example.com", phone="+1 650 253 0000", country="US")


def test_preference_centre_shows_each_channel_in_english_and_korean(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    path = links(client, db, newsletter_reader)["preferences"]

    english = client.get(path)
    assert english.status_code == 200, english.text
    assert '<html lang="en">' in english.text
    assert "Our monthly letter" in english.text and "Save my choices" in english.text
    assert "ada@example.com" in english.text and "Text messages (SMS)" in english.text
    assert 'name="sms:alerts"' in english.text and 'name="email:alerts"' not in english.text
    assert "script-src 'self'" in english.headers["content-security-policy"]
    assert english.headers["cache-control"] == "no-store"
    assert english.headers["referrer-policy"] == "no-referrer"

    by_query = client.get(path, params={"lang": "ko"})
    assert '<html lang="ko">' in by_query.text
    assert (
        "소식지" in by_query.text and "매월 보내드리는 소식" in by_query.text and "저장하기" in by_query.text
    )
    assert f'href="{path}?lang=en"' in by_query.text  # the language switch keeps the page

    by_header = client.get(path, headers={"Accept-Language": "fr-FR, ko;q=0.8, en;q=0.5"})
    assert '<html lang="ko">' in by_header.text and "할인 혜택" in by_header.text
    assert '<html lang="en">' in client.get(path, headers={"Accept-Language": "ko;q=0.2, en"}).text


def test_saving_topics_frequency_and_pause_is_kept_and_proven_in_the_ledger(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    pid = newsletter_reader
    path = links(client, db, pid)["preferences"]
    shown = ["email:news", "email:offers", "sms:alerts"]

    saved = client.post(
        f"{path}?lang=ko",
        data={"shown": shown, "email:news": "on", "sms:alerts": "on", "frequency": "weekly", "pause": "30"},
        headers={"User-Agent": "Firefox/140"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert parse_qs(urlsplit(saved.headers["location"]).query) == {"lang": ["ko"], "saved": ["1"]}

    state = consent_of(client, db, pid)
    assert state["channels"]["email"]["topics"] == {"news": "subscribed", "offers": "none"}
    assert state["channels"]["sms"]["topics"] == {"alerts": "subscribed"}
    assert state["frequency"] == "weekly" and state["paused_until"] and state["locale"] == "ko"
    rows = ledger_of(client, db, pid)
    assert {(r["action"], r["topic"]) for r in rows} == {
        ("grant", "news"),
        ("grant", "alerts"),
        ("frequency", None),
        ("pause", None),
    }
    assert {r["method"] for r in rows} == {"preference_centre"}
    assert {r["ip"] for r in rows} == {PERSON_IP} and {r["user_agent"] for r in rows} == {"Firefox/140"}
    assert next(r for r in rows if r["topic"] == "news")["notice_text"] == "소식지: 매월 보내드리는 소식"

    page = client.get(saved.headers["location"])
    assert "저장되었습니다" in page.text and "일시 중지되었습니다" in page.text
    assert checked_boxes(page.text) == {"email:news", "sms:alerts"}
    assert '<option value="weekly" selected>' in page.text

    # Untick news, end the pause: a withdrawal and a pause row; nothing else is rewritten.
    client.post(path, data={"shown": shown, "sms:alerts": "on", "frequency": "weekly", "pause": "none"})
    state = consent_of(client, db, pid)
    assert state["channels"]["email"]["topics"]["news"] == "unsubscribed"
    assert state["channels"]["sms"]["topics"]["alerts"] == "subscribed"
    assert state["paused_until"] is None
    assert [(r["action"], r["topic"]) for r in ledger_of(client, db, pid)][:2] == [
        ("pause", None),
        ("withdraw", "news"),
    ] or [(r["action"], r["topic"]) for r in ledger_of(client, db, pid)][:2] == [
        ("withdraw", "news"),
        ("pause", None),
    ]


def test_unsubscribe_from_all_and_coming_back_through_a_topic(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    pid = newsletter_reader
    path = links(client, db, pid)["preferences"]
    shown = ["email:news", "email:offers"]
    client.post(path, data={"shown": shown, "email:news": "on"})

    client.post(path, data={"shown": shown, "email:news": "on", "email:*all": "on"})
    email = consent_of(client, db, pid)["channels"]["email"]
    assert email["global"] == "unsubscribed" and email["can_send"] == {"news": False, "offers": False}
    page = client.get(path).text
    assert checked_boxes(page) == {"email:*all"}  # nothing looks subscribed while all is off

    # The box still says "all" but a topic is ticked again: that is a new subscription.
    client.post(path, data={"shown": shown, "email:offers": "on", "email:*all": "on"})
    email = consent_of(client, db, pid)["channels"]["email"]
    assert email["global"] == "subscribed"
    assert email["topics"] == {"news": "unsubscribed", "offers": "subscribed"}


def test_bad_frequency_or_pause_gets_a_page_naming_the_field(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    path = links(client, db, newsletter_reader)["preferences"]
    response = client.post(path, data={"frequency": "hourly"})
    assert response.status_code == 422
    assert "frequency must be one of" in response.text and "hourly" in response.text
    response = client.post(path, data={"pause": "forever"})
    assert response.status_code == 422 and "pause must be one of" in response.text
    assert ledger_of(client, db, newsletter_reader) == []


@pytest.mark.parametrize("encoding", ["form-urlencoded", "multipart"])
def test_one_click_unsubscribe_as_mailbox_providers_send_it(
    db: Database, client: TestClient, newsletter_reader: str, encoding: str
) -> None:
    pid = newsletter_reader
    grant(client, db, pid, topic="news", method="import")
    link = links(client, db, pid)["unsubscribe"]
    client.cookies.clear()

    if encoding == "form-urlencoded":
        send = {
            "content": "List-Unsubscribe=One-Click",
            "headers": {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": GMAIL_UA},
        }
    else:
        send = {"files": {"List-Unsubscribe": (None, "One-Click")}, "headers": {"User-Agent": GMAIL_UA}}
    response = client.post(link, follow_redirects=False, **send)

    assert response.status_code == 200, response.text
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert consent_of(client, db, pid)["channels"]["email"]["global"] == "unsubscribed"
    (row,) = [r for r in ledger_of(client, db, pid) if r["action"] == "withdraw"]
    assert row["method"] == "one_click" and row["ip"] == PERSON_IP and row["user_agent"] == GMAIL_UA

    again = client.post(link, follow_redirects=False, **send)
    assert again.status_code == 200
    assert [r["action"] for r in ledger_of(client, db, pid)].count("withdraw") == 1


def test_unsubscribe_link_asks_first_then_unsubscribes_from_its_topic(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    pid = newsletter_reader
    grant(client, db, pid, topic="news", method="import")
    link = links(client, db, pid, topic="news")["unsubscribe"]

    question = client.get(link)  # what a mail filter's link scanner does
    assert question.status_code == 200
    assert "Unsubscribe Ada Lovelace (ada@example.com) from News?" in question.text
    assert consent_of(client, db, pid)["channels"]["email"]["topics"]["news"] == "subscribed"
    korean = client.get(link, params={"lang": "ko"}).text
    assert "'소식지' 수신을 거부하시겠습니까?" in unescape(korean)

    done = client.post(f"{link}?lang=en", data={"confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    prefs_path = re.search(r'href="(/p/[^"?]+)\?lang=en"', done.text).group(1)
    assert client.get(prefs_path).status_code == 200  # the way back to undo it
    email = consent_of(client, db, pid)["channels"]["email"]
    assert email["topics"]["news"] == "unsubscribed" and email["global"] != "unsubscribed"
    assert ledger_of(client, db, pid)[0]["method"] == "unsubscribe_page"

    assert client.post(link, data={"confirm": "yes"}).status_code == 200  # idempotent
    assert [r["action"] for r in ledger_of(client, db, pid)].count("withdraw") == 1


def _old_token(secret: str, token: tokens.LinkToken, age_s: int) -> str:
    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    # The same salt the instance signs with: only the age differs from a real link.
    return URLSafeTimedSerializer(secret, salt=tokens._SALT, signer=SignedLongAgo).dumps(token.payload())


def test_broken_foreign_and_old_links_get_clear_pages(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    pid = newsletter_reader
    mine = links(client, db, pid)
    raw = mine["preferences"].removeprefix("/p/")
    middle = len(raw) // 3
    tampered = raw[:middle] + ("A" if raw[middle] != "A" else "B") + raw[middle + 1 :]
    foreign = tokens.sign("another-instance", tokens.LinkToken(tokens.PREFERENCES, pid))
    settings = db.settings
    old = _old_token(
        settings.secret_key, tokens.LinkToken(tokens.PREFERENCES, pid), (settings.link_ttl_days + 1) * 86400
    )
    still_fine = _old_token(settings.secret_key, tokens.LinkToken(tokens.PREFERENCES, pid), 60 * 86400)

    for path, status, words in [
        (f"/p/{tampered}", 400, "This link does not work"),
        (f"/p/{raw[:-5]}", 400, "This link does not work"),
        (f"/p/{foreign}", 400, "This link does not work"),
        (mine["unsubscribe"].replace("/u/", "/p/"), 400, "This link does not work"),
        (mine["preferences"].replace("/p/", "/u/"), 400, "This link does not work"),
        (f"/p/{old}", 410, "This link has expired"),
        (f"/u/{_old_token(settings.secret_key, tokens.LinkToken(tokens.UNSUBSCRIBE, pid), 500 * 86400)}", 410,
         "This link has expired"),
        (f"/confirm/{tampered}", 400, "This link does not work"),
    ]:  # fmt: skip
        response = client.get(path)
        assert response.status_code == status, (path, response.text)
        assert words in response.text and "Traceback" not in response.text
        assert response.headers["content-type"].startswith("text/html")
    korean = client.get(f"/p/{old}", params={"lang": "ko"})
    assert korean.status_code == 410 and "링크의 유효 기간이 지났습니다" in korean.text
    posted = client.post(f"/u/{tampered}", content="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert posted.status_code == 400
    assert client.get(f"/p/{still_fine}").status_code == 200  # two months on, mail links still work


def test_link_of_an_erased_person_leads_nowhere(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    mine = links(client, db, newsletter_reader)
    assert client.delete(f"/api/v1/profiles/{newsletter_reader}", headers=admin(db)).status_code == 204
    for response in (client.get(mine["preferences"]), client.get(mine["unsubscribe"])):
        assert response.status_code == 410
        assert "This link no longer leads anywhere" in response.text


def test_confirmation_link_subscribes_once_and_a_second_click_is_harmless(
    db: Database, client: TestClient
) -> None:
    make_topic(client, db, "news", translations={"ko": {"name": "소식지"}})
    pid = make_person(client, db, email="minjun@example.kr", country="KR", first_name="민준", last_name="김")
    request = grant(client, db, pid, 202, topic="news", method="form", notice_version="v1")
    assert request["state"] == "pending"
    with transaction(db.engine) as conn:
        url = tokens.make_url(
            conn, db.settings, tokens.LinkToken(tokens.CONFIRM, pid, "email", "news", (request["ledger_id"],))
        )

    page = client.get(urlsplit(url).path, params={"lang": "ko"}, headers={"User-Agent": "MailApp/2"})
    assert page.status_code == 200, page.text
    assert "'소식지' 구독이 확인되었습니다" in unescape(page.text)
    assert consent_of(client, db, pid)["channels"]["email"]["topics"]["news"] == "subscribed"
    confirm_row = ledger_of(client, db, pid)[0]
    assert confirm_row["action"] == "confirm" and confirm_row["ip"] == PERSON_IP
    assert confirm_row["user_agent"] == "MailApp/2"

    again = client.get(urlsplit(url).path)
    assert again.status_code == 200 and "Subscription confirmed" in again.text
    assert [r["action"] for r in ledger_of(client, db, pid)].count("confirm") == 1


def test_download_my_data_is_a_json_file(db: Database, client: TestClient, newsletter_reader: str) -> None:
    gdpr = pytest.importorskip("patron.gdpr")
    if not hasattr(gdpr, "export_profile"):
        pytest.skip("patron.gdpr.export_profile is not written yet")
    path = links(client, db, newsletter_reader)["preferences"]
    assert f'href="{path}/export"' in client.get(path).text
    response = client.get(f"{path}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "ada@example.com" in response.text
    assert response.json()


def test_names_and_topics_are_escaped_not_run(db: Database, client: TestClient) -> None:
    make_topic(client, db, "news", name="<script>alert(1)</script>")
    pid = make_person(client, db, email="eve@example.com", first_name="<img src=x onerror=alert(1)>")
    page = client.get(links(client, db, pid, topic="news")["unsubscribe"]).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_a_preference_centre_experiment_counts_views_and_submissions_per_variant(
    db: Database, client: TestClient, newsletter_reader: str
) -> None:
    experiment = {
        "key": "prefs-test",
        "name": "Preference centre wording",
        "kind": "preferences",
        "channel": "email",
        "topics": ["news"],
        "notice_version": "prefs-2026-12",
        "variants": [{"key": "warm", "heading": "Hear only what you love", "button": "Keep these"}],
    }
    response = client.post("/api/v1/forms", json=experiment, headers=admin(db))
    assert response.status_code == 201, response.text
    path = links(client, db, newsletter_reader)["preferences"]

    page = client.get(path)
    assert "<h1>Hear only what you love</h1>" in page.text and "Keep these</button>" in page.text
    client.get(path)
    client.post(path, data={"shown": ["email:news"], "email:news": "on"}, follow_redirects=False)

    results = client.get("/api/v1/forms/prefs-test/results", headers=admin(db)).json()
    (variant,) = results["variants"]
    assert (variant["variant"], variant["views"], variant["submissions"]) == ("warm", 2, 1)
    (row,) = [r for r in ledger_of(client, db, newsletter_reader) if r["action"] == "grant"]
    assert row["notice_version"] == "prefs-2026-12" and row["source"] == "form:prefs-test"
