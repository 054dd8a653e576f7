"""A record table's fields prepared for comparison: normalised values, codes, forms, frequencies.

A field is prepared once per run (`prepare`): every distinct normalised value gets a code, and
each record holds its value's code (-1 = missing). The forms a comparator needs (a name's jamo
and loose roman key, an email's mailbox and local part, a phone's national number) are worked
out once per distinct value, and those compared for equality are interned as ints, so that
comparing a million pairs never touches a string it does not have to.

Levels: 0 is always "missing" (weight 0), 1 is always "exact", the last is "different".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import jellyfish
import numpy as np

from patron.dedupe.hangul import has_hangul, loose_key, strip_accents, to_jamo

MISSING = 0
EXACT = 1

LEVEL_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("missing", "exact", "close", "similar", "different"),
    "text": ("missing", "exact", "close", "similar", "different"),
    "address": ("missing", "exact", "close", "similar", "different"),
    "postcode": ("missing", "exact", "one typo", "different"),
    "date": ("missing", "exact", "one typo or day/month swapped", "two typos", "different"),
    "identifier": ("missing", "exact", "one typo", "different"),
    "email": ("missing", "exact", "same mailbox", "same local part", "local part one typo", "different"),
    "phone": ("missing", "exact", "same national number", "one typo", "different"),
    "exact": ("missing", "exact", "different"),
}

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_NUMBER_TAIL = re.compile(r"\.0+$")
_DIGITS = re.compile(r"\D+")
_SEPARATORS = re.compile(r"[._-]+")
_STREET_WORDS = {
    "street": "st", "str": "st", "road": "rd", "avenue": "ave", "av": "ave", "drive": "dr",
    "place": "pl", "court": "ct", "crescent": "cres", "lane": "ln", "boulevard": "blvd",
    "highway": "hwy", "terrace": "tce", "parade": "pde", "circuit": "cct", "close": "cl",
    "square": "sq", "apartment": "apt", "unit": "u", "north": "n", "south": "s", "east": "e",
    "west": "w", "mount": "mt", "saint": "st",
}  # fmt: skip


def _digits(text: str) -> str:
    return _DIGITS.sub("", text)


# Given names and the short forms people also sign up with; any two in one group compare "close".
_NICKNAME_GROUPS = """
william bill will billy willy liam | robert bob rob bobby robbie bert | elizabeth liz beth betty lizzie
eliza libby | jennifer jen jenny | michael mike mikey mick | katherine kate kathy katie kat catherine
kathryn cathy | james jim jimmy jamie | margaret maggie peggy meg marge | christopher chris kit
| alexander alex alec sasha | alexandra alex alexa sandra | daniel dan danny | thomas tom tommy
| jessica jess jessie | matthew matt matty | joshua josh | samantha sam sammy | samuel sam sammy
| andrew andy drew | rebecca becky becca | nicholas nick nicky | patricia pat trish patty tricia
| anthony tony | victoria vicky tori | benjamin ben benny benji | richard rick dick ricky rich
| susan sue susie | joseph joe joey | edward ed eddie ted teddy | charles charlie chuck chas
| david dave davey | steven steve stevie | stephen steve stevie | jonathan jon jonny | john jack johnny
| timothy tim timmy | gregory greg | kenneth ken kenny | ronald ron ronnie | donald don donny
| lawrence larry | gerald gerry jerry | peter pete | frederick fred freddie | henry harry hank
| theodore theo ted teddy | nathaniel nate nat | nathan nate | zachary zach zack | jacob jake
| abigail abby abbie | amanda mandy | deborah debbie deb | dorothy dot dottie | kimberly kim
| christine chris chrissy tina | christina chris tina | cynthia cindy | pamela pam | sandra sandy
| olivia liv livvy | isabella bella izzy isabel | charlotte lottie charlie | madeline maddie maddy
| eleanor ellie nora | emily em emmy | sophia sophie | gabriel gabe | gabrielle gabby | leonard leo len
"""
NICKNAMES: dict[str, set[int]] = {}
for _group, _names in enumerate(_NICKNAME_GROUPS.replace("\n", " ").split("|")):
    for _name in _names.split():
        NICKNAMES.setdefault(_name, set()).add(_group)

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@dataclass
class FieldValues:
    """One field of a record table, prepared for comparison."""

    name: str
    kind: str
    codes: np.ndarray  # int32 per record: index into `keys`, -1 = missing
    keys: list[str]  # the normalised value of each code (exact agreement = same code)
    frequency: np.ndarray  # term frequency of each code, as seen by a pair holding it (see prepare)
    block_codes: np.ndarray  # int32 per record: a coarser key for blocking, -1 = missing
    forms: dict[str, list[str]] = field(default_factory=dict)  # per code: extra forms comparators use
    form_ids: dict[str, np.ndarray] = field(default_factory=dict)  # per code: a form as an int (-1 = "")
    # Level -> per code, the term frequency of the form that level agrees on (email: the mailbox
    # for "same mailbox", the local part for "same local part"), like `frequency` for "exact".
    level_frequency: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        """Human labels of this field's levels."""
        return LEVEL_LABELS[self.kind]


