"""Deterministic demo CSV exports of a small business's shop, CRM and newsletter tool.

The same invented people appear in one to three exports, written the way each app writes them,
with data problems planted at known rates so Patron's quality and identity features have work to do.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

from patron.demo import names

WeightedRow = TypeVar("WeightedRow", bound=tuple[Any, ...])  # a table row whose last item is its weight

SHOP, CRM, NEWSLETTER = "shop", "crm", "newsletter"
APPS = (SHOP, CRM, NEWSLETTER)
# The business is in Seoul: no wall clock, so the same seed always gives the same bytes.
REFERENCE_DATE = date(2026, 11, 1)
SEOUL = timezone(timedelta(hours=9))
REFERENCE_MOMENT = datetime(2026, 11, 1, tzinfo=SEOUL)

SHOP_HEADER = [
    "Customer ID", "First Name", "Last Name", "Email", "Phone", "Country", "City",
    "Total Orders", "Total Spent", "Last Order At", "Accepts Marketing",
]  # fmt: skip
CRM_HEADER = "고객번호,성,이름,이메일,휴대폰,회사,직책,업종,국가,도시,생년월일,리드상태,거래금액".split(",")
NEWSLETTER_HEADER = ["Email Address", "Name", "Subscribed At", "Lists", "Language"]

PRESENCE = {SHOP: 0.70, CRM: 0.45, NEWSLETTER: 0.60}
PHONE_SHOWN = {SHOP: 0.85, CRM: 0.93, NEWSLETTER: 0.0}
CITY_SHOWN = {SHOP: 0.93, CRM: 0.90, NEWSLETTER: 0.0}
HANGUL_NAME_SHARE = {SHOP: 0.90, CRM: 1.0, NEWSLETTER: 0.85}

# Planted problems, as shares of rows.
TYPO_SHARE = 0.02
INVALID_EMAIL_SHARE = 0.015
INVALID_PHONE_SHARE = 0.01
SHOP_DUPLICATE_SHARE = 0.03
CRM_LOOKALIKE_SHARE = 0.01
CONFLICT_SHARE_OF_PEOPLE = 0.002
NAME_CASE_SHARE = 0.02
NAME_SPACING_SHARE = 0.02

INVALID_PHONES = {
    "KR": ("123", "010-12", "02-000-0000", "0000"),
    "US": ("123", "555-0199", "(000) 000-0000"),
    "CA": ("123", "555-0199", "(000) 000-0000"),
    "GB": ("123", "07911 12", "+44 0000"),
}
LEAD_STATUSES = ("new", "contacted", "qualified", "customer", "lost")
NEWSLETTER_NOTICE = "newsletter-signup-2025-03"


@dataclass(frozen=True, slots=True)
class DemoExport:
    """One generated export file and how Patron should import it."""

    source: str  # "shop", "crm", "newsletter"
    filename: str  # e.g. "shop_customers.csv"
    content: bytes  # the encoded CSV file
    encoding: str  # "utf-8-sig", "cp949", "utf-8"
    id_column: str | None  # column holding the person's id in that app, or None
    mapping: dict[str, str]  # column -> field overrides Patron's importer needs
    description: str  # one sentence: what this export is and what is planted in it
    planted: dict[str, int] = field(default_factory=dict)  # problem -> how many rows carry it
    # The truth about who is who: each row's identity in Patron ("user_id:C123", "ext:crm:K-1",
    # "email:a@b.com") -> the invented person it describes. Tests and bench/ score dedupe with it.
    people: dict[str, int] = field(default_factory=dict)
    # What the export says about consent, as run_import's consent options (patron.consent.imports).
    consent: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Company:
    """An employer: name, industry and mail domain."""

    name: str
    industry: str
    domain: str


@dataclass(frozen=True, slots=True)
class Person:
    """One invented customer as they really are; apps write them down differently."""

    index: int
    country: str
    family: str
    given: str
    family_roman: str
    given_roman: str
    email: str
    phone: str  # national significant number, e.g. "1012345678"
    city: str  # Hangul for Korean cities
    city_english: str
    company: Company | None
    job_title: str
    birthday: date
    apps: tuple[str, ...]

    @property
    def korean(self) -> bool:
        """Whether this is one of the Korean customers."""
        return self.country == "KR"


@dataclass(slots=True)
class Entry:
    """One row about a person in one app, before the app's own columns are filled in."""

    person: Person
    email: str
    phone: str  # as written, "" when missing
    first: str
    last: str
    hangul: bool  # Korean order, no space: 김민준
    has_city: bool
    company: Company | None
    gap: str = ""  # the space between the names when it was planted wrong
    malformed: str = ""  # "lists" or "name": written with an unquoted extra ';'

    @property
    def full_name(self) -> str:
        """The name as one string, the way a newsletter tool keeps it."""
        if self.hangul:
            return f"{self.last}{self.gap}{self.first}"
        return f"{self.first}{self.gap or ' '}{self.last}"


