"""Migration 0008 converts the string settings of existing groups into typed ones, and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage.database import Database
from storage.migrate import downgrade, upgrade
from storage.tables import Group
from tests.conftest import POSTGRES_URL, _reset_postgres, database_urls


@pytest.fixture(params=database_urls())
async def empty(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database (no migration applied yet)."""
    if request.param == "postgres":
        assert POSTGRES_URL
        await _reset_postgres(POSTGRES_URL)
        database = Database(POSTGRES_URL)
    else:
        database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    yield database
    await database.dispose()


OLD_GROUPS = [  # meeting_time, reminder_leads, leaderboard_schedule, milestones
    ("07:00", "1440,60", "auto", "1000,5000,10000,50000,100000"),
    (None, "", "off", ""),
    ("18:30", "2880,90", "4 16:00", "250.50"),
]


async def _insert_old(db: Database) -> None:
    async with db.engine.begin() as conn:
        for n, (clock, leads, board, marks) in enumerate(OLD_GROUPS, start=1):
            await conn.execute(text(
                "INSERT INTO groups (id, platform, workspace_id, chat_id, name, timezone, "
                "currency, created_at, next_referral_number, meeting_weekday, meeting_time, "
                "reminder_leads, leaderboard_schedule, recognition, nudges, milestones) VALUES "
                "(:id, 'console', '', :chat, :chat, 'UTC', 'USD', '2026-11-01 00:00:00', 1, "
                ":weekday, :clock, :leads, :board, true, true, :marks)"
            ), dict(id=n, chat=f"g{n}", weekday=3 if clock else None, clock=clock, leads=leads,
                    board=board, marks=marks))  # fmt: skip
            # rows that point at the group: rebuilding the groups table must keep them
            await conn.execute(text(
                "INSERT INTO members (id, group_id, platform_user_id, name, role, joined_at) "
                "VALUES (:id, :id, :user, :user, 'leader', '2026-11-01 00:00:00')"
            ), dict(id=n, user=f"u{n}"))  # fmt: skip


async def test_existing_groups_read_the_same_settings_typed_and_back(empty: Database) -> None:
    await upgrade(empty, "0004")
    await _insert_old(empty)
    await upgrade(empty)
    async with empty.transaction(write=False) as session:
        groups = (await session.exec(select(Group).order_by(Group.id))).all()
        typed = [(g.meeting_time, g.reminder_leads, g.leaderboard_on, g.leaderboard_weekday,
                  g.leaderboard_time, g.milestones) for g in groups]  # fmt: skip
    assert typed == [
        (time(7, 0), [1440, 60], True, None, None, ["1000", "5000", "10000", "50000", "100000"]),
        (None, [], False, None, None, []),
        (time(18, 30), [2880, 90], True, 4, time(16, 0), ["250.50"]),
    ]
    await downgrade(empty, "0004")
    async with empty.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT meeting_time, reminder_leads, leaderboard_schedule, milestones FROM groups "
            "ORDER BY id"
        ))).all()  # fmt: skip
    assert [tuple(r) for r in rows] == OLD_GROUPS
