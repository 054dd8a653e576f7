"""dedupe: candidate scores, decisions, reversible merges

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:02:23.461672
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import patron.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_decisions",
        sa.Column("profile_a", sa.String(length=26), nullable=False),
        sa.Column("profile_b", sa.String(length=26), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), server_default="", nullable=False),
        sa.Column("created_at", patron.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("profile_a", "profile_b", name=op.f("pk_match_decisions")),
    )
    with op.batch_alter_table("merge_candidates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="ingest", nullable=False)
        )
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("skipped_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_merge_candidates_queue", ["status", "score"], unique=False)

    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kept_before",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("group_id", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=128), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("undone_at", patron.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("undone_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.drop_column("undone_by")
        batch_op.drop_column("undone_at")
        batch_op.drop_column("actor")
        batch_op.drop_column("score")
        batch_op.drop_column("group_id")
        batch_op.drop_column("kept_before")

    with op.batch_alter_table("merge_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_merge_candidates_queue")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("skipped_at")
        batch_op.drop_column("score")
        batch_op.drop_column("origin")

    op.drop_table("match_decisions")
