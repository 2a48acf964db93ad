"""referrals by group and time carry the status: the group's conversion (`/leaderboard`,
the weekly post) is counted from the index alone, as the standings already are

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 04:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["group_id", "voided", "created_at", "giver_id"]


def upgrade() -> None:
    op.drop_index("ix_referrals_group_time", table_name="referrals")
    op.create_index("ix_referrals_group_time", "referrals", [*OLD, "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_referrals_group_time", table_name="referrals")
    op.create_index("ix_referrals_group_time", "referrals", OLD, unique=False)
