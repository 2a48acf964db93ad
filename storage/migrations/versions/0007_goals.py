"""group goals and reciprocity: the groups' goals, referrals indexed by pair

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "goals",
                sqlmodel.sql.sqltypes.AutoString(length=400),
                nullable=False,
                server_default="",  # for the groups there are; the model gives new ones ""
            )
        )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.alter_column("goals", server_default=None)
    # /partners group: one grouped pass over the group's referrals by (giver, receiver)
    op.create_index(
        "ix_referrals_group_pair",
        "referrals",
        ["group_id", "voided", "giver_id", "receiver_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_group_pair", table_name="referrals")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("goals")