# ---- normalisers: raw text -> normalised value (None = treat as missing) ----------------------


def fold_text(raw: str) -> str:
    """Lower case, no accents or punctuation, single spaces."""
    text = raw if has_hangul(raw) else strip_accents(raw)
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


def normalise_identifier(raw: str) -> str:
    """Letters and digits only, upper case; "2119.0" (a number read as float) -> "2119"."""
    return _NOT_ALNUM.sub("", _NUMBER_TAIL.sub("", raw.strip())).upper()


def normalise_date(raw: str) -> str:
    """YYYYMMDD from "1956-04-09", "19560409", "19560409.0", "1956/4/9" or "09/04/1956"."""
    text = _NUMBER_TAIL.sub("", raw.strip())
    parts = [p for p in re.split(r"\D+", text) if p]
    if len(parts) == 3:
        if len(parts[0]) == 4:
            year, month, day = parts
        elif len(parts[2]) == 4:
            day, month, year = parts
        else:
            return "".join(parts)
        return f"{year}{month.zfill(2)}{day.zfill(2)}"
    digits = "".join(parts)
    if len(digits) == 8 and not 1800 <= int(digits[:4]) <= 2100 and 1800 <= int(digits[4:]) <= 2100:
        return digits[4:] + digits[2:4] + digits[:2]  # DDMMYYYY
    return digits


def normalise_address(raw: str) -> str:
    """Folded, with street words abbreviated (Street -> st) so the two spellings agree."""
    return " ".join(_STREET_WORDS.get(word, word) for word in fold_text(raw).split())


def normalise_phone(raw: str) -> str:
    """Digits only (E.164 without the plus)."""
    return _DIGITS.sub("", _NUMBER_TAIL.sub("", raw.strip()))


def fold_email(address: str) -> str:
    """The mailbox an address delivers to: +tags dropped everywhere, dots dropped for Gmail."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local:
        return address.strip().lower()
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


_NORMALISERS: dict[str, Callable[[str], str]] = {
    "name": fold_text,
    "text": fold_text,
    "address": normalise_address,
    "postcode": normalise_identifier,
    "date": normalise_date,
    "identifier": normalise_identifier,
    "email": lambda raw: raw.strip().lower(),
    "phone": normalise_phone,
    "exact": lambda raw: raw.strip().lower(),
}

# ---- extra forms, computed once per distinct value --------------------------------------------


def _name_forms(keys: list[str]) -> dict[str, list[str]]:
    is_hangul = [has_hangul(k) for k in keys]
    loose = [loose_key(k) for k in keys]
    return {
        "loose": loose,
        "jamo": [to_jamo(k) if h else "" for k, h in zip(keys, is_hangul, strict=True)],
        "hangul": ["1" if h else "" for h in is_hangul],
        "sound": [
            jellyfish.metaphone(k) if not h and k else "" for k, h in zip(keys, is_hangul, strict=True)
        ],
        "nickname": [k if k in NICKNAMES else "" for k in keys],
    }


def _email_forms(keys: list[str]) -> dict[str, list[str]]:
    folded = [fold_email(k) for k in keys]
    # Local parts compare without separators: minjun.kim@gmail.com and minjunkim@naver.com are
    # one person's habit on two providers far more often than two people.
    local = [_SEPARATORS.sub("", f.rpartition("@")[0] or f) for f in folded]
    return {"folded": folded, "local": local, "local_digits": [_digits(x) or "-" for x in local]}


def _text_forms(keys: list[str]) -> dict[str, list[str]]:
    # Korean apps write places and companies in Hangul, others romanised: 광주 and Gwangju agree.
    return {"loose": [loose_key(k) for k in keys]}


LONG_NUMBER = 5  # digits in a local part beyond a birth year


def _phone_forms(keys: list[str]) -> dict[str, list[str]]:
    # The last 9 digits are the subscriber number in every plan we meet (KR, US, GB): equal tails
    # mean one number written with and without its country code.
    return {"national": [k[-9:] for k in keys]}


_EQUALITY_FORMS = frozenset(
    {"loose", "hangul", "sound", "nickname", "folded", "local", "local_digits", "national"}
)

_FORMS: dict[str, Callable[[list[str]], dict[str, list[str]]]] = {
    "name": _name_forms,
    "text": _text_forms,
    "email": _email_forms,
    "phone": _phone_forms,
}


def intern(strings: list[str]) -> np.ndarray:
    """Each string as an int, equal strings equal ints; "" -> -1 (equal forms compare as ints)."""
    seen: dict[str, int] = {"": -1}
    return np.fromiter(
        (seen.setdefault(x, len(seen) - 1) for x in strings), dtype=np.int64, count=len(strings)
    )


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for a large int64 array (an in-place sort beats numpy's hash path at millions)."""
    values = np.sort(values)
    if len(values) == 0:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _block_key(kind: str, key: str, forms: dict[str, list[str]], code: int) -> str:
    if kind == "name":
        loose = forms["loose"][code]
        return jellyfish.soundex(loose.replace(" ", "")) if loose else ""
    if kind == "email":
        return forms["folded"][code]
    if kind == "phone":
        return forms["national"][code]
    return key


