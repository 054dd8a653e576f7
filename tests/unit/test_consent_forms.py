"""Form variants: a visitor keeps theirs, visitors split by weight; bad definitions name the field;
the snippet is plain, escaped HTML."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from patron.consent.forms import (
    EMBED_VARIANT,
    Form,
    Variant,
    check_variants,
    choose_variant,
    embed_snippet,
    topic_choices,
)
from patron.errors import Invalid


def a_form(*variants: Variant, topics: tuple[str, ...] = ("news", "offers"), key: str = "newsletter") -> Form:
    return Form(
        key=key,
        name="Newsletter",
        kind="subscribe",
        channel="email",
        topics=topics,
        notice_text="We write monthly. <Unsubscribe> any time.",
        notice_version="v1",
        variants=variants or (Variant("a"), Variant("b")),
    )


def test_a_visitor_always_gets_the_same_variant() -> None:
    form = a_form()
    for seed in ("x", "visitor-1", "R2d2c3po_seed-value"):
        assert len({choose_variant(form, seed).key for _ in range(20)}) == 1


def test_the_pick_depends_on_the_form_too() -> None:
    """Two experiments running at once do not put the same visitors in the same arm."""
    first, second = a_form(key="one"), a_form(key="two")
    seeds = [f"seed-{n}" for n in range(2000)]
    same = sum(choose_variant(first, s).key == choose_variant(second, s).key for s in seeds)
    assert 850 < same < 1150, "independent halves agree about half the time"


def test_visitors_split_by_weight_over_ten_thousand_seeds() -> None:
    form = a_form(Variant("a", weight=1), Variant("b", weight=3), Variant("c", weight=0.5))
    shown = Counter(choose_variant(form, f"visitor-{n}").key for n in range(10_000))
    total_weight = 4.5
    for key, weight in (("a", 1), ("b", 3), ("c", 0.5)):
        expected = 10_000 * weight / total_weight
        assert abs(shown[key] - expected) < 0.1 * expected, (key, shown)


def test_one_variant_takes_everyone() -> None:
    form = a_form(Variant("only"))
    assert {choose_variant(form, str(n)).key for n in range(100)} == {"only"}


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([], "variants"),
        ("a", "variants"),
        ([{"key": "a"}, {"key": "a"}], "variants[1].key"),
        ([{"key": "A b"}], "variants[0].key"),
        ([{"key": EMBED_VARIANT}], "variants[0].key"),
        ([{"key": "a", "weight": 0}], "variants[0].weight"),
        ([{"key": "a"}, {"key": "b", "weight": -2}], "variants[1].weight"),
        ([{"key": "a", "weight": "heavy"}], "variants[0].weight"),
        ([{"key": "a", "weight": True}], "variants[0].weight"),
        ([{"key": "a", "colour": "red"}], "variants[0].colour"),
        ([{"key": "a", "button": "x" * 61}], "button"),
        ([{"key": str(n)} for n in range(11)], "variants"),
    ],
)
def test_bad_variants_are_refused_naming_the_field(variants: object, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_variants(variants)
    assert refused.value.field == field
    assert refused.value.message


def test_good_variants_default_their_weight_to_one() -> None:
    [first, second] = check_variants([{"key": "a"}, {"key": "b-2", "weight": 2.5, "heading": " Hi "}])
    assert (first.weight, second.weight, second.heading) == (1.0, 2.5, "Hi")


def test_a_visitor_must_choose_among_several_topics_but_not_a_single_one() -> None:
    assert topic_choices(a_form(), ["offers", "offers"]) == ["offers"]
    assert topic_choices(a_form(topics=("news",)), []) == ["news"]
    assert topic_choices(a_form(topics=()), []) == []
    with pytest.raises(Invalid) as none:
        topic_choices(a_form(), [])
    assert none.value.field == "topics"
    with pytest.raises(Invalid) as unknown:
        topic_choices(a_form(), ["news", "spam"])
    assert unknown.value.field == "topics" and "spam" in unknown.value.message


class Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_snippet_is_a_plain_form_with_labels_and_escaped_words() -> None:
    form = a_form(Variant("a", heading='Say "hi" <b>now</b>', button="Join --> us"))
    html = embed_snippet(form, "https://crm.example.com/", topic_names={"news": "News & views"})
    parsed = Parsed()
    parsed.feed(html)

    [(_, attrs)] = [t for t in parsed.tags if t[0] == "form"]
    assert attrs["action"] == "https://crm.example.com/s/newsletter" and attrs["method"] == "post"
    assert not [t for t in parsed.tags if t[0] in ("script", "b")], "no script, and the words stay text"
    inputs = {(a.get("name"), a.get("value")) for tag, a in parsed.tags if tag == "input"}
    assert ("variant", EMBED_VARIANT) in inputs
    assert {("topics", "news"), ("topics", "offers"), ("consent", "yes")} <= inputs
    checked = [a for tag, a in parsed.tags if tag == "input" and a.get("name") == "topics" and "checked" in a]
    assert checked == [], "no topic is ticked in advance"
    ids = {a["id"] for tag, a in parsed.tags if tag == "input" and a.get("id")}
    labelled = {a["for"] for tag, a in parsed.tags if tag == "label" and a.get("for")}
    assert {
        "patron-newsletter-email",
        "patron-newsletter-name",
        "patron-newsletter-consent",
    } <= ids & labelled
    text = "".join(parsed.text)
    assert 'Say "hi" <b>now</b>' in text and "News & views" in text and "<Unsubscribe>" in text
    assert html.count("-->") == 1, "a '-->' in the words cannot end the comment early"
