"""Consent brought in by a contact import, decided by the region each person lives in.

An export from another app says "yes, this person accepts marketing" and sometimes when and
under which notice. Whether that is enough depends on the law where the person lives: an
express opt-in region (EU/EEA, UK, Korea...) needs proof (the notice shown and the moment of
consent), else nothing is granted and the person stays "none"; an opt-out region (US) takes
the yes as it is; Canada (CASL) takes proof as express consent, or else implied consent that
lapses. A "no" is always a withdrawal: withdrawing needs no proof.

`decide_row` is the pure rule for one row; `record_import_consent` applies it to a batch and
appends every resulting change with one `record_many`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from patron.consent.ledger import Change, record_many
from patron.consent.model import CHANNELS, GLOBAL, GRANT, IMPLIED, OPT_OUT, WITHDRAW
from patron.consent.regions import (
    IMPLIED_AFTER_INQUIRY_DAYS,
    IMPLIED_AFTER_PURCHASE_DAYS,
    model_for,
    policies,
)
from patron.consent.topics import Topic, list_topics
from patron.errors import Invalid
from patron.quality.countries import country_code
from patron.quality.dates import parse_boolean, parse_date
from patron.storage.schema import profiles
from patron.storage.traits import trait_text

_TOPIC_SEPARATORS = re.compile(r"[,;]")
_NOT_WORD = re.compile(r"[\W_]+")
MAX_NOTICE_VERSION = 64


@dataclass(frozen=True, slots=True)
class ConsentOptions:
    """Which columns of an import carry consent, and the notice the source app showed."""

    consent_column: str | None = None  # yes/no: marketing consent on the channel
    topics_column: str | None = None  # topic keys or names, separated by , or ;
    at_column: str | None = None  # when the person consented, as the source app recorded it
    purchase_column: str | None = None  # a purchase date: CASL implied consent lasts longer
    notice_version: str = ""
    channel: str = "email"

    @property
    def given(self) -> bool:
        """True when the import should record consent at all."""
        return bool(self.consent_column or self.topics_column)

    def columns(self) -> list[str]:
        """The columns these options read."""
        named = (self.consent_column, self.topics_column, self.at_column, self.purchase_column)
        return [column for column in named if column]

    def check(self, header: Sequence[str]) -> None:
        """Invalid, naming the option, when a column is missing or an option makes no sense alone."""
        if self.channel not in CHANNELS:
            raise Invalid(
                f"--consent-channel must be one of {', '.join(CHANNELS)}, not {self.channel!r}",
                field="consent_channel",
            )
        if len(self.notice_version) > MAX_NOTICE_VERSION:
            raise Invalid(
                f"--notice-version is longer than {MAX_NOTICE_VERSION} characters", field="notice_version"
            )
        if not self.given and (self.at_column or self.purchase_column or self.notice_version):
            raise Invalid(
                "--consent-at, --purchase-at and --notice-version need --consent or --consent-topics "
                "(the column that says what the person agreed to)",
                field="consent",
            )
        columns = [column.strip() for column in header]
        for option, column in (
            ("consent", self.consent_column),
            ("consent_topics", self.topics_column),
            ("consent_at", self.at_column),
            ("purchase_at", self.purchase_column),
        ):
            if column and column not in columns:
                raise Invalid(
                    f"--{option.replace('_', '-')} {column!r} is not a column of the file; "
                    f"its columns are: {', '.join(columns)}",
                    field=option,
                )

    def as_dict(self) -> dict[str, str | None]:
        """The form a queued import job keeps."""
        return {
            "consent_column": self.consent_column,
            "topics_column": self.topics_column,
            "at_column": self.at_column,
            "purchase_column": self.purchase_column,
            "notice_version": self.notice_version,
            "channel": self.channel,
        }

    @classmethod
    def from_form(cls, **typed: str | None) -> ConsentOptions:
        """Options as typed into an upload form (fields named as in `as_dict`); blank means not given."""
        return cls.from_dict({key: value.strip() for key, value in typed.items() if value and value.strip()})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ConsentOptions:
        """Options from `as_dict`'s form (a job payload); unknown keys are refused."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise Invalid(f"unknown consent option {unknown[0]!r}", field="consent")
        return cls(
            consent_column=data.get("consent_column") or None,
            topics_column=data.get("topics_column") or None,
            at_column=data.get("at_column") or None,
            purchase_column=data.get("purchase_column") or None,
            notice_version=(data.get("notice_version") or "").strip(),
            channel=data.get("channel") or "email",
        )


