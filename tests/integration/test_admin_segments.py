"""Admin segment pages over HTTP on both databases: the list, the editor's JSON calls (builder <->
text, live count), saving without JavaScript, a segment's page (members, size, entries and exits),
editing and deleting."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from patron.web.admin import segments as segment_pages
from tests.conftest import Database
from tests.integration.calls import post_profile
from tests.integration.test_admin import csrf_of, log_in

EXAMPLE = 'country = "US" and lifetime_value >= 100'


@pytest.fixture
def browser(app_client: TestClient, db: Database) -> TestClient:
    """The admin, logged in."""
    log_in(app_client, db)
    return app_client


@pytest.fixture
def people(browser: TestClient, db: Database) -> dict[str, dict]:
    """Three people: two big US spenders and one in Canada."""
    return {
        "ann": post_profile(browser, db, {"email": "ann@example.com", "first_name": "Ann", "country": "US",
                                          "lifetime_value": 250}),
        "bob": post_profile(browser, db, {"email": "bob@example.com", "first_name": "Bob", "country": "US",
                                          "lifetime_value": 120}),
        "cy": post_profile(browser, db, {"email": "cy@example.com", "first_name": "Cy", "country": "CA",
                                         "lifetime_value": 900}),
    }  # fmt: skip


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/admin/segments/new").text)


def builder_call(client: TestClient, path: str, body: dict) -> tuple[int, dict]:
    response = client.post(
        f"/admin/segments/builder/{path}", json=body, headers={"X-CSRF-Token": csrf(client)}
    )
    return response.status_code, response.json()


def save(client: TestClient, name: str, definition: str, **extra: str) -> object:
    data = {"csrf_token": csrf(client), "name": name, "definition": definition, **extra}
    return client.post("/admin/segments/new", data=data, follow_redirects=False)


def member_names(html: str) -> list[str]:
    """Names in a segment page's member list."""
    return sorted(re.findall(r'<tr data-profile="[^"]+"><td><a href="[^"]+">([^<]+)</a>', html))


def test_the_builder_turns_text_into_a_tree_and_back(browser: TestClient) -> None:
    text = 'country = "US" and (count(event "Order Completed" in last 30 days) >= 2 or not has phone)'
    status, parsed = builder_call(browser, "tree", {"definition": text})
    assert status == 200
    assert parsed["tree"]["and"][0] == {"trait": "country", "op": "=", "value": "US"}
    status, written = builder_call(browser, "text", {"tree": parsed["tree"]})
    assert (status, written["definition"]) == (200, text)


def test_a_mistake_in_the_text_says_where_and_what_was_expected(browser: TestClient) -> None:
    status, answer = builder_call(browser, "tree", {"definition": 'country = "US" and\n  lifetime_value >'})
    assert status == 422
    error = answer["error"]
    assert (error["line"], error["column"]) == (2, 19)
    assert "value" in error["expected"] and error["message"].startswith("line 2, column 19")


def test_an_unfinished_builder_tree_names_what_is_missing(browser: TestClient) -> None:
    status, answer = builder_call(browser, "text", {"tree": {"and": [{"trait": "country", "op": "="}]}})
    assert status == 422
    assert "tree.and" in answer["error"]["message"]


def test_the_live_count_and_sample_match_the_definition(browser: TestClient, people: dict) -> None:
    status, answer = builder_call(browser, "preview", {"definition": EXAMPLE})
    assert status == 200
    assert answer["count"] == 2
    assert {p["id"] for p in answer["sample"]} == {people["ann"]["id"], people["bob"]["id"]}
    assert {p["name"] for p in answer["sample"]} == {"Ann", "Bob"}


