"""Email checks: normalisation, invalid values, role, disposable and typo flags, match keys, DNS check.

The fast path (plain ASCII local parts, per-domain cache) is held to email-validator's answers.
"""

from __future__ import annotations

import random
import string
import time

import dns.exception
import dns.resolver
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from patron.quality import emails
from patron.quality.emails import (
    COMMON_DOMAINS,
    ROLE_LOCAL_PARTS,
    DeliverabilityChecker,
    EmailCheck,
    check_email,
    fold_email,
    suggest_domain,
)

INVALID = ("invalid",)
TYPO = ("typo",)
ROLE = ("role",)
DISPOSABLE = ("disposable",)

LOCAL_64 = "a" * 64
# 64 + 1 + 190 = 255 bytes: one over the limit; with one 'd' fewer it is exactly 254.
DOMAIN_190 = f"{'b' * 63}.{'c' * 63}.{'d' * 58}.com"
DOMAIN_189 = f"{'b' * 63}.{'c' * 63}.{'d' * 57}.com"

# (input, expected address or None, expected flags, expected suggestion)
CASES: list[tuple[str, str | None, tuple[str, ...], str | None]] = [
    # Plain valid addresses
    ("kim@example.com", "kim@example.com", (), None),
    ("kim.minsu@example.com", "kim.minsu@example.com", (), None),
    ("kim_minsu@example.co.kr", "kim_minsu@example.co.kr", (), None),
    ("kim-minsu@sub.example.com", "kim-minsu@sub.example.com", (), None),
    ("user+tag@example.com", "user+tag@example.com", (), None),
    ("o'brien@example.ie", "o'brien@example.ie", (), None),
    ("a@b.co", "a@b.co", (), None),
    ("123@example.com", "123@example.com", (), None),
    ("x!#$%&*/=?^_`{|}~-y@example.com", "x!#$%&*/=?^_`{|}~-y@example.com", (), None),
    ("a.b.c.d@example.org", "a.b.c.d@example.org", (), None),
    ("kim@x.com", "kim@x.com", (), None),
    (LOCAL_64 + "@example.com", LOCAL_64 + "@example.com", (), None),
    (f"{LOCAL_64}@{DOMAIN_189}", f"{LOCAL_64}@{DOMAIN_189}", (), None),
    # Mixed case: the whole address is lower-cased
    ("Kim@Example.COM", "kim@example.com", (), None),
    ("KIM.MINSU@NAVER.COM", "kim.minsu@naver.com", (), None),
    ("John.Smith@Gmail.Com", "john.smith@gmail.com", (), None),
    # Whitespace, angle brackets and mailto: as exports write them
    ("  kim@naver.com  ", "kim@naver.com", (), None),
    ("\tkim@naver.com\n", "kim@naver.com", (), None),
    (" <Kim@Naver.com> ", "kim@naver.com", (), None),
    ("<kim@daum.net>", "kim@daum.net", (), None),
    ("mailto:kim@daum.net", "kim@daum.net", (), None),
    ("MAILTO:Kim@Daum.net", "kim@daum.net", (), None),
    ("<mailto:kim@nate.com>", "kim@nate.com", (), None),
    ("mailto:<kim@nate.com>", "kim@nate.com", (), None),
    ("\u3000kim@naver.com\u3000", "kim@naver.com", (), None),
    ("\ufeffkim@naver.com", "kim@naver.com", (), None),
    ("\xa0kim@naver.com\u200b", "kim@naver.com", (), None),
    # Korean providers and companies
    ("hong@naver.com", "hong@naver.com", (), None),
    ("hong@hanmail.net", "hong@hanmail.net", (), None),
    ("hong@daum.net", "hong@daum.net", (), None),
    ("hong@kakao.com", "hong@kakao.com", (), None),
    ("hong@nate.com", "hong@nate.com", (), None),
    ("hong@samsung.co.kr", "hong@samsung.co.kr", (), None),
    ("hong@company.co.kr", "hong@company.co.kr", (), None),
    ("hong@korea.kr", "hong@korea.kr", (), None),
    ("hong@snu.ac.kr", "hong@snu.ac.kr", (), None),
    ("hong@yahoo.co.kr", "hong@yahoo.co.kr", (), None),
    # Internationalised: Unicode local parts (SMTPUTF8) and IDN domains, shown in Unicode
    ("홍길동@example.com", "홍길동@example.com", (), None),
    ("홍길동@naver.com", "홍길동@naver.com", (), None),
    ("user@例え.jp", "user@例え.jp", (), None),
    ("user@xn--r8jz45g.jp", "user@例え.jp", (), None),
    ("user@Bücher.de", "user@bücher.de", (), None),
    ("한국@한국.kr", "한국@한국.kr", (), None),
    ("kim@ｇｍａｉｌ．ｃｏｍ", "kim@gmail.com", (), None),
    ("José@example.com", "josé@example.com", (), None),
    ("ÜBER@Example.com", "über@example.com", (), None),
    # Invalid (with a suggestion when the domain is one slip from a common one)
    ("john@@x.com", None, INVALID, None),
    ("kimnaver.com", None, INVALID, None),
    ("a@b@c.com", None, INVALID, None),
    ("@naver.com", None, INVALID, None),
    ("kim@", None, INVALID, None),
    ("kim@naver", None, INVALID, None),
    ("kim@localhost", None, INVALID, None),
    ("kim lee@naver.com", None, INVALID, None),
    ("kim@nav er.com", None, ("invalid", "typo"), "kim@naver.com"),
    ("kim..lee@naver.com", None, INVALID, None),
    ("kim@naver..com", None, ("invalid", "typo"), "kim@naver.com"),
    ("kim.@naver.com", None, INVALID, None),
    ("kim@naver.com.", None, ("invalid", "typo"), "kim@naver.com"),
    (".kim@naver.com", None, INVALID, None),
    ("kim@.naver.com", None, ("invalid", "typo"), "kim@naver.com"),
    ("a" * 65 + "@example.com", None, INVALID, None),
    (f"{LOCAL_64}@{DOMAIN_190}", None, INVALID, None),
    ("kim@" + "b" * 64 + ".com", None, INVALID, None),
    ("kim\x00@naver.com", None, INVALID, None),
    ("kim@naver.com\x00", None, ("invalid", "typo"), "kim@naver.com"),
    ('"kim"@naver.com', None, INVALID, None),
    ('"kim lee"@naver.com', None, INVALID, None),
    ("kim@[127.0.0.1]", None, INVALID, None),
    ("kim@[IPv6:::1]", None, INVALID, None),
    ("", None, INVALID, None),
    ("   ", None, INVALID, None),
    ("<>", None, INVALID, None),
    ("mailto:", None, INVALID, None),
    ("kim＠naver.com", None, INVALID, None),
    ("Kim Lee <kim@naver.com>", None, INVALID, None),
    ("kim@-naver.com", None, ("invalid", "typo"), "kim@naver.com"),
    ("kim@naver_corp.com", None, INVALID, None),
    ("kim@x.invalid", None, INVALID, None),
    ("kim@123.456", None, INVALID, None),
    ("kim@naver.com>", None, ("invalid", "typo"), "kim@naver.com"),
    ("kim\n@naver.com", None, INVALID, None),
    ("kim,lee@naver.com", None, INVALID, None),
    ("kim@naver,com", None, ("invalid", "typo"), "kim@naver.com"),
    ("Kim@gmail,com", None, ("invalid", "typo"), "kim@gmail.com"),
    ("kim@gmailcom", None, ("invalid", "typo"), "kim@gmail.com"),
    # Role addresses (case-insensitive, +tag ignored)
    ("info@company.com", "info@company.com", ROLE, None),
    ("Sales@Company.com", "sales@company.com", ROLE, None),
    ("support+x@company.co.kr", "support+x@company.co.kr", ROLE, None),
    ("no-reply@company.com", "no-reply@company.com", ROLE, None),
    ("noreply@company.com", "noreply@company.com", ROLE, None),
    ("webmaster@company.com", "webmaster@company.com", ROLE, None),
    ("ADMIN@naver.com", "admin@naver.com", ROLE, None),
    ("infos@company.com", "infos@company.com", (), None),
    ("kim.info@company.com", "kim.info@company.com", (), None),
    # Disposable domains and their subdomains
    ("kim@mailinator.com", "kim@mailinator.com", DISPOSABLE, None),
    ("kim@guerrillamail.com", "kim@guerrillamail.com", DISPOSABLE, None),
    ("kim@10minutemail.com", "kim@10minutemail.com", DISPOSABLE, None),
    ("kim@yopmail.com", "kim@yopmail.com", DISPOSABLE, None),
    ("kim@inbox.mailinator.com", "kim@inbox.mailinator.com", DISPOSABLE, None),
    ("info@mailinator.com", "info@mailinator.com", ("role", "disposable"), None),
    # Typos of common domains (gmial.com and hotmial.com are also on the disposable list: typo-squatters)
    ("kim@gmial.com", "kim@gmial.com", ("typo", "disposable"), "kim@gmail.com"),
    ("kim@gmai.com", "kim@gmai.com", TYPO, "kim@gmail.com"),
    ("kim@gmail.con", "kim@gmail.con", TYPO, "kim@gmail.com"),
    ("kim@gmail.co", "kim@gmail.co", TYPO, "kim@gmail.com"),
    ("kim@naver.con", "kim@naver.con", TYPO, "kim@naver.com"),
    ("kim@naevr.com", "kim@naevr.com", TYPO, "kim@naver.com"),
    ("Kim@Navr.com", "kim@navr.com", TYPO, "kim@naver.com"),
    ("kim@hanmial.net", "kim@hanmial.net", TYPO, "kim@hanmail.net"),
    ("kim@hanmail.ner", "kim@hanmail.ner", TYPO, "kim@hanmail.net"),
    ("kim@hanmail.com", "kim@hanmail.com", TYPO, "kim@hanmail.net"),
    ("kim@hotmial.com", "kim@hotmial.com", ("typo", "disposable"), "kim@hotmail.com"),
    ("kim@yahooo.com", "kim@yahooo.com", TYPO, "kim@yahoo.com"),
    ("kim@outlok.com", "kim@outlok.com", TYPO, "kim@outlook.com"),
    ("kim@daum.ent", "kim@daum.ent", TYPO, "kim@daum.net"),
    ("kim.lee+x@hotmaill.com", "kim.lee+x@hotmaill.com", TYPO, "kim.lee+x@hotmail.com"),
    ("info@naver.con", "info@naver.con", ("typo", "role"), "info@naver.com"),
    # Not typos: common domains themselves, real neighbours, and company domains
    ("kim@gmx.de", "kim@gmx.de", (), None),
    ("kim@mail.com", "kim@mail.com", (), None),
    ("kim@me.com", "kim@me.com", (), None),
    ("kim@email.com", "kim@email.com", (), None),
    ("kim@ymail.com", "kim@ymail.com", (), None),
    ("kim@gmx.net", "kim@gmx.net", (), None),
    ("kim@googlemail.com", "kim@googlemail.com", (), None),
    ("kim@company.com", "kim@company.com", (), None),
    ("kim@orange.com", "kim@orange.com", (), None),
    ("kim@note.com", "kim@note.com", (), None),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize(("raw", "address", "flags", "suggestion"), CASES)
def test_check_email(raw: str, address: str | None, flags: tuple[str, ...], suggestion: str | None) -> None:
    check = check_email(raw)
    assert (check.address, check.flags, check.suggestion) == (address, flags, suggestion), check.error
    if address is None:
        assert check.error is not None
        shown = raw if len(raw) <= 100 else raw[:100] + "…"
        assert check.error.startswith(f"{shown!r} is not an email address: ")
        assert check.match_key is None
        assert not check.role and not check.disposable
    else:
        assert check.error is None
        assert check.match_key == fold_email(address)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("kimnaver.com", "no @ sign"),
        ("kim＠naver.com", "no @ sign (it has a full-width ＠ instead)"),
        ("john@@x.com", "more than one @ sign"),
        ("@naver.com", "the part before @ is empty"),
        ("kim@", "the part after @ is empty"),
        ("kim@naver", "the domain 'naver' has no dot"),
        ("", "it is empty"),
        ("kim..lee@naver.com", "an email address cannot have two periods in a row"),
        ('"kim"@naver.com', "quoting the part before the @-sign is not allowed here"),
        ("kim@[127.0.0.1]", "a bracketed IP address after the @-sign is not allowed here"),
        (f"{LOCAL_64}@{DOMAIN_189}x", "it is too long (255 bytes; at most 254)"),
    ],
)
def test_error_names_the_value_and_the_reason(raw: str, reason: str) -> None:
    shown = raw if len(raw) <= 100 else raw[:100] + "…"  # long values are cut short in the message
    assert check_email(raw).error == f"{shown!r} is not an email address: {reason}"