@dataclass(frozen=True, slots=True)
class RowConsent:
    """The consent cells of one imported row, as written."""

    line: int
    consent: str = ""
    topics: str = ""
    at: str = ""
    purchase: str = ""


def cell_reader(options: ConsentOptions, header: Sequence[str]) -> Callable[[int, Sequence[str]], RowConsent]:
    """A function giving a row's consent cells (empty strings for columns not given)."""
    position = {column.strip(): index for index, column in enumerate(header)}
    named = (options.consent_column, options.topics_column, options.at_column, options.purchase_column)
    indexes = [position.get(column) if column else None for column in named]

    def read(line: int, row: Sequence[str]) -> RowConsent:
        cells = [row[i].strip() if i is not None and i < len(row) else "" for i in indexes]
        return RowConsent(line, *cells)

    return read


@dataclass(slots=True)
class ConsentTally:
    """What an import did to consent, counted in rows (one row may grant several topics)."""

    granted: int = 0
    implied: int = 0  # of the granted rows: CASL implied consent, which lapses
    withdrawn: int = 0
    unproven: int = 0  # yes in an express opt-in region with no notice version and time: nothing granted
    lapsed: int = 0  # implied consent whose window had already closed: nothing granted
    unreadable: int = 0
    unknown_topics: Counter[str] = field(default_factory=Counter)

    def add(self, other: ConsentTally) -> None:
        """Add another batch's counts."""
        for name in ("granted", "implied", "withdrawn", "unproven", "lapsed", "unreadable"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unknown_topics.update(other.unknown_topics)

    def as_dict(self) -> dict[str, Any]:
        """The summary's "consent" object; unknown topics as {name: rows}."""
        return {
            "granted": self.granted,
            "withdrawn": self.withdrawn,
            "unproven": self.unproven,
            "unknown_topics": dict(self.unknown_topics.most_common()),
            "implied": self.implied,
            "lapsed": self.lapsed,
            "unreadable": self.unreadable,
        }


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Topics a cell may name, by key or by name in any language, compared loosely."""

    by_word: dict[str, Topic]

    @classmethod
    def of(cls, topics: Sequence[Topic]) -> TopicNames:
        """Index topics by their key and every name they have."""
        by_word: dict[str, Topic] = {}
        for topic in topics:
            names = [topic.name, *(t.get("name", "") for t in topic.translations.values())]
            for name in names:
                if _word(name):
                    by_word.setdefault(_word(name), topic)
        for topic in topics:  # a key wins over another topic's name
            by_word[_word(topic.key)] = topic
        return cls(by_word)

    def find(self, text: str) -> Topic | None:
        """The topic `text` names, or None."""
        return self.by_word.get(_word(text))


def _word(text: str) -> str:
    return _NOT_WORD.sub("", text.casefold())


@dataclass(slots=True)
class RowDecision:
    """The ledger changes one row leads to, and what to report about it."""

    changes: list[Change] = field(default_factory=list)
    granted: bool = False
    implied: bool = False
    withdrawn: bool = False
    unproven: bool = False
    lapsed: bool = False
    unreadable: bool = False
    unknown_topics: list[str] = field(default_factory=list)


def parse_moment(text: str) -> datetime | None:
    """A consent or purchase time as exports write it; None when it is not one. A time without
    a zone is taken as UTC (exports rarely say which zone their clock was in)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            day = parse_date(text)
        except ValueError:
            return None
        if day is None:
            return None
        moment = datetime.combine(day, time())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decide_row(
    row: RowConsent,
    *,
    model: str,
    options: ConsentOptions,
    topics: TopicNames,
    source: str,
    now: datetime,
) -> RowDecision:
    """What one row's consent cells mean for a person under `model` (express, opt_out, implied)."""
    decision = RowDecision()
    says: bool | None = None
    if row.consent:
        says = parse_boolean(row.consent)
        if says is None:
            decision.unreadable = True
    consented_at = parse_moment(row.at) if row.at else None
    if row.at and (consented_at is None or consented_at > now):
        decision.unreadable = True  # a time in the future is a broken clock, not proof
        consented_at = None
    wanted: list[Topic] = []
    if row.topics and says is not False:
        for name in (part.strip() for part in _TOPIC_SEPARATORS.split(row.topics)):
            if not name:
                continue
            topic = topics.find(name)
            if topic is None or options.channel not in topic.channels:
                decision.unknown_topics.append(name)
            elif topic not in wanted:
                wanted.append(topic)
    detail = {"line": row.line}
    if says is False:
        decision.changes.append(
            Change(
                channel=options.channel,
                action=WITHDRAW,
                method="import",
                source=source,
                notice_version=options.notice_version,
                occurred_at=consented_at,
                actor="import",
                detail={**detail, "column": options.consent_column},
            )
        )
        decision.withdrawn = True
        return decision
    grant_topics = [GLOBAL] if says else []
    grant_topics += [topic.key for topic in wanted]
    if not grant_topics:
        return decision
    has_proof = bool(options.notice_version) and consented_at is not None
    expires_at: datetime | None = None
    if has_proof:
        legal_basis = "consent"
    elif model == OPT_OUT:
        legal_basis = "legitimate_interest"  # CAN-SPAM: mail may go until the person opts out
    elif model == IMPLIED:
        # CASL: implied consent lasts 2 years after a purchase, 6 months after an inquiry,
        # counted from the purchase when the export dates it.
        purchased_at = parse_moment(row.purchase) if row.purchase else None
        if row.purchase:
            start = min(purchased_at or consented_at or now, now)
            expires_at = start + timedelta(days=IMPLIED_AFTER_PURCHASE_DAYS)
        else:
            expires_at = (consented_at or now) + timedelta(days=IMPLIED_AFTER_INQUIRY_DAYS)
        if expires_at <= now:
            decision.lapsed = True
            return decision
        legal_basis = "implied"
    else:
        # Express opt-in (GDPR, PECR, Korea's Network Act): an unproven yes grants nothing.
        decision.unproven = True
        return decision
    column_of = {True: options.consent_column, False: options.topics_column}
    for topic_key in grant_topics:
        decision.changes.append(
            Change(
                channel=options.channel,
                action=GRANT,
                topic=topic_key,
                legal_basis=legal_basis,
                method="import",
                source=source,
                notice_version=options.notice_version,
                occurred_at=consented_at,
                expires_at=expires_at,
                actor="import",
                detail={**detail, "column": column_of[topic_key == GLOBAL]},
            )
        )
    decision.granted = True
    decision.implied = legal_basis == "implied"
    return decision


def record_import_consent(
    conn: Connection,
    rows: Sequence[tuple[str, str | None, RowConsent]],
    options: ConsentOptions,
    *,
    source: str,
    now: datetime,
) -> ConsentTally:
    """Decide (profile id, the row's country, its cells) for a batch and append every change in
    one `record_many`. A row without a country is judged by the profile's stored country."""
    tally = ConsentTally()
    if not rows:
        return tally
    table = policies(conn)
    topics = TopicNames.of(list_topics(conn, include_archived=True))
    countries = _stored_countries(conn, [pid for pid, country, _ in rows if not country])
    items: list[tuple[str, Change]] = []
    for profile_id, country, cells in rows:
        code = country_code(country) if country else countries.get(profile_id)
        decision = decide_row(
            cells, model=model_for(table, code), options=options, topics=topics, source=source, now=now
        )
        items += [(profile_id, change) for change in decision.changes]
        tally.granted += decision.granted
        tally.implied += decision.implied
        tally.withdrawn += decision.withdrawn
        tally.unproven += decision.unproven
        tally.lapsed += decision.lapsed
        tally.unreadable += decision.unreadable
        tally.unknown_topics.update(decision.unknown_topics)
    record_many(conn, items)
    return tally


def _stored_countries(conn: Connection, profile_ids: Sequence[str]) -> dict[str, str | None]:
    if not profile_ids:
        return {}
    country = trait_text(conn.dialect.name, "country")
    query = select(profiles.c.id, country).where(profiles.c.id.in_(list(set(profile_ids))))
    return {pid: country_code(value) if value else None for pid, value in conn.execute(query)}
