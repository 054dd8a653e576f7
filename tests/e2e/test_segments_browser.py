"""The segments issue's "done when", in a real browser against `patron serve`: a marketer builds
the example segment with the text editor and the rule builder, sees its count at once and saves it;
then one more order sent to /v1/track puts a person into it within a second of being processed."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_admin_browser import log_in

pytestmark = pytest.mark.browser

# Typed in the text editor; the last condition is added with the rule builder.
TYPED = (
    'country = "US" and created_at > now - 6 months\n'
    '  and count(event "Order Completed" in last 30 days) >= 2\n'
    '  and subscribed(email, "newsletter")'
)
EXAMPLE = (
    'country = "US" and created_at > now - 6 months and count(event "Order Completed" in last 30 days) >= 2'
    ' and subscribed(email, "newsletter") and not in segment "Customers"'
)
BUYER = "e2e-segment-buyer"


def call(server: Server, method: str, path: str, body: Any = None, *, write_key: bool = False) -> Any:
    """One JSON call to the REST API (admin key) or the tracking API (write key, HTTP Basic)."""
    if write_key:
        auth = "Basic " + base64.b64encode(f"{server.write_key}:".encode()).decode()
    else:
        auth = f"Bearer {server.admin_key}"
    request = urllib.request.Request(
        server.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


def order(server: Server) -> None:
    call(server, "POST", "/v1/track", {"userId": BUYER, "event": "Order Completed",
                                       "properties": {"revenue": 42.5}}, write_key=True)  # fmt: skip


def orders_processed(server: Server, profile_id: str) -> int:
    found = call(server, "GET", f"/api/v1/profiles/{profile_id}/events")
    return sum(1 for e in found["data"] if e["event"] == "Order Completed")


def wait_for(check: Any, *, timeout_s: float, what: str) -> float:
    """Poll until check() is true; the moment it became true (time.monotonic)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def a_us_newsletter_reader_with_one_order(server: Server) -> dict[str, Any]:
    """A new person in the US, subscribed to the newsletter, with one recent order: one short."""
    person = call(server, "POST", "/api/v1/profiles", {
        "traits": {"email": "segment.buyer@example.com", "first_name": "Sam", "last_name": "Buyer",
                   "country": "US"},
        "identities": [{"kind": "user_id", "value": BUYER}],
        "source": "shop",
    })  # fmt: skip
    call(server, "POST", f"/api/v1/profiles/{person['id']}/consent", {
        "channel": "email", "topic": "newsletter", "action": "grant", "method": "api",
        "notice_version": "e2e", "double_opt_in": False,
    })  # fmt: skip
    state = call(server, "GET", f"/api/v1/profiles/{person['id']}/consent")
    assert state["channels"]["email"]["topics"]["newsletter"] == "subscribed"
    order(server)
    wait_for(lambda: orders_processed(server, person["id"]) == 1, timeout_s=15, what="first order processed")
    return person


def test_a_marketer_builds_the_example_segment_and_a_new_order_moves_someone_in(
    page: object, server: Server
) -> None:
    from playwright.sync_api import expect

    try:
        call(server, "POST", "/api/v1/segments", {"name": "Customers", "definition": 'plan = "customer"'})
    except urllib.error.HTTPError as exc:  # another test of this session made it already
        assert exc.code == 409
    person = a_us_newsletter_reader_with_one_order(server)
    expected = call(server, "POST", "/api/v1/segments/preview", {"definition": EXAMPLE})["count"]

    log_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    page.get_by_label("Name", exact=True).fill("US repeat buyers on the newsletter")
    text = page.get_by_label("Definition as text")
    text.fill(TYPED)
    rows = page.locator("#builder .rule-row")
    expect(rows).to_have_count(4)  # the text became the builder's rows

    page.locator("#builder .rule-root > .group-foot").get_by_role("button", name="+ Condition").click()
    added = rows.last
    added.get_by_label("Condition type").select_option("segment")
    added.get_by_label("Segment").select_option("Customers")
    added.get_by_label("not (negate this condition)").check()
    expect(text).to_have_value(EXAMPLE)  # the builder wrote the text
    expect(page.get_by_test_id("preview-count")).to_have_text(f"{expected:,}")

    page.get_by_role("button", name="Save segment").click()
    page.wait_for_url(re.compile(r".*/admin/segments/\d+\?done=created$"))
    segment_id = int(re.search(r"/admin/segments/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator("#member-count")).to_have_attribute("data-count", str(expected))
    assert page.get_by_test_id("definition").inner_text().strip() == EXAMPLE
    members_path = f"/api/v1/segments/{segment_id}/members?ids_only=true&limit=500"
    assert person["id"] not in call(server, "GET", members_path)["data"]

    order(server)
    processed = wait_for(
        lambda: orders_processed(server, person["id"]) == 2, timeout_s=15, what="second order processed"
    )
    joined = wait_for(
        lambda: person["id"] in call(server, "GET", members_path)["data"], timeout_s=5, what="entered segment"
    )
    assert joined - processed <= 1.0, f"entered {joined - processed:.2f} s after the order was processed"

    page.reload()
    expect(page.locator("#member-count")).to_have_attribute("data-count", str(expected + 1))
    expect(page.locator(f'tr[data-profile="{person["id"]}"]')).to_contain_text("Sam Buyer")
    expect(page.locator('.segment-changes tr[data-change="entered"]').first).to_contain_text("Sam Buyer")