def test_huge_values_are_rejected_quickly_with_a_short_message() -> None:
    raw = "a" * 1_000_000 + "@example.com"
    started = time.perf_counter()
    check = check_email(raw)
    assert time.perf_counter() - started < 0.5
    assert check.address is None and check.error is not None
    assert "too long" in check.error
    assert len(check.error) < 200


def test_flags_order() -> None:
    everything = EmailCheck(
        address=None, error="x", role=True, disposable=True, suggestion="a@gmail.com", match_key=None
    )
    assert everything.flags == ("invalid", "typo", "role", "disposable")
    assert check_email("info@gmial.com").flags == ("typo", "role", "disposable")
    assert check_email("kim@naver.com").flags == ()


def test_role_and_common_lists() -> None:
    assert len(ROLE_LOCAL_PARTS) >= 40
    assert all(part == part.lower() for part in ROLE_LOCAL_PARTS)
    for domain in ("gmail.com", "naver.com", "hanmail.net", "daum.net", "kakao.com", "nate.com", "qq.com"):
        assert domain in COMMON_DOMAINS
    assert len(set(COMMON_DOMAINS)) == len(COMMON_DOMAINS)


@pytest.mark.parametrize(
    ("domain", "suggestion"),
    [
        ("gmial.com", "gmail.com"),
        ("naver.con", "naver.com"),
        ("hanmial.net", "hanmail.net"),
        ("gmail.co", "gmail.com"),
        ("hotmial.com", "hotmail.com"),
        ("yaho.com", "yahoo.com"),
        ("navr.com", "naver.com"),
        ("GMAIL.CON", "gmail.com"),
        ("outllok.com", "outlook.com"),
        ("duam.net", "daum.net"),
        ("protonmial.com", "protonmail.com"),
        ("yaho.co.kr", "yahoo.co.kr"),
        ("company.co.kr", None),
        ("gmx.de", None),
        ("mail.com", None),
        ("email.com", None),
        ("ymail.com", None),
        ("me.com", None),
        ("naver.com", None),
        ("samsung.co.kr", None),
        ("lastmail.com", None),  # a real service one edit from fastmail.com, itself only a minor provider
        ("orange.com", None),
        ("live.net", None),
        ("", None),
        ("例え.jp", None),
    ],
)
def test_suggest_domain(domain: str, suggestion: str | None) -> None:
    assert suggest_domain(domain) == suggestion


