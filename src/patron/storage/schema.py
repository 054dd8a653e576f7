"""Every table Patron keeps, in SQLAlchemy Core. Alembic migrations must produce exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from patron.storage.types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(26)
# BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements there).
BigId = BigInteger().with_variant(Integer(), "sqlite")

instance_settings = Table(
    "instance_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", ID, primary_key=True),
    # All traits, standard and custom, as canonical JSON values (see fields/types.py).
    Column("traits", JSONType, nullable=False),
    # Per trait: {"source": app, "at": ISO time} of the write that set its current value.
    Column("provenance", JSONType, nullable=False),
    # Lower-cased names, email, phone and company for the admin's and API's `q` search.
    Column("search", Text, nullable=False, server_default=""),
    # Quality flags of the current values, as " field:code field:code " (spaces around each,
    # so a report counts one with LIKE '% email:role %'); "" when nothing is wrong.
    Column("quality", Text, nullable=False, server_default=""),
    # The email trait folded for duplicate matching (Gmail dots and +tags removed); never shown.
    Column("email_key", String(320), nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("kind", String(64), primary_key=True),
    Column("value", String(512), primary_key=True),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("source", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Profiles per source for the quality report, counted from the index alone.
    Index("ix_identities_source_profile", "source", "profile_id"),
)

merge_candidates = Table(
    "merge_candidates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Stored with profile_a < profile_b so one pair is one row.
    Column("profile_a", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
    Column("profile_b", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", JSONType, nullable=False),
    # open (in the review queue) | merged | distinct ("not the same person") | closed (superseded)
    Column("status", String(16), nullable=False, server_default="open"),
    # ingest (one record matched both) | fuzzy (the dedupe model) | email_key (same folded address)
    Column("origin", String(16), nullable=False, server_default="ingest"),
    # Match probability from the last dedupe run that scored the pair.
    Column("score", Float, nullable=True),
    # A reviewer skipped it: it goes to the back of the queue.
    Column("skipped_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    UniqueConstraint("profile_a", "profile_b", name="uq_merge_candidates_pair"),
    Index("ix_merge_candidates_profile_b", "profile_b"),
    Index("ix_merge_candidates_queue", "status", "score"),
)

match_decisions = Table(
    "match_decisions",
    metadata,
    # "Not the same person", remembered across dedupe runs. No foreign keys: a decision outlives
    # merges (it is followed to the surviving profile) and must not vanish with a candidate row.
    Column("profile_a", ID, primary_key=True),
    Column("profile_b", ID, primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("actor", String(128), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

fields = Table(
    "fields",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("source", String(64), nullable=True),
    Column("owner", String(128), nullable=False, server_default=""),
    # planned (defined on purpose) | unplanned (discovered in incoming data)
    Column("status", String(16), nullable=False, server_default="planned"),
    Column("is_standard", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie value: a stolen database does not yield live sessions.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    # First characters of the key, shown in the admin so people can tell keys apart.
    Column("prefix", String(16), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("name", String(128), nullable=False, server_default=""),
    # Write keys are tracking sources: allow | flag | block events that break the plan.
    Column("tracking_mode", String(8), nullable=False, server_default="flag"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSONType, nullable=False),
    # queued -> running -> succeeded | failed (retries go back to queued with a later run_at)
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default="100"),
    Column("run_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="5"),
    Column("locked_by", String(128), nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("progress_done", BigInteger, nullable=False, server_default="0"),
    Column("progress_total", BigInteger, nullable=True),
    Column("progress_note", Text, nullable=False, server_default=""),
    Column("result", JSONType, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("schedule_name", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_jobs_claim", "status", "run_at"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    # succeeded | failed | lost (lease expired before the worker reported back)
    Column("outcome", String(16), nullable=True),
    Column("error", Text, nullable=True),
)

job_schedules = Table(
    "job_schedules",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSONType, nullable=False),
    Column("interval_s", Integer, nullable=False),
    Column("next_run_at", UTCDateTime, nullable=False),
    Column("last_enqueued_at", UTCDateTime, nullable=True),
    Column("is_enabled", Boolean, nullable=False, server_default=text("true")),
)

files = Table(
    "files",
    metadata,
    # Uploaded CSVs and import reports live in the database so any worker on any machine
    # can read what the web process received.
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- Tracking ------------------------------------------------------------------------------

event_intake = Table(
    "event_intake",
    metadata,
    # Accepted messages waiting for the event processor: the request path only appends here
    # (one narrow row per event), so ingest stays fast; timelines are built by the worker.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("message", JSONType, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_event_intake_message"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=True),
    Column("source", String(64), nullable=False),
    Column("message_id", String(128), nullable=False),
    # identify | track | page | screen | group | alias
    Column("type", String(16), nullable=False),
    # The track event's name, or the page/screen name.
    Column("event", String(200), nullable=True),
    Column("user_id", String(512), nullable=True),
    Column("anonymous_id", String(512), nullable=True),
    Column("group_id", String(512), nullable=True),
    Column("previous_id", String(512), nullable=True),
    # Track/page/screen properties; identify and group traits.
    Column("properties", JSONType, nullable=False),
    Column("context", JSONType, nullable=False),
    # When it happened, corrected for the sender's clock (receivedAt - (sentAt - timestamp)).
    Column("timestamp", UTCDateTime, nullable=False),
    Column("original_timestamp", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_events_message"),
    Index("ix_events_profile_timeline", "profile_id", "timestamp"),
    Index("ix_events_name_window", "event", "timestamp"),
)

rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("message_id", String(128), nullable=True),
    Column("field", String(200), nullable=True),
    Column("reason", Text, nullable=False),
    # The message as received, cut to a size worth keeping.
    Column("payload", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    # Companies and other groups that profiles belong to (Segment `group` calls).
    Column("id", ID, primary_key=True),
    Column("group_id", String(512), nullable=False, unique=True),
    Column("traits", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

account_members = Table(
    "account_members",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

profile_merges = Table(
    "profile_merges",
    metadata,
    # Every merge, with what the absorbed profile held, so it can be explained and undone.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kept_id", ID, nullable=False, index=True),
    Column("absorbed_id", ID, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("evidence", JSONType, nullable=False),
    Column("snapshot", JSONType, nullable=False),
    # The kept profile's row before the merge and the values the merge gave it: an unmerge puts
    # back every value nobody has changed since.
    Column("kept_before", JSONType, nullable=True),
    # Merges of one dedupe cluster share a group.
    Column("group_id", String(26), nullable=True),
    Column("score", Float, nullable=True),
    Column("actor", String(128), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime, nullable=True),
    Column("undone_by", String(128), nullable=True),
)

event_definitions = Table(
    "event_definitions",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("owner", String(128), nullable=False, server_default=""),
    # JSON Schema of the event's properties; None: any properties.
    Column("schema", JSONType, nullable=True),
    # planned (defined on purpose) | unplanned (discovered in incoming data)
    Column("status", String(16), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

plan_violations = Table(
    "plan_violations",
    metadata,
    # One row per kind of violation, counted, with the latest example.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", String(200), nullable=False),
    Column("source", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("example", JSONType, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "subject", "detail", "source", name="uq_plan_violations_kind"),
)

leases = Table(
    "leases",
    metadata,
    # Work only one worker may do at a time (the event processor keeps events in order).
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
)

sources = Table(
    "sources",
    metadata,
    # An app data comes from: the `--source` of imports, the source of REST writes, a write key's name.
    Column("name", String(64), primary_key=True),
    # What an invalid value costs its record: reject (the row) | flag (keep, flagged) | fix (apply
    # the suggestion where there is one, else flag).
    Column("quality_policy", String(8), nullable=False, server_default="flag"),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

standard_rules = Table(
    "standard_rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # field_alias: an incoming field named `match` is the canonical field `target`;
    # value: a value of field `field` equal to `match` (compared folded) becomes `target`.
    Column("kind", String(16), nullable=False),
    Column("field", String(64), nullable=False, server_default=""),
    Column("match", String(200), nullable=False),
    Column("target", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "field", "match", name="uq_standard_rules_kind_field_match"),
)

quality_snapshots = Table(
    "quality_snapshots",
    metadata,
    # One report a day (YYYY-MM-DD, UTC), the last taken that day, for the trend chart.
    Column("day", String(10), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("report", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- Consent -------------------------------------------------------------------------------

topics = Table(
    "topics",
    metadata,
    # What a person can subscribe to, per channel: "newsletter", "offers", "product_updates".
    Column("key", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    # The name and description in other languages: {"ko": {"name": ..., "description": ...}}.
    Column("translations", JSONType, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    # opt_in: nobody gets it until they subscribe; opt_out: where the region's law allows it,
    # everyone gets it until they unsubscribe.
    Column("default_policy", String(8), nullable=False, server_default="opt_in"),
    # Per-country overrides of default_policy: {"KR": "opt_in"}.
    Column("region_defaults", JSONType, nullable=False),
    Column("channels", JSONType, nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("archived_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

region_policies = Table(
    "region_policies",
    metadata,
    # Overrides of the built-in consent model per country (ISO alpha-2; "*": everywhere else).
    Column("region", String(8), primary_key=True),
    # express (opt-in, proof needed) | opt_out | implied (express, or implied consent that expires)
    Column("model", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

consent_ledger = Table(
    "consent_ledger",
    metadata,
    # Append-only: every grant, request, confirmation, withdrawal, expiry and preference change
    # with its proof. Current state (consent_states) is derived from it; rows are never updated.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    # "" for the channel as a whole ("unsubscribe from all").
    Column("topic", String(64), nullable=False, server_default=""),
    # grant | request (a grant waiting for double opt-in) | confirm | withdraw | expire |
    # frequency | pause
    Column("action", String(16), nullable=False),
    Column("legal_basis", String(32), nullable=False),
    Column("notice_text", Text, nullable=False, server_default=""),
    Column("notice_version", String(64), nullable=False, server_default=""),
    # form | import | api | preference_centre | one_click | unsubscribe_page | admin | merge | system
    Column("method", String(32), nullable=False),
    Column("source", String(64), nullable=False, server_default=""),
    Column("ip", String(64), nullable=True),
    Column("user_agent", Text, nullable=True),
    Column("actor", String(128), nullable=False, server_default=""),
    # When the person acted (an import carries the source app's time) and when Patron wrote it.
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # Implied consent (CASL) and double opt-in requests lapse at this moment.
    Column("expires_at", UTCDateTime, nullable=True),
    # Action specifics: {"frequency": "weekly"}, {"until": ISO}, {"form": key, "variant": key}.
    Column("detail", JSONType, nullable=False),
    Index("ix_consent_ledger_profile", "profile_id", "id"),
    Index("ix_consent_ledger_trend", "occurred_at", "topic"),
)

consent_states = Table(
    "consent_states",
    metadata,
    # The ledger replayed: one row per profile, channel and topic ever touched.
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("topic", String(64), primary_key=True),
    # subscribed | unsubscribed | pending | none
    Column("state", String(16), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("legal_basis", String(32), nullable=False, server_default=""),
    Column("ledger_id", BigInteger, nullable=False),
    Index("ix_consent_states_audience", "channel", "topic", "state"),
)

contact_preferences = Table(
    "contact_preferences",
    metadata,
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    # as_it_happens | daily | weekly | monthly
    Column("frequency", String(16), nullable=False, server_default="as_it_happens"),
    Column("paused_until", UTCDateTime, nullable=True),
    # The language the person chose on a public page (en | ko).
    Column("locale", String(8), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    # Addresses never to be contacted, as SHA-256 of the normalised address: the list survives
    # erasure without keeping the address.
    Column("channel", String(16), primary_key=True),
    Column("address_hash", String(64), primary_key=True),
    # hard_bounce | complaint | unsubscribe | manual | erasure
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("actor", String(128), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    # Proof that a person was erased, holding nothing that identifies them.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("profile_id", ID, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("method", String(32), nullable=False),
    # Rows removed per table.
    Column("removed", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

consent_forms = Table(
    "consent_forms",
    metadata,
    # Hosted subscribe forms and preference-centre layouts, each with variants that run at once.
    Column("key", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    # subscribe | preferences
    Column("kind", String(16), nullable=False),
    Column("channel", String(16), nullable=False, server_default="email"),
    Column("topics", JSONType, nullable=False),
    Column("notice_text", Text, nullable=False, server_default=""),
    Column("notice_version", String(64), nullable=False, server_default=""),
    # [{"key", "weight", "heading", "intro", "button"}]
    Column("variants", JSONType, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

form_stats = Table(
    "form_stats",
    metadata,
    Column("form_key", String(64), ForeignKey("consent_forms.key", ondelete="CASCADE"), primary_key=True),
    Column("variant", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("views", BigInteger, nullable=False, server_default="0"),
    Column("submissions", BigInteger, nullable=False, server_default="0"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    # The text form as saved, and its tree (what is evaluated).
    Column("definition", Text, nullable=False),
    Column("tree", JSONType, nullable=False),
    # Members right now (kept with every membership change, for lists and the admin).
    Column("member_count", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("evaluated_at", UTCDateTime, nullable=True),
)

segment_memberships = Table(
    "segment_memberships",
    metadata,
    # One row per stay in a segment: open while exited_at is null.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("segment_id", BigId, ForeignKey("segments.id", ondelete="CASCADE"), nullable=False),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("exited_at", UTCDateTime, nullable=True),
    Index(
        "uq_segment_memberships_current",
        "segment_id",
        "profile_id",
        unique=True,
        sqlite_where=text("exited_at IS NULL"),
        postgresql_where=text("exited_at IS NULL"),
    ),
    Index("ix_segment_memberships_profile", "profile_id", "segment_id"),
    Index("ix_segment_memberships_history", "segment_id", "entered_at"),
)

computed_traits = Table(
    "computed_traits",
    metadata,
    # Traits Patron keeps up to date from events; stored in profiles.traits under `name`.
    Column("name", String(64), primary_key=True),
    # first_seen | last_seen | count | sum | first | last | active
    Column("kind", String(16), nullable=False),
    Column("event", String(200), nullable=True),
    Column("property", String(200), nullable=True),
    # [{"property", "op", "value"}], as in segment event conditions
    Column("where", JSONType, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("is_builtin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

scoring_rules = Table(
    "scoring_rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    # event: points per matching event; trait: points while the condition holds
    Column("kind", String(16), nullable=False),
    Column("event", String(200), nullable=True),
    Column("where", JSONType, nullable=False),
    # For trait rules: a segment definition tree the profile must match.
    Column("condition", JSONType, nullable=True),
    Column("points", Float, nullable=False),
    # once | each
    Column("repeat", String(8), nullable=False, server_default="each"),
    # At most this many awards per profile (None: no cap).
    Column("max_awards", Integer, nullable=True),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

score_changes = Table(
    "score_changes",
    metadata,
    # Every award, removal and stage change, with its reason: the admin explains any score from it.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("profile_id", ID, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
    Column("rule_id", BigInteger, ForeignKey("scoring_rules.id", ondelete="SET NULL"), nullable=True),
    Column("event_id", BigInteger, nullable=True),
    Column("points", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_score_changes_profile", "profile_id", "occurred_at"),
    Index("ix_score_changes_rule", "rule_id", "profile_id"),
    # "Was this event already awarded by this rule?", asked for every candidate event.
    Index("ix_score_changes_event", "event_id", "rule_id"),
)

score_stages = Table(
    "score_stages",
    metadata,
    # subscriber -> lead -> MQL -> SQL -> customer: a profile is in the highest stage it reaches.
    Column("name", String(64), primary_key=True),
    Column("threshold", Float, nullable=False),
    Column("position", Integer, nullable=False),
)
