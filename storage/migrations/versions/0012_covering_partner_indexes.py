"""covering partner indexes: a member's referrals either way with the other member in the index

/partners reads a member's referrals given (by `ix_referrals_giver`) and received (by
`ix_referrals_receiver`) and groups them by the other member: with the other member's id at
the end of each index, both are index-only reads, not a table lookup per referral.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = {
    "ix_referrals_giver": ["giver_id", "voided", "created_at"],
    "ix_referrals_receiver": ["receiver_id", "voided", "created_at"],
}
_NEW = {
    "ix_referrals_giver": ["giver_id", "voided", "created_at", "receiver_id"],
    "ix_referrals_receiver": ["receiver_id", "voided", "created_at", "giver_id"],
}


def _replace(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="referrals")
        op.create_index(name, "referrals", columns)


def upgrade() -> None:
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
