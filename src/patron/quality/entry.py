"""The one validation and normalisation pipeline every entry point runs a record's traits through.

Imports, the REST API and the tracking API all call `clean_traits`: aliases renamed, names
tidied, countries to ISO codes, emails and phones checked, typed fields coerced, values mapped
to their standard form. What is wrong is flagged, fixed or refused according to the source's
policy, and each decision is recorded as a Problem naming the field and the reason.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from patron.fields.definitions import is_field_name
from patron.fields.types import coerce, infer_type
from patron.identity.normalise import Identity
from patron.identity.rules import DEFAULT_RULES, IdentityRules
from patron.quality import flags as quality_flags
from patron.quality.countries import country_code
from patron.quality.emails import DeliverabilityChecker, check_email, shared_checker
from patron.quality.names import split_full_name, tidy_name
from patron.quality.phones import check_phone
from patron.quality.sources import FIX, FLAG, REJECT, check_policy, policy_for
from patron.quality.standards import NO_STANDARDS, Standards, load_standards

# Problem effects: what happened to the value.
DROPPED = "dropped"  # not stored (wrong type, bad name)
NOT_IDENTITY = "not_identity"  # kept as a trait, flagged, never used to match anyone
REFUSED_IDENTITY = "refused_identity"  # an explicit identity that is not valid
FLAGGED = "flagged"  # kept as a trait and flagged (a value that is not an identity)
FIXED = "fixed"  # replaced by the suggested value (policy fix)
REJECTED = "rejected"  # the source's policy refuses the whole record for this value

FULL_NAME = "name"  # a whole-name input, split into first_name / last_name
NAME_FIELDS = ("first_name", "last_name")
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|\d{3}))?$")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something about one value of a record, and what it cost."""

    field: str
    value: Any
    reason: str
    effect: str
    code: str = ""  # invalid, typo, role, disposable, wrong_type, bad_name, blocked, ...

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form."""
        return {
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "effect": self.effect,
            "code": self.code,
        }


@dataclass(slots=True)
class Cleaned:
    """Traits after the pipeline, and everything it decided on the way."""

    traits: dict[str, Any] = field(default_factory=dict)
    identities: list[Identity] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    normalised: list[str] = field(default_factory=list)  # fields whose value was put in standard form
    new_fields: dict[str, str] = field(default_factory=dict)
    region: str | None = None  # the record's country, or the default region: how phones are read


@dataclass(frozen=True, slots=True)
class EntryRules:
    """How one source's values are treated at entry: its policy, the standardisation rules, and
    the DNS check of email domains when it is on."""

    policy: str = FLAG
    standards: Standards = NO_STANDARDS
    deliverability: DeliverabilityChecker | None = None


DEFAULT_ENTRY = EntryRules()


def entry_rules(
    conn: Connection, source: str, *, policy: str | None = None, dns_timeout_s: float | None = None
) -> EntryRules:
    """The rules for `source`: its stored policy (or `policy`), the stored standardisation rules."""
    chosen = check_policy(policy) if policy else policy_for(conn, source)
    checker = shared_checker(dns_timeout_s) if dns_timeout_s else None
    return EntryRules(chosen, load_standards(conn), checker)


def clean_traits(
    raw_traits: Mapping[str, Any],
    *,
    field_types: Mapping[str, str],
    default_region: str | None,
    field_prefix: str = "traits.",
    rules: IdentityRules = DEFAULT_RULES,
    entry: EntryRules = DEFAULT_ENTRY,
) -> Cleaned:
    """Validate and normalise one record's traits; never raises for bad values."""
    policy, standards, deliverability = entry.policy, entry.standards, entry.deliverability
    out = Cleaned()
    pending = {k: v for k, v in raw_traits.items() if not _is_blank(v)}
    if standards.aliases:
        out.normalised += [name for _, name in standards.rename(pending)]
    _split_full_name(pending, out)
    out.region = _country(pending, out, field_prefix, policy) or default_region

    for name, raw in pending.items():
        label = f"{field_prefix}{name}"
        if not is_field_name(name):
            reason = "not a valid field name (use letters, digits and '_')"
            out.problems.append(Problem(label, raw, reason, DROPPED, "bad_name"))
        elif name == "email":
            _email(out, raw, label, rules, policy, deliverability)
        elif name == "phone":
            _phone(out, raw, label, rules, policy)
        else:
            _typed(out, name, raw, label, field_types, policy, standards)
    return out


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _split_full_name(pending: dict[str, Any], out: Cleaned) -> None:
    """Fill first_name/last_name from a whole name when both are missing; drop the whole name."""
    full = pending.pop(FULL_NAME, None)
    if not isinstance(full, str) or "first_name" in pending or "last_name" in pending:
        return
    first, last = split_full_name(full)
    if first:
        pending["first_name"] = first
    if last:
        pending["last_name"] = last


def _country(pending: dict[str, Any], out: Cleaned, prefix: str, policy: str) -> str | None:
    raw = pending.pop("country", None)
    if raw is None:
        return None
    if not isinstance(raw, str):
        out.problems.append(Problem(f"{prefix}country", raw, "expected text", DROPPED, "wrong_type"))
        return None
    code = country_code(raw)
    if code is not None:
        out.traits["country"] = code
        if code != raw.strip():
            out.normalised.append("country")
        return code
    reason = f"{raw.strip()!r} is not a country this knows (use ISO codes like KR or a country's name)"
    _wrong(out, "country", raw.strip(), f"{prefix}country", reason, (quality_flags.INVALID,), policy)
    return None


