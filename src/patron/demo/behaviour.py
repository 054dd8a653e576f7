"""A few weeks of behavioural events for the demo's people, as their apps would send them.

Web-shop visits start anonymous (page and product views), then most visitors identify and
their anonymous history joins their profile; some add to cart and order. Newsletter readers
get email events. A few apps misbehave on purpose, so the tracking plan has something to show:
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from patron.demo.generate import REFERENCE_MOMENT, DemoExport

# Planted problems (exact counts, see `planted` in the result of generate_events).
BADLY_NAMED = 40  # "order completed", "productViewed"
MISSING_REVENUE = 30  # Order Completed without its required revenue
REVENUE_AS_TEXT = 25  # revenue "12,000" instead of a number
CAMEL_PROPERTIES = 40  # productId instead of product_id
UNPLANNED = 20  # "Wishlist Added", not in the plan
CAMEL_TRAITS = 6  # firstName in identify traits
BLOCKED_IDS = 10  # userId "undefined" or "null" and nothing else
RESENT = 3  # messages sent twice

# Customers not shopping in the window who last ordered this many days before it (stale ones).
LAPSED_SHARE = 0.35
LAPSED_DAYS = (200, 420)

PRODUCTS = [
    ("p-100", "Linen shirt", "Apparel", 39000),
    ("p-101", "Wool scarf", "Apparel", 29000),
    ("p-102", "Ceramic mug", "Home", 15000),
    ("p-103", "Desk lamp", "Home", 68000),
    ("p-104", "Green tea set", "Food", 24000),
    ("p-105", "Notebook A5", "Stationery", 9000),
    ("p-106", "Fountain pen", "Stationery", 45000),
    ("p-107", "Running cap", "Sports", 19000),
]
WEBMAIL = {
    "gmail.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "kakao.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "nate.com",
}
CAMPAIGNS = [("c-autumn", "Autumn arrivals"), ("c-tea", "Tea season"), ("c-vip", "A thank-you for you")]
LIBRARY = {"name": "analytics.js", "version": "2.11.1"}

DEMO_PLAN_YAML = """\
conventions: {events: object_action, properties: snake_case, traits: snake_case}
sources: {web: flag}
events:
  - name: Product Viewed
    description: A product page was seen
    owner: growth
    properties:
      product_id: {type: string, required: true}
      name: {type: string}
      category: {type: string}
      price: {type: number}
      currency: {type: string, enum: [KRW, USD]}
  - name: Product Added
    description: A product went into the cart
    owner: growth
    properties:
      product_id: {type: string, required: true}
      quantity: {type: integer, required: true, minimum: 1}
      price: {type: number}
      currency: {type: string, enum: [KRW, USD]}
  - name: Checkout Started
    description: The customer opened the checkout
    owner: growth
    properties:
      revenue: {type: number}
      currency: {type: string, enum: [KRW, USD]}
  - name: Order Completed
    description: A customer paid for an order
    owner: growth
    properties:
      order_id: {type: string, required: true}
      revenue: {type: number, required: true, minimum: 0}
      currency: {type: string, enum: [KRW, USD]}
      products: {type: array}
  - name: Email Delivered
    description: A campaign email reached the inbox
    owner: marketing
    properties:
      campaign_id: {type: string, required: true}
      subject: {type: string}
  - name: Email Opened
    description: A campaign email was opened
    owner: marketing
    properties:
      campaign_id: {type: string, required: true}
      subject: {type: string}
  - name: Email Link Clicked
    description: A link in a campaign email was clicked
    owner: marketing
    properties:
      campaign_id: {type: string, required: true}
      link: {type: string, required: true}
traits:
  - {name: email, type: string, description: Email address, owner: crm}
  - {name: first_name, type: string, description: Given name, owner: crm}
  - {name: last_name, type: string, description: Family name, owner: crm}
"""


class _Stream:
    """Messages being written: deterministic ids and times."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.messages: list[dict[str, Any]] = []

    def add(self, when: datetime, kind: str, ids: dict[str, str], **fields: Any) -> dict[str, Any]:
        ip = f"203.0.113.{self.rng.randrange(1, 255)}"
        context = {"library": LIBRARY, "ip": ip, **fields.pop("context", {})}
        message = {
            "type": kind,
            **ids,
            **fields,
            "timestamp": when.isoformat(timespec="seconds"),
            "messageId": f"demo-{len(self.messages):06d}",
            "context": context,
        }
        self.messages.append(message)
        return message


