"""The admin in a real browser against `patron serve`: what a marketer does on day one."""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.browser


def a_demo_customer(server: Server) -> dict[str, str]:
    """Someone from the demo shop export with a plain first and last name and a valid email."""
    text = (server.demo_dir / "shop_customers.csv").read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(text)):
        email = row["Email"].strip().lower()
        if (
            row["First Name"].isalpha()
            and row["Last Name"].isalpha()
            and email.count("@") == 1
            and "." in email
        ):
            return {"first": row["First Name"], "last": row["Last Name"], "email": email}
    raise AssertionError("the demo shop export has no plain customer")


def log_in(page: object, server: Server) -> None:
    page.goto(f"{server.url}/admin/")
    page.get_by_label("Email").fill(server.email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/admin/")


def test_log_in_and_find_a_demo_contact(page: object, server: Server) -> None:
    person = a_demo_customer(server)
    log_in(page, server)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_label("Search contacts").fill(person["email"])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"{person['first']} {person['last']}").click()
    assert page.get_by_role("heading", name=f"{person['first']} {person['last']}").is_visible()
    identities = page.locator("section", has=page.get_by_role("heading", name="Identities"))
    assert person["email"] in identities.inner_text()
    traits = page.locator("table.traits").inner_text()
    assert "shop" in traits  # where the value came from


def test_upload_a_csv_and_watch_the_import_finish(page: object, server: Server, tmp_path: object) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    upload = tmp_path / "fair.csv"  # type: ignore[operator]
    upload.write_bytes(
        "이메일,이름,휴대폰\nvisitor1@example.com,지우,010-3333-4444\nnot-an-email,없음,\n".encode("cp949")
    )
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_label("Source app").fill("fair")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/admin/jobs/*")
    # The in-process worker runs it; the page polls and shows the summary when done.
    page.get_by_role("heading", name="Summary").wait_for()
    assert page.locator("#job-status").inner_text() == "succeeded"
    assert page.get_by_role("link", name="Download rejects file (fair.rejects.csv)").is_visible()
    summary = page.locator("#summary").inner_text()
    assert "Created" in summary and "Rejected" in summary


def send(server: Server, path: str, body: dict) -> None:
    """POST to the tracking API with the server's write key, as an SDK would."""
    import base64
    import json
    import urllib.request

    auth = base64.b64encode(f"{server.write_key}:".encode()).decode()
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_the_tracking_plan_page_shows_violations_and_a_timeline(page: object, server: Server) -> None:
    send(
        server,
        "/v1/batch",
        {
            "batch": [
                {
                    "type": "identify",
                    "userId": "browser-user",
                    "traits": {"email": "browser@example.com", "firstName": "Bo"},
                },
                {
                    "type": "track",
                    "userId": "browser-user",
                    "event": "wishlist item added",
                    "properties": {"itemId": "w1"},
                },
                {
                    "type": "track",
                    "userId": "browser-user",
                    "event": "wishlist item added",
                    "properties": {"itemId": "w2"},
                },
            ]
        },
    )
    log_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracking plan").click()
    violations = page.locator("section[aria-labelledby=violations]")
    violations.get_by_text("wishlist item added").first.wait_for()
    text = violations.inner_text()
    assert "event_naming" in text and "property_naming" in text and "trait_naming" in text
    assert "itemId" in text and "firstName" in text
    # The worker inside `serve` turns the events into a timeline within moments.
    for _ in range(50):
        page.goto(f"{server.url}/admin/contacts?q=browser@example.com")
        if page.locator("table.contacts a").count():
            break
        page.wait_for_timeout(200)
    page.locator("table.contacts a").first.click()
    timeline = page.locator("table.timeline")
    timeline.get_by_text("wishlist item added").first.wait_for()
    assert timeline.locator("tr").count() >= 4


def test_data_quality_shows_the_score_its_trend_and_what_is_wrong(page: object, server: Server) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data quality").click()
    assert page.get_by_role("heading", name="Data quality").is_visible()
    score = float(page.get_by_test_id("score").inner_text())
    assert 0 < score <= 100
    # The demo connects its three apps on the three days before today: four points.
    trend = page.locator("svg[aria-label^='Quality score by day']")
    assert trend.locator("circle").count() >= 4
    flagged = page.locator("svg[aria-label='Flagged values']").text_content() or ""
    assert "email typos" in flagged and "invalid phones" in flagged
    page.get_by_role("button", name="Refresh and snapshot now").click()
    page.wait_for_url("**/admin/quality")
    assert float(page.get_by_test_id("score").inner_text()) == score  # nothing changed since
    fields = page.locator("section", has=page.get_by_role("heading", name="Fields")).inner_text()
    assert "email" in fields and "industry" in fields
    page.get_by_role("link", name="value profiling").click()
    phone = page.locator("section", has=page.get_by_role("heading", name="phone"))
    assert "+999999999999" in phone.inner_text()  # E.164 shape of Korean mobiles
    page.go_back()
    page.get_by_role("link", name="standardisation rules").click()
    assert page.get_by_role("heading", name="Standardisation rules").is_visible()
    assert "sector" in page.locator("section", has=page.get_by_role("heading", name="Rules")).inner_text()
    page.get_by_role("link", name="Preview what re-applying the rules would change").click()
    assert page.get_by_role("heading", name="Preview: re-apply to stored profiles").is_visible()
