"""consent: topics, ledger, states, preferences, suppressions, erasures, forms

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:30:13.248835
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import patron.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "consent_forms",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), server_default="email", nullable=False),
        sa.Column(
            "topics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notice_text", sa.Text(), server_default="", nullable=False),
        sa.Column("notice_version", sa.String(length=64), server_default="", nullable=False),
        sa.Column(
            "variants",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_consent_forms")),
    )
    op.create_table(
        "erasures",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column(
            "removed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_table(
        "region_policies",
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", name=op.f("pk_region_policies")),
    )
    op.create_table(
        "suppressions",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=128), server_default="", nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address_hash", name=op.f("pk_suppressions")),
    )
    op.create_table(
        "topics",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "translations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("default_policy", sa.String(length=8), server_default="opt_in", nullable=False),
        sa.Column(
            "region_defaults",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("archived_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_topics")),
    )
    op.create_table(
        "consent_ledger",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), server_default="", nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("notice_text", sa.Text(), server_default="", nullable=False),
        sa.Column("notice_version", sa.String(length=64), server_default="", nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), server_default="", nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), server_default="", nullable=False),
        sa.Column("occurred_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_consent_ledger_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_ledger")),
    )
    with op.batch_alter_table("consent_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_consent_ledger_profile", ["profile_id", "id"], unique=False)
        batch_op.create_index("ix_consent_ledger_trend", ["occurred_at", "topic"], unique=False)

    op.create_table(
        "consent_states",
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("legal_basis", sa.String(length=32), server_default="", nullable=False),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_consent_states_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", "channel", "topic", name=op.f("pk_consent_states")),
    )
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.create_index("ix_consent_states_audience", ["channel", "topic", "state"], unique=False)

    op.create_table(
        "contact_preferences",
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("frequency", sa.String(length=16), server_default="as_it_happens", nullable=False),
        sa.Column("paused_until", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_contact_preferences_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_contact_preferences")),
    )
    op.create_table(
        "form_stats",
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("views", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("submissions", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["form_key"],
            ["consent_forms.key"],
            name=op.f("fk_form_stats_form_key_consent_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("form_key", "variant", "day", name=op.f("pk_form_stats")),
    )


def downgrade() -> None:

    op.drop_table("form_stats")
    op.drop_table("contact_preferences")
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_states_audience")

    op.drop_table("consent_states")
    with op.batch_alter_table("consent_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_ledger_trend")
        batch_op.drop_index("ix_consent_ledger_profile")

    op.drop_table("consent_ledger")
    op.drop_table("topics")
    op.drop_table("suppressions")
    op.drop_table("region_policies")
    op.drop_table("erasures")
    op.drop_table("consent_forms")