def generate(people: int = 5000, seed: int = 7) -> list[DemoExport]:
    """Three exports (shop, crm, newsletter) of about `people` persons; same seed, same bytes."""
    rng = random.Random(seed)
    persons = _make_people(rng, people)
    entries = {app: [_entry(rng, person, app) for person in persons if app in person.apps] for app in APPS}
    planted = {app: Counter[str]() for app in APPS}
    _plant_problems(rng, persons, entries, planted)
    for app_entries in entries.values():
        rng.shuffle(app_entries)
    return [
        _shop_export(rng, entries[SHOP], planted[SHOP]),
        _crm_export(rng, entries[CRM], planted[CRM]),
        _newsletter_export(rng, entries[NEWSLETTER], planted[NEWSLETTER]),
    ]


# People


def _make_people(rng: random.Random, count: int) -> list[Person]:
    emails: set[str] = set()
    phones: set[str] = set()
    return [_make_person(rng, index, emails, phones) for index in range(count)]


def _make_person(rng: random.Random, index: int, emails: set[str], phones: set[str]) -> Person:
    korean = rng.random() < 0.6
    if korean:
        country = "KR"
        family, family_roman, _ = _weighted(rng, names.KOREAN_SURNAMES)
        given, given_roman = rng.choice(names.KOREAN_GIVEN_NAMES)
        city, city_english, _ = _weighted(rng, names.KOREAN_CITIES)
        area_codes: tuple[int, ...] = ()
    else:
        country = _weighted(rng, names.ENGLISH_COUNTRIES)[0]
        given = given_roman = rng.choice(names.ENGLISH_FIRST_NAMES)
        family = family_roman = rng.choice(names.ENGLISH_LAST_NAMES)
        city_english, area_codes = rng.choice(names.ENGLISH_CITIES[country])
        city = city_english
    phone = _new_phone(rng, country, area_codes)
    while phone in phones:
        phone = _new_phone(rng, country, area_codes)
    phones.add(phone)
    company = _pick_company(rng, korean)
    titles = names.KOREAN_JOB_TITLES if korean else names.ENGLISH_JOB_TITLES
    birthday = REFERENCE_DATE - timedelta(days=rng.randrange(20 * 365, 70 * 365))
    apps = tuple(app for app in APPS if rng.random() < PRESENCE[app])
    if not apps:
        apps = (rng.choices(APPS, [PRESENCE[app] for app in APPS])[0],)
    person = Person(
        index, country, family, given, family_roman, given_roman, "", phone, city, city_english,
        company, rng.choice(titles) if company else "", birthday, apps,
    )  # fmt: skip
    return replace(person, email=_new_email(rng, emails, person))


def _weighted(rng: random.Random, table: Sequence[WeightedRow]) -> WeightedRow:
    return rng.choices(table, [row[-1] for row in table])[0]


def _new_phone(rng: random.Random, country: str, area_codes: Sequence[int]) -> str:
    if country == "KR":
        # 010-597x..599x are unallocated, so the middle block never starts with 5.
        return f"10{rng.choice('2346789')}{rng.randrange(1000):03d}{rng.randrange(10000):04d}"
    if country == "GB":
        return f"{rng.choice(names.GB_MOBILE_PREFIXES)}{rng.randrange(1000000):06d}"
    exchange = rng.randrange(200, 1000)
    while exchange == 555 or exchange % 100 == 11:  # 555 is fictional, N11 are service codes
        exchange = rng.randrange(200, 1000)
    return f"{rng.choice(area_codes)}{exchange}{rng.randrange(10000):04d}"


