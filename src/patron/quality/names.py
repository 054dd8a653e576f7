"""Person names: whitespace and letter case tidied, whole names split into first and last.

Only names typed in one case (ALL CAPS, all lower) are re-cased; a mixed-case name is how its
owner writes it ('McKenzie', 'DeVito'). Scripts other than Latin keep their letters as typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Lower case inside a name ('Ludwig van Beethoven'); capitalised when they start it ('De Niro').
PARTICLES = frozenset(
    {
        "van",
        "von",
        "de",
        "da",
        "di",
        "del",
        "della",
        "der",
        "den",
        "du",
        "la",
        "le",
        "dos",
        "das",
        "bin",
        "al",
    }
)
_ROMAN = frozenset({"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"})
_SUFFIXES = _ROMAN | {"jr", "sr"}
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof"})
# Vietnamese names put 'Van' (Văn) in the middle as a given name, not a particle: 'Nguyen Van An'.
_VIETNAMESE_FAMILY = frozenset(
    {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo"}
    | {"duong", "ly", "truong", "dinh", "lam", "mai", "trinh", "cao", "luong"}
)
KOREAN_COMPOUND_SURNAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방"})
_CHINESE_COMPOUND_SURNAMES = frozenset(
    {"欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "司徒", "夏侯", "皇甫", "东方", "東方"}
    | {"令狐", "慕容", "公孙", "公孫", "长孙", "長孫", "宇文", "尉迟", "尉遲", "端木", "独孤", "獨孤"}
)

_HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")
# Han, kana and the iteration mark 々; the kana middle dot ・ is a separator, so not in here.
_CJK = re.compile(r"^[\u3005\u3040-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
# Copy-pasted names carry these; they are invisible, so nobody meant them.
_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u2060\ufeff"))


def tidy_name(raw: str) -> str:
    """Trimmed name, inner whitespace collapsed; Latin names typed in one case get proper case."""
    text = " ".join(raw.split())  # str.split() also takes NBSP, U+3000 and the other Unicode spaces
    if not text.isascii():
        cleaned = text.translate(_INVISIBLE)
        if len(cleaned) != len(text):
            text = " ".join(cleaned.split())
    if not (text.isupper() or text.islower()):
        return text  # mixed case as typed, or no cased letters at all (Hangul, CJK, digits)
    return _proper_case(text, False)


def name_changed(raw: str, tidy: str) -> bool:
    """Whether tidying changed more than the whitespace around the name."""
    return raw.strip() != tidy


def split_full_name(full: str) -> tuple[str, str]:
    """(first, last) from a whole name; Korean, Chinese and Japanese names are family name first."""
    text = tidy_name(full)
    if not text:
        return "", ""
    compact = text.replace(" ", "")
    if 2 <= len(compact) <= 5 and _HANGUL.match(compact):
        return _split_korean(text, compact)
    if _CJK.match(compact.replace("・", "").replace("·", "")):
        return _split_cjk(text, compact)
    return _split_latin(text)


def _split_korean(text: str, compact: str) -> tuple[str, str]:
    head, space, tail = text.partition(" ")
    if space and " " not in tail and head in KOREAN_COMPOUND_SURNAMES:
        return tail, head  # '남궁 민', '선우 진': the space says where the family name ends
    if len(compact) == 4 and compact[:2] in KOREAN_COMPOUND_SURNAMES:
        return compact[2:], compact[:2]
    return compact[1:], compact[0]


def _split_cjk(text: str, compact: str) -> tuple[str, str]:
    for dot in ("・", "·"):
        if dot in compact:  # a foreign name in kana or Han ('ジョン・スミス'): given name first
            parts = [part for part in compact.split(dot) if part]
            return (parts[0], parts[-1]) if len(parts) > 1 else (compact.replace(dot, ""), "")
    head, space, tail = text.partition(" ")
    if space:
        return tail, head
    if len(compact) in (3, 4) and compact[:2] in _CHINESE_COMPOUND_SURNAMES:
        return compact[2:], compact[:2]
    if len(compact) in (2, 3):
        return compact[1:], compact[0]
    if len(compact) == 4:  # Japanese names are mostly two characters each: 山田太郎
        return compact[2:], compact[:2]
    return compact, ""


def _split_latin(text: str) -> tuple[str, str]:
    if "," in text:
        left, _, right = (part.strip() for part in text.partition(","))
        if right and left and right.rstrip(".").lower() not in _SUFFIXES:
            first_words = _without_title(right.split(" "))
            return _tidy_part(" ".join(first_words), False), _tidy_part(left, True)
        text = f"{left} {right}".strip()  # 'John Smith, Jr.': the comma only sets off the suffix
        if not text:
            return "", ""
    words = _without_title(text.split(" "))
    if len(words) == 1:
        return _tidy_part(words[0], False), ""
    end = len(words) - 1
    if end >= 2 and words[end].rstrip(".").lower() in _SUFFIXES:
        end -= 1  # 'John Smith III': the suffix goes with the family name
    start = end
    if words[0].lower() not in _VIETNAMESE_FAMILY:
        while start > 1 and words[start - 1].lower() in PARTICLES:
            start -= 1
    return _tidy_part(" ".join(words[:start]), False), _tidy_part(" ".join(words[start:]), True)


def _without_title(words: list[str]) -> list[str]:
    if len(words) > 1 and words[0].rstrip(".").lower() in _TITLES:
        return words[1:]
    return words


def _tidy_part(text: str, family: bool) -> str:
    if not (text.isupper() or text.islower()):
        return text
    return _proper_case(text, family)


# Names repeat across an import (Kim, Lee, John); the slow path runs once per distinct spelling.
@lru_cache(maxsize=16384)
def _proper_case(text: str, family: bool) -> str:
    """Proper case of a one-case name; `family` when it is a family name that may open with 'van'."""
    if not text.isascii() and _has_cased_non_latin(text):
        return text  # Cyrillic, Greek, ...: their case conventions are not ours to guess
    words = text.lower().split(" ")
    last = len(words) - 1
    particles_allowed = words[0] not in _VIETNAMESE_FAMILY
    cased = []
    for position, word in enumerate(words):
        if position and position == last and word.rstrip(".") in _ROMAN:
            cased.append(word.upper())
        elif (
            particles_allowed
            and word in PARTICLES
            and position < last
            and (position > 0 or (family and last > 0))
        ):
            cased.append(word)
        else:
            cased.append(_capitalise(word))
    return " ".join(cased)


def _capitalise(word: str) -> str:
    """'o'neil' -> "O'Neil", 'mary-jane' -> 'Mary-Jane', 'mcdonald' -> 'McDonald', 'j.r.r.' -> 'J.R.R.'."""
    if word.startswith("mc") and len(word) > 2 and word[2].isalpha():
        return "Mc" + _capitalise(word[2:])
    out = []
    at_start = True
    letters = 0  # letters since the last separator: O' and D' are prefixes, Ka'ahumanu is one word
    for char in word:
        if char in "-.":
            at_start, letters = True, 0
            out.append(char)
        elif char in "'’":
            at_start, letters = letters == 1, 0
            out.append(char)
        elif at_start and char.isalpha():
            at_start, letters = False, 1
            upper = char.upper()
            out.append(upper if len(upper) == 1 else char)  # 'ß'.upper() is 'SS': leave it
        else:
            letters += char.isalpha()
            out.append(char)
    return "".join(out)


def _has_cased_non_latin(text: str) -> bool:
    for char in text:
        point = ord(char)
        if point < 0x250 or 0x1E00 <= point < 0x1F00 or not (char.isupper() or char.islower()):
            continue
        if 0x2C60 <= point < 0x2C80 or 0xA720 <= point < 0xA800 or 0xAB30 <= point < 0xAB70:
            continue  # Latin Extended-C, -D and -E
        return True
    return False
