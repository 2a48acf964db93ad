"""typed schedules: the meeting time as a time, reminder leads and milestones as JSON lists,
the leaderboard's schedule as on/weekday/time, and `post_schedule` (what is due when)

Existing groups are converted: "HH:MM" -> a time, "1440,60" -> [1440, 60], "auto" -> on with
no weekday or time of its own (the day after the meeting, 16:00), "off" -> off, "4 16:00" ->
Friday 16:00, "1000,5000" -> ["1000", "5000"]. The downgrade writes the strings back.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-04 03:10:00
"""

from collections.abc import Sequence
from datetime import time
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = sa.table(
    "groups",
    sa.column("id", sa.Integer()),
    sa.column("meeting_time", sa.String()),
    sa.column("reminder_leads", sa.String()),
    sa.column("leaderboard_schedule", sa.String()),
    sa.column("milestones", sa.String()),
)
_NEW = sa.table(
    "groups",
    sa.column("id", sa.Integer()),
    sa.column("meeting_clock", sa.Time()),
    sa.column("reminder_list", sa.JSON()),
    sa.column("leaderboard_on", sa.Boolean()),
    sa.column("leaderboard_weekday", sa.Integer()),
    sa.column("leaderboard_time", sa.Time()),
    sa.column("milestone_list", sa.JSON()),
)


def _clock(text: str | None) -> time | None:
    if not text:
        return None
    hours, minutes = text.split(":")[:2]
    return time(int(hours), int(minutes))


def _typed(row: Any) -> dict[str, Any]:
    schedule = (row.leaderboard_schedule or "auto").strip()
    weekday, at = (None, None)
    if schedule not in ("auto", "off"):
        day, clock = schedule.split()
        weekday, at = int(day), _clock(clock)
    return {
        "meeting_clock": _clock(row.meeting_time),
        "reminder_list": [int(p) for p in (row.reminder_leads or "").split(",") if p.strip()],
        "leaderboard_on": schedule != "off",
        "leaderboard_weekday": weekday,
        "leaderboard_time": at,
        "milestone_list": [p.strip() for p in (row.milestones or "").split(",") if p.strip()],
    }


def upgrade() -> None:
    op.create_table(
        "post_schedule",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.PrimaryKeyConstraint("group_id", "kind"),
    )
    op.create_index("ix_post_schedule_due", "post_schedule", ["due_at"], unique=False)
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_clock", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("reminder_list", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("leaderboard_on", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("leaderboard_weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("leaderboard_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("milestone_list", sa.JSON(), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.select(_OLD)).all():
        bind.execute(sa.update(_NEW).where(_NEW.c.id == row.id).values(**_typed(row)))
    with op.batch_alter_table("groups", schema=None) as batch_op:
        for name in ("meeting_time", "reminder_leads", "leaderboard_schedule", "milestones"):
            batch_op.drop_column(name)
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.alter_column("meeting_clock", new_column_name="meeting_time")
        batch_op.alter_column(
            "reminder_list", new_column_name="reminder_leads", nullable=False,
            existing_type=sa.JSON(),
        )  # fmt: skip
        batch_op.alter_column("leaderboard_on", nullable=False, existing_type=sa.Boolean())
        batch_op.alter_column(
            "milestone_list", new_column_name="milestones", nullable=False,
            existing_type=sa.JSON(),
        )  # fmt: skip


_TYPED = sa.table(
    "groups",
    sa.column("id", sa.Integer()),
    sa.column("meeting_time", sa.Time()),
    sa.column("reminder_leads", sa.JSON()),
    sa.column("leaderboard_on", sa.Boolean()),
    sa.column("leaderboard_weekday", sa.Integer()),
    sa.column("leaderboard_time", sa.Time()),
    sa.column("milestones", sa.JSON()),
)
_STRINGS = sa.table(
    "groups",
    sa.column("id", sa.Integer()),
    sa.column("meeting_text", sa.String()),
    sa.column("reminder_text", sa.String()),
    sa.column("leaderboard_schedule", sa.String()),
    sa.column("milestone_text", sa.String()),
)


def _strings(row: Any) -> dict[str, Any]:
    if not row.leaderboard_on:
        schedule = "off"
    elif row.leaderboard_weekday is None or row.leaderboard_time is None:
        schedule = "auto"
    else:
        schedule = f"{row.leaderboard_weekday} {row.leaderboard_time:%H:%M}"
    return {
        "meeting_text": None if row.meeting_time is None else f"{row.meeting_time:%H:%M}",
        "reminder_text": ",".join(str(m) for m in row.reminder_leads or []),
        "leaderboard_schedule": schedule,
        "milestone_text": ",".join(str(a) for a in row.milestones or []),
    }


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_text", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("reminder_text", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("leaderboard_schedule", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("milestone_text", sa.String(length=400), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.select(_TYPED)).all():
        bind.execute(sa.update(_STRINGS).where(_STRINGS.c.id == row.id).values(**_strings(row)))
    with op.batch_alter_table("groups", schema=None) as batch_op:
        for name in ("meeting_time", "reminder_leads", "leaderboard_on", "leaderboard_weekday",
                     "leaderboard_time", "milestones"):  # fmt: skip
            batch_op.drop_column(name)
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.alter_column("meeting_text", new_column_name="meeting_time")
        batch_op.alter_column("reminder_text", new_column_name="reminder_leads", nullable=False,
                              existing_type=sa.String(length=200))  # fmt: skip
        batch_op.alter_column("leaderboard_schedule", nullable=False,
                              existing_type=sa.String(length=16))  # fmt: skip
        batch_op.alter_column("milestone_text", new_column_name="milestones", nullable=False,
                              existing_type=sa.String(length=400))  # fmt: skip
    op.drop_index("ix_post_schedule_due", table_name="post_schedule")
    op.drop_table("post_schedule")
