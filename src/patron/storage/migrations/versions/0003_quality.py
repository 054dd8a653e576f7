"""quality: flags, sources, standardisation rules, snapshots

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:48:49.546128
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import patron.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "quality_snapshots",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_quality_snapshots")),
    )
    op.create_table(
        "sources",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("quality_policy", sa.String(length=8), server_default="flag", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sources")),
    )
    op.create_table(
        "standard_rules",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), server_default="", nullable=False),
        sa.Column("match", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_rules")),
        sa.UniqueConstraint("kind", "field", "match", name="uq_standard_rules_kind_field_match"),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index("ix_identities_source_profile", ["source", "profile_id"], unique=False)

    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f("ix_profiles_email_key"), ["email_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index("ix_identities_source_profile")


    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_email_key"))
        batch_op.drop_column("email_key")
        batch_op.drop_column("quality")

    op.drop_table("standard_rules")
    op.drop_table("sources")
    op.drop_table("quality_snapshots")
