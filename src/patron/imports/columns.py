"""Which profile field each CSV column fills: automatic for common English and Korean headers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from patron.errors import Invalid
from patron.fields.definitions import is_field_name
from patron.identity.normalise import EXTERNAL_PREFIX, IdentityError, check_kind
from patron.imports.csvfile import MalformedRow
from patron.profiles.record import FULL_NAME

SKIP = "-"
IDENTITY_TARGETS = ("user_id", "anonymous_id")

# Headers are compared after lower-casing and removing spaces and punctuation.
ALIASES: dict[str, str] = {}
for _target, _names in {
    "email": "email emailaddress mail mailaddress 이메일 이메일주소 메일 메일주소 전자우편 전자메일",
    "phone": "phone phonenumber mobile mobilephone mobilenumber cell cellphone tel telephone "
    "휴대폰 휴대폰번호 휴대전화 휴대전화번호 핸드폰 핸드폰번호 전화번호 전화 연락처",
    "first_name": "firstname first givenname forename 이름",
    "last_name": "lastname last surname familyname 성",
    FULL_NAME: "name fullname contactname 성명 고객명 회원명",
    "company": "company companyname organization organisation org employer 회사 회사명 소속 직장",
    "job_title": "jobtitle title position role 직함 직책 직위",
    "country": "country countrycode nation 국가 나라",
    "city": "city town 도시",
    "timezone": "timezone tz 시간대",
    "locale": "locale language lang 언어",
    "birthday": "birthday birthdate dateofbirth dob 생일 생년월일",
    "industry": "industry sector 업종 산업",
    "user_id": "userid",
    "anonymous_id": "anonymousid",
}.items():
    for _name in _names.split():
        ALIASES[_name] = _target

_PUNCTUATION = re.compile(r"[\s_\-.:/()]+")
_NON_WORD = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a column's values go: a trait, an identity kind, or nowhere."""

    kind: str  # trait | identity | skip
    name: str = ""


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """One target per column, plus the column that fills each target (to name it in errors)."""

    header: list[str]
    targets: list[Target]

    def column_for(self, target_name: str) -> str:
        """The header of the column that fills `target_name`."""
        for column, target in zip(self.header, self.targets, strict=True):
            if target.name == target_name:
                return column
        return target_name

    def describe(self) -> dict[str, str]:
        """{column: what it fills} for summaries and --json output."""
        return {
            column: (target.name if target.kind != "skip" else "(skipped)")
            for column, target in zip(self.header, self.targets, strict=True)
        }


def plan_columns(
    header: Sequence[str],
    *,
    source: str,
    overrides: Mapping[str, str] | None = None,
    id_column: str | None = None,
) -> ColumnPlan:
    """Map every column; Invalid when an override or the id column names no column.

    A name the header repeats stays as it is for its first column; the next ones are called
    'Name (2)', 'Name (3)'... so that --map and --id-column can tell them apart.
    """
    if isinstance(header, MalformedRow):
        raise Invalid(f"the header line cannot be read: {header.reason}", field="header")
    overrides = dict(overrides or {})
    written = [column.strip() for column in header]
    columns = _distinct_names(written)
    for column in [*overrides, *([id_column] if id_column else [])]:
        if column not in columns:
            raise Invalid(
                f"column {column!r} is not in the file; its columns are: {', '.join(columns)}",
                field=column,
            )
    targets: list[Target] = []
    for index, column in enumerate(columns):
        if column == id_column:
            targets.append(Target("identity", EXTERNAL_PREFIX + source))
        elif column in overrides:
            targets.append(_override_target(column, overrides[column]))
        else:
            # By the name as written: a repeated 'Email' is still an email column, so the
            # clash is reported rather than the second one becoming a custom field.
            targets.append(_automatic_target(written[index], index))
    _refuse_double_targets(columns, written, targets)
    return ColumnPlan(columns, targets)


def _distinct_names(written: list[str]) -> list[str]:
    """The header with the 2nd, 3rd... column of a repeated name renamed 'Name (2)', 'Name (3)'...;
    blank names stay blank (they are never mapped by name)."""
    taken = set(written)
    seen: dict[str, int] = {}
    names = []
    for column in written:
        count = seen[column] = seen.get(column, 0) + 1
        if count > 1 and column:
            while f"{column} ({count})" in taken:  # the file also has a column called that
                count += 1
            column = f"{column} ({count})"
            taken.add(column)
        names.append(column)
    return names


def _override_target(column: str, wanted: str) -> Target:
    wanted = wanted.strip()
    if wanted in ("", SKIP):
        return Target("skip")
    if wanted in IDENTITY_TARGETS or wanted.startswith(EXTERNAL_PREFIX):
        try:
            return Target("identity", check_kind(wanted))
        except IdentityError as exc:
            raise Invalid(f"--map {column}={wanted}: {exc}", field=column) from None
    if not is_field_name(wanted):
        raise Invalid(
            f"--map {column}={wanted}: {wanted!r} cannot name a field (letters, digits, '_'); "
            f"use '{SKIP}' to skip the column",
            field=column,
        )
    return Target("trait", wanted)


def _automatic_target(column: str, index: int) -> Target:
    alias = ALIASES.get(_PUNCTUATION.sub("", column.lower()))
    if alias in IDENTITY_TARGETS:
        return Target("identity", alias)
    if alias:
        return Target("trait", alias)
    return Target("trait", slug(column) or f"column_{index + 1}")


def slug(column: str) -> str:
    """A field name for an unknown column: 'Favourite Color' -> 'favourite_color'."""
    name = _NON_WORD.sub("_", column.strip().lower()).strip("_")
    if name and not is_field_name(name):
        name = "f_" + name  # names cannot start with a digit
    return name[:64] if name and is_field_name(name[:64]) else ""


def _refuse_double_targets(columns: list[str], written: list[str], targets: list[Target]) -> None:
    seen: dict[str, str] = {}
    for column, as_written, target in zip(columns, written, targets, strict=True):
        if target.kind == "skip":
            continue
        if target.name in seen:
            both = f"columns {seen[target.name]!r} and {column!r}"
            if column != as_written:
                both = f"two columns are named {as_written!r} ({both} here); they"
            raise Invalid(
                f"{both} both fill {target.name!r}; skip one with --map '{column}={SKIP}' "
                f"or send it elsewhere with --map '{column}=FIELD'",
                field=column,
            )
        seen[target.name] = column