def _wrong(
    out: Cleaned, name: str, kept: Any, label: str, reason: str, codes: tuple[str, ...], policy: str
) -> None:
    """A value that is not right: the record is refused (policy reject) or it is kept, flagged.

    A flagged email or phone stays a trait but never matches anyone.
    """
    if policy == REJECT:
        out.problems.append(Problem(label, kept, reason, REJECTED, codes[0]))
        return
    out.traits[name] = kept
    out.flags[name] = codes
    if name in ("email", "phone"):
        out.problems.append(
            Problem(label, kept, f"{reason}; kept, not used to match", NOT_IDENTITY, codes[0])
        )
    else:
        out.problems.append(Problem(label, kept, reason, FLAGGED, codes[0]))


def _blocked(out: Cleaned, name: str, raw: Any, text: str, label: str, rules: IdentityRules) -> bool:
    """A blocked value ("undefined", "null", ...) is kept as typed but identifies no one."""
    if not rules.is_blocked(text):
        return False
    out.traits[name] = text
    reason = f"{text!r} is a blocked value: it identifies no one"
    out.problems.append(Problem(label, raw, reason, NOT_IDENTITY, "blocked"))
    return True


def _email(
    out: Cleaned,
    raw: Any,
    label: str,
    rules: IdentityRules,
    policy: str,
    deliverability: DeliverabilityChecker | None,
) -> None:
    text = str(raw).strip()
    if _blocked(out, "email", raw, text, label, rules):
        return
    check = check_email(text)
    if check.suggestion and policy == FIX:
        # Also for addresses the typo made invalid ('kim@naver..com', 'kim@gmail,com').
        fixed = check_email(check.suggestion)
        if fixed.address is not None:
            reason = f"{text!r} -> {fixed.address!r}: the domain looks like a typo"
            out.problems.append(Problem(label, text, reason, FIXED, quality_flags.TYPO))
            check = fixed
    if check.address is None:
        reason = check.error or "not an email address"
        if check.suggestion:
            reason += f" (did you mean {check.suggestion!r}? the source's policy `fix` applies such fixes)"
        _wrong(out, "email", text, label, reason, (quality_flags.INVALID,), policy)
        return
    address = check.address
    wrong = [code for code in check.flags if code != quality_flags.INVALID]
    if quality_flags.TYPO in wrong and quality_flags.DISPOSABLE in wrong:
        # Typo-squatting domains (gmial.com) are on the disposable list; the typo is the news.
        wrong.remove(quality_flags.DISPOSABLE)
    if wrong:
        says = {
            quality_flags.TYPO: f"looks like a typo of {check.suggestion!r}",
            quality_flags.ROLE: "is a role address (no one person reads it)",
            quality_flags.DISPOSABLE: "is a disposable (throw-away) mailbox",
        }
        reason = f"{address!r} " + " and ".join(says[code] for code in wrong)
        _wrong(out, "email", address, label, reason, tuple(wrong), policy)
        return
    if deliverability is not None and deliverability.deliverable(address.rpartition("@")[2]) is False:
        reason = f"{address!r}: its domain has no mail server"
        _wrong(out, "email", address, label, reason, (quality_flags.UNDELIVERABLE,), policy)
        return
    out.traits["email"] = address
    if address != text:
        out.normalised.append("email")
    _add_identity(out, Identity("email", address))


def _phone(out: Cleaned, raw: Any, label: str, rules: IdentityRules, policy: str) -> None:
    text = str(raw).strip()
    if _blocked(out, "phone", raw, text, label, rules):
        return
    check = check_phone(text, out.region)
    if check.e164 is None:
        _wrong(
            out, "phone", text, label, check.error or "not a phone number", (quality_flags.INVALID,), policy
        )
        return
    out.traits["phone"] = check.e164
    if check.number_type:
        out.traits.setdefault("phone_type", check.number_type)
    if check.e164 != text:
        out.normalised.append("phone")
    _add_identity(out, Identity("phone", check.e164))


def _typed(
    out: Cleaned,
    name: str,
    raw: Any,
    label: str,
    field_types: Mapping[str, str],
    policy: str,
    standards: Standards,
) -> None:
    field_type = field_types.get(name)
    if field_type is None:
        field_type = out.new_fields[name] = infer_type(raw)
    try:
        value = coerce(field_type, raw)
    except ValueError as exc:
        reason = f"{exc} (field type is {field_type})"
        effect = REJECTED if policy == REJECT else DROPPED
        out.problems.append(Problem(label, raw, reason, effect, "wrong_type"))
        return
    if isinstance(value, str):
        tidy = _tidy_text(name, value, standards)
        if tidy != value:
            out.normalised.append(name)
            value = tidy
        if name == "timezone" and not _is_timezone(value):
            reason = f"{value!r} is not an IANA time zone (e.g. Asia/Seoul)"
            _wrong(out, name, value, label, reason, (quality_flags.INVALID,), policy)
            return
        if name == "locale":
            locale = _locale(value)
            if locale is None:
                reason = f"{value!r} is not a language tag (e.g. ko-KR or en)"
                _wrong(out, name, value, label, reason, (quality_flags.INVALID,), policy)
                return
            if locale != value:
                out.normalised.append(name)
            value = locale
    out.traits[name] = value


def _tidy_text(name: str, value: str, standards: Standards) -> str:
    if name in NAME_FIELDS:
        value = tidy_name(value)
    return standards.map_value(name, value)


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _is_timezone(value: str) -> bool:
    return value in _timezones()


@lru_cache(maxsize=1024)
def _locale(value: str) -> str | None:
    """BCP 47 form of a language tag (ko_kr -> ko-KR), None when it is not one."""
    match = _LOCALE.match(value.strip())
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def _add_identity(out: Cleaned, identity: Identity) -> None:
    if identity not in out.identities:
        out.identities.append(identity)
