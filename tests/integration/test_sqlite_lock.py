"""Another process holds SQLite's write lock: the loop goes on serving, the writes wait.

A second `sqlite3` connection on the file, in `BEGIN IMMEDIATE`, stands for another
process (the CLI's import, say). The server's writes wait for the lock with the loop free:
`/healthz` and the acks go on (a read in WAL mode never waits on a writer), and the writes
go through once the lock is released. (Before, the wait was SQLite's busy handler on the
loop's thread: everything stopped for up to the 30 s busy timeout.)
"""

# ruff: noqa: F811  (the fixture `slack` is imported from slack_harness)

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.slack.oauth import oauth_settings
from storage.database import Database
from storage.migrate import upgrade
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.slack_harness import MARKS, Harness, open_harness, slack  # noqa: F401

pytestmark = MARKS
BOUND = 0.1  # how long the test waits for an answer that takes milliseconds
MEANWHILE = 10  # answers asked for while the lock is held, a loop turn apart or more


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'locked.db'}")
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def bot(slack: FakeSlack, sqlite_db: Database) -> AsyncIterator[Harness]:
    async for harness in open_harness(slack, sqlite_db):
        yield harness


@contextlib.contextmanager
def held_elsewhere(db: Database) -> Iterator[None]:
    """SQLite's write lock, taken by a connection of its own as another process would."""
    other = sqlite3.connect(make_url(db.url).database or "", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def healthz_meanwhile(bot: Harness) -> None:
    """/healthz, time and again, each answered within BOUND seconds (the loop is free)."""
    for _ in range(MEANWHILE):
        health = await asyncio.wait_for(bot.http.get("/healthz"), BOUND)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        await asyncio.sleep(0.01)


async def test_healthz_answers_while_another_process_holds_the_write_lock(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber", user_id="U1")
    with held_elsewhere(bot.db):
        refer = asyncio.ensure_future(bot.answer("/refer", "<@U1> Jane Roe, 555-0100, roof",
                                                 user_id="U3"))  # fmt: skip
        reader = asyncio.ensure_future(bot.answer("/balance", user_id="U1"))
        newcomer = asyncio.ensure_future(bot.answer("/balance", user_id="U2"))
        await healthz_meanwhile(bot)
        # the write waits for the lock; reading (a newcomer's too: it records nothing) does not
        assert not refer.done() and reader.done() and newcomer.done()
    assert "Referral #1 to Alice" in await refer
    assert "0 given" in await reader
    assert "/joingroup" in await newcomer
    assert "1 given" in await bot.answer("/balance", user_id="U3")


async def test_an_oauth_store_write_waits_for_the_lock_with_the_loop_free(
    slack: FakeSlack, sqlite_db: Database
) -> None:
    oauth = dict(slack_bot_token=None, slack_client_id="111.222", slack_client_secret="s3cret")
    async for bot in open_harness(slack, sqlite_db, **oauth):
        states = oauth_settings(bot.settings, sqlite_db).state_store
        with held_elsewhere(sqlite_db):
            issued = asyncio.ensure_future(states.async_issue())
            await healthz_meanwhile(bot)
            assert not issued.done()
        assert await states.async_consume(await issued)
