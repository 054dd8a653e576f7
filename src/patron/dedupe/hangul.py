"""Hangul for name matching: jamo decomposition, Revised Romanisation and a loose roman key.

Hangul-vs-Hangul names compare on their jamo (김민준 vs 김민중 differ by one letter, not one of
three syllables). Hangul-vs-Latin names compare on a loose key both sides reduce to: the Hangul
is romanised (Revised Romanisation, syllable by syllable), family names map to one canonical
spelling (Lee/Yi/Rhee -> i), and spelling habits that differ between romanisations are folded
(eo/oo/ou -> u, k/t/p -> g/d/b...), so 김민준, "Kim Minjun" and "Minjun Kim" share a key.
"""

from __future__ import annotations

import re
import unicodedata

_FIRST_SYLLABLE = 0xAC00
_LAST_SYLLABLE = 0xD7A3
_MEDIALS_X_FINALS = 21 * 28

_INITIAL_JAMO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIAL_JAMO = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINAL_JAMO = ["", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"]

_INITIAL_ROMAN = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_MEDIAL_ROMAN = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_FINAL_ROMAN = ["", *"k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()]

# Common family names: every spelling people use, mapped to the Revised Romanisation, so that
# "Lee" meets 이 (RR "i") and "Park" meets 박 ("bak"). Hangul romanises to the RR form itself.
_FAMILY_NAME_SPELLINGS: dict[str, tuple[str, ...]] = {
    "gim": ("kim",), "i": ("lee", "yi", "rhee", "ri", "rhie", "rie", "ree", "yee"),
    "bak": ("park", "pak", "bark", "bahk"), "choe": ("choi", "chwe", "choy"),
    "jeong": ("jung", "chung", "joung", "jeung"), "gang": ("kang",), "jo": ("cho", "joh", "jou"),
    "yun": ("yoon", "youn"), "jang": ("chang",), "im": ("lim", "rim", "yim"), "han": ("hahn",),
    "o": ("oh",), "seo": ("suh", "seoh"), "sin": ("shin",), "gwon": ("kwon",), "hwang": ("whang",),
    "an": ("ahn",), "song": ("soung",), "ryu": ("yoo", "yu", "you", "ryoo", "lyu"), "hong": (),
    "jeon": ("jun", "chun", "chon"), "go": ("ko", "koh"), "mun": ("moon",), "yang": (),
    "son": ("sohn",), "bae": ("bai", "pae"), "baek": ("paik", "baik", "paek"), "heo": ("hur", "huh", "her"),
    "nam": (), "no": ("noh", "roh", "ro"), "gwak": ("kwak",), "u": ("woo",), "seong": ("sung",),
    "cha": (), "ju": ("joo", "chu"), "gu": ("koo", "ku"), "min": (), "na": ("ra",), "jin": ("chin",),
}  # fmt: skip
_CANONICAL_TOKEN: dict[str, str] = {
    spelling: rr for rr, spellings in _FAMILY_NAME_SPELLINGS.items() for spelling in (rr, *spellings)
}
_HANGUL_FAMILY_NAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유홍전고문양손배백허남노곽우성차주구민나진"
)

# Applied in order to both sides of a Hangul-vs-Latin comparison; each folds a spelling habit
# that differs between Revised Romanisation and what people actually write (Jiwoo for 지우 "jiu").
_LOOSE_FOLDS: tuple[tuple[str, str], ...] = (
    ("woo", "u"),
    ("wu", "u"),
    ("eo", "u"),
    ("oo", "u"),
    ("ou", "u"),
    ("ee", "i"),
    ("ui", "i"),
    ("sh", "s"),
    ("k", "g"),
    ("t", "d"),
    ("p", "b"),
    ("r", "l"),
    ("-", ""),
)
_HANGUL_SYLLABLE = re.compile("[\uac00-\ud7a3]")
_NOT_LETTER = re.compile(r"[^\w]+|[\d_]+")


def is_hangul_syllable(char: str) -> bool:
    """True for a precomposed Hangul syllable (가..힣)."""
    return _FIRST_SYLLABLE <= ord(char) <= _LAST_SYLLABLE


def has_hangul(text: str) -> bool:
    """True when the text holds at least one Hangul syllable."""
    return not text.isascii() and _HANGUL_SYLLABLE.search(text) is not None


def to_jamo(text: str) -> str:
    """Each Hangul syllable as its letters (김 -> ㄱㅣㅁ); other characters unchanged."""
    out: list[str] = []
    for char in text:
        code = ord(char) - _FIRST_SYLLABLE
        if 0 <= code <= _LAST_SYLLABLE - _FIRST_SYLLABLE:
            out.append(_INITIAL_JAMO[code // _MEDIALS_X_FINALS])
            out.append(_MEDIAL_JAMO[(code % _MEDIALS_X_FINALS) // 28])
            out.append(_FINAL_JAMO[code % 28])
        else:
            out.append(char)
    return "".join(out)


def romanise(text: str) -> str:
    """Revised Romanisation, syllable by syllable (no sound-change rules: names rarely need them)."""
    out: list[str] = []
    for char in text:
        code = ord(char) - _FIRST_SYLLABLE
        if 0 <= code <= _LAST_SYLLABLE - _FIRST_SYLLABLE:
            initial = _INITIAL_ROMAN[code // _MEDIALS_X_FINALS]
            out.append("" if initial == "-" else initial)
            out.append(_MEDIAL_ROMAN[(code % _MEDIALS_X_FINALS) // 28])
            out.append(_FINAL_ROMAN[code % 28])
        else:
            out.append(char)
    return "".join(out)


def _split_family_name(token: str) -> list[str]:
    # A 3-4 syllable Hangul run starting with a family name is a full name written together
    # (김민준); romanised apart it meets "Minjun Kim" token by token.
    if 3 <= len(token) <= 4 and token[0] in _HANGUL_FAMILY_NAMES and all(map(is_hangul_syllable, token)):
        return [token[0], token[1:]]
    return [token]


def strip_accents(text: str) -> str:
    """Latin text without diacritics (José -> Jose); Hangul must not pass here (NFKD splits it)."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def loose_key(name: str) -> str:
    """The key 김민준, "Kim Minjun" and "minjun KIM" share: romanised, canonical, folded, tokens sorted."""
    text = name if has_hangul(name) else strip_accents(name)
    tokens: list[str] = []
    for raw in _NOT_LETTER.sub(" ", text.lower()).split():
        for part in _split_family_name(raw) if has_hangul(raw) else [raw]:
            roman = romanise(part)
            roman = _CANONICAL_TOKEN.get(roman, roman)
            for old, new in _LOOSE_FOLDS:
                roman = roman.replace(old, new)
            if roman:
                tokens.append(roman)
    return " ".join(sorted(tokens))


def fold_spelling(text: str) -> str:
    """The spelling habits loose_key folds, on one run of letters (no token rules)."""
    for old, new in _LOOSE_FOLDS:
        text = text.replace(old, new)
    return text


def spellings(name: str) -> set[str]:
    """Every folded way a name's words may be written in roman letters (김 -> gim, i.e. Kim, Gim...)."""
    text = name if has_hangul(name) else strip_accents(name)
    found: set[str] = set()
    for raw in _NOT_LETTER.sub(" ", text.lower()).split():
        for part in _split_family_name(raw) if has_hangul(raw) else [raw]:
            roman = romanise(part)
            canonical = _CANONICAL_TOKEN.get(roman)
            variants = {roman} if canonical is None else {canonical, *_FAMILY_NAME_SPELLINGS[canonical]}
            found.update(fold_spelling(v) for v in variants if v.isascii())
    found.discard("")
    return found
