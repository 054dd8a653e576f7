"""Comparators: each kind turns raw text into codes, then pairs of codes into comparison levels.

A field is prepared once per run (`prepare`): every distinct normalised value gets a code, and
each record holds its value's code (-1 = missing). Comparing pairs (`compare`) then needs no
string work for missing or identical values; the rest are reduced to distinct code pairs first,
because blocking pairs records that share values, so the same two strings meet again and again.
Similarities run in rapidfuzz's C++ over whole lists (`cpdist`), never a Python loop per pair.

Levels: 0 is always "missing" (weight 0), 1 is always "exact", the last is "different".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import jellyfish
import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

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
_NICKNAMES: dict[str, set[int]] = {}
for _group, _names in enumerate(_NICKNAME_GROUPS.replace("\n", " ").split("|")):
    for _name in _names.split():
        _NICKNAMES.setdefault(_name, set()).add(_group)

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
        "nickname": [k if k in _NICKNAMES else "" for k in keys],
    }


def _email_forms(keys: list[str]) -> dict[str, list[str]]:
    folded = [fold_email(k) for k in keys]
    # Local parts compare without separators: minjun.kim@gmail.com and minjunkim@naver.com are
    # one person's habit on two providers far more often than two people.
    local = [_SEPARATORS.sub("", f.rpartition("@")[0] or f) for f in folded]
    return {"folded": folded, "local": local, "local_digits": [_digits(x) or "-" for x in local]}


_LONG_NUMBER = 5  # digits in a local part beyond a birth year


def _phone_forms(keys: list[str]) -> dict[str, list[str]]:
    # The last 9 digits are the subscriber number in every plan we meet (KR, US, GB): equal tails
    # mean one number written with and without its country code.
    return {"national": [k[-9:] for k in keys]}


_EQUALITY_FORMS = frozenset(
    {"loose", "hangul", "sound", "nickname", "folded", "local", "local_digits", "national"}
)

_FORMS: dict[str, Callable[[list[str]], dict[str, list[str]]]] = {
    "name": _name_forms,
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


def _form_ids(kind: str, forms: dict[str, list[str]], keys: list[str]) -> dict[str, np.ndarray]:
    ids = {name: intern(values) for name, values in forms.items() if name in _EQUALITY_FORMS}
    ids["spaced"] = np.array([0 if " " in key else -1 for key in keys], dtype=np.int64)
    if kind == "email":
        digits = [_digits(x) for x in forms["local"]]
        ids["local_digit_count"] = np.array([len(x) for x in digits], dtype=np.int64)
        ids["long_number"] = intern([x if len(x) >= _LONG_NUMBER else "" for x in digits])
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
    form_ids = _form_ids(kind, forms, keys)
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
_LEVEL_FORMS: dict[str, dict[int, str]] = {"email": {2: "folded", 3: "local"}}


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


# ---- comparison -------------------------------------------------------------------------------


def _similarity(scorer: Callable[..., float], a: list[str], b: list[str]) -> np.ndarray:
    if not a:
        return np.zeros(0)
    return cpdist(a, b, scorer=scorer, dtype=np.float32, workers=1).astype(np.float64)


def _pick(values: list[str], codes: np.ndarray) -> list[str]:
    return (
        list(itemgetter(*codes.tolist())(values)) if len(codes) > 1 else [values[c] for c in codes.tolist()]
    )


def _graded(similarity: np.ndarray, close: float, similar: float) -> np.ndarray:
    return np.where(similarity >= close, 2, np.where(similarity >= similar, 3, 4)).astype(np.uint8)


def _best_similarity(
    fv: FieldValues, a: np.ndarray, b: np.ndarray, token_scorer: Callable[..., float]
) -> np.ndarray:
    """max(Jaro-Winkler, a token scorer) of the normalised values; the token scorer only where a
    value has several words (on one word it adds nothing, and it costs as much again)."""
    ka, kb = _pick(fv.keys, a), _pick(fv.keys, b)
    similarity = _similarity(JaroWinkler.normalized_similarity, ka, kb)
    spaced = fv.form_ids["spaced"] >= 0
    words = np.flatnonzero(spaced[a] | spaced[b])
    if len(words):
        tokens = _similarity(token_scorer, _pick(fv.keys, a[words]), _pick(fv.keys, b[words])) / 100.0
        similarity[words] = np.maximum(similarity[words], tokens)
    return similarity


def _name_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    hangul = fv.form_ids["hangul"] >= 0
    both_hangul = hangul[a] & hangul[b]
    mixed = hangul[a] != hangul[b]
    latin = np.flatnonzero(~both_hangul & ~mixed)
    similarity = np.zeros(len(a))
    if len(latin):
        similarity[latin] = _best_similarity(fv, a[latin], b[latin], fuzz.token_sort_ratio)
    if both_hangul.any():
        ja, jb = _pick(fv.forms["jamo"], a[both_hangul]), _pick(fv.forms["jamo"], b[both_hangul])
        similarity[both_hangul] = _similarity(JaroWinkler.normalized_similarity, ja, jb)
    if mixed.any():
        la, lb = _pick(fv.forms["loose"], a[mixed]), _pick(fv.forms["loose"], b[mixed])
        similarity[mixed] = _similarity(JaroWinkler.normalized_similarity, la, lb)
    levels = _graded(similarity, 0.92, 0.80)
    # One slip in a short name (Ava/Aav) leaves Jaro-Winkler low, but it is still one slip.
    unlike = np.flatnonzero(levels > 3)
    if len(unlike):
        one_edit = _similarity(OSA.distance, _pick(fv.keys, a[unlike]), _pick(fv.keys, b[unlike])) <= 1
        levels[unlike[one_edit]] = 3
    loose = fv.form_ids["loose"]
    same_loose = (loose[a] == loose[b]) & (loose[a] >= 0)
    levels[same_loose & mixed] = EXACT
    levels[same_loose & ~mixed & (levels > 2)] = 2
    sound = fv.form_ids["sound"]
    same_sound = (sound[a] == sound[b]) & (sound[a] >= 0)
    levels[same_sound & (levels > 3)] = 3
    nickname = fv.form_ids["nickname"]
    both = np.flatnonzero((nickname[a] >= 0) & (nickname[b] >= 0))
    if len(both):
        keys = fv.keys
        pairs = zip(a[both].tolist(), b[both].tolist(), strict=True)
        at = both[np.array([bool(_NICKNAMES[keys[x]] & _NICKNAMES[keys[y]]) for x, y in pairs], dtype=bool)]
        levels[at[levels[at] > 2]] = 2
    return levels


def _text_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _graded(_best_similarity(fv, a, b, fuzz.token_set_ratio), 0.92, 0.80)


def _address_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _graded(_best_similarity(fv, a, b, fuzz.token_set_ratio), 0.90, 0.75)


def _edits(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _similarity(OSA.distance, _pick(fv.keys, a), _pick(fv.keys, b))


def _typo_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(_edits(fv, a, b) <= 1, 2, 3).astype(np.uint8)


def _date_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    edits = _edits(fv, a, b)
    ka, kb = _pick(fv.keys, a), _pick(fv.keys, b)
    swapped = np.array(
        [
            len(x) == 8 and x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]
            for x, y in zip(ka, kb, strict=True)
        ],
        dtype=bool,
    )
    return np.where((edits <= 1) | swapped, 2, np.where(edits <= 2, 3, 4)).astype(np.uint8)


def _email_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Local parts are built from names, so "similar" is kept to one slip (kim.minjun/kim.mnjun),
    # and a slip in a short number does not count: minjun.kim12 and minjun.kim13 are two people
    # named Minjun Kim. A slip in a long number (hill225476/hill25476) is a typo.
    folded, local, digits = fv.form_ids["folded"], fv.form_ids["local"], fv.form_ids["local_digits"]
    one_slip = _similarity(OSA.distance, _pick(fv.forms["local"], a), _pick(fv.forms["local"], b)) <= 1
    digit_count = fv.form_ids["local_digit_count"]
    one_slip &= (digits[a] == digits[b]) | (np.minimum(digit_count[a], digit_count[b]) >= _LONG_NUMBER)
    same_local = local[a] == local[b]
    same_mailbox = folded[a] == folded[b]
    levels = np.where(one_slip, 4, 5).astype(np.uint8)
    levels[same_local] = 3
    levels[same_mailbox] = 2
    return levels


def _phone_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    national = fv.form_ids["national"]
    same = national[a] == national[b]
    edits = _edits(fv, a, b)
    levels = np.where(edits <= 1, 3, 4).astype(np.uint8)
    levels[same] = 2
    return levels


def _exact_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.full(len(a), 2, dtype=np.uint8)


_FUZZY_LEVELS: dict[str, Callable[[FieldValues, np.ndarray, np.ndarray], np.ndarray]] = {
    "name": _name_levels,
    "text": _text_levels,
    "address": _address_levels,
    "postcode": _typo_levels,
    "date": _date_levels,
    "identifier": _typo_levels,
    "email": _email_levels,
    "phone": _phone_levels,
    "exact": _exact_levels,
}


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(values)
    ordered = values[order]
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def compare(fv: FieldValues, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The comparison level (uint8) of each pair of records (left[k], right[k]) on this field."""
    code_a, code_b = fv.codes[left], fv.codes[right]
    levels = np.full(len(left), MISSING, dtype=np.uint8)
    present = (code_a >= 0) & (code_b >= 0)
    same = present & (code_a == code_b)
    levels[same] = EXACT
    differ = present & ~same
    if differ.any():
        low = np.minimum(code_a[differ], code_b[differ]).astype(np.int64)
        high = np.maximum(code_a[differ], code_b[differ]).astype(np.int64)
        distinct, inverse = _unique_inverse(low * len(fv.keys) + high)
        levels[differ] = _FUZZY_LEVELS[fv.kind](fv, distinct // len(fv.keys), distinct % len(fv.keys))[
            inverse
        ]
    return levels


