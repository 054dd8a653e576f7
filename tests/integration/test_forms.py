"""Hosted subscribe forms over HTTP: variants counted per visitor, sign-ups that follow the
region's double opt-in rule, errors named next to their field, the embeddable snippet, the admin."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from patron.consent import CONFIRMATION_JOB
from patron.jobs import list_jobs
from patron.storage.engine import transaction
from patron.worker import HANDLERS
from patron.worker.loop import Worker
from tests.conftest import Database
from tests.integration.calls import admin, api_get
from tests.integration.conftest import Mailbox
from tests.integration.test_admin import csrf_of, log_in

NOTICE = "We send our newsletter about once a month. Unsubscribe at any time."
FORM = {
    "key": "newsletter",
    "name": "Newsletter sign-up",
    "topics": ["news", "offers"],
    "notice_text": NOTICE,
    "notice_version": "2026-12",
    "variants": [
        {"key": "a", "weight": 1, "heading": "Get our newsletter", "button": "Subscribe"},
        {"key": "b", "weight": 1, "heading": "News, once a month", "button": "Count me in"},
    ],
}
VARIANT_FIELD = re.compile(r'name="variant" value="([^"]*)"')


@pytest.fixture
def form(api: TestClient) -> dict:
    for key, name in (("news", "News"), ("offers", "Offers")):
        response = api.post("/api/v1/topics", json={"key": key, "name": name})
        assert response.status_code == 201, response.text
    response = api.post("/api/v1/forms", json=FORM)
    assert response.status_code == 201, response.text
    return response.json()


def sign_up(client: TestClient, *, headers: dict[str, str] | None = None, **fields: object) -> Response:
    """Post the hosted form as a browser would, with the given fields over a valid default."""
    data = {"email": "mina@example.com", "topics": ["news"], "consent": "yes", **fields}
    return client.post(f"/s/{FORM['key']}", data=data, headers=headers)


def profile_id_of(client: TestClient, db: Database, email: str) -> str:
    return api_get(client, db, "/api/v1/profiles/lookup", email=email)["id"]


def email_topics(client: TestClient, db: Database, profile_id: str) -> dict:
    return api_get(client, db, f"/api/v1/profiles/{profile_id}/consent")["channels"]["email"]["topics"]


def results_by_variant(client: TestClient, db: Database) -> dict[str, dict]:
    found = api_get(client, db, f"/api/v1/forms/{FORM['key']}/results")
    return {row["variant"]: row for row in found["variants"]}


def confirmation_jobs(db: Database) -> list:
    with transaction(db.engine, write=False) as conn:
        return [job for job in list_jobs(conn) if job.kind == CONFIRMATION_JOB]


def test_a_visitor_keeps_their_variant_and_views_and_submissions_count_for_it(
    app_client: TestClient, db: Database, form: dict
) -> None:
    first = app_client.get("/s/newsletter")
    second = app_client.get("/s/newsletter")
    assert first.status_code == second.status_code == 200
    [shown] = set(VARIANT_FIELD.findall(first.text))
    assert VARIANT_FIELD.findall(second.text) == [shown], "the cookie keeps the visitor's variant"
    heading = next(v["heading"] for v in FORM["variants"] if v["key"] == shown)
    assert heading in first.text

    response = sign_up(app_client, variant=shown, country="US")

    assert response.status_code == 200, response.text
    rows = results_by_variant(app_client, db)
    assert (rows[shown]["views"], rows[shown]["submissions"]) == (2, 1)
    assert rows[shown]["conversion"] == 0.5 and rows[shown]["drop_off"] == 0.5
    [other] = {"a", "b"} - {shown}
    assert (rows[other]["views"], rows[other]["submissions"]) == (0, 0)
    assert rows[other]["conversion"] is None


def test_the_variant_cookie_is_the_only_cookie_and_is_short_lived(app_client: TestClient, form: dict) -> None:
    response = app_client.get("/s/newsletter")
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    assert cookies[0].startswith("pv_newsletter=")
    assert "Max-Age=604800" in cookies[0] and "HttpOnly" in cookies[0] and "Path=/s/newsletter" in cookies[0]
    assert "set-cookie" not in sign_up(app_client, country="US").headers


def test_a_korean_visitor_is_pending_until_they_confirm_by_email(
    app_client: TestClient, db: Database, form: dict
) -> None:
    response = sign_up(app_client, email="jiwoo@example.kr", country="KR", topics=["news", "offers"])

    assert response.status_code == 200
    assert "Check your inbox" in response.text
    assert "jiwoo@example.kr" in response.text
    person = profile_id_of(app_client, db, "jiwoo@example.kr")
    topics = email_topics(app_client, db, person)
    assert topics["news"] == "pending" and topics["offers"] == "pending"
    (queued,) = confirmation_jobs(db)  # one mail confirms both topics
    assert len(queued.payload["ledger_ids"]) == 2


def test_a_us_visitor_is_subscribed_at_once_with_the_forms_notice_in_the_ledger(
    app_client: TestClient, db: Database, form: dict
) -> None:
    response = sign_up(
        app_client,
        email="Sam@Example.com",
        name="Sam Lee",
        country="US",
        topics=["offers"],
        variant="b",
        headers={"User-Agent": "FormTest/1.0"},
    )

    assert response.status_code == 200
    assert "You are subscribed" in response.text
    person = profile_id_of(app_client, db, "sam@example.com")
    profile = api_get(app_client, db, f"/api/v1/profiles/{person}")
    assert profile["traits"]["first_name"] == "Sam" and profile["traits"]["country"] == "US"
    assert email_topics(app_client, db, person)["offers"] == "subscribed"
    assert confirmation_jobs(db) == []
    [grant] = api_get(app_client, db, f"/api/v1/profiles/{person}/consent/ledger")["data"]
    assert grant["action"] == "grant" and grant["method"] == "form" and grant["topic"] == "offers"
    assert (grant["notice_text"], grant["notice_version"]) == (NOTICE, "2026-12")
    assert grant["source"] == "form:newsletter" and grant["user_agent"] == "FormTest/1.0"
    assert grant["detail"] == {"form": "newsletter", "variant": "b"}


def test_a_sign_up_never_rewrites_a_known_persons_country(
    app_client: TestClient, db: Database, form: dict
) -> None:
    app_client.post(
        "/api/v1/profiles",
        json={"traits": {"email": "hana@example.com", "country": "KR"}, "source": "crm"},
        headers=admin(db),
    )

    response = sign_up(app_client, email="hana@example.com", country="US")

    assert "Check your inbox" in response.text, "the stored country (KR) decides, not the form"
    person = profile_id_of(app_client, db, "hana@example.com")
    assert api_get(app_client, db, f"/api/v1/profiles/{person}")["traits"]["country"] == "KR"


def test_undoing_an_unsubscribe_from_all_waits_for_an_email_confirmation_even_in_the_us(
    app_client: TestClient, db: Database, form: dict
) -> None:
    person = app_client.post(
        "/api/v1/profiles",
        json={"traits": {"email": "lee@example.com", "country": "US"}, "source": "crm"},
        headers=admin(db),
    ).json()["id"]
    withdrawn = app_client.post(
        f"/api/v1/profiles/{person}/consent", json={"action": "withdraw"}, headers=admin(db)
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text

    response = sign_up(app_client, email="lee@example.com", topics=["news"])

    assert "Check your inbox" in response.text, "someone else may have typed the address"
    state = api_get(app_client, db, f"/api/v1/profiles/{person}/consent")["channels"]["email"]
    assert state["global"] == "pending" and state["topics"]["news"] == "pending"
    (queued,) = confirmation_jobs(db)
    assert len(queued.payload["ledger_ids"]) == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "mina@@example.com"}, "email", "Enter an email address like name@example.com"),
        ({"consent": ""}, "consent", "Tick the box to agree"),
        ({"topics": []}, "topics", "Choose at least one topic."),
        ({"country": "XX"}, "country", "Choose a country from the list."),
    ],
)
def test_bad_input_shows_the_form_again_with_the_error_at_its_field(
    app_client: TestClient, db: Database, form: dict, fields: dict, field: str, message: str
) -> None:
    response = sign_up(app_client, name="Mina Park", **fields)

    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert f'href="#field-{field}"' in response.text, "the summary links to the field"
    assert 'value="Mina Park"' in response.text, "what the visitor typed is kept"
    assert results_by_variant(app_client, db)["a"]["submissions"] == 0
    assert app_client.get("/api/v1/profiles", headers=admin(db)).json()["data"] == []


def test_a_misspelt_mail_domain_gets_a_suggestion(app_client: TestClient, form: dict) -> None:
    response = sign_up(app_client, email="mina@gmial.com")
    assert response.status_code == 422
    assert "did you mean" in response.text and "gmail.com" in response.text


def test_the_form_speaks_korean_when_asked(app_client: TestClient, form: dict) -> None:
    page = app_client.get("/s/newsletter?lang=ko")
    assert page.headers["content-language"] == "ko"
    assert "이메일 주소" in page.text and "대한민국" in page.text
    response = sign_up(app_client, lang="ko", email="")
    assert "이메일 주소를 입력해 주세요." in response.text


def test_a_missing_or_closed_form_is_a_clear_page(api: TestClient, form: dict) -> None:
    assert "There is no form here" in api.get("/s/nothing").text
    assert api.patch("/api/v1/forms/newsletter", json={"is_active": False}).status_code == 200
    closed = api.get("/s/newsletter")
    assert closed.status_code == 404 and "This form is closed" in closed.text


class FormFields(HTMLParser):
    """The action and the named fields of the first form in a page, as a browser would send them
    with every box ticked."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and not self.action:
            self.action = found.get("action") or ""
        if tag == "input" and found.get("name"):
            self.fields.append((found["name"] or "", found.get("value") or ""))


