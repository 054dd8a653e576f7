"""Admin lead scoring over HTTP on both databases: rules (add, edit, deactivate, delete), stages,
half-life, the spread of scores and top leads, and the contact page's score with its reasons."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient

from patron.worker import Worker
from tests.conftest import Database
from tests.integration.test_admin import csrf_of, log_in


@pytest.fixture
def browser(app_client: TestClient, db: Database) -> TestClient:
    """The admin, logged in, with points that never fade (scores read exactly)."""
    log_in(app_client, db)
    response = app_client.post(
        "/admin/scoring/half-life", data={"csrf_token": csrf(app_client), "days": ""}, follow_redirects=False
    )
    assert response.status_code == 303
    return app_client


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/admin/scoring").text)


def track(client: TestClient, db: Database, user_id: str, event: str, **properties: object) -> None:
    auth = "Basic " + base64.b64encode(f"{db.write_key}:".encode()).decode()
    body = {"userId": user_id, "event": event, "properties": properties}
    assert client.post("/v1/track", json=body, headers={"Authorization": auth}).status_code == 200


def process(db: Database) -> None:
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def person(client: TestClient, db: Database, user_id: str, **traits: object) -> str:
    response = client.post(
        "/api/v1/profiles",
        json={"traits": traits, "identities": [{"kind": "user_id", "value": user_id}], "source": "crm"},
        headers={"Authorization": f"Bearer {db.admin_key}"},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def add_rule(client: TestClient, **fields: str) -> object:
    data = {"csrf_token": csrf(client), "is_active": "yes", **fields}
    return client.post("/admin/scoring/rules", data=data, follow_redirects=False)


def shown_score(client: TestClient, profile_id: str) -> str | None:
    match = re.search(r'data-testid="lead-score">([^<]+)<', client.get(f"/admin/contacts/{profile_id}").text)
    return match.group(1) if match else None


def rule_row(html: str, name: str) -> str:
    match = re.search(rf'<tr data-rule="{re.escape(name)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no rule {name}"
    return match.group(1)


def test_an_event_rule_scores_past_events_and_the_contact_page_says_why(
    browser: TestClient, db: Database
) -> None:
    viewer = person(browser, db, "u-viewer", email="viewer@example.com", first_name="Vi")
    track(browser, db, "u-viewer", "Page Viewed", path="/pricing")
    track(browser, db, "u-viewer", "Page Viewed", path="/pricing")
    track(browser, db, "u-viewer", "Page Viewed", path="/blog")
    process(db)
    response = add_rule(
        browser,
        name="Pricing visits",
        kind="event",
        event="Page Viewed",
        where='path = "/pricing"',
        points="5",
    )
    assert response.status_code == 303
    page = browser.get(response.headers["location"]).text
    row = rule_row(page, "Pricing visits")
    assert "event &#34;Page Viewed&#34; where path = &#34;/pricing&#34;" in row and "+5" in row
    top = re.search(r'<table class="top-leads".*?</table>', page, re.S)
    assert top and viewer in top.group(0) and ">10<" in top.group(0)
    assert shown_score(browser, viewer) == "10"
    contact = browser.get(f"/admin/contacts/{viewer}").text
    reasons = re.search(r'<table class="score-reasons">(.*?)</table>', contact, re.S)
    assert reasons and reasons.group(1).count("Pricing visits") == 2


def test_a_condition_rule_holds_points_until_it_is_switched_off_then_deleted(
    browser: TestClient, db: Database
) -> None:
    boss = person(browser, db, "u-boss", email="boss@example.com", job_title="Marketing Director")
    person(browser, db, "u-intern", email="intern@example.com", job_title="Intern")
    response = add_rule(
        browser, name="Directors", kind="trait", condition='job_title contains "Director"', points="20"
    )
    assert response.status_code == 303
    assert shown_score(browser, boss) == "20"
    rule_id = re.search(r'href="/admin/scoring/rules/(\d+)">Directors<', browser.get("/admin/scoring").text)
    assert rule_id
    base = f"/admin/scoring/rules/{rule_id.group(1)}"
    off = browser.post(base + "/active", data={"csrf_token": csrf(browser), "is_active": ""})
    assert off.status_code == 200 and "off</span>" in rule_row(off.text, "Directors")
    assert shown_score(browser, boss) == "0"
    edit = browser.get(base)
    assert "job_title contains &#34;Director&#34;" in edit.text
    saved = browser.post(
        base,
        data={"csrf_token": csrf_of(edit.text), "name": "Directors", "kind": "trait", "is_active": "yes",
              "condition": 'job_title contains "Director"', "points": "25"},
    )  # fmt: skip
    assert saved.status_code == 200 and "+25" in rule_row(saved.text, "Directors")
    assert shown_score(browser, boss) == "25"
    deleted = browser.post(base + "/delete", data={"csrf_token": csrf(browser)})
    assert deleted.status_code == 200 and 'data-rule="Directors"' not in deleted.text
    assert shown_score(browser, boss) in (None, "0")  # every point the rule gave went with it
    contact = browser.get(f"/admin/contacts/{boss}").text
    reasons = re.search(r'<table class="score-reasons">(.*?)</table>', contact, re.S)
    assert reasons is None or "Directors" not in reasons.group(1)


def test_a_rule_that_does_not_read_is_shown_again_with_the_reason(browser: TestClient) -> None:
    bad_where = add_rule(
        browser, name="Broken", kind="event", event="Page Viewed", where="path =", points="5"
    )
    assert bad_where.status_code == 422
    assert "where: line 1, column 7: expected a value" in bad_where.text
    assert 'value="Broken"' in bad_where.text  # what was typed is kept
    bad_points = add_rule(browser, name="No points", kind="event", event="Signed Up", points="lots")
    assert bad_points.status_code == 422 and "points must be a number" in bad_points.text
    bad_condition = add_rule(browser, name="Odd", kind="trait", condition="country = ", points="3")
    assert bad_condition.status_code == 422 and "condition: line 1" in bad_condition.text
    assert "data-rule=" not in browser.get("/admin/scoring").text


def test_stages_place_people_and_the_chart_counts_each_band(browser: TestClient, db: Database) -> None:
    for n, title in enumerate(["Director", "Director", "Intern"]):
        person(browser, db, f"u-{n}", email=f"p{n}@example.com", job_title=title)
    add_rule(browser, name="Directors", kind="trait", condition='job_title = "Director"', points="30")
    add_rule(browser, name="Reachable", kind="trait", condition="email is set", points="5")
    token = csrf(browser)
    saved = browser.post(
        "/admin/scoring/stages",
        data={"csrf_token": token, "stage_name": ["cold", "warm", ""], "stage_threshold": ["0", "25", ""]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = browser.get(saved.headers["location"]).text
    assert 'value="warm"' in page and 'value="25"' in page
    chart = re.search(r'<figure class="score-distribution">(.*?)</figure>', page, re.S)
    assert chart and "warm (25+)" in chart.group(1) and "cold (0–25)" in chart.group(1)
    bars = dict(
        re.findall(r'class="chart-label">([^<]+)</text><rect[^>]*/><text[^>]*>(\d+)<', chart.group(1))
    )
    assert bars == {"cold (0–25)": "1", "warm (25+)": "2"}
    twice = browser.post(
        "/admin/scoring/stages",
        data={"csrf_token": token, "stage_name": ["a", "b"], "stage_threshold": ["10", "10"]},
    )
    assert twice.status_code == 422 and "two stages start at 10" in twice.text
