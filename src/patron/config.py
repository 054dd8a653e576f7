"""The one home of configuration: defaults <- patron.toml <- PATRON_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The TOML file sits in the working directory unless PATRON_CONFIG names another.
CONFIG_FILE = Path(os.environ.get("PATRON_CONFIG", "patron.toml"))


class Settings(BaseSettings):
    """Every option Patron reads, typed, with a working default."""

    model_config = SettingsConfigDict(env_prefix="PATRON_", toml_file=CONFIG_FILE, extra="ignore")

    # SQLite (embedded default) or PostgreSQL as postgresql+psycopg://user@host/db.
    database_url: str = "sqlite:///./patron.db"
    # Public address of this instance; links in mail and signed tokens point here.
    base_url: str = "http://127.0.0.1:8000"
    # Signs sessions and public tokens. When unset, `patron init` generates one and keeps it
    # in the database, so links keep working across restarts.
    secret_key: str | None = None
    # smtp://host:port or smtp+starttls://user:pass@host:port
    smtp_url: str = "smtp://127.0.0.1:25"
    from_email: str = "Patron <noreply@localhost>"
    # CAN-SPAM: commercial mail carries the sender's postal address.
    postal_address: str = ""
    # Region used to read phone numbers written without a country code (ISO alpha-2).
    default_region: str = "US"

    # Largest JSON body the REST API accepts.
    max_body_bytes: int = 1_000_000
    # Largest CSV the admin accepts for upload.
    max_upload_bytes: int = 200_000_000
    # Rows per transaction during imports: big enough to amortise round trips, small enough
    # that progress shows and a crash loses little (see bench/import.py).
    import_batch_size: int = Field(default=5000, ge=1)
    # Imports of at least this many rows prepare records in worker processes (one per core,
    # at most 4): parsing and validating is CPU-bound, the database writes stay in one process.
    import_parallel_min_rows: int = Field(default=20_000, ge=1)

    # Worker: how long a claimed job stays ours without a heartbeat, and how often to poll.
    job_lease_s: int = 120
    worker_poll_interval_s: float = 1.0
    job_max_attempts: int = 5

    # Identity rules. Values that never identify anyone (None: the built-in list of "undefined",
    # "null", "0", "anonymous", ...), the most identities of a kind one profile may hold
    # (None: user_id 1, email 5, phone 5; kinds not named are unlimited), and the order in which
    # kinds decide (None: user_id, email, phone; then ids in other apps, anonymous ids last).
    identity_blocked_values: list[str] | None = None
    identity_limits: dict[str, int] | None = None
    identity_priority: list[str] | None = None

    # Tracking API: the largest request (Segment's limit), events per second one write key may
    # send (per server process; 429 with Retry-After beyond), how long a write key's lookup is
    # cached (a revoked key stops working within this), and how often the tracking plan is
    # re-read by ingest (plan changes made on another process show within this).
    tracking_max_request_bytes: int = 500 * 1024
    tracking_rate_limit_per_s: float = 100_000
    tracking_key_cache_s: float = 30
    tracking_plan_cache_s: float = 5
    # The event processor takes this many intake messages per transaction.
    tracking_process_batch: int = 2000

    # Data quality. A contact with no event, open or click in this many days is stale; the
    # optional DNS check flags email domains without a mail server (off: it is slow and needs
    # the network; each domain is asked once, with this timeout).
    quality_stale_after_days: int = Field(default=180, ge=1)
    quality_email_dns_check: bool = False
    quality_dns_timeout_s: float = 2.0

    # Duplicate detection. A match configuration file (JSON or YAML: fields to compare and their
    # kind, thresholds, survivorship rules, source priority) replacing the built-in defaults, and
    # sources most trusted first for the trusted_source survivorship rule (overrides the file's).
    dedupe_config: str | None = None
    dedupe_source_priority: list[str] | None = None

    # Consent. Preference-centre and unsubscribe links keep working this long (Gmail and Yahoo
    # expect unsubscribe links in old mail to work; at least 60 days); double opt-in links for
    # this long, after which the request lapses.
    link_ttl_days: int = Field(default=400, ge=60)
    confirm_link_ttl_hours: int = Field(default=72, ge=1)

    # Admin sessions.
    session_ttl_hours: int = 12

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments win, then the environment, then patron.toml, then defaults."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def dns_timeout(self) -> float | None:
        """The DNS check's timeout when the check is on, else None."""
        return self.quality_dns_timeout_s if self.quality_email_dns_check else None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag when the instance is served over HTTPS."""
        return self.base_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