def form_ids_of(kind: str, forms: dict[str, list[str]], keys: list[str]) -> dict[str, np.ndarray]:
    """The forms comparators test for equality, as ints per code (plus word and digit counts)."""
    ids = {name: intern(values) for name, values in forms.items() if name in _EQUALITY_FORMS}
    ids["spaced"] = np.array([0 if " " in key else -1 for key in keys], dtype=np.int64)
    if kind == "email":
        digits = [_digits(x) for x in forms["local"]]
        ids["local_digit_count"] = np.array([len(x) for x in digits], dtype=np.int64)
        ids["long_number"] = intern([x if len(x) >= LONG_NUMBER else "" for x in digits])
    return ids


def prepare(name: str, kind: str, raw_values: Sequence[str | None]) -> FieldValues:
    """Normalise one column and give each distinct value a code."""
    normalise = _NORMALISERS[kind]
    code_of_value: dict[str, int] = {}
    keys: list[str] = []
    code_of_raw: dict[str | None, int] = {None: -1}
    for raw in dict.fromkeys(raw_values):
        if raw is None:
            continue
        value = normalise(raw)
        if not value or value in ("nan", "NAN", "none"):
            code_of_raw[raw] = -1
        else:
            code_of_raw[raw] = code_of_value.setdefault(value, len(code_of_value))
            if len(code_of_value) > len(keys):
                keys.append(value)
    codes = np.fromiter(map(code_of_raw.__getitem__, raw_values), dtype=np.int32, count=len(raw_values))
    counts = np.bincount(codes[codes >= 0], minlength=len(keys)).astype(np.float64)
    frequency = _pair_frequency(counts)
    forms = _FORMS[kind](keys) if kind in _FORMS else {}
    form_ids = form_ids_of(kind, forms, keys)
    block_of_key: dict[str, int] = {}
    block_of_code = np.empty(len(keys) + 1, dtype=np.int32)
    block_of_code[-1] = -1
    for code, key in enumerate(keys):
        block = _block_key(kind, key, forms, code)
        block_of_code[code] = block_of_key.setdefault(block, len(block_of_key)) if block else -1
    level_frequency = {
        level: _form_frequency(form_ids[form], counts) for level, form in _LEVEL_FORMS.get(kind, {}).items()
    }
    return FieldValues(
        name, kind, codes, keys, frequency, block_of_code[codes], forms, form_ids, level_frequency
    )


# Levels whose agreement is on a form other than the value itself, term-frequency adjusted too:
# "kim.minjun" at naver and at gmail is weak evidence when thirty records use that local part.
# Exact agreement on a name or a place counts by how common its romanised form is across both
# scripts: "Yejun" is rare among roman spellings only because most records write 예준.
_LEVEL_FORMS: dict[str, dict[int, str]] = {
    "email": {2: "folded", 3: "local"},
    "name": {1: "loose"},
    "text": {1: "loose"},
}


def _pair_frequency(counts: np.ndarray) -> np.ndarray:
    # Counted without the two records being compared: else the duplicates we look for make their
    # own values look common (a member number on two records of one person is not a shared value).
    return np.maximum(counts - 2.0, 1.0) / max(float(counts.sum()), 1.0)


def _form_frequency(form_of_code: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per code, the pair frequency of its form, from the records holding each code."""
    present = form_of_code >= 0
    form_counts = np.bincount(form_of_code[present], weights=counts[present], minlength=1)
    frequency = np.ones(len(form_of_code))
    frequency[present] = _pair_frequency(form_counts)[form_of_code[present]] * (
        form_counts.sum() / max(float(counts.sum()), 1.0)
    )
    return frequency
