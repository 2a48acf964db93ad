"""PostgreSQL restarts or a proxy drops connections: the next command still goes through."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.service import Core, GroupDefaults
from storage.database import Database
from tests.conftest import POSTGRES_URL, Chat

pytestmark = pytest.mark.postgres


async def _drop_other_connections() -> int:
    assert POSTGRES_URL
    killer = Database(POSTGRES_URL)
    try:
        async with killer.engine.begin() as conn:
            result = await conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))  # fmt: skip
            return int(result.scalar_one())
    finally:
        await killer.dispose()


async def test_a_dead_pooled_connection_costs_no_command(pg_db: Database) -> None:
    chat = Chat(Core(pg_db, GroupDefaults()))
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    assert await _drop_other_connections() >= 1
    answer = await chat.text("alice", "/refer @bob Jane Roe, 555-0100, roof")
    assert "Referral #1 to Bob recorded" in answer
    assert "1 given" in await chat.text("alice", "/balance")