def test_no_common_domain_is_a_typo_of_another() -> None:
    assert [domain for domain in COMMON_DOMAINS if suggest_domain(domain)] == []


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("k.i.m+news@gmail.com", "kim@gmail.com"),
        ("kim@googlemail.com", "kim@gmail.com"),
        ("k.im+a+b@googlemail.com", "kim@gmail.com"),
        ("kim.lee+tag@naver.com", "kim.lee@naver.com"),
        ("Kim.Lee+Tag@Naver.com", "kim.lee@naver.com"),
        ("kim.lee@company.co.kr", "kim.lee@company.co.kr"),
        ("+tag@naver.com", "+tag@naver.com"),
        ("홍길동+x@example.com", "홍길동@example.com"),
    ],
)
def test_fold_email(address: str, key: str) -> None:
    assert fold_email(address) == key


def test_spellings_of_one_gmail_mailbox_share_a_match_key() -> None:
    spellings = ["Kim.Minsu@gmail.com", "kimminsu+shop@gmail.com", " <kim.minsu@GoogleMail.com> "]
    checks = [check_email(raw) for raw in spellings]
    assert {check.match_key for check in checks} == {"kimminsu@gmail.com"}
    assert len({check.address for check in checks}) == 3  # the addresses themselves stay as written


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_check_email_never_raises(raw: str) -> None:
    check = check_email(raw)
    assert isinstance(check, EmailCheck)
    assert (check.address is None) == (check.error is not None) == (check.match_key is None)