def _pick_company(rng: random.Random, korean: bool) -> Company | None:
    if rng.random() < 0.25:
        return None
    korean_employer = korean if rng.random() < 0.92 else not korean
    return Company(*rng.choice(names.KOREAN_COMPANIES if korean_employer else names.ENGLISH_COMPANIES))


def _new_email(rng: random.Random, taken: set[str], person: Person, *, at_work: bool = True) -> str:
    """An address nobody else has; `at_work` allows the employer's domain."""
    given, family = _mail_letters(person.given_roman), _mail_letters(person.family_roman)
    year = person.birthday.year
    local = rng.choice(
        (f"{given}.{family}", f"{family}.{given}", f"{given}{year}", f"{given}{family}{year % 100:02d}",
         f"{given[0]}{family}", f"{given}_{family}", f"{family}{given}")
    )  # fmt: skip
    table = names.MAIL_DOMAINS[person.country]
    domain = _weighted(rng, table)[0]
    if domain == names.COMPANY_DOMAIN:
        domain = person.company.domain if person.company and at_work else table[0][0]
    email, attempts = f"{local}@{domain}", 0
    # Gmail ignores dots in the local part: minjun.kim@ and minjunkim@ are one mailbox, one person.
    while _mailbox(email) in taken:
        attempts += 1  # short names run out of two-digit suffixes in large demos
        email = f"{local}{rng.randrange(1, 100 * attempts)}@{domain}"
    taken.add(_mailbox(email))
    return email


def _mailbox(email: str) -> str:
    local, domain = email.split("@")
    return f"{local.replace('.', '')}@{domain}" if domain == "gmail.com" else email


def _mail_letters(name: str) -> str:
    return "".join(char for char in name.lower() if char.isascii() and char.isalpha())


# How each app writes a person down


def _entry(rng: random.Random, person: Person, app: str) -> Entry:
    hangul = person.korean and rng.random() < HANGUL_NAME_SHARE[app]
    first, last = (person.given, person.family) if hangul else (person.given_roman, person.family_roman)
    phone = _format_phone(rng, person.country, person.phone) if rng.random() < PHONE_SHOWN[app] else ""
    return Entry(
        person, _vary_email(rng, person.email), phone, first, last, hangul,
        has_city=rng.random() < CITY_SHOWN[app], company=person.company if app == CRM else None,
    )  # fmt: skip


def _vary_email(rng: random.Random, email: str) -> str:
    """The same address as people type it: case changes and stray spaces that normalise away."""
    local, domain = email.split("@")
    style = rng.random()
    if style < 0.6:
        text = email
    elif style < 0.8:
        text = f"{local.title()}@{domain.title()}"
    elif style < 0.92:
        text = f"{local}@{domain.upper()}"
    else:
        text = email.upper()
    if rng.random() < 0.08:
        text = rng.choice((" ", "  ", "")) + text + rng.choice((" ", "  "))
    return text


def _format_phone(rng: random.Random, country: str, digits: str) -> str:
    if country == "KR":
        a, b, c = digits[:2], digits[2:6], digits[6:]
        forms = (f"0{a}-{b}-{c}", f"0{digits}", f"+82 {a}-{b}-{c}", f"+82{digits}")
        weights: tuple[int, ...] = (60, 20, 12, 8)
    elif country == "GB":
        forms = (f"+44 {digits[:4]} {digits[4:]}", f"0{digits[:4]} {digits[4:]}", f"+44{digits}")
        weights = (50, 35, 15)
    else:
        a, b, c = digits[:3], digits[3:6], digits[6:]
        forms = (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a}-{b}-{c}", f"+1{digits}", f"{a}.{b}.{c}")
        weights = (35, 30, 15, 10, 10)
    return rng.choices(forms, weights)[0]


# Planted problems


