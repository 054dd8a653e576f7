"""The demo's consent: import options that fit its exports, list names that find its topics, and a
seeded history that stays inside its year and never in the future."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

from patron.consent.imports import ConsentOptions, TopicNames
from patron.consent.model import CONFIRM, EXPIRE, GLOBAL, REQUEST, SUBSCRIBED, WITHDRAW
from patron.consent.topics import Topic
from patron.demo import generate
from patron.demo.consent import DEMO_TOPICS, HISTORY_DAYS, History, Person
from patron.demo.generate import REFERENCE_MOMENT
from patron.demo.names import NEWSLETTER_LISTS


def header_of(content: bytes, encoding: str) -> list[str]:
    """The first line of an export, as the importer reads it."""
    text = content.decode(encoding)
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    return next(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_the_shop_and_newsletter_exports_name_their_consent_columns() -> None:
    exports = {e.source: e for e in generate(people=300)}
    for source in ("shop", "newsletter"):
        export = exports[source]
        options = ConsentOptions.from_dict(export.consent)
        assert options.given
        options.check(header_of(export.content, export.encoding))  # raises when a column is missing
    assert exports["newsletter"].consent["notice_version"]  # the newsletter's lists are proof
    assert "notice_version" not in exports["shop"].consent  # the shop's yes is not
    assert exports["crm"].consent == {}


def test_every_newsletter_list_names_a_demo_topic() -> None:
    topics = TopicNames.of(
        [Topic(key, name, translations={"ko": {"name": korean}}) for key, name, korean, *_ in DEMO_TOPICS]
    )
    assert {name: topics.find(name).key for name in NEWSLETTER_LISTS} == {  # type: ignore[union-attr]
        "newsletter": "newsletter",
        "offers": "offers",
        "product-updates": "product_updates",
        "events": "events",
    }
    assert topics.find("할인과 혜택").key == "offers"  # type: ignore[union-attr]
    assert topics.find("weekly") is None


def people(count: int) -> list[Person]:
    """Profiles as the demo finds them after its imports: some subscribed, some not."""
    rng = random.Random(1)
    found = []
    for index in range(count):
        states = {key: SUBSCRIBED for key, *_ in DEMO_TOPICS if rng.random() < 0.4}
        found.append(Person(f"p{index:04d}", f"person{index}@example.com", states))
    return found


def history(seed: int, now: datetime) -> tuple[History, list, list]:
    """The changes one seed gives for 2,000 people."""
    drawn = History(random.Random(seed), min(REFERENCE_MOMENT, now), now)
    items, preferences = drawn.changes(people(2000))
    return drawn, items, preferences


def test_the_same_seed_gives_the_same_history() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    _, first, first_prefs = history(7, now)
    _, second, second_prefs = history(7, now)
    assert first == second and first_prefs == second_prefs
    assert history(8, now)[1] != first


def test_the_history_spans_the_year_before_the_reference_date_and_never_the_future() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    drawn, items, preferences = history(7, now)
    moments = [change.occurred_at for _, change in items]
    assert all(moment is not None and moment <= now for moment in moments)
    past = [moment for moment in moments if moment <= REFERENCE_MOMENT]  # type: ignore[operator]
    assert min(past) >= REFERENCE_MOMENT - timedelta(days=HISTORY_DAYS + 1)  # type: ignore[type-var]
    months = {(moment.year, moment.month) for moment in past}  # type: ignore[union-attr]
    assert len(months) >= 12
    actions = {change.action for _, change in items}
    assert {REQUEST, CONFIRM, WITHDRAW, EXPIRE, "frequency", "pause"} <= actions
    assert any(c.method == "one_click" and c.topic == GLOBAL for _, c in items)
    assert all(row["frequency"] in ("as_it_happens", "daily", "weekly", "monthly") for row in preferences)
    # Pending requests: asked within the last day, their link still valid now.
    pending = [c for _, c in items if c.action == REQUEST and c.expires_at and c.expires_at > now]
    assert pending and all(now - timedelta(days=1) <= c.occurred_at <= now for c in pending)  # type: ignore[operator]
    assert drawn.tally["pending_requests"] == len(pending)


def test_a_history_drawn_before_the_reference_date_ends_now() -> None:
    early = REFERENCE_MOMENT - timedelta(days=40)
    _, items, _ = history(7, early)
    assert max(change.occurred_at for _, change in items) <= early  # type: ignore[type-var]