@pytest.mark.parametrize(
    "raw", ["\ud800@x.com", "a@\ud800.com", "a@x.com\udfff", "\x00", "@", "@@", "<", "mailto:<>"]
)
def test_odd_text_never_raises(raw: str) -> None:
    assert check_email(raw).address is None


# --- The fast path against email-validator --------------------------------------------------------

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
ODD_LOCAL = [
    " ",
    '"',
    "\\",
    ",",
    "(",
    ")",
    "<",
    ">",
    ":",
    ";",
    "[",
    "\x00",
    "\n",
    "é",
    "홍",
    "\u0301",
    "\u200b",
]
ODD_DOMAIN = ["_", " ", "é", "例", "．", "\u200b", "\x00", "--", "xn--", "[", "@", "<"]
TLDS = ["com", "co.kr", "net", "kr", "jp", "de", "io", "c0m", "123", "x", "invalid", "local", "", "みんな"]


def _expected(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False, strict=True).normalized.lower()
    except EmailNotValidError:
        return None


def _random_local(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:  # dot-atom, sometimes over 64 characters
        atoms = [
            "".join(rng.choice(ATEXT) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 4))
        ]
        local = ".".join(atoms)
        return local * rng.choice([1, 1, 1, 6])
    if kind < 0.8:  # dot mistakes
        word = "".join(rng.choice(ATEXT) for _ in range(rng.randint(1, 8)))
        return rng.choice([f".{word}", f"{word}.", f"{word}..x", "."])
    word = list("".join(rng.choice(ATEXT) for _ in range(rng.randint(1, 8))))
    word.insert(rng.randrange(len(word) + 1), rng.choice(ODD_LOCAL))
    return "".join(word)


