"""Email address checks: syntax and normalisation, role and disposable mailboxes, domain typos.

Syntax is email-validator's (international addresses allowed; quoted local parts and IP literals
not), but each distinct domain is validated once and cached, and the usual plain-ASCII local part is
checked with email-validator's own dot-atom pattern, so a typical address costs a few microseconds
instead of ~19. tests/unit/test_quality_emails.py holds the fast path to email-validator's answers.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from email_validator import EmailNotValidError, validate_email

ROLE_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        "abuse", "account", "accounting", "accounts", "admin", "administrator", "admissions", "all",
        "billing", "booking", "bookings", "bounce", "bounces", "careers", "career", "community",
        "compliance", "contact", "contactus", "contact-us", "cs", "customerservice", "customercare",
        "daemon", "delivery", "do-not-reply", "donotreply", "dpo", "editor", "enquiries", "enquiry",
        "events", "everyone", "feedback", "finance", "ftp", "gdpr", "general", "hello", "help",
        "helpdesk", "hostmaster", "hr", "info", "information", "inquiries", "inquiry", "investors",
        "invoice", "invoices", "it", "jobs", "legal", "list", "listserv", "mail", "mailer-daemon",
        "marketing", "media", "news", "newsletter", "no-reply", "no_reply", "noc", "nobody",
        "noreply", "notifications", "office", "operations", "orders", "partners", "payments",
        "postmaster", "pr", "press", "privacy", "procurement", "purchasing", "reception",
        "recruit", "recruiting", "recruitment", "reservations", "returns", "root", "sales",
        "security", "service", "services", "shipping", "shop", "staff", "subscribe", "support",
        "sysadmin", "team", "tech", "techsupport", "unsubscribe", "usenet", "uucp", "webmaster",
        "welcome", "www",
    }
)  # fmt: skip

COMMON_DOMAINS: tuple[str, ...] = (
    # International consumer mail
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com", "hotmail.com",
    "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "mail.com", "email.com", "gmx.com",
    "gmx.net", "gmx.de", "web.de", "t-online.de", "zoho.com", "yandex.com", "yandex.ru", "mail.ru",
    "fastmail.com", "tutanota.com", "hey.com", "comcast.net", "verizon.net", "att.net",
    "sbcglobal.net", "orange.fr", "free.fr", "libero.it", "hotmail.co.uk", "hotmail.fr",
    "yahoo.co.uk", "yahoo.fr", "live.co.uk",
    # Korea
    "naver.com", "hanmail.net", "daum.net", "kakao.com", "nate.com", "yahoo.co.kr",
    "hotmail.co.kr", "korea.kr", "korea.com", "chol.com", "empal.com", "hanmir.com", "dreamwiz.com",
    "paran.com", "lycos.co.kr", "live.co.kr",
    # Japan and China
    "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "softbank.ne.jp", "nifty.com", "qq.com",
    "163.com", "126.com", "sina.com", "sohu.com", "foxmail.com", "yeah.net", "139.com",
)  # fmt: skip

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_COMMON = frozenset(COMMON_DOMAINS)
_MAX_ADDRESS_BYTES = 254  # RFC 5321 4.5.3.1.3 with errata 1690, and email-validator's limit
_MAX_LOCAL_CHARS = 64  # RFC 5321 4.5.3.1.1; email-validator only enforces it with strict=True
# email-validator's DOT_ATOM_TEXT; fullmatch, because '$' would also match before a trailing '\n'.
_ASCII_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_FULL_WIDTH_ATS = ("\uff20", "\ufe6b")
# Zero-width characters and the BOM survive str.strip() but are invisible in a spreadsheet.
_INVISIBLE_EDGES = "\ufeff\u200b\u200c\u200d\u2060"
_SHOWN_CHARS = 100


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """The verdict on one email value: normalised address or why it is invalid, and its risks."""

    address: str | None
    error: str | None
    role: bool
    disposable: bool
    suggestion: str | None
    match_key: str | None

    @property
    def flags(self) -> tuple[str, ...]:
        """Quality flags in a fixed order: invalid, typo, role, disposable."""
        flags: list[str] = []
        if self.address is None:
            flags.append("invalid")
        if self.suggestion is not None:
            flags.append("typo")
        if self.role:
            flags.append("role")
        if self.disposable:
            flags.append("disposable")
        return tuple(flags)


@dataclass(frozen=True, slots=True)
class _DomainInfo:
    domain: str | None  # normalised (lower-case, Unicode form of IDN); None when invalid
    error: str | None
    longest_bytes: int  # longest UTF-8 length of the raw, normalised and IDNA-ASCII forms
    disposable: bool
    suggestion: str | None


def check_email(raw: str) -> EmailCheck:
    """Check and normalise one email value as found in imported data; never raises."""
    try:
        return _check(raw)
    except Exception as exc:  # a data check must report, not crash an import
        return _invalid(raw, f"it could not be checked ({type(exc).__name__})")


def fold_email(address: str) -> str:
    """The duplicate-matching key of a normalised address: +tag dropped, Gmail dots too."""
    local, _, domain = address.lower().rpartition("@")
    return _fold(local, domain) if local else address.lower()


def suggest_domain(domain: str) -> str | None:
    """The common mail domain `domain` is probably a typo of, or None when it is not one."""
    domain = domain.strip().lower()
    if not domain or not domain.isascii() or domain in _COMMON:
        return None
    known = _KNOWN_TYPOS.get(domain)
    if known is not None:
        return known or None  # "" marks a typo two common domains share: no safe answer
    name, dot, suffix = domain.partition(".")
    if dot:
        same_name = _SAME_NAME.get(name)
        if same_name is not None and suffix in _CONFUSED_SUFFIXES:
            return same_name
    if len(domain) > _LONGEST_TARGET + 2:
        return None  # too long to be within two edits of any target
    found = _closest_domain(domain) if len(domain) in _ONE_EDIT_LENGTHS else None
    if found is None and len(domain) >= 9 and dot:
        found = _closest_name(name, suffix)
    return found


class DeliverabilityChecker:
    """Optional DNS check (MX, falling back to A/AAAA), off by default; a timeout and a per-domain cache."""

    def __init__(self, timeout_s: float = 2.0, cache_size: int = 10_000) -> None:
        self.timeout_s = timeout_s
        self.cache_size = cache_size
        self._cache: OrderedDict[str, bool | None] = OrderedDict()
        self._lock = threading.Lock()
        self._resolver: Any = None

    def __reduce__(self) -> tuple[Any, tuple[float]]:
        """Sent to another process, it becomes that process's shared checker (locks do not travel)."""
        return shared_checker, (self.timeout_s,)

    def deliverable(self, domain: str) -> bool | None:
        """Whether `domain` can receive mail; None when DNS gave no answer in time (unknown)."""
        key = domain.strip().lower().rstrip(".")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            answer = self._ask_dns(key)
        except Exception:  # an unexpected resolver failure is "unknown", not undeliverable
            answer = None
        # Unknowns are cached too: one domain whose servers time out must not stall every row using it.
        with self._lock:
            self._cache[key] = answer
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return answer

    def _ask_dns(self, domain: str) -> bool | None:
        import dns.exception  # imported here: dns.resolver is slow to import and this check is optional
        import dns.name
        import dns.resolver
        import idna

        if not domain:
            return False
        try:
            ascii_domain = domain if domain.isascii() else idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError:
            return False  # not a domain name at all, so nothing can be delivered to it
        if self._resolver is None:
            try:
                self._resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                return None
        deadline = time.monotonic() + self.timeout_s
        for record_type in ("MX", "A", "AAAA"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                answer = self._resolver.resolve(ascii_domain, record_type, lifetime=remaining, search=False)
            except (dns.resolver.NXDOMAIN, dns.name.EmptyLabel, dns.name.LabelTooLong, dns.name.NameTooLong):
                return False  # no such name, or not a name DNS could hold
            except dns.resolver.NoAnswer:
                continue
            except (dns.exception.Timeout, dns.resolver.NoNameservers):
                return None
            if record_type == "MX":
                # A "null MX" (RFC 7505: one record, exchange ".") says the domain takes no mail.
                exchanges = [str(record.exchange) for record in answer]
                return exchanges not in ([], ["."])
            return True
        return False


@lru_cache(maxsize=8)
def shared_checker(timeout_s: float) -> DeliverabilityChecker:
    """One DNS checker per process and timeout, so every import and request shares its cache."""
    return DeliverabilityChecker(timeout_s=timeout_s)


def _check(raw: str) -> EmailCheck:
    if not isinstance(raw, str):
        return _invalid(raw, "it is not text")
    text = _unwrap(raw)
    if not text:
        return _invalid(raw, "it is empty")
    at_signs = text.count("@")
    if at_signs != 1:
        if at_signs:
            return _invalid(raw, "more than one @ sign")
        if any(at in text for at in _FULL_WIDTH_ATS):
            return _invalid(raw, "no @ sign (it has a full-width ＠ instead)")
        return _invalid(raw, "no @ sign")
    local, _, domain = text.partition("@")
    if not local:
        return _invalid(raw, "the part before @ is empty")
    if not domain:
        return _invalid(raw, "the part after @ is empty")
    if len(text) > _MAX_ADDRESS_BYTES:  # also keeps huge values away from email-validator's per-char loops
        return _invalid(raw, _too_long(len(text.encode("utf-8", "surrogatepass"))))

    if len(local) <= _MAX_LOCAL_CHARS and _ASCII_DOT_ATOM.fullmatch(local):
        # A plain ASCII local part is valid as it is; only the domain needs email-validator.
        info = _domain_info(domain)
        if info.domain is None:
            return _invalid(raw, info.error or "the domain is not valid", local, info.suggestion)
        length = len(local) + 1 + info.longest_bytes
        if length > _MAX_ADDRESS_BYTES:
            return _invalid(raw, _too_long(length))
        local = local.lower()
        address = f"{local}@{info.domain}"
    else:
        try:
            valid = validate_email(text, check_deliverability=False, strict=True)
        except EmailNotValidError as exc:
            return _invalid(raw, _reason(str(exc), domain))
        address = valid.normalized.lower()
        local, _, normalised_domain = address.rpartition("@")
        info = _domain_info(normalised_domain)
        if info.domain is None:  # cannot happen for a domain email-validator just accepted
            return _invalid(raw, info.error or "the domain is not valid")

    return EmailCheck(
        address=address,
        error=None,
        role=local.partition("+")[0] in ROLE_LOCAL_PARTS,
        disposable=info.disposable,
        suggestion=f"{local}@{info.suggestion}" if info.suggestion else None,
        match_key=_fold(local, info.domain),
    )


def _unwrap(raw: str) -> str:
    """The address inside whitespace, '<...>' and 'mailto:', as exports and mail clients write it."""
    text = raw.strip()
    if text[:1] in _INVISIBLE_EDGES or text[-1:] in _INVISIBLE_EDGES:
        text = text.strip(_INVISIBLE_EDGES).strip()
    for _ in range(2):  # '<mailto:x>' and 'mailto:<x>' both occur
        if text[:1] == "<" and text[-1:] == ">":
            text = text[1:-1].strip()
        if text[:1] in ("m", "M") and text[:7].lower() == "mailto:":
            text = text[7:].strip()
    return text


# Imports repeat a few thousand domains over and over; each is validated once.
@lru_cache(maxsize=65536)
def _domain_info(domain: str) -> _DomainInfo:
    try:
        # Domain checks in email-validator do not depend on the local part; 'a' is the shortest one.
        valid = validate_email("a@" + domain, check_deliverability=False, strict=True)
    except EmailNotValidError as exc:
        suggestion = suggest_domain(domain) if domain.isascii() else None
        return _DomainInfo(None, _reason(str(exc), domain), 0, False, suggestion)
    normalised = valid.domain.lower()
    longest = max(
        len(domain.encode("utf-8", "surrogatepass")),
        len(valid.domain.encode("utf-8")),
        len(valid.ascii_domain),
    )
    return _DomainInfo(
        domain=normalised,
        error=None,
        longest_bytes=longest,
        disposable=_is_disposable(valid.ascii_domain.lower()),
        suggestion=suggest_domain(normalised),
    )


def _is_disposable(ascii_domain: str) -> bool:
    """Whether the domain or any parent of it (x.mailinator.com) is a throw-away mailbox service."""
    labels = ascii_domain.split(".")
    return any(".".join(labels[start:]) in _DISPOSABLE_DOMAINS for start in range(len(labels) - 1))


def _fold(local: str, domain: str) -> str:
    tagless = local.partition("+")[0] or local  # a local part that is all tag ('+x') keeps it
    if domain in _GMAIL_DOMAINS:
        # Gmail ignores dots and serves googlemail.com addresses as gmail.com.
        return f"{tagless.replace('.', '') or tagless}@gmail.com"
    return f"{tagless}@{domain}"


def _invalid(
    raw: object, reason: str, local: str | None = None, domain_suggestion: str | None = None
) -> EmailCheck:
    shown = raw if not isinstance(raw, str) or len(raw) <= _SHOWN_CHARS else raw[:_SHOWN_CHARS] + "…"
    suggestion = f"{local.lower()}@{domain_suggestion}" if local and domain_suggestion else None
    return EmailCheck(
        address=None,
        error=f"{shown!r} is not an email address: {reason}",
        role=False,
        disposable=False,
        suggestion=suggestion,
        match_key=None,
    )


def _too_long(length: int) -> str:
    return f"it is too long ({length} bytes; at most {_MAX_ADDRESS_BYTES})"


def _reason(message: str, domain: str) -> str:
    """email-validator's message, reworded where it can name the domain or mis-measures the length."""
    if message.endswith("It should have a period."):
        return f"the domain {domain!r} has no dot"
    if message.startswith("The email address is too long (") or message.startswith(
        "The email address is too long after normalization"
    ):
        return f"it is longer than {_MAX_ADDRESS_BYTES} bytes"
    return message[:1].lower() + message[1:].rstrip(".")


# --- Typo suggestions ------------------------------------------------------------------------------

# What misspellings are corrected towards: the big providers most addresses use. Smaller ones are in
# COMMON_DOMAINS only so that they are never "corrected"; as targets they would mostly catch other
# real *mail.com services (fastmail/foxmail/email.com sit one or two edits from dozens of them).
_TYPO_TARGETS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com",
    "protonmail.com", "naver.com", "hanmail.net", "daum.net", "kakao.com", "nate.com",
    "yahoo.co.kr", "hotmail.co.kr", "yahoo.co.jp", "hotmail.co.uk", "yahoo.co.uk",
)  # fmt: skip
# TLDs people type for .com / .net, mapped to the intended one; used only with a common domain's name.
_WRONG_TLDS: dict[str, str] = {
    **dict.fromkeys(
        ("con", "cmo", "comm", "coom", "co", "cm", "om", "c", "cim", "vom", "xom", "ocm", "comn", "cpm"),
        "com",
    ),
    **dict.fromkeys(("ner", "nte", "ent", "nett", "ne", "met", "nt", "nwt", "bet", "mnet"), "net"),
}
# A target's name with another generic suffix is a slip too (hanmail.com, naver.net).
_CONFUSED_SUFFIXES = frozenset({"com", "net", "org"})
# Below these name lengths one (two) edits too often turn one real name into another.
_MIN_NAME_ONE_EDIT = 5
_MIN_NAME_TWO_EDITS = 6
_NOTHING: frozenset[str] = frozenset()


