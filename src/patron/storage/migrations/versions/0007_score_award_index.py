"""score changes: index awards by event, so checking an event for an earlier award is a lookup

Without it each candidate event scanned every award of its rule: re-importing the demo's 3,771
shop customers took 12 s, nearly all of it in that check.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_score_changes_event", "score_changes", ["event_id", "rule_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_score_changes_event", table_name="score_changes")