def _random_domain(rng: random.Random) -> str:
    labels = [
        "".join(rng.choice(string.ascii_letters + string.digits + "-") for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(1, 3))
    ]
    if rng.random() < 0.15:
        labels.insert(0, "x" * rng.choice([62, 63, 64]))
    domain = ".".join(labels)
    if rng.random() < 0.25:
        position = rng.randrange(len(domain) + 1)
        domain = domain[:position] + rng.choice(ODD_DOMAIN) + domain[position:]
    tld = rng.choice(TLDS)
    return f"{domain}.{tld}" if tld else domain


def test_fast_path_agrees_with_email_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261123)
    addresses = [f"{_random_local(rng)}@{_random_domain(rng)}" for _ in range(800)]
    addresses += [f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * n}.com" for n in range(50, 62)]
    # Only values check_email reads as they are (no whitespace, brackets or mailto: to take off).
    addresses = [a for a in addresses if emails._unwrap(a) == a]

    whole_address_calls: list[str] = []
    real_validate = emails.validate_email

    def counting_validate(address: str, **options: object) -> object:
        whole_address_calls.append(address)
        return real_validate(address, **options)

    monkeypatch.setattr(emails, "validate_email", counting_validate)
    emails._domain_info.cache_clear()
    try:
        answers = {address: check_email(address).address for address in addresses}
    finally:
        emails._domain_info.cache_clear()  # drop entries made through the counting wrapper

    mismatches = {a: (answers[a], _expected(a)) for a in addresses if answers[a] != _expected(a)}
    assert mismatches == {}
    valid = [a for a in addresses if answers[a] is not None]
    assert len(valid) >= 150 and len(addresses) - len(valid) >= 150
    # Plain ASCII local parts were answered without validating the whole address.
    fast = [
        a
        for a in addresses
        if len(local := a.partition("@")[0]) <= 64 and emails._ASCII_DOT_ATOM.fullmatch(local)
    ]
    assert len(fast) >= 300
    called = set(whole_address_calls)
    assert [a for a in fast if a in called and not a.startswith("a@")] == []


