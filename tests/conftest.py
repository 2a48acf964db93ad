"""Shared fixtures: a real database (a temp SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), the core on it, and a chat that talks to the core."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.messages import ChatRef, Incoming, Platform, Reply, Sender
from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
# python-telegram-bot's time periods as timedelta (its v22.2 opt-in, the default from v23),
# as the Telegram adapter's wiring sets it.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With REQUIRE_POSTGRES=1 (CI), PostgreSQL must be configured and answering."""
    if os.environ.get("REQUIRE_POSTGRES") != "1":
        return
    if not POSTGRES_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
    import asyncio

    async def ping() -> bool:
        database = Database(POSTGRES_URL)
        try:
            return await database.ping()
        finally:
            await database.dispose()

    if not asyncio.run(ping()):
        raise pytest.UsageError(f"PostgreSQL at {POSTGRES_URL} does not answer")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords and not POSTGRES_URL:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 only; slack_sdk and aiohttp would honour a proxy variable."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


async def _reset_postgres(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.dispose()


def database_urls() -> list[str]:
    return ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=database_urls())
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: SQLite always, PostgreSQL too when configured."""
    if request.param == "postgres":
        assert POSTGRES_URL
        await _reset_postgres(POSTGRES_URL)
        database = Database(POSTGRES_URL)
    else:
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def pg_db() -> AsyncIterator[Database]:
    """PostgreSQL only (tests marked `postgres`)."""
    assert POSTGRES_URL
    await _reset_postgres(POSTGRES_URL)
    database = Database(POSTGRES_URL)
    await upgrade(database)
    yield database
    await database.dispose()


@dataclass
class Clock:
    """A settable clock for the core."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def core(db: Database, clock: Clock) -> Core:
    return Core(db, GroupDefaults(timezone="UTC", currency="USD"), clock=clock)


_ids = itertools.count(1)


@dataclass
class Chat:
    """One group chat on the console platform: `await chat.say("alice", "/balance")`."""

    core: Core
    chat_id: str = "chapter"
    platform: Platform = Platform.CONSOLE
    admins: set[str] = field(default_factory=set)

    def incoming(self, who: str, text: str, delivery_id: str | None = None,
                 private: bool = False) -> Incoming:  # fmt: skip
        chat = ChatRef(self.platform, self.chat_id if not private else f"dm-{who}",
                       is_private=private, title=self.chat_id)  # fmt: skip
        sender = Sender(who, who.capitalize(), username=who, is_admin=who in self.admins)
        return Incoming(chat, sender, text, delivery_id or f"d{next(_ids)}-{uuid.uuid4().hex}")

    async def say(self, who: str, text: str, **kwargs: object) -> list[Reply]:
        return await self.core.handle(self.incoming(who, text, **kwargs))  # type: ignore[arg-type]

    async def text(self, who: str, text: str, **kwargs: object) -> str:
        """The whole answer as one string (text, section titles and lines)."""
        replies = await self.say(who, text, **kwargs)
        return "\n".join(
            "\n".join([r.text, *(f"{s.title}\n" + "\n".join(s.lines) for s in r.sections)])
            for r in replies
        )


@pytest.fixture
def chat(core: Core) -> Chat:
    return Chat(core)


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
