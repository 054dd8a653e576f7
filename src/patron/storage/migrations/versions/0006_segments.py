"""segments: definitions, memberships, computed traits, scoring rules, score changes, stages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:27:16.789318
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import patron.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "computed_traits",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column("property", sa.String(length=200), nullable=True),
        sa.Column(
            "where",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("is_builtin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_computed_traits")),
    )
    op.create_table(
        "score_stages",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_score_stages")),
    )
    op.create_table(
        "scoring_rules",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=True),
        sa.Column(
            "where",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "condition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("repeat", sa.String(length=8), server_default="each", nullable=False),
        sa.Column("max_awards", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_rules")),
    )
    op.create_table(
        "segments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column(
            "tree",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("member_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "score_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurred_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_score_changes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["scoring_rules.id"],
            name=op.f("fk_score_changes_rule_id_scoring_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
    )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.create_index("ix_score_changes_profile", ["profile_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_score_changes_rule", ["rule_id", "profile_id"], unique=False)

    op.create_table(
        "segment_memberships",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("segment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("profile_id", sa.String(length=26), nullable=False),
        sa.Column("entered_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("exited_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_segment_memberships_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_memberships_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_memberships")),
    )
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_segment_memberships_history", ["segment_id", "entered_at"], unique=False)
        batch_op.create_index("ix_segment_memberships_profile", ["profile_id", "segment_id"], unique=False)
        batch_op.create_index(
            "uq_segment_memberships_current",
            ["segment_id", "profile_id"],
            unique=True,
            sqlite_where=sa.text("exited_at IS NULL"),
            postgresql_where=sa.text("exited_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_segment_memberships_current",
            sqlite_where=sa.text("exited_at IS NULL"),
            postgresql_where=sa.text("exited_at IS NULL"),
        )
        batch_op.drop_index("ix_segment_memberships_profile")
        batch_op.drop_index("ix_segment_memberships_history")

    op.drop_table("segment_memberships")
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_score_changes_rule")
        batch_op.drop_index("ix_score_changes_profile")

    op.drop_table("score_changes")
    op.drop_table("segments")
    op.drop_table("scoring_rules")
    op.drop_table("score_stages")
    op.drop_table("computed_traits")
