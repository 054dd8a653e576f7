"""Reviewing duplicates in a real browser: open the queue, look at a pair, merge it, then undo the merge."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_admin_browser import log_in

pytestmark = pytest.mark.browser


def add_profile(server: Server, traits: dict, source: str = "api") -> dict:
    """POST /api/v1/profiles with the admin key, as an integration would."""
    request = urllib.request.Request(
        f"{server.url}/api/v1/profiles",
        data=json.dumps({"traits": traits, "source": source}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {server.admin_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def row_of(page: object, text: str) -> object:
    """The queue row mentioning `text`, following "Next page" until it shows up."""
    while True:
        row = page.locator("table.pairs tbody tr", has_text=text)
        if row.count():
            return row
        page.get_by_role("link", name="Next page").click()


def test_review_a_pair_merge_it_and_undo_the_merge(page: object, server: Server) -> None:
    email, phone = "dahye.browser@example.com", "+821055550123"
    add_profile(server, {"email": email, "first_name": "Dahye"})
    second = add_profile(server, {"phone": phone, "first_name": "Dahye", "last_name": "Yoon"}, source="shop")
    linking = add_profile(server, {"email": email, "phone": phone})
    assert linking["merge_candidates"] == [second["id"]]

    log_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
    assert page.get_by_role("heading", name=re.compile("^Duplicates")).is_visible()
    row_of(page, email).get_by_role("link", name=re.compile("^Review")).click()

    assert page.get_by_role("heading", name=re.compile("^Same person?")).is_visible()
    both = page.locator("section", has=page.get_by_role("heading", name="The two profiles")).inner_text()
    assert email in both and "Yoon" in both
    identities = page.locator("section", has=page.get_by_role("heading", name="Identities")).inner_text()
    assert email in identities and phone in identities
    evidence = page.locator("section", has=page.get_by_role("heading", name="Evidence")).inner_text()
    assert "carried identities of both profiles" in evidence

    page.get_by_role("button", name="Merge", exact=True).click()
    done = page.get_by_role("status").filter(has_text="Merged.")
    done.get_by_role("link", name=re.compile(r"^See merge #\d+")).click()

    assert page.get_by_role("heading", name=re.compile(r"^Merge #\d+$")).is_visible()
    held = page.locator("section", has=page.get_by_role("heading", name="What the absorbed profile held"))
    assert phone in held.inner_text() and "Yoon" in held.inner_text()
    page.get_by_role("button", name="Undo merge").click()
    assert "both profiles are back" in page.get_by_test_id("undone").inner_text()
    assert page.get_by_role("button", name="Undo merge").count() == 0

    page.get_by_role("link", name="restored").click()
    assert page.get_by_role("heading", name="Dahye Yoon").is_visible()
    history = page.locator("section", has=page.get_by_role("heading", name="Merge history")).inner_text()
    assert "was merged into" in history and "undone" in history