def _plant_problems(
    rng: random.Random,
    persons: list[Person],
    entries: dict[str, list[Entry]],
    planted: dict[str, Counter[str]],
) -> None:
    """Each identity problem goes to people with no other planted identity problem, so counts are exact."""
    row_of = {(app, entry.person.index): entry for app in APPS for entry in entries[app]}
    claimed: set[int] = set()
    total_rows = len(row_of)
    taken_emails = {_mailbox(person.email) for person in persons}

    def claim(candidates: list[Person], count: int) -> list[Person]:
        free = [person for person in candidates if person.index not in claimed]
        chosen = rng.sample(free, min(count, len(free)))
        claimed.update(person.index for person in chosen)
        return chosen

    def phone_apps(person: Person) -> list[str]:
        return [app for app in (SHOP, CRM) if app in person.apps and row_of[(app, person.index)].phone]

    # A CRM row with person A's email and person B's phone: one record, two people.
    phone_owners = [p for p in persons if SHOP in p.apps and row_of[(SHOP, p.index)].phone]
    email_owners = [p for p in persons if CRM in p.apps and (SHOP in p.apps or NEWSLETTER in p.apps)]
    for owner in claim(email_owners, round(len(persons) * CONFLICT_SHARE_OF_PEOPLE)):
        others = [p for p in phone_owners if p.country == owner.country and p.index not in claimed]
        if others:
            other = rng.choice(others)
            claimed.add(other.index)
            row_of[(CRM, owner.index)].phone = _format_phone(rng, other.country, other.phone)
            planted[CRM]["rows with one person's email and another person's phone"] += 1

    shop_phones = [p for p in persons if SHOP in phone_apps(p)]
    for person in claim(shop_phones, round(len(entries[SHOP]) * SHOP_DUPLICATE_SHARE)):
        original = row_of[(SHOP, person.index)]
        email = _new_email(rng, taken_emails, person, at_work=False)
        phone = _format_phone(rng, person.country, person.phone)
        entries[SHOP].append(replace(original, email=_vary_email(rng, email), phone=phone))
        planted[SHOP]["second accounts of a customer (new Customer ID and email, same phone)"] += 1

    crm_with_city = [p for p in persons if CRM in p.apps and row_of[(CRM, p.index)].has_city]
    for person in claim(crm_with_city, round(len(entries[CRM]) * CRM_LOOKALIKE_SHARE)):
        email = _new_email(rng, taken_emails, person)
        entries[CRM].append(replace(row_of[(CRM, person.index)], email=email, phone=""))
        planted[CRM]["look-alike rows (same name and city, other email, no phone)"] += 1

    typo_prone = [p for p in persons if len(p.apps) >= 2 and p.email.split("@")[1] in names.DOMAIN_TYPOS]
    for person in claim(typo_prone, round(total_rows * TYPO_SHARE)):
        app = rng.choice(person.apps)
        local, domain = person.email.split("@")
        row_of[(app, person.index)].email = f"{local}@{rng.choice(names.DOMAIN_TYPOS[domain])}"
        planted[app]["email domain typos (correct in another export)"] += 1

    invalid_emails = round(total_rows * INVALID_EMAIL_SHARE)
    for person in claim([p for p in persons if phone_apps(p)], invalid_emails - invalid_emails // 2):
        app = rng.choice(phone_apps(person))
        row_of[(app, person.index)].email = _broken_email(rng, person.email)
        planted[app]["invalid emails next to a valid phone (row kept, flagged)"] += 1
    for person in claim([p for p in persons if NEWSLETTER in p.apps], invalid_emails // 2):
        row_of[(NEWSLETTER, person.index)].email = _broken_email(rng, person.email)
        planted[NEWSLETTER]["invalid emails with nothing else to identify the row (rejected)"] += 1

    for person in claim([p for p in persons if phone_apps(p)], round(total_rows * INVALID_PHONE_SHARE)):
        app = rng.choice(phone_apps(person))
        row_of[(app, person.index)].phone = rng.choice(INVALID_PHONES[person.country])
        planted[app]["invalid phones"] += 1

    # Latin names only: "Carter, Emily" is the kind of value whose comma became a ';'.
    latin_subscribers = [
        p for p in persons if NEWSLETTER in p.apps and not row_of[(NEWSLETTER, p.index)].hangul
    ]
    for malformation in ("lists", "name"):
        for person in claim(latin_subscribers, 1):
            row_of[(NEWSLETTER, person.index)].malformed = malformation
            planted[NEWSLETTER]["rows with an extra field (unquoted ';')"] += 1

    _plant_name_noise(rng, entries, planted)


def _broken_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice(
        (
            f"{local}@@{domain}",
            f"{local}.{domain}",
            f"{local}@",
            f"@{domain}",
            f"{local}@{domain.split('.')[0]}",
        )
    )


def _plant_name_noise(
    rng: random.Random, entries: dict[str, list[Entry]], planted: dict[str, Counter[str]]
) -> None:
    for app in APPS:
        english = [entry for entry in entries[app] if not entry.person.korean]
        for entry in rng.sample(english, round(len(english) * NAME_CASE_SHARE)):
            change = str.upper if rng.random() < 0.5 else str.lower
            entry.first, entry.last = change(entry.first), change(entry.last)
            planted[app]["English names in ALL CAPS or all lower case"] += 1
    named = entries[NEWSLETTER]
    for entry in rng.sample(named, round(len(named) * NAME_SPACING_SHARE)):
        entry.gap = " " if entry.hangul else rng.choice(("  ", "   "))
        planted[NEWSLETTER]["names with extra inner spaces"] += 1


# Files


def _shop_export(rng: random.Random, entries: list[Entry], planted: Counter[str]) -> DemoExport:
    ids = rng.sample(range(100000, 100000 + max(900000, 2 * len(entries))), len(entries))
    rows = [_shop_row(rng, entry, f"C{number}") for entry, number in zip(entries, ids, strict=True)]
    return DemoExport(
        SHOP, "shop_customers.csv", _csv_text(SHOP_HEADER, rows, ",", "\n").encode("utf-8-sig"), "utf-8-sig",
        # The web shop's sign-in id is the customer id: import it as the user id the tracking
        # API's userId matches, not as an app-local id.
        None,
        {"Customer ID": "user_id", "Total Orders": "total_orders", "Total Spent": "total_spent",
         "Last Order At": "last_order_at", "Accepts Marketing": "accepts_marketing"},
        _describe(f"Online-shop customer export ({len(rows)} rows, UTF-8 with BOM, comma-separated)", planted,
                  "missing phones and cities"),
        dict(planted),
        {f"user_id:C{number}": entry.person.index for entry, number in zip(entries, ids, strict=True)},
        # The shop asks at checkout, so the last order dates the answer; it keeps no notice
        # version, so a yes is no proof: Korean customers stay "none", US ones are subscribed,
        # Canadian ones get implied consent for 2 years after that purchase.
        {"consent_column": "Accepts Marketing", "at_column": "Last Order At",
         "purchase_column": "Last Order At"},
    )  # fmt: skip


def _shop_row(rng: random.Random, entry: Entry, customer_id: str) -> list[str]:
    person = entry.person
    orders = 0 if rng.random() < 0.12 else min(1 + int(rng.expovariate(1 / 3)), 60)
    spent = sum(rng.uniform(12, 95) for _ in range(orders))
    last_order = ""
    if orders:
        moment = REFERENCE_MOMENT - timedelta(seconds=rng.randrange(3600, 900 * 86400))
        last_order = moment.isoformat()
    subscribed = NEWSLETTER in person.apps
    accepts = rng.random() < (0.85 if subscribed else 0.2)
    return [
        customer_id, entry.first, entry.last, entry.email, entry.phone, person.country,
        person.city_english if entry.has_city else "", str(orders), f"{spent:.2f}", last_order,
        "yes" if accepts else "no",
    ]  # fmt: skip


def _crm_export(rng: random.Random, entries: list[Entry], planted: Counter[str]) -> DemoExport:
    ids = rng.sample(range(10000, 10000 + max(90000, 2 * len(entries))), len(entries))
    rows = [_crm_row(rng, entry, f"K-{number}") for entry, number in zip(entries, ids, strict=True)]
    return DemoExport(
        CRM, "crm_contacts.csv", _csv_text(CRM_HEADER, rows, ",", "\r\n").encode("cp949"), "cp949",
        "고객번호",
        {"리드상태": "lead_status", "거래금액": "deal_value"},
        _describe(f"Korean CRM contact export ({len(rows)} rows, CP949 from Excel, Korean headers)", planted,
                  "missing phones, cities, companies and birthdays"),
        dict(planted),
        {f"ext:crm:K-{number}": entry.person.index for entry, number in zip(entries, ids, strict=True)},
    )  # fmt: skip


def _crm_row(rng: random.Random, entry: Entry, contact_id: str) -> list[str]:
    person = entry.person
    buyer = SHOP in person.apps
    status = rng.choices(LEAD_STATUSES, (20, 20, 15, 35, 10) if buyer else (30, 25, 20, 10, 15))[0]
    deal_chance = {"qualified": 0.8, "customer": 0.8, "lost": 0.2}.get(status, 0.0)
    deal = str(rng.randrange(5, 500) * 100000) if rng.random() < deal_chance else ""
    birthday = person.birthday.strftime("%Y.%m.%d") if rng.random() < 0.6 else ""
    company, title, industry = ("", "", "")
    if entry.company:
        company, title, industry = entry.company.name, person.job_title, entry.company.industry
    return [
        contact_id, entry.last, entry.first, entry.email, entry.phone, company, title, industry,
        person.country, (person.city if person.korean else person.city_english) if entry.has_city else "",
        birthday, status, deal,
    ]  # fmt: skip


def _newsletter_export(rng: random.Random, entries: list[Entry], planted: Counter[str]) -> DemoExport:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(NEWSLETTER_HEADER)
    blank_before = rng.randrange(1, len(entries)) if len(entries) > 1 else 0
    for position, entry in enumerate(entries):
        if position == blank_before:
            buffer.write("\n")
            planted["completely blank line"] += 1
        row = _newsletter_row(rng, entry)
        if entry.malformed:
            # The tool wrote a ';' inside a value without quoting it: one field too many.
            field = 3 if entry.malformed == "lists" else 1
            row[field] = "newsletter;offers" if entry.malformed == "lists" else f"{entry.last}; {entry.first}"
            buffer.write(";".join(row) + "\n")
        else:
            writer.writerow(row)
    return DemoExport(
        NEWSLETTER, "newsletter_subscribers.csv", buffer.getvalue().encode("utf-8"), "utf-8", None,
        {"Subscribed At": "subscribed_at", "Lists": "newsletter_lists", "Language": "locale"},
        _describe(f"Newsletter subscriber export ({len(entries)} subscribers, UTF-8, semicolon-separated)",
                  planted, "missing languages"),
        dict(planted),
        {f"email:{entry.email.strip().lower()}": entry.person.index for entry in entries},
        # A double opt-in tool: it dates each sign-up and showed one notice, so its lists are proof.
        {"topics_column": "Lists", "at_column": "Subscribed At", "notice_version": NEWSLETTER_NOTICE},
    )  # fmt: skip


def _newsletter_row(rng: random.Random, entry: Entry) -> list[str]:
    person = entry.person
    subscribed = REFERENCE_MOMENT.replace(tzinfo=None) - timedelta(minutes=rng.randrange(60, 1300 * 1440))
    lists = ",".join(sorted(rng.sample(names.NEWSLETTER_LISTS, rng.choices((1, 2, 3), (50, 35, 15))[0])))
    if person.korean:
        language = "ko-KR" if rng.random() < 0.92 else "en-US"
    else:
        language = "en-GB" if person.country == "GB" else "en-US"
    if rng.random() < 0.03:
        language = ""
    return [entry.email, entry.full_name, subscribed.strftime("%Y-%m-%d %H:%M"), lists, language]


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str, line_end: str) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _describe(intro: str, planted: Counter[str], also: str) -> str:
    problems = ", ".join(f"{count} {problem}" for problem, count in planted.items())
    return f"{intro}; planted: {problems or 'nothing'}, plus {also} as real exports have."