def _split_name(domain: str) -> tuple[str, str]:
    name, _, suffix = domain.partition(".")
    return name, suffix


def _deletions(word: str, depth: int) -> set[str]:
    """`word` and every string made from it by deleting up to `depth` characters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {text[:i] + text[i + 1 :] for text in frontier for i in range(len(text))}
        found |= frontier
    return found


def _osa_distance(left: str, right: str, limit: int) -> int:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance, capped at limit + 1."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    # A shared head and tail never changes the distance; trimming them keeps the table tiny.
    start = 0
    while start < len(left) and start < len(right) and left[start] == right[start]:
        start += 1
    end = 0
    while end < len(left) - start and end < len(right) - start and left[-1 - end] == right[-1 - end]:
        end += 1
    left, right = left[start : len(left) - end], right[start : len(right) - end]
    previous_row: list[int] = []
    row = list(range(len(right) + 1))
    for i in range(1, len(left) + 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(right)
        for j in range(1, len(right) + 1):
            cost = left[i - 1] != right[j - 1]
            best = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if i > 1 and j > 1 and left[i - 1] == right[j - 2] and left[i - 2] == right[j - 1]:
                best = min(best, before[j - 2] + 1)
            row[j] = best
        if min(row) > limit:
            return limit + 1
    return min(row[-1], limit + 1)


def _build_known_typos() -> dict[str, str]:
    typos: dict[str, str] = {}

    def add(typo: str, domain: str) -> None:
        if typo in _COMMON or typo == domain:
            return
        # Two common domains one slip apart from the same typo: neither answer is safe.
        typos[typo] = domain if typos.get(typo, domain) == domain else ""

    for domain in COMMON_DOMAINS:
        name, suffix = _split_name(domain)
        for wrong, right in _WRONG_TLDS.items():
            if right == suffix:
                add(f"{name}.{wrong}", domain)
        # Swapped neighbours are the commonest slip and rarely make another real name, so even
        # short names (daum, nate, live) get them.
        for i in range(len(domain) - 1):
            add(domain[:i] + domain[i + 1] + domain[i] + domain[i + 2 :], domain)
    return typos


def _build_same_name() -> dict[str, str]:
    by_name: dict[str, list[str]] = {}
    for domain in COMMON_DOMAINS:
        by_name.setdefault(_split_name(domain)[0], []).append(domain)
    return {
        _split_name(domain)[0]: domain
        for domain in _TYPO_TARGETS
        if len(by_name[_split_name(domain)[0]]) == 1 and _split_name(domain)[1] in _CONFUSED_SUFFIXES
    }


def _build_two_edit_names() -> dict[tuple[str, str], list[tuple[str, frozenset[str]]]]:
    """Target names long enough for two edits, with their letters, by (suffix, first letter)."""
    names: dict[tuple[str, str], list[tuple[str, frozenset[str]]]] = {}
    for domain in _TYPO_TARGETS:
        name, suffix = _split_name(domain)
        if len(name) >= _MIN_NAME_TWO_EDITS:
            names.setdefault((suffix, name[0]), []).append((name, frozenset(name)))
    return names


def _build_index(words: list[str], depth: int) -> dict[str, set[str]]:
    """Symmetric-delete index: a word within `depth` edits of a target shares a deletion with it."""
    index: dict[str, set[str]] = {}
    for word in words:
        for variant in _deletions(word, depth):
            index.setdefault(variant, set()).add(word)
    return index


def _closest_domain(domain: str) -> str | None:
    """The typo target within one edit of `domain`, when there is exactly one."""
    candidates: set[str] = set()
    for variant in _deletions(domain, 1):
        candidates |= _ONE_EDIT_INDEX.get(variant, _NOTHING)
    return _pick({candidate: _osa_distance(domain, candidate, 1) for candidate in candidates}, 1)


def _closest_name(name: str, suffix: str) -> str | None:
    """The typo target with this suffix whose name is within two edits of `name`, if just one is."""
    # People rarely mistype the first letter, while other names share a target's tail ("...mail").
    letters = set(name)
    scored = {
        f"{target}.{suffix}": _osa_distance(name, target, 2)
        for target, target_letters in _TWO_EDIT_NAMES.get((suffix, name[:1]), ())
        # Each edit brings in at most one new letter: a cheap bound that skips most names.
        if abs(len(target) - len(name)) <= 2 and len(letters - target_letters) <= 2
    }
    return _pick(scored, 2)


def _pick(scored: dict[str, int], limit: int) -> str | None:
    within = {domain: distance for domain, distance in scored.items() if distance <= limit}
    if not within:
        return None
    best = min(within.values())
    closest = [domain for domain, distance in within.items() if distance == best]
    return closest[0] if len(closest) == 1 else None


_LONGEST_TARGET = max(len(domain) for domain in _TYPO_TARGETS)
_KNOWN_TYPOS = _build_known_typos()
_SAME_NAME = _build_same_name()
_ONE_EDIT_LENGTHS = frozenset(
    length
    for domain in _TYPO_TARGETS
    if len(_split_name(domain)[0]) >= _MIN_NAME_ONE_EDIT
    for length in (len(domain) - 1, len(domain), len(domain) + 1)
)
_ONE_EDIT_INDEX = _build_index(
    [domain for domain in _TYPO_TARGETS if len(_split_name(domain)[0]) >= _MIN_NAME_ONE_EDIT], 1
)
_TWO_EDIT_NAMES = _build_two_edit_names()
