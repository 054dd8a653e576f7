"""Which consent model a person's country follows, built in and overridable per country."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from patron.consent.model import EXPRESS, IMPLIED, MODELS, OPT_OUT
from patron.errors import Invalid
from patron.storage.schema import region_policies
from patron.storage.statements import upsert
from patron.storage.types import utcnow

EEA = ("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO").split()
# GDPR and ePrivacy (EU/EEA), UK PECR, Switzerland, Korea's Network Act, Australia's and
# Japan's anti-spam laws: express opt-in. US CAN-SPAM: opt-out. Canada's CASL: express consent,
# or implied consent that lapses (2 years after a purchase, 6 months after an inquiry).
BUILT_IN: dict[str, str] = {
    **{code: EXPRESS for code in EEA},
    "GB": EXPRESS,
    "CH": EXPRESS,
    "KR": EXPRESS,
    "JP": EXPRESS,
    "AU": EXPRESS,
    "US": OPT_OUT,
    "CA": IMPLIED,
    # Everywhere else: the strictest model, so an unknown country never means "opt-out".
    "*": EXPRESS,
}
ANYWHERE = "*"
# CASL's implied-consent windows.
IMPLIED_AFTER_PURCHASE_DAYS = 2 * 365
IMPLIED_AFTER_INQUIRY_DAYS = 182


def policies(conn: Connection) -> dict[str, str]:
    """Every region's model: the built-in table with the admin's overrides applied."""
    overrides = dict(conn.execute(select(region_policies.c.region, region_policies.c.model)).all())
    return {**BUILT_IN, **overrides}


def overrides(conn: Connection) -> dict[str, str]:
    """Only the regions an admin changed."""
    return dict(conn.execute(select(region_policies.c.region, region_policies.c.model)).all())


def model_for(table: dict[str, str], country: str | None) -> str:
    """The model for a country (ISO alpha-2) in a table from `policies`."""
    if country and country.upper() in table:
        return table[country.upper()]
    return table.get(ANYWHERE, EXPRESS)


def set_policy(conn: Connection, region: str, model: str | None) -> None:
    """Override a region's model; None restores the built-in one."""
    region = check_region(region)
    if model is None:
        conn.execute(delete(region_policies).where(region_policies.c.region == region))
        return
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}, not {model!r}", field="model")
    conn.execute(
        upsert(conn, region_policies, ["region"], ["model", "updated_at"]),
        {"region": region, "model": model, "updated_at": utcnow()},
    )


def check_region(region: str) -> str:
    """An ISO alpha-2 country code or '*', upper-cased; Invalid otherwise."""
    region = (region or "").strip().upper()
    if region != ANYWHERE and not (len(region) == 2 and region.isalpha()):
        raise Invalid(
            f"region must be a two-letter country code (ISO 3166-1) or '*', not {region!r}", field="region"
        )
    return region