def generate_events(exports: Sequence[DemoExport], *, seed: int = 7, days: int = 28) -> list[dict[str, Any]]:
    """Segment-spec messages for the demo's people over `days` days, in time order."""
    rng = random.Random(seed)
    stream = _Stream(rng)
    customers = _customers(exports)
    start = REFERENCE_MOMENT - timedelta(days=days)
    orders: list[dict[str, Any]] = []
    for customer in customers:
        if rng.random() < 0.6:
            orders += _shopper(stream, customer, start, days)
        elif rng.random() < LAPSED_SHARE:
            _lapsed(stream, customer, start)
    for _ in range(len(customers) // 10):  # visitors who never sign in
        browser = {"anonymousId": _anonymous(rng)}
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        _browse(stream, browser, when, rng.randrange(1, 5), _currency("KR"))
    for email, customer_id in _newsletter(exports, customers):
        _newsletter_events(stream, email, customer_id, start, days)
    _plant(stream, orders, customers, start, days)
    return sorted(stream.messages, key=lambda m: m["timestamp"])


def _shopper(stream: _Stream, customer: dict[str, str], start: datetime, days: int) -> list[dict[str, Any]]:
    rng = stream.rng
    browser = {"anonymousId": _anonymous(rng)}
    when = start + timedelta(seconds=rng.randrange(days * 86400))
    currency = _currency(customer["country"])
    when = _browse(stream, browser, when, rng.randrange(2, 7), currency)
    orders: list[dict[str, Any]] = []
    if rng.random() < 0.85:  # signs in: the anonymous history joins the customer
        traits = {"email": customer["email"], "first_name": customer["first"], "last_name": customer["last"]}
        identity = {"userId": customer["id"], **browser}
        if rng.random() < 0.5:
            stream.add(when, "identify", identity, traits=traits)
        else:
            stream.add(when, "identify", identity, context={"traits": traits})
        user = {"userId": customer["id"]}
        if rng.random() < 0.55:
            product = rng.choice(PRODUCTS)
            when += timedelta(minutes=rng.randrange(1, 20))
            stream.add(
                when,
                "track",
                user,
                event="Product Added",
                properties={
                    "product_id": product[0],
                    "quantity": 1 + rng.randrange(2),
                    "price": _price(product, currency),
                    "currency": currency,
                },
            )
            if rng.random() < 0.6:
                when += timedelta(minutes=rng.randrange(1, 15))
                revenue = _price(product, currency) * (1 + rng.randrange(2))
                stream.add(
                    when,
                    "track",
                    user,
                    event="Checkout Started",
                    properties={"revenue": revenue, "currency": currency},
                )
                if rng.random() < 0.8:
                    when += timedelta(minutes=rng.randrange(2, 10))
                    orders.append(
                        stream.add(
                            when,
                            "track",
                            user,
                            event="Order Completed",
                            properties={
                                "order_id": f"o-{rng.randrange(10**6):06d}",
                                "revenue": revenue,
                                "currency": currency,
                                "products": [
                                    {
                                        "product_id": product[0],
                                        "quantity": 1,
                                        "price": _price(product, currency),
                                    }
                                ],
                            },
                        )
                    )
        if rng.random() < 0.4:  # comes back later, signed in
            _browse(stream, user, when + timedelta(days=rng.randrange(1, 10)), rng.randrange(1, 4), currency)
        if "@" in customer["email"] and customer["email"].split("@")[1] not in WEBMAIL and rng.random() < 0.5:
            domain = customer["email"].split("@")[1]
            stream.add(
                when,
                "group",
                user,
                groupId=f"grp-{domain}",
                traits={
                    "name": domain.split(".")[0].replace("-", " ").title(),
                    "employees": rng.choice([8, 25, 120, 450]),
                    "industry": rng.choice(["Retail", "IT", "Manufacturing", "Education"]),
                },
            )
    return orders


def _lapsed(stream: _Stream, customer: dict[str, str], start: datetime) -> None:
    """One order long ago and nothing since: the stale contacts the quality page lists."""
    rng = stream.rng
    when = start - timedelta(days=rng.randrange(LAPSED_DAYS[0], LAPSED_DAYS[1]), minutes=rng.randrange(1440))
    product = rng.choice(PRODUCTS)
    currency = _currency(customer["country"])
    price = _price(product, currency)
    stream.add(
        when,
        "track",
        {"userId": customer["id"]},
        event="Order Completed",
        properties={
            "order_id": f"o-{rng.randrange(10**6):06d}",
            "revenue": price,
            "currency": currency,
            "products": [{"product_id": product[0], "quantity": 1, "price": price}],
        },
    )


def _browse(stream: _Stream, who: dict[str, str], when: datetime, pages: int, currency: str) -> datetime:
    rng = stream.rng
    stream.add(
        when,
        "page",
        who,
        name="Home",
        properties={"path": "/", "url": "https://shop.example/", "title": "Home"},
    )
    for _ in range(pages):
        product = rng.choice(PRODUCTS)
        when += timedelta(seconds=rng.randrange(20, 300))
        path = f"/products/{product[0]}"
        stream.add(
            when,
            "page",
            who,
            name="Product",
            properties={"path": path, "url": "https://shop.example" + path, "title": product[1]},
        )
        stream.add(
            when + timedelta(seconds=1),
            "track",
            who,
            event="Product Viewed",
            properties={
                "product_id": product[0],
                "name": product[1],
                "category": product[2],
                "price": _price(product, currency),
                "currency": currency,
            },
        )
    return when + timedelta(seconds=rng.randrange(30, 600))


def _newsletter_events(
    stream: _Stream, email: str, customer_id: str | None, start: datetime, days: int
) -> None:
    rng = stream.rng
    who: dict[str, Any] = {"userId": customer_id} if customer_id else {"anonymousId": _email_id(email)}
    for campaign_id, subject in rng.sample(CAMPAIGNS, rng.randrange(1, 3)):
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        extra = {} if customer_id else {"context": {"traits": {"email": email}}}
        properties = {"campaign_id": campaign_id, "subject": subject}
        stream.add(when, "track", who, event="Email Delivered", properties=properties, **extra)
        if rng.random() < 0.45:
            when += timedelta(minutes=rng.randrange(5, 600))
            stream.add(when, "track", who, event="Email Opened", properties=properties, **extra)
            if rng.random() < 0.3:
                link = f"https://shop.example/{campaign_id}"
                stream.add(
                    when + timedelta(seconds=40),
                    "track",
                    who,
                    event="Email Link Clicked",
                    properties={**properties, "link": link},
                    **extra,
                )


def _plant(
    stream: _Stream, orders: list[dict[str, Any]], customers: list[dict[str, str]], start: datetime, days: int
) -> None:
    """Mistakes real apps make, at known counts, so the tracking plan page has work to show."""
    rng = stream.rng
    for order in rng.sample(orders, min(MISSING_REVENUE + REVENUE_AS_TEXT, len(orders))):
        if MISSING_REVENUE and "revenue" in order["properties"] and rng.random() < 0.55:
            del order["properties"]["revenue"]
        else:
            order["properties"]["revenue"] = f"{order['properties']['revenue']:,}"
    people = rng.sample(
        customers, min(len(customers), BADLY_NAMED + CAMEL_PROPERTIES + UNPLANNED + CAMEL_TRAITS)
    )
    for index, customer in enumerate(people):
        who = {"userId": customer["id"]}
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        product = rng.choice(PRODUCTS)
        if index < BADLY_NAMED:
            name = "order completed" if index % 2 else "productViewed"
            stream.add(when, "track", who, event=name, properties={"product_id": product[0]})
        elif index < BADLY_NAMED + CAMEL_PROPERTIES:
            stream.add(when, "track", who, event="Product Viewed", properties={"productId": product[0]})
        elif index < BADLY_NAMED + CAMEL_PROPERTIES + UNPLANNED:
            stream.add(when, "track", who, event="Wishlist Added", properties={"product_id": product[0]})
        else:
            stream.add(when, "identify", who, traits={"firstName": customer["first"]})
    for index in range(BLOCKED_IDS):
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        stream.add(
            when,
            "track",
            {"userId": "undefined" if index % 2 else "null"},
            event="Product Viewed",
            properties={"product_id": "p-100"},
        )
    for message in rng.sample(stream.messages[:200], RESENT):
        stream.messages.append(dict(message))  # the same messageId again: stored once


def _customers(exports: Sequence[DemoExport]) -> list[dict[str, str]]:
    shop = next(e for e in exports if e.source == "shop")
    customers = []
    for row in csv.DictReader(io.StringIO(shop.content.decode(shop.encoding))):
        email = row["Email"].strip().lower()
        local, _, domain = email.partition("@")
        if not local or "." not in domain or "@" in domain:
            continue
        customers.append(
            {
                "id": row["Customer ID"],
                "email": email,
                "first": row["First Name"].strip(),
                "last": row["Last Name"].strip(),
                "country": row["Country"],
            }
        )
    return customers


def _newsletter(
    exports: Sequence[DemoExport], customers: list[dict[str, str]]
) -> list[tuple[str, str | None]]:
    newsletter = next(e for e in exports if e.source == "newsletter")
    by_email = {c["email"]: c["id"] for c in customers}
    readers = []
    for row in csv.reader(io.StringIO(newsletter.content.decode(newsletter.encoding)), delimiter=";"):
        if len(row) != 5 or row[0] == "Email Address":
            continue
        email = row[0].strip().lower()
        if email.count("@") == 1 and "." in email.split("@")[1]:
            readers.append((email, by_email.get(email)))
    return readers


def _anonymous(rng: random.Random) -> str:
    parts = (
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(12),
        0x8000 | rng.getrandbits(14),
        rng.getrandbits(48),
    )
    return "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}".format(*parts)


def _email_id(email: str) -> str:
    return "nl-" + hashlib.sha1(email.encode()).hexdigest()[:16]


def _currency(country: str) -> str:
    return "KRW" if country == "KR" else "USD"


def _price(product: tuple[str, str, str, int], currency: str) -> float:
    return product[3] if currency == "KRW" else round(product[3] / 1300, 2)
