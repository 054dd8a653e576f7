"""Comparators: pairs of records -> the comparison level of each field, per kind.

Comparing pairs (`compare`) needs no string work for missing or identical values; the rest are
reduced to distinct code pairs first, because blocking pairs records that share values, so the
same two strings meet again and again. Similarities run in rapidfuzz's C++ over whole lists
(`cpdist`), never a Python loop per pair. Fields people write in each other's place (first and
last name, two address lines) are compared crossed when straight they disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from patron.dedupe.hangul import fold_spelling, spellings
from patron.dedupe.values import EXACT, LONG_NUMBER, MISSING, NICKNAMES, FieldValues, form_ids_of

CLOSE = 2  # the second level of name and address comparisons

# Email levels (values.LEVEL_LABELS["email"]).
SAME_MAILBOX, SAME_LOCAL_PART, LOCAL_PART_SLIP = 2, 3, 4

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
        at = both[np.array([bool(NICKNAMES[keys[x]] & NICKNAMES[keys[y]]) for x, y in pairs], dtype=bool)]
        levels[at[levels[at] > 2]] = 2
    return levels


def _text_levels(fv: FieldValues, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    levels = _graded(_best_similarity(fv, a, b, fuzz.token_set_ratio), 0.92, 0.80)
    loose = fv.form_ids.get("loose")
    if loose is not None:  # one place in Hangul and in roman letters: 광주 / Gwangju
        levels[(loose[a] == loose[b]) & (loose[a] >= 0)] = EXACT
    return levels


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
    one_slip &= (digits[a] == digits[b]) | (np.minimum(digit_count[a], digit_count[b]) >= LONG_NUMBER)
    same_local = local[a] == local[b]
    same_mailbox = folded[a] == folded[b]
    levels = np.where(one_slip, 4, 5).astype(np.uint8)
    levels[same_local] = 3
    levels[same_mailbox] = 2
    # The same local part at a mistyped domain (naver.con, gmial.com) is the same address, mistyped:
    # as telling as an exact match.
    maybe = np.flatnonzero(same_local & ~same_mailbox)
    if len(maybe):
        split = [key.rpartition("@") for key in fv.keys]  # as written: gmail.con is not folded like gmail.com
        domains = [domain for _, _, domain in split]
        typo = _similarity(OSA.distance, _pick(domains, a[maybe]), _pick(domains, b[maybe])) == 1
        # ...but only the very same local part: junseo_kim@ and junseo.kim@ are two mailboxes.
        typo &= np.array(
            [split[x][0] == split[y][0] for x, y in zip(a[maybe].tolist(), b[maybe].tolist(), strict=True)],
            dtype=bool,
        )
        levels[maybe[typo]] = EXACT
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
    # Email column -> per record: its local part spells nothing but the record's own names.
    name_built: dict[int, np.ndarray] = field(default_factory=dict)


def prepare_table(fields: list[FieldValues], n_records: int) -> PreparedTable:
    """The prepared fields with what comparing across fields needs (swaps, name-built addresses)."""
    return PreparedTable(fields, prepare_swaps(fields, n_records), n_records, name_built_addresses(fields))


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
    form_ids = form_ids_of(one.kind, forms, keys)
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
    """Cross swappable fields where straight both disagree and crossed both agree; the pairs crossed."""
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
        # Crossed agreement counts as close, not exact: exact agreement weighs a value by how rare
        # it is in its own field, and "Park" is rare among first names only because it is a surname.
        levels[at[agree], swap.first] = np.maximum(crossed_first[agree], CLOSE)
        levels[at[agree], swap.second] = np.maximum(crossed_second[agree], CLOSE)
        swapped[at[agree]] = True
    return swapped


def name_built_addresses(fields: list[FieldValues]) -> dict[int, np.ndarray]:
    """Per email column, which records' local part only spells their own names (minseo.kim, cstewart)."""
    names = [fv for fv in fields if fv.kind == "name"]
    found: dict[int, np.ndarray] = {}
    if not names:
        return found
    spelled: list[dict[int, set[str]]] = [{} for _ in names]
    for column, fv in enumerate(fields):
        if fv.kind != "email":
            continue
        # Letters only: a number in the handle (minseo.kim1987) sets namesakes apart.
        letters = [fold_spelling(local) if local.isalpha() else "" for local in fv.forms["local"]]
        built = np.zeros(len(fv.codes), dtype=bool)
        for record in np.flatnonzero(fv.codes >= 0).tolist():
            text = letters[fv.codes[record]]
            if not text:
                continue
            pieces: set[str] = set()
            for cache, name_field in zip(spelled, names, strict=True):
                code = int(name_field.codes[record])
                if code >= 0:
                    if code not in cache:
                        cache[code] = spellings(name_field.keys[code])
                    pieces |= cache[code]
            built[record] = bool(pieces) and _spelled_by(text, pieces)
        found[column] = built
    return found


def _spelled_by(text: str, pieces: set[str]) -> bool:
    """True when text is a run of the pieces and their initials (cstewart, minsugim, gimminsu)."""
    allowed = pieces | {piece[0] for piece in pieces}
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(
            reachable[end - len(p)] and text.endswith(p, 0, end) for p in allowed if len(p) <= end
        )
    return reachable[-1] and len(text) > 1


def cross_fields(
    prepared: PreparedTable, levels: np.ndarray, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Swapped fields crossed, name-built local parts set aside; the pairs affected by each."""
    swapped = apply_swaps(prepared, levels, left, right)
    name_only = np.zeros(len(left), dtype=bool)
    for column, built in prepared.name_built.items():
        # Two namesakes' minseo.kim@daum.net and minseo_kim@naver.com agree because their names do;
        # the name fields have counted that already, so the address adds nothing either way.
        level = levels[:, column]
        at = ((level == SAME_LOCAL_PART) | (level == LOCAL_PART_SLIP)) & built[left] & built[right]
        levels[at, column] = MISSING
        name_only |= at
    return swapped, name_only


def describe(fv: FieldValues, record: int) -> str | None:
    """The normalised value a record holds, for explanations."""
    code = int(fv.codes[record])
    return fv.keys[code] if code >= 0 else None
