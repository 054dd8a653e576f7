"""Phone number validation: E.164 form, number type and region of a number as people write it.

Read through libphonenumber (the Rust port when it is installed). Full-width digits, dashes and
the like are folded to ASCII first, so numbers typed with a Korean or Japanese IME read the same.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

try:
    # Native port of libphonenumber: ~4.5 us a number instead of ~21 us (bench/import.py).
    import rphonenumbers as phonenumbers
except ImportError:  # pragma: no cover - platforms without a wheel use the reference library
    import phonenumbers

_TYPE = phonenumbers.PhoneNumberType
_TYPE_NAMES: dict[int, str] = {
    _TYPE.MOBILE: "mobile",
    _TYPE.FIXED_LINE: "fixed_line",
    _TYPE.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    _TYPE.TOLL_FREE: "toll_free",
    _TYPE.PREMIUM_RATE: "premium_rate",
    _TYPE.VOIP: "voip",
    _TYPE.PERSONAL_NUMBER: "personal_number",
    _TYPE.PAGER: "pager",
    _TYPE.UAN: "uan",
    _TYPE.VOICEMAIL: "voicemail",
    _TYPE.SHARED_COST: "shared_cost",
    _TYPE.UNKNOWN: "unknown",
}
_UNKNOWN = _TYPE.UNKNOWN
_REGIONS_OF_CODE: dict[int, tuple[str, ...]] = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
# International toll-free (+800) and the like belong to no country: libphonenumber says "001".
_NON_GEOGRAPHIC = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
_PARSE_ERROR = phonenumbers.NumberParseException

# NFKC folds full-width digits, '＋', '－', '（）' and U+3000; these dashes it leaves alone.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70", "-"))
# What spreadsheets and forms put in an empty phone column; named in the error instead of 'not a number'.
_PLACEHOLDERS = frozenset({"none", "null", "nil", "n/a", "na", "nan", "undefined", "-", "--", "?", "없음"})


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    """The verdict on one phone value: E.164 form, type and region when valid, else why not."""

    e164: str | None
    number_type: str | None
    error: str | None
    region: str | None

    @property
    def valid(self) -> bool:
        """Whether the value is a valid phone number."""
        return self.e164 is not None


def check_phone(raw: str, region: str | None) -> PhoneCheck:
    """Check `raw`, read in `region` (ISO alpha-2) when it has no country code; never raises."""
    key = (raw.strip(), region.strip().upper() if region else None)
    found = _cache.get(key)
    if found is None:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        found = _cache[key] = _check(*key)
    return found


# Imports repeat the same numbers (and the same few regions) across rows and files. A dict emptied when
# full instead of functools.lru_cache: an import of new numbers is all misses, and lru_cache's
# bookkeeping made each miss ~0.3 us dearer (3.6 us against 3.3 us for a new Korean mobile).
_CACHE_SIZE = 65536
_cache: dict[tuple[str, str | None], PhoneCheck] = {}


def _check(raw: str, region: str | None) -> PhoneCheck:
    if not raw:
        return _invalid("phone number is empty")
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw).translate(_DASHES)
    try:
        number = phonenumbers.parse(text, region)
    except _PARSE_ERROR as exc:
        if raw.casefold() in _PLACEHOLDERS:
            return _invalid(f"{raw!r} is a placeholder, not a phone number")
        return _invalid(_parse_problem(raw, region, exc.error_type))
    except Exception:  # e.g. lone surrogates the native library cannot encode: still just not a number
        return _invalid(f"{raw!r} is not a phone number{_where(region)}")
    # libphonenumber's is_valid_number is exactly "number_type is not UNKNOWN" (both classify the national
    # number against the metadata of region_code_for_number); asking once saves a third of the work.
    number_type = phonenumbers.number_type(number)
    if number_type == _UNKNOWN:
        if text.lstrip().startswith("+") or region is None:
            where = f" (country code +{number.country_code})"
        else:
            where = f" in region {region}"
        return _invalid(f"{raw!r} is not a valid phone number{where}")
    country_code = number.country_code
    regions = _REGIONS_OF_CODE.get(country_code, ())
    # What region_code_for_number does, without crossing into the library for the one-region codes.
    owner = regions[0] if len(regions) == 1 else phonenumbers.region_code_for_number(number)
    return PhoneCheck(
        # E.164 is '+', country code, national significant number: format_number's result, built directly.
        f"+{country_code}{phonenumbers.national_significant_number(number)}",
        _TYPE_NAMES.get(number_type, "unknown"),
        None,
        None if owner == _NON_GEOGRAPHIC else owner,
    )


def _invalid(error: str) -> PhoneCheck:
    return PhoneCheck(e164=None, number_type=None, error=error, region=None)


def _where(region: str | None) -> str:
    return f" in region {region}" if region else ""


def _parse_problem(raw: str, region: str | None, error_type: int) -> str:
    if error_type == _PARSE_ERROR.INVALID_COUNTRY_CODE:
        if not region:
            return f"{raw!r} has no country code and no region to read it in; write it as +CC..."
        if raw.startswith(("+", "＋")) or phonenumbers.country_code_for_region(region):
            return f"{raw!r} has an unknown country code (read in region {region})"
        return f"{raw!r} has no country code and {region!r} is not a known region; write it as +CC..."
    if error_type == _PARSE_ERROR.NOT_A_NUMBER:
        return f"{raw!r} is not a phone number{_where(region)}"
    if error_type == _PARSE_ERROR.TOO_LONG:
        return f"{raw!r} is too long to be a phone number{_where(region)}"
    return f"{raw!r} is too short to be a phone number{_where(region)}"