atext_local = st.lists(st.text(alphabet=ATEXT, min_size=1, max_size=10), min_size=1, max_size=4).map(".".join)
odd_local = st.text(alphabet=ATEXT + "." + "".join(ODD_LOCAL) + "ÄßИ", min_size=0, max_size=70)
label = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=20)
plain_domain = st.tuples(st.lists(label, min_size=1, max_size=3), st.sampled_from(TLDS)).map(
    lambda parts: ".".join(parts[0] + ([parts[1]] if parts[1] else []))
)
odd_domain = st.text(
    alphabet=string.ascii_letters + ".-" + "".join(ODD_DOMAIN) + "Ä例", min_size=0, max_size=30
)


@given(
    local=st.one_of(atext_local, atext_local.map(str.upper), odd_local),
    domain=st.one_of(plain_domain, plain_domain.map(str.upper), odd_domain),
)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_agrees_with_email_validator_on_generated_addresses(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assume(emails._unwrap(address) == address)
    assert check_email(address).address == _expected(address)


# --- DNS deliverability -----------------------------------------------------------------------------


def test_unresolvable_domain_is_not_deliverable_or_unknown_and_is_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checker = DeliverabilityChecker(timeout_s=1.0)
    first = checker.deliverable("nonexistent-domain-patron-test.invalid")
    assert first in (False, None)

    def no_dns(domain: str) -> bool | None:
        raise AssertionError(f"DNS asked again for {domain}")

    monkeypatch.setattr(checker, "_ask_dns", no_dns)
    assert checker.deliverable("nonexistent-domain-patron-test.invalid") is first
    assert checker.deliverable("Nonexistent-Domain-Patron-Test.invalid.") is first


class FakeRecord:
    def __init__(self, exchange: str) -> None:
        self.exchange = exchange


class FakeResolver:
    """Answers from a table {(domain, type): records or exception}; records every question."""

    def __init__(self, table: dict[tuple[str, str], object]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def resolve(self, domain: str, record_type: str, lifetime: float, search: bool) -> list[FakeRecord]:
        assert lifetime > 0 and search is False
        self.asked.append((domain, record_type))
        answer = self.table.get((domain, record_type), dns.resolver.NoAnswer())
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, list)
        return answer


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({("x.com", "MX"): [FakeRecord("mx.x.com.")]}, True),
        ({("x.com", "MX"): [FakeRecord(".")]}, False),  # null MX: takes no mail
        ({("x.com", "A"): [FakeRecord("")]}, True),  # no MX, falls back to A
        ({("x.com", "AAAA"): [FakeRecord("")]}, True),
        ({}, False),  # exists, but neither MX nor addresses
        ({("x.com", "MX"): dns.resolver.NXDOMAIN()}, False),
        ({("x.com", "MX"): dns.exception.Timeout()}, None),
        ({("x.com", "MX"): dns.resolver.NoNameservers()}, None),
        ({("x.com", "MX"): RuntimeError("resolver bug")}, None),
    ],
)
def test_deliverability_answers(table: dict[tuple[str, str], object], expected: bool | None) -> None:
    checker = DeliverabilityChecker()
    resolver = FakeResolver(table)
    checker._resolver = resolver
    assert checker.deliverable("X.com") is expected
    asked = len(resolver.asked)
    assert checker.deliverable("x.com") is expected
    assert len(resolver.asked) == asked  # cached


def test_deliverability_cache_is_bounded_and_idn_is_asked_in_ascii() -> None:
    resolver = FakeResolver({})
    checker = DeliverabilityChecker(cache_size=2)
    checker._resolver = resolver
    for domain in ("a.com", "b.com", "例え.jp"):
        checker.deliverable(domain)
    assert ("xn--r8jz45g.jp", "MX") in resolver.asked
    resolver.asked.clear()
    checker.deliverable("a.com")  # evicted: asked again
    assert resolver.asked[0] == ("a.com", "MX")
    assert checker.deliverable("not a domain..例") is False