def test_the_embed_snippet_posts_as_a_plain_html_form(
    api: TestClient, app_client: TestClient, db: Database, form: dict
) -> None:
    html = api.get("/api/v1/forms/newsletter/embed").json()["html"]
    assert "<script" not in html and NOTICE in html
    parsed = FormFields()
    parsed.feed(html)
    assert parsed.action == "http://127.0.0.1:8000/s/newsletter"
    typed = {"email": "kim@example.com", "name": "Kim Min", "consent": "yes"}
    data = [(name, typed.get(name, value)) for name, value in parsed.fields]
    data.append(("country", "US"))
    app_client.headers.pop("Authorization", None)
    app_client.cookies.clear()

    response = app_client.post(
        "/s/newsletter",
        content="&".join(f"{k}={v}" for k, v in data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert "You are subscribed" in response.text
    person = profile_id_of(app_client, db, "kim@example.com")
    assert email_topics(app_client, db, person) == {"news": "subscribed", "offers": "subscribed"}
    assert results_by_variant(app_client, db)["embed"]["submissions"] == 1


def test_forms_refuse_bad_definitions_naming_the_field(api: TestClient, form: dict) -> None:
    cases = [
        ({**FORM, "key": "x1", "variants": []}, "variants"),
        ({**FORM, "key": "x2", "topics": ["news", "nope"]}, "topics[1]"),
        ({**FORM, "key": "x3", "notice_version": ""}, "notice_version"),
        ({**FORM, "key": "x4", "variants": [{"key": "a", "weight": 0}]}, "variants[0].weight"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/forms", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"]["field"] == field
    assert api.post("/api/v1/forms", json=FORM).status_code == 409
    changed = api.patch("/api/v1/forms/newsletter", json={"notice_text": "New words."})
    assert changed.json()["error"]["details"]["field"] == "notice_version"


def test_admin_pages_show_results_the_chart_and_the_snippet(
    app_client: TestClient, db: Database, form: dict
) -> None:
    app_client.get("/s/newsletter")
    log_in(app_client, db)

    listing = app_client.get("/admin/forms")
    detail = app_client.get("/admin/forms/newsletter")

    assert listing.status_code == 200 and "Newsletter sign-up" in listing.text
    assert detail.status_code == 200
    assert "<textarea" in detail.text and "readonly" in detail.text
    assert (
        "&lt;form method=&#34;post&#34;" in detail.text or "&lt;form method=&quot;post&quot;" in detail.text
    )
    assert "<svg" in detail.text


def test_admin_creates_and_edits_a_form_with_its_csrf_token(
    app_client: TestClient, db: Database, form: dict
) -> None:
    log_in(app_client, db)
    token = csrf_of(app_client.get("/admin/forms").text)
    refused = app_client.post(
        "/admin/forms", data={"key": "spring", "name": "Spring"}, follow_redirects=False
    )
    assert refused.status_code == 403

    created = app_client.post(
        "/admin/forms",
        data={"csrf_token": token, "key": "spring", "name": "Spring sale", "topics": ["offers"],
              "notice_text": "Offers by email.", "notice_version": "v1",
              "variant_key": ["a", "b", ""], "variant_weight": ["1", "3", ""],
              "variant_heading": ["Spring offers", "Save this spring", ""],
              "variant_intro": ["", "", ""], "variant_button": ["Subscribe", "Yes please", ""]},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/admin/forms/spring"
    saved = api_get(app_client, db, "/api/v1/forms/spring")
    assert [(v["key"], v["weight"]) for v in saved["variants"]] == [("a", 1.0), ("b", 3.0)]

    bad = app_client.post(
        "/admin/forms/spring",
        data={"csrf_token": token, "name": "Spring sale", "topics": ["offers"], "is_active": "yes",
              "notice_text": "Offers by email.", "notice_version": "v1",
              "variant_key": ["a"], "variant_weight": ["-1"], "variant_heading": ["Spring offers"],
              "variant_intro": [""], "variant_button": ["Subscribe"]},
    )  # fmt: skip
    assert bad.status_code == 422 and "variants[0].weight" in bad.text
    assert 'value="-1"' in bad.text, "what the admin typed is kept"
    assert api_get(app_client, db, "/api/v1/forms/spring")["variants"][1]["key"] == "b", "nothing saved"


def test_one_mail_confirms_every_topic_of_a_sign_up(
    app_client: TestClient, db: Database, form: dict, mailbox: Mailbox
) -> None:
    sign_up(app_client, email="hana@example.kr", country="KR", topics=["news", "offers"])
    settings = db.settings.model_copy(update={"smtp_url": mailbox.url})
    worker = Worker(db.engine, settings, handlers={CONFIRMATION_JOB: HANDLERS[CONFIRMATION_JOB]})
    while worker.run_once() is not None:
        pass
    (mail,) = mailbox.messages
    link = re.search(r"/confirm/\S+", mail.get_content()).group(0)
    assert app_client.get(link).status_code == 200
    person = profile_id_of(app_client, db, "hana@example.kr")
    topics = email_topics(app_client, db, person)
    assert topics["news"] == "subscribed" and topics["offers"] == "subscribed"


def test_a_bot_filling_the_hidden_field_is_answered_but_nothing_is_recorded(
    app_client: TestClient, db: Database, form: dict
) -> None:
    page = app_client.get("/s/newsletter")
    assert 'name="website"' in page.text and 'aria-hidden="true"' in page.text
    response = sign_up(app_client, email="bot@example.com", country="US", website="http://spam.example")
    assert response.status_code == 200 and "Check your inbox" in response.text
    lookup = app_client.get("/api/v1/profiles/lookup", params={"email": "bot@example.com"}, headers=admin(db))
    assert lookup.status_code == 404
    results = api_get(app_client, db, "/api/v1/forms/newsletter/results")
    assert sum(v["submissions"] for v in results["variants"]) == 0
    human = sign_up(app_client, email="person@example.com", country="US", website="")
    assert human.status_code == 200
    assert (
        app_client.get(
            "/api/v1/profiles/lookup", params={"email": "person@example.com"}, headers=admin(db)
        ).status_code
        == 200
    )