@dataclass
class Swap:
    """Two fields of one kind people write in each other's place (first/last name, address lines)."""

    first: int  # column of the prepared table
    second: int
    joint: FieldValues  # both columns in one code space: record i's first at i, its second at n + i


@dataclass
class PreparedTable:
    """Every compared field of a record table, prepared, and the field pairs that may be swapped."""

    fields: list[FieldValues]
    swaps: list[Swap]
    n_records: int


SWAPPABLE_KINDS = ("name", "address")


def _joint(one: FieldValues, other: FieldValues) -> FieldValues:
    """Both fields' records in one code space (values already normalised: no work is redone)."""
    index = {key: code for code, key in enumerate(one.keys)}
    extra = [code for code, key in enumerate(other.keys) if key not in index]
    for code in extra:
        index[other.keys[code]] = len(index)
    remap = np.array([index[key] for key in other.keys] + [-1], dtype=np.int32)
    keys = one.keys + [other.keys[code] for code in extra]
    forms = {name: values + [other.forms[name][code] for code in extra] for name, values in one.forms.items()}
    form_ids = _form_ids(one.kind, forms, keys)
    codes = np.concatenate([one.codes, remap[other.codes]])
    frequency = np.zeros(len(keys))
    return FieldValues(f"{one.name}|{other.name}", one.kind, codes, keys, frequency, codes, forms, form_ids)