def test_the_editors_json_calls_need_the_sessions_csrf_token(browser: TestClient) -> None:
    response = browser.post("/admin/segments/builder/preview", json={"definition": EXAMPLE})
    assert response.status_code == 403
    wrong = browser.post(
        "/admin/segments/builder/tree", json={"definition": EXAMPLE}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status_code == 403


def test_the_editor_offers_the_data_dictionary_topics_and_segments(browser: TestClient, people: dict) -> None:
    assert save(browser, "Big spenders", EXAMPLE).status_code == 303
    html = browser.get("/admin/segments/new").text
    vocabulary = re.search(r"data-vocabulary='([^']*)'", html)
    assert vocabulary
    assert '"name": "lifetime_value"' in vocabulary.group(1) or '"lifetime_value"' in vocabulary.group(1)
    assert '"created_at"' in vocabulary.group(1) and '"Big spenders"' in vocabulary.group(1)
    assert 'name="definition"' in html and "/admin/static/segments.js" in html


def test_saving_the_text_form_without_javascript_creates_the_segment(
    browser: TestClient, people: dict
) -> None:
    response = save(browser, "US big spenders", EXAMPLE, description="For the spring sale")
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/admin/segments/\d+\?done=created", location)
    detail = browser.get(location).text
    assert 'data-count="2"' in detail
    assert member_names(detail) == ["Ann", "Bob"]
    assert "<svg" in detail  # size over time
    assert "For the spring sale" in detail
    listing = browser.get("/admin/segments").text
    row = re.search(r'<tr data-segment="US big spenders">(.*?)</tr>', listing, re.S)
    assert row and 'data-count="2"' in row.group(1)


def test_a_definition_that_does_not_parse_is_shown_again_with_the_position(browser: TestClient) -> None:
    response = save(browser, "Broken", 'country = "US" and')
    assert response.status_code == 422
    assert "line 1, column 19" in response.text
    assert "country = &#34;US&#34; and</textarea>" in response.text  # what was typed is kept
    assert "Broken" not in browser.get("/admin/segments").text


def test_a_second_segment_with_the_same_name_is_refused(browser: TestClient, people: dict) -> None:
    assert save(browser, "Twice", EXAMPLE).status_code == 303
    again = save(browser, "Twice", 'country = "CA"')
    assert again.status_code == 409
    assert "exists already" in again.text


def test_editing_the_definition_moves_people_in_and_out(browser: TestClient, people: dict) -> None:
    segment_url = save(browser, "Spenders", EXAMPLE).headers["location"].split("?")[0]
    edit = browser.get(segment_url + "/edit")
    assert edit.status_code == 200 and "lifetime_value &gt;= 100" in edit.text
    response = browser.post(
        segment_url + "/edit",
        data={"csrf_token": csrf_of(edit.text), "name": "Spenders", "definition": "lifetime_value >= 200"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    detail = browser.get(segment_url).text
    assert 'data-count="2"' in detail  # Ann and Cy
    changes = re.search(r'<table class="segment-changes">(.*?)</table>', detail, re.S)
    assert changes
    entered = re.findall(r'<tr data-change="entered">.*?>([A-Za-z]+)</a>', changes.group(1), re.S)
    exited = re.findall(r'<tr data-change="exited">.*?>([A-Za-z]+)</a>', changes.group(1), re.S)
    assert "Cy" in entered and exited == ["Bob"]


def test_members_are_listed_a_page_at_a_time(
    browser: TestClient, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment_pages, "MEMBERS_PER_PAGE", 2)
    segment_url = save(browser, "Everyone", "email is set").headers["location"].split("?")[0]
    first = browser.get(segment_url).text
    shown = re.findall(r'<tr data-profile="([^"]+)">', first)
    assert len(shown) == 2
    next_link = re.search(r'href="([^"]+\?cursor=[^"]+)">Next page', first)
    assert next_link
    second = browser.get(next_link.group(1).replace("&amp;", "&")).text
    rest = re.findall(r'<tr data-profile="([^"]+)">', second)
    assert len(rest) == 1 and set(shown + rest) == {p["id"] for p in people.values()}


def test_deleting_a_segment_another_one_uses_is_refused_until_it_is_not(
    browser: TestClient, people: dict
) -> None:
    base = save(browser, "Customers", "lifetime_value > 0").headers["location"].split("?")[0]
    user = save(browser, "Prospects", 'not in segment "Customers"').headers["location"].split("?")[0]
    token = csrf(browser)
    refused = browser.post(base + "/delete", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 409 and "Prospects" in refused.text
    assert (
        browser.post(user + "/delete", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert (
        browser.post(base + "/delete", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert browser.get(base).status_code == 404
    assert "Customers" not in browser.get("/admin/segments").text
