"""ceus: continuing-education units, one row per piece of learning a member logged; an
index that gives the scorecard a meeting's attendance

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ceus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ceus", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ceus_group_time", ["group_id", "voided", "created_at", "member_id"], unique=False
        )
        batch_op.create_index("ix_ceus_member", ["member_id", "voided", "created_at"], unique=False)
    with op.batch_alter_table("meeting_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_responses_attendance",
            ["meeting_id", "attendance", "member_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_responses_attendance")
    with op.batch_alter_table("ceus", schema=None) as batch_op:
        batch_op.drop_index("ix_ceus_member")
        batch_op.drop_index("ix_ceus_group_time")
    op.drop_table("ceus")
