"""Data quality value functions: phones, countries, names, dates and yes/no words as people write them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.fields import types as field_types
from patron.profiles.record import split_name
from patron.quality.countries import country_code, country_name
from patron.quality.dates import parse_boolean, parse_date
from patron.quality.names import name_changed, split_full_name, tidy_name
from patron.quality.phones import PhoneCheck, check_phone

# --- phones ---------------------------------------------------------------------------------------------

VALID_PHONES = [
    # Korean mobiles in every way they are written
    ("010-1234-5678", "KR", "+821012345678", "mobile", "KR"),
    ("010 1234 5678", "KR", "+821012345678", "mobile", "KR"),
    ("01012345678", "KR", "+821012345678", "mobile", "KR"),
    ("010.1234.5678", "KR", "+821012345678", "mobile", "KR"),
    ("  010-1234-5678  ", "kr", "+821012345678", "mobile", "KR"),
    ("+82 10-1234-5678", "KR", "+821012345678", "mobile", "KR"),
    ("+82 (0)10 1234 5678", "KR", "+821012345678", "mobile", "KR"),
    ("+82-010-1234-5678", None, "+821012345678", "mobile", "KR"),
    ("+821012345678", None, "+821012345678", "mobile", "KR"),
    # Without the '+', a leading 82 is read as the country code when the rest is a Korean number.
    ("82-10-1234-5678", "KR", "+821012345678", "mobile", "KR"),
    ("821012345678", "KR", "+821012345678", "mobile", "KR"),
    ("8201012345678", "KR", "+821012345678", "mobile", "KR"),
    # The trunk 0 left off is still a Korean mobile.
    ("10-1234-5678", "KR", "+821012345678", "mobile", "KR"),
    ("011-123-4567", "KR", "+82111234567", "mobile", "KR"),
    # Full-width digits and dashes from an IME, and the other dashes word processors put in
    ("０１０－１２３４－５６７８", "KR", "+821012345678", "mobile", "KR"),
    ("＋８２ １０ １２３４ ５６７８", None, "+821012345678", "mobile", "KR"),
    ("010–1234–5678", "KR", "+821012345678", "mobile", "KR"),
    ("010ー1234ー5678", "KR", "+821012345678", "mobile", "KR"),
    # Seoul (02) and regional (031) landlines, 070 internet phones, 1588 company numbers, 080 free calls
    ("(02) 123-4567", "KR", "+8221234567", "fixed_line", "KR"),
    ("02-1234-5678", "KR", "+82212345678", "fixed_line", "KR"),
    ("+82 2 123 4567", None, "+8221234567", "fixed_line", "KR"),
    ("031-123-4567", "KR", "+82311234567", "fixed_line", "KR"),
    ("031-1234-5678", "KR", "+823112345678", "fixed_line", "KR"),
    ("070-1234-5678", "KR", "+827012345678", "voip", "KR"),
    ("1588-1234", "KR", "+8215881234", "uan", "KR"),
    ("1577-1234", "KR", "+8215771234", "uan", "KR"),
    ("080-123-4567", "KR", "+82801234567", "toll_free", "KR"),
    ("0505-123-4567", "KR", "+825051234567", "personal_number", "KR"),
    # US: NANP numbers are fixed_line_or_mobile; a number with '+' ignores the region it is read in
    ("(415) 555-2671", "US", "+14155552671", "fixed_line_or_mobile", "US"),
    ("415-555-2671", "US", "+14155552671", "fixed_line_or_mobile", "US"),
    ("tel:+1-415-555-2671", "KR", "+14155552671", "fixed_line_or_mobile", "US"),
    ("+1 415 555 2671 ext. 12", None, "+14155552671", "fixed_line_or_mobile", "US"),
    ("+1 415 555 2671 x12", "KR", "+14155552671", "fixed_line_or_mobile", "US"),
    ("1-800-FLOWERS", "US", "+18003569377", "toll_free", "US"),
    ("+1 900 555 0199", None, "+19005550199", "premium_rate", "US"),
    ("001-1-415-555-2671", "KR", "+14155552671", "fixed_line_or_mobile", "US"),
    ("+82 10 1234 5678", "ZZ", "+821012345678", "mobile", "KR"),
    # GB, and a +44 mobile range that belongs to Guernsey
    ("+44 20 7946 0958", None, "+442079460958", "fixed_line", "GB"),
    ("020 7946 0958", "GB", "+442079460958", "fixed_line", "GB"),
    ("0800 123 4567", "GB", "+448001234567", "toll_free", "GB"),
    ("+44 7911 123456", None, "+447911123456", "mobile", "GG"),
    # JP
    ("090-1234-5678", "JP", "+819012345678", "mobile", "JP"),
    ("03-1234-5678", "JP", "+81312345678", "fixed_line", "JP"),
    ("+81 3 1234 5678", "KR", "+81312345678", "fixed_line", "JP"),
    ("0120-123-456", "JP", "+81120123456", "toll_free", "JP"),
    # Elsewhere in Asia; +800 is international freephone and belongs to no country
    ("+86 138 0013 8000", None, "+8613800138000", "mobile", "CN"),
    ("+65 9123 4567", None, "+6591234567", "mobile", "SG"),
    ("+852 9123 4567", None, "+85291234567", "mobile", "HK"),
    ("+800 1234 5678", "KR", "+80012345678", "toll_free", None),
]


@pytest.mark.parametrize(("raw", "region", "e164", "number_type", "owner"), VALID_PHONES)
def test_valid_phone_numbers(raw: str, region: str | None, e164: str, number_type: str, owner: str) -> None:
    check = check_phone(raw, region)
    assert check == PhoneCheck(e164=e164, number_type=number_type, error=None, region=owner)
    assert check.valid


INVALID_PHONES = [
    ("010-1234", "KR", "'010-1234' is not a valid phone number in region KR"),
    ("12", "KR", "'12' is not a valid phone number in region KR"),
    ("060-123-4567", "KR", "'060-123-4567' is not a valid phone number in region KR"),
    ("+82 10 12", None, "'+82 10 12' is not a valid phone number (country code +82)"),
    # Ofcom keeps 07700 900xxx for films and TV: never a real number
    ("07700 900123", "GB", "'07700 900123' is not a valid phone number in region GB"),
    ("abc", "KR", "'abc' is not a phone number in region KR"),
    ("call me", None, "'call me' is not a phone number"),
    (
        "010-1234-5678-9999-1111",
        "KR",
        "'010-1234-5678-9999-1111' is too long to be a phone number in region KR",
    ),
    ("1" * 300, "KR", "is too long to be a phone number in region KR"),
    ("+", "KR", "'+' is not a phone number in region KR"),
    ("", "KR", "phone number is empty"),
    ("   ", "KR", "phone number is empty"),
    ("None", "KR", "'None' is a placeholder, not a phone number"),
    ("null", "KR", "'null' is a placeholder, not a phone number"),
    ("N/A", "US", "'N/A' is a placeholder, not a phone number"),
    ("-", "KR", "'-' is a placeholder, not a phone number"),
    ("010-1234-5678", None, "'010-1234-5678' has no country code and no region to read it in"),
    ("010-1234-5678", "ZZ", "'010-1234-5678' has no country code and 'ZZ' is not a known region"),
    ("010-1234-5678", "XX", "'XX' is not a known region"),
    # Korea's international prefixes are 001, 002, 00700...: a bare 00 does not dial out
    ("0082-10-1234-5678", "KR", "'0082-10-1234-5678' has an unknown country code (read in region KR)"),
    ("010-1234-5678 내선 12", "KR", "is not a phone number in region KR"),
]


@pytest.mark.parametrize(("raw", "region", "error"), INVALID_PHONES)
def test_invalid_phone_numbers_say_why(raw: str, region: str | None, error: str) -> None:
    check = check_phone(raw, region)
    assert (check.e164, check.number_type, check.region, check.valid) == (None, None, None, False)
    assert check.error is not None and error in check.error


def test_phone_checks_are_cached_per_stripped_value_and_upper_region() -> None:
    assert check_phone(" 010-1234-5678 ", "kr") is check_phone("010-1234-5678", "KR")


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["KR", "US", "ZZ"])))
@settings(max_examples=300)
def test_check_phone_never_raises(raw: str, region: str | None) -> None:
    check = check_phone(raw, region)
    assert (check.e164 is None) == (check.error is not None)


@given(
    st.from_regex(r"\+?[0-9０-９ ()\-－.]{0,20}", fullmatch=True), st.sampled_from(["KR", "US", "JP", None])
)
@settings(max_examples=300)
def test_valid_phone_numbers_are_e164(raw: str, region: str | None) -> None:
    check = check_phone(raw, region)
    if check.valid:
        assert check.e164 is not None and check.e164.startswith("+") and check.e164[1:].isdigit()
        assert check.number_type not in (None, "unknown")


# --- countries ------------------------------------------------------------------------------------------

COUNTRIES = [
    # codes
    ("kr", "KR"),
    ("KR", "KR"),
    (" Kr ", "KR"),
    ("KOR", "KR"),
    ("usa", "US"),
    ("410", "KR"),
    ("840", "US"),
    ("68", "BO"),
    ("GBR", "GB"),
    ("jpn", "JP"),
    # English official, short and common names
    ("Korea, Republic of", "KR"),
    ("South Korea", "KR"),
    ("Republic of Korea", "KR"),
    ("korea", "KR"),
    ("ROK", "KR"),
    ("United States", "US"),
    ("United States of America", "US"),
    ("USA", "US"),
    ("U.S.", "US"),
    ("U.S.A.", "US"),
    ("US of A", "US"),
    ("America", "US"),
    ("the United States", "US"),
    ("UK", "GB"),
    ("U.K.", "GB"),
    ("United Kingdom", "GB"),
    ("Great Britain", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Deutschland", "DE"),
    ("Germany", "DE"),
    ("Holland", "NL"),
    ("The Netherlands", "NL"),
    ("Viet Nam", "VN"),
    ("Vietnam", "VN"),
    ("Russia", "RU"),
    ("Russian Federation", "RU"),
    ("Czechia", "CZ"),
    ("Czech Republic", "CZ"),
    ("Türkiye", "TR"),
    ("Turkiye", "TR"),
    ("Turkey", "TR"),
    ("Taiwan", "TW"),
    ("Taiwan, Province of China", "TW"),
    ("Hong Kong", "HK"),
    ("Macau", "MO"),
    ("Macao", "MO"),
    ("Ivory Coast", "CI"),
    ("Côte d'Ivoire", "CI"),
    ("Cote d’Ivoire", "CI"),
    ("North Korea", "KP"),
    ("DPRK", "KP"),
    ("Korea, Democratic People's Republic of", "KP"),
    ("Iran", "IR"),
    ("Islamic Republic of Iran", "IR"),
    ("Democratic Republic of the Congo", "CD"),
    ("Congo", "CG"),
    ("Guinea Bissau", "GW"),
    ("UAE", "AE"),
    ("  new   zealand ", "NZ"),
    # Korean
    ("대한민국", "KR"),
    ("한국", "KR"),
    ("남한", "KR"),
    ("미국", "US"),
    ("일본", "JP"),
    ("중국", "CN"),
    ("영국", "GB"),
    ("독일", "DE"),
    ("프랑스", "FR"),
    ("캐나다", "CA"),
    ("호주", "AU"),
    ("베트남", "VN"),
    ("대만", "TW"),
    ("홍콩", "HK"),
    ("싱가포르", "SG"),
    ("태국", "TH"),
    ("인도", "IN"),
    ("인도네시아", "ID"),
    ("필리핀", "PH"),
    ("말레이시아", "MY"),
    ("러시아", "RU"),
    ("스페인", "ES"),
    ("이탈리아", "IT"),
    ("네덜란드", "NL"),
    ("스위스", "CH"),
    ("스웨덴", "SE"),
    ("브라질", "BR"),
    ("멕시코", "MX"),
    ("뉴질랜드", "NZ"),
    ("북한", "KP"),
    ("조선민주주의인민공화국", "KP"),
    ("남아프리카 공화국", "ZA"),
    ("터키", "TR"),
    # Japanese and Chinese
    ("日本", "JP"),
    ("中国", "CN"),
    ("中國", "CN"),
    ("韓国", "KR"),
    ("韩国", "KR"),
    ("アメリカ", "US"),
    ("台湾", "TW"),
]


@pytest.mark.parametrize(("raw", "code"), COUNTRIES)
def test_country_codes(raw: str, code: str) -> None:
    assert country_code(raw) == code


@pytest.mark.parametrize(
    "raw", ["", "   ", "한국어", "Narnia", "ZZ", "XYZ", "999", "Korea Town", "N/A", "none", "-", "인도양"]
)
def test_unrecognised_countries_are_none(raw: str) -> None:
    assert country_code(raw) is None


@pytest.mark.parametrize(
    ("code", "language", "name"),
    [
        ("KR", "en", "South Korea"),
        ("kr", "ko", "대한민국"),
        ("US", "en", "United States"),
        ("US", "ko", "미국"),
        ("GB", "en", "United Kingdom"),
        ("VN", "en", "Vietnam"),
        ("TW", "en", "Taiwan"),
        ("RU", "en", "Russia"),
        ("KP", "ko", "북한"),
        ("IS", "ko", "아이슬란드"),
        ("GL", "ko", "Greenland"),  # no Korean name in our table: English
        ("FR", "fr", "France"),
        ("XX", "en", "XX"),
    ],
)
def test_country_names(code: str, language: str, name: str) -> None:
    assert country_name(code, language) == name


@given(st.text(max_size=30))
@settings(max_examples=300)
def test_country_code_never_raises(raw: str) -> None:
    code = country_code(raw)
    assert code is None or (len(code) == 2 and code.isupper())


# --- names ----------------------------------------------------------------------------------------------

TIDY_NAMES = [
    ("JOHN SMITH", "John Smith"),
    ("john smith", "John Smith"),
    ("  John   Smith  ", "John Smith"),
    ("John\u00a0Smith", "John Smith"),
    ("mary-jane o'neil", "Mary-Jane O'Neil"),
    ("mcdonald", "McDonald"),
    ("MACDONALD", "Macdonald"),
    ("d'angelo", "D'Angelo"),
    ("ka'ahumanu", "Ka'ahumanu"),
    ("ludwig van beethoven", "Ludwig van Beethoven"),
    ("VINCENT VAN GOGH", "Vincent van Gogh"),
    ("charles de gaulle", "Charles de Gaulle"),
    ("maria da silva", "Maria da Silva"),
    ("DA SILVA", "Da Silva"),
    ("joão dos santos", "João dos Santos"),
    ("mohammed bin salman", "Mohammed bin Salman"),
    ("De", "De"),
    ("de", "De"),
    ("JOHN SMITH III", "John Smith III"),
    ("john smith jr.", "John Smith Jr."),
    ("j.r.r. tolkien", "J.R.R. Tolkien"),
    ("JOSÉ GARCÍA", "José García"),
    ("NGUYEN VAN AN", "Nguyen Van An"),
    ("LI DA", "Li Da"),
    ("McKenzie", "McKenzie"),
    ("DeVito", "DeVito"),
    ("iPhone guy", "iPhone guy"),
    ("JOHN Smith", "JOHN Smith"),
    ("Kim", "Kim"),
    ("민준", "민준"),
    ("\u3000김\u3000\u3000민준 ", "김 민준"),
    ("김\u200b민준", "김민준"),
    ("ИВАН ПЕТРОВ", "ИВАН ПЕТРОВ"),
    ("山田 太郎", "山田 太郎"),
    ("JOHN 김", "John 김"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "tidy"), TIDY_NAMES)
def test_tidy_name(raw: str, tidy: str) -> None:
    assert tidy_name(raw) == tidy


@pytest.mark.parametrize(
    ("raw", "changed"),
    [("  Kim ", False), ("JOHN", True), ("김  민준", True), ("John Smith", False), ("", False)],
)
def test_name_changed_ignores_surrounding_whitespace(raw: str, changed: bool) -> None:
    assert name_changed(raw, tidy_name(raw)) is changed


SPLIT_NAMES = [
    ("김민준", ("민준", "김")),
    ("김 민준", ("민준", "김")),
    (" 이서연 ", ("서연", "이")),
    ("박지", ("지", "박")),
    ("남궁민수", ("민수", "남궁")),
    ("황보민수", ("민수", "황보")),
    ("남궁 민", ("민", "남궁")),
    ("선우진", ("우진", "선")),  # three syllables: 선 + 우진 is the likelier reading
    ("John Smith", ("John", "Smith")),
    ("JOHN SMITH", ("John", "Smith")),
    ("John Ronald Reuel Tolkien", ("John Ronald Reuel", "Tolkien")),
    ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
    ("LUDWIG VAN BEETHOVEN", ("Ludwig", "van Beethoven")),
    ("Ludwig VAN BEETHOVEN", ("Ludwig", "van Beethoven")),
    ("Charles de Gaulle", ("Charles", "de Gaulle")),
    ("Jan van der Berg", ("Jan", "van der Berg")),
    ("Smith, John", ("John", "Smith")),
    ("SMITH, JOHN", ("John", "Smith")),
    ("Madonna", ("Madonna", "")),
    ("Dr. John Smith", ("John", "Smith")),
    ("Mrs Jane Doe", ("Jane", "Doe")),
    ("prof. ada lovelace", ("Ada", "Lovelace")),
    ("JOHN SMITH III", ("John", "Smith III")),
    ("John Smith, Jr.", ("John", "Smith Jr.")),
    ("Nguyen Van An", ("Nguyen Van", "An")),
    ("王伟", ("伟", "王")),
    ("李小龙", ("小龙", "李")),
    ("诸葛亮", ("亮", "诸葛")),
    ("山田太郎", ("太郎", "山田")),
    ("山田 太郎", ("太郎", "山田")),
    ("ジョン・スミス", ("ジョン", "スミス")),
    ("", ("", "")),
]


@pytest.mark.parametrize(("full", "parts"), SPLIT_NAMES)
def test_split_full_name(full: str, parts: tuple[str, str]) -> None:
    assert split_full_name(full) == parts


def _split_name_before_quality(full: str) -> tuple[str, str]:
    """profiles.record.split_name as it was before it called split_full_name."""
    text = " ".join(full.split())
    compact = text.replace(" ", "")
    if re.match(r"^[\uac00-\ud7a3]+$", compact) and 2 <= len(compact) <= 5:
        return compact[1:], compact[0]
    parts = text.split(" ")
    if len(parts) == 1:
        return parts[0], ""
    return " ".join(parts[:-1]), parts[-1]


@pytest.mark.parametrize(
    "full",
    [
        "김민준",
        "김 민준",
        "이서연",
        "박지",
        "최수아다",
        "John Smith",
        "Anna Maria Berg",
        "Madonna",
        "Kim Minjun",
    ],
)
def test_split_full_name_agrees_with_the_split_it_replaces(full: str) -> None:
    assert split_full_name(full) == _split_name_before_quality(full) == split_name(full)


@given(st.text(max_size=40))
@settings(max_examples=300)
def test_name_functions_never_raise(raw: str) -> None:
    tidy = tidy_name(raw)
    assert tidy == tidy.strip() and "  " not in tidy
    assert tidy_name(tidy) == tidy
    first, last = split_full_name(raw)
    assert isinstance(first, str) and isinstance(last, str)


# --- dates and booleans ---------------------------------------------------------------------------------

MARCH_15 = date(2024, 3, 15)
DATES = [
    ("2024-03-15", False, MARCH_15),
    (" 2024-03-15 ", False, MARCH_15),
    ("2024/3/5", False, date(2024, 3, 5)),
    ("2024.03.15", False, MARCH_15),
    ("2024.03.15.", False, MARCH_15),
    ("2024. 3. 15.", False, MARCH_15),
    ("2024-03/15", False, MARCH_15),
    ("20240315", False, MARCH_15),
    ("2024년 3월 15일", False, MARCH_15),
    ("2024년3월15일", False, MARCH_15),
    ("２０２４-03-15", False, MARCH_15),
    ("03/15/2024", False, MARCH_15),
    ("03/15/2024", True, MARCH_15),
    ("03/04/2024", False, date(2024, 3, 4)),
    ("03/04/2024", True, date(2024, 4, 3)),
    ("15/03/2024", False, MARCH_15),
    ("15.03.2024", False, MARCH_15),
    ("04.03.2024", False, date(2024, 3, 4)),
    ("15-03-2024", False, MARCH_15),
    ("March 15, 2024", False, MARCH_15),
    ("Mar 15 2024", False, MARCH_15),
    ("Mar. 15, 2024", False, MARCH_15),
    ("15 March 2024", False, MARCH_15),
    ("15 Mar 2024", False, MARCH_15),
    ("15th of March 2024", False, MARCH_15),
    ("15-Mar-2024", False, MARCH_15),
    ("Sat, 15 Mar 2024", False, MARCH_15),
    ("Saturday, March 15th, 2024", False, MARCH_15),
    ("Sat, 15 Mar 2024 10:00:00 +0000", False, MARCH_15),
    ("2024-03-15T10:00:00Z", False, MARCH_15),
    ("2024-03-15T10:00:00.123+09:00", False, MARCH_15),
    ("2024-03-15 10:00", False, MARCH_15),
    ("2024. 3. 15. 오후 3:24:56", False, MARCH_15),
    ("03/15/2024 10:00 AM", False, MARCH_15),
]


@pytest.mark.parametrize(("text", "day_first", "expected"), DATES)
def test_parse_date(text: str, day_first: bool, expected: date) -> None:
    assert parse_date(text, day_first=day_first) == expected


@pytest.mark.parametrize(
    "text",
    ["", "hello", "2024", "2024-03", "24.03.15", "03/15/24", "1 March", "March 2024", "15 Marchy 2024"],
)
def test_text_that_is_not_a_date_is_none(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-30", "'2024-02-30' is not a real calendar date"),
        ("2023-02-29", "'2023-02-29' is not a real calendar date"),
        ("20241301", "'20241301' is not a real calendar date"),
        ("13/13/2024", "'13/13/2024' is not a real calendar date"),
        ("February 30, 2024", "'February 30, 2024' is not a real calendar date"),
        ("2024-02-30T10:00:00Z", "'2024-02-30T10:00:00Z' is not a real calendar date"),
        ("2024-03-15T25:00", "'2024-03-15T25:00' is not a real date and time"),
    ],
)
def test_impossible_dates_raise(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        parse_date(text)


BOOLEANS = [
    *(
        (word, True)
        for word in ["true", "TRUE", " True ", "t", "yes", "Y", "1", "on", "checked", "subscribed"]
    ),
    *((word, True) for word in ["opt-in", "Opt In", "예", "네", "참", "동의", "수신", "수신동의"]),
    *(
        (word, False)
        for word in ["false", "F", "no", "N", "0", "off", "unchecked", "unsubscribed", "opt-out"]
    ),
    *((word, False) for word in ["아니오", "아니요", "거짓", "미동의", "거부", "수신거부"]),
    *((word, None) for word in ["", "maybe", "2", "yess", "o", "x", "동의 안 함?"]),
]


@pytest.mark.parametrize(("text", "expected"), BOOLEANS)
def test_parse_boolean(text: str, expected: bool | None) -> None:
    assert parse_boolean(text) is expected


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        ("boolean", "수신동의", True),
        ("boolean", "opt-out", False),
        ("date", "2024. 3. 15.", "2024-03-15"),
        ("date", "15.03.2024", "2024-03-15"),
        ("date", "March 15, 2024", "2024-03-15"),
        ("datetime", "2024-03-15T10:00:00Z", "2024-03-15T10:00:00.000Z"),
        ("datetime", "2024-03-15 10:00", "2024-03-15T10:00:00.000Z"),
        ("datetime", "2024년 3월 15일", "2024-03-15T00:00:00.000Z"),
    ],
)
def test_typed_fields_read_dates_and_booleans_through_these_parsers(
    field_type: str, raw: str, expected: object
) -> None:
    assert field_types.coerce(field_type, raw) == expected


@given(st.text(max_size=40), st.booleans())
@settings(max_examples=500)
def test_date_and_boolean_parsing_never_raise_anything_else(text: str, day_first: bool) -> None:
    try:
        parsed = parse_date(text, day_first=day_first)
    except ValueError as exc:
        assert "is not a real" in str(exc)
    else:
        assert parsed is None or isinstance(parsed, date)
    assert parse_boolean(text) in (True, False, None)


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["%Y-%m-%d", "%Y.%m.%d.", "%Y%m%d", "%d %B %Y"]))
def test_formatted_dates_read_back(day: date, pattern: str) -> None:
    assert parse_date(day.strftime(pattern)) == day