def prepare_swaps(fields: list[FieldValues], n_records: int) -> list[Swap]:
    """A joint code space for each pair of name fields and each pair of address fields."""
    swaps: list[Swap] = []
    for kind in SWAPPABLE_KINDS:
        columns = [k for k, fv in enumerate(fields) if fv.kind == kind]
        for position, first in enumerate(columns):
            for second in columns[position + 1 :]:
                swaps.append(Swap(first, second, _joint(fields[first], fields[second])))
    return swaps


def apply_swaps(
    prepared: PreparedTable, levels: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Where both fields of a swappable pair disagree, levels of the crossed comparison if both agree.

    Returns a mask of the pairs whose levels were replaced (for explanations).
    """
    n = prepared.n_records
    swapped = np.zeros(len(left), dtype=bool)
    for swap in prepared.swaps:
        first, second = levels[:, swap.first], levels[:, swap.second]
        at = np.flatnonzero((first >= 3) & (second >= 3))
        # A swap shows as at least one crossed value written alike; test only those pairs.
        joint = swap.joint.codes
        if "loose" in swap.joint.form_ids:  # names: 김 written where "Kim" was
            joint = np.append(swap.joint.form_ids["loose"], -1)[joint]
        crossed = (joint[left[at]] == joint[right[at] + n]) | (joint[left[at] + n] == joint[right[at]])
        at = at[crossed & (joint[left[at]] >= 0)]
        if len(at) == 0:
            continue
        crossed_first = compare(swap.joint, left[at], right[at] + n)
        crossed_second = compare(swap.joint, left[at] + n, right[at])
        agree = (
            (crossed_first >= EXACT)
            & (crossed_first <= 2)
            & (crossed_second >= EXACT)
            & (crossed_second <= 2)
        )
        levels[at[agree], swap.first] = crossed_first[agree]
        levels[at[agree], swap.second] = crossed_second[agree]
        swapped[at[agree]] = True
    return swapped


def describe(fv: FieldValues, record: int) -> str | None:
    """The normalised value a record holds, for explanations."""
    code = int(fv.codes[record])
    return fv.keys[code] if code >= 0 else None
