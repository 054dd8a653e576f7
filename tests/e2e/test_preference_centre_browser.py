"""The preference centre in Debian's chromium: a demo customer opens the link from a mail,
switches to Korean, changes topics and frequency, saves, reloads and finds it all kept."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.browser


def api(server: Server, path: str) -> Any:
    """GET under /api/v1 with the admin key, as an integration would."""
    request = urllib.request.Request(
        f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {server.admin_key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def a_reachable_demo_customer(server: Server) -> str:
    """A customer from the demo shop export whose email has not unsubscribed from all email."""
    text = (server.demo_dir / "shop_customers.csv").read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(text)):
        email = row["Email"].strip().lower()
        if email.count("@") != 1:
            continue
        try:
            profile = api(server, f"/profiles/lookup?{urlencode({'email': email})}")
        except urllib.error.HTTPError:
            continue  # refused or merged by the demo's import: try the next one
        if api(server, f"/profiles/{profile['id']}/consent")["channels"]["email"]["global"] != "unsubscribed":
            return profile["id"]
    raise AssertionError("no demo customer can still be mailed")


def unlabelled_controls(page: Any) -> list[str]:
    """Every visible form control without a label a screen reader would announce."""
    return page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))"
        ".map(e => e.outerHTML)",
    )


def test_change_topics_and_frequency_in_korean_and_find_them_kept(page: Any, server: Server) -> None:
    pid = a_reachable_demo_customer(server)
    before = api(server, f"/profiles/{pid}/consent")
    newsletter_was = before["channels"]["email"]["topics"]["newsletter"] in ("subscribed", "pending")
    frequency = "monthly" if before["frequency"] != "monthly" else "weekly"
    link = api(server, f"/profiles/{pid}/links")["preferences"]

    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Newsletter", exact=True).is_visible()
    assert unlabelled_controls(page) == []

    page.get_by_role("navigation", name="Language").get_by_role("link", name="한국어").click()
    page.wait_for_url("**lang=ko**")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert unlabelled_controls(page) == []

    page.get_by_label("뉴스레터", exact=True).set_checked(not newsletter_was)
    page.get_by_label("행사와 웨비나", exact=True).set_checked(True)
    page.get_by_label("수신 빈도", exact=True).select_option(frequency)
    page.locator("form.preferences button[type=submit]").click()
    page.wait_for_url("**saved=1**")
    assert page.get_by_role("status").inner_text() == "선택하신 내용이 저장되었습니다."

    page.reload()
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_label("뉴스레터", exact=True).is_checked() is (not newsletter_was)
    assert page.get_by_label("행사와 웨비나", exact=True).is_checked()
    assert page.get_by_label("수신 빈도", exact=True).input_value() == frequency

    after = api(server, f"/profiles/{pid}/consent")
    assert after["frequency"] == frequency and after["locale"] == "ko"
    assert after["channels"]["email"]["topics"]["events"] == "subscribed"
    ledger = api(server, f"/profiles/{pid}/consent/ledger")["data"]
    assert ledger[0]["method"] == "preference_centre" and ledger[0]["ip"] == "127.0.0.1"
