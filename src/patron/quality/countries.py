"""Country values to ISO 3166-1 alpha-2 codes, from codes and names in English, Korean and a few others.

pycountry supplies the codes and English names; the tables here add what people actually write
('South Korea', 'UK', '미국', '日本'). Every form is folded into one dict the first time it is
needed, so a lookup costs one normalisation and one dict access (pycountry's own lookup scans).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

# Korean names, the first one per code being how we show it (country_name(..., "ko")).
KOREAN_NAMES: dict[str, tuple[str, ...]] = {
    "KR": ("대한민국", "한국", "남한", "대한민국(한국)"),
    "KP": ("북한", "조선민주주의인민공화국", "조선"),
    "US": ("미국", "미합중국", "아메리카합중국"),
    "JP": ("일본",),
    "CN": ("중국", "중화인민공화국"),
    "TW": ("대만", "타이완", "중화민국"),
    "HK": ("홍콩",),
    "MO": ("마카오",),
    "GB": ("영국", "잉글랜드"),
    "DE": ("독일",),
    "FR": ("프랑스",),
    "IT": ("이탈리아",),
    "ES": ("스페인",),
    "PT": ("포르투갈",),
    "NL": ("네덜란드",),
    "BE": ("벨기에",),
    "CH": ("스위스",),
    "AT": ("오스트리아",),
    "SE": ("스웨덴",),
    "NO": ("노르웨이",),
    "DK": ("덴마크",),
    "FI": ("핀란드",),
    "IE": ("아일랜드",),
    "IS": ("아이슬란드",),
    "PL": ("폴란드",),
    "CZ": ("체코",),
    "HU": ("헝가리",),
    "GR": ("그리스",),
    "RO": ("루마니아",),
    "UA": ("우크라이나",),
    "RU": ("러시아",),
    "TR": ("튀르키예", "터키"),
    "CA": ("캐나다",),
    "MX": ("멕시코",),
    "BR": ("브라질",),
    "AR": ("아르헨티나",),
    "CL": ("칠레",),
    "CO": ("콜롬비아",),
    "PE": ("페루",),
    "AU": ("호주", "오스트레일리아"),
    "NZ": ("뉴질랜드",),
    "VN": ("베트남",),
    "TH": ("태국",),
    "SG": ("싱가포르",),
    "MY": ("말레이시아",),
    "ID": ("인도네시아",),
    "PH": ("필리핀",),
    "IN": ("인도",),
    "MN": ("몽골",),
    "KH": ("캄보디아",),
    "LA": ("라오스",),
    "MM": ("미얀마",),
    "NP": ("네팔",),
    "BD": ("방글라데시",),
    "PK": ("파키스탄",),
    "LK": ("스리랑카",),
    "UZ": ("우즈베키스탄",),
    "KZ": ("카자흐스탄",),
    "IL": ("이스라엘",),
    "SA": ("사우디아라비아",),
    "AE": ("아랍에미리트",),
    "QA": ("카타르",),
    "IR": ("이란",),
    "EG": ("이집트",),
    "ZA": ("남아프리카공화국", "남아공"),
    "NG": ("나이지리아",),
    "KE": ("케냐",),
}

# English short forms, abbreviations, endonyms and CJK names pycountry does not carry.
ALIASES: dict[str, str] = {
    "South Korea": "KR",
    "Republic of Korea": "KR",
    "Korea": "KR",
    "Korea South": "KR",
    "ROK": "KR",
    "North Korea": "KP",
    "Korea North": "KP",
    "DPRK": "KP",
    "DPR Korea": "KP",
    "America": "US",
    "United States": "US",
    "US of A": "US",
    "United States of America": "US",
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Deutschland": "DE",
    "Holland": "NL",
    "Nederland": "NL",
    "Vietnam": "VN",
    "Russia": "RU",
    "Czech Republic": "CZ",
    "Turkey": "TR",
    "Turkiye": "TR",
    "Taiwan": "TW",
    "Republic of China": "TW",
    "ROC": "TW",
    "China": "CN",
    "PRC": "CN",
    "People's Republic of China": "CN",
    "Mainland China": "CN",
    "Macau": "MO",
    "Ivory Coast": "CI",
    "Iran": "IR",
    "Syria": "SY",
    "Laos": "LA",
    "Brunei": "BN",
    "Burma": "MM",
    "Moldova": "MD",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Tanzania": "TZ",
    "Palestine": "PS",
    "Micronesia": "FM",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Vatican City State": "VA",
    "Holy See": "VA",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "East Timor": "TL",
    "DR Congo": "CD",
    "DRC": "CD",
    "Democratic Republic of the Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "UAE": "AE",
    "Emirates": "AE",
    "Espana": "ES",
    "Italia": "IT",
    "Brasil": "BR",
    "Schweiz": "CH",
    "Suisse": "CH",
    "Svizzera": "CH",
    "Osterreich": "AT",
    "Sverige": "SE",
    "Norge": "NO",
    "Danmark": "DK",
    "Suomi": "FI",
    "Polska": "PL",
    "Nippon": "JP",
    "Nihon": "JP",
    "Hanguk": "KR",
    "Daehan Minguk": "KR",
    "Zhongguo": "CN",
    # Japanese and Chinese (simplified and traditional) names of the countries customers come from most.
    "日本": "JP",
    "日本国": "JP",
    "中国": "CN",
    "中國": "CN",
    "中华人民共和国": "CN",
    "中華人民共和國": "CN",
    "韓国": "KR",
    "韩国": "KR",
    "韓國": "KR",
    "大韓民国": "KR",
    "大韩民国": "KR",
    "大韓民國": "KR",
    "北朝鮮": "KP",
    "朝鲜": "KP",
    "朝鮮": "KP",
    "米国": "US",
    "美国": "US",
    "美國": "US",
    "アメリカ": "US",
    "英国": "GB",
    "英國": "GB",
    "イギリス": "GB",
    "台湾": "TW",
    "台灣": "TW",
    "臺灣": "TW",
    "香港": "HK",
    "澳门": "MO",
    "澳門": "MO",
    "マカオ": "MO",
    "ドイツ": "DE",
    "德国": "DE",
    "德國": "DE",
    "フランス": "FR",
    "法国": "FR",
    "法國": "FR",
    "カナダ": "CA",
    "加拿大": "CA",
    "オーストラリア": "AU",
    "澳大利亚": "AU",
    "澳洲": "AU",
    "ベトナム": "VN",
    "越南": "VN",
    "新加坡": "SG",
    "シンガポール": "SG",
    "タイ": "TH",
    "泰国": "TH",
    "ロシア": "RU",
    "俄罗斯": "RU",
    "インド": "IN",
    "印度": "IN",
}

# English names to show where pycountry's short name is the inverted or formal one.
_ENGLISH_NAMES: dict[str, str] = {
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "RU": "Russia",
    "PS": "Palestine",
    "FM": "Micronesia",
    "VA": "Vatican City",
    "BN": "Brunei",
    "MO": "Macau",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
    "FK": "Falkland Islands",
}

# Punctuation and spacing people vary freely: 'U.S.A.', 'Korea, Republic of', 'Guinea Bissau', "Cote dIvoire".
_NOISE = re.compile(r"[\s.,'’()\-_]+")
_index: dict[str, str] | None = None


def country_code(raw: str) -> str | None:
    """ISO 3166-1 alpha-2 code (upper case) of a country code or name; None when not recognised."""
    try:
        return _country_code(raw)
    except TypeError:  # unhashable or non-text input: not a country
        return None


@lru_cache(maxsize=8192)
def _country_code(raw: str) -> str | None:
    if not isinstance(raw, str):
        return None
    index = _index if _index is not None else _build_index()
    key = _key(raw)
    if key.isdigit() and len(key) < 3:
        key = key.zfill(3)  # numeric codes are written without their leading zeros too: 68 for 068
    code = index.get(key)
    if code is None and not key.isascii():
        code = index.get(_fold_accents(key))
    return code


def country_name(code: str, language: str = "en") -> str:
    """Display name of a country: English common name, or Korean when language='ko' and known."""
    alpha_2 = country_code(code)
    if alpha_2 is None:
        return code.strip()
    if language == "ko" and alpha_2 in KOREAN_NAMES:
        return KOREAN_NAMES[alpha_2][0]
    if alpha_2 in _ENGLISH_NAMES:
        return _ENGLISH_NAMES[alpha_2]
    country = pycountry.countries.get(alpha_2=alpha_2)
    return getattr(country, "common_name", None) or country.name


def _key(text: str) -> str:
    key = text.strip().casefold()
    if key.startswith("the "):
        key = key[4:]
    return _NOISE.sub("", key)


def _fold_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _build_index() -> dict[str, str]:
    """Every normalised form of every country to its alpha-2 code; codes win over names on a clash."""
    global _index
    index: dict[str, str] = {}

    def add(form: str | None, alpha_2: str) -> None:
        if not form:
            return
        key = _key(form)
        index.setdefault(key, alpha_2)
        index.setdefault(_fold_accents(key), alpha_2)
        if ", " in form:  # 'Korea, Republic of' is also written 'Republic of Korea'
            head, _, tail = form.partition(", ")
            add(f"{tail} {head}", alpha_2)

    countries = list(pycountry.countries)
    for country in countries:
        index[_key(country.alpha_2)] = country.alpha_2
        index[_key(country.alpha_3)] = country.alpha_2
        index[country.numeric] = country.alpha_2
    for country in countries:
        for attribute in ("name", "official_name", "common_name"):
            add(getattr(country, attribute, None), country.alpha_2)
    for alias, alpha_2 in ALIASES.items():
        add(alias, alpha_2)
    for alpha_2, names in KOREAN_NAMES.items():
        for name in names:
            add(name, alpha_2)
    _index = index
    return index
