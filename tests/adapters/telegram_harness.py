"""The Telegram adapter under test: FakeTelegram as the Bot API, the real python-telegram-bot
`Application` behind the project's ASGI app, a real database; updates go in over HTTP to
the webhook (httpx's ASGI transport), exactly as Telegram posts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.http import create_http_app
from adapters.telegram.app import SECRET_HEADER, WEBHOOK_PATH, TelegramPlatform
from adapters.telegram.transport import TelegramTransport
from bot.delivery import Deliverer
from bot.service import Core, GroupDefaults
from bot.settings import Settings
from storage.database import Database
from tests.adapters.fake_telegram import FakeTelegram, JsonDict, visible_text

SECRET = "s3cret-Token_1"
WEBHOOK_URL = "https://bot.example/telegram/webhook"


def telegram_settings(telegram: FakeTelegram, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url, telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url, telegram_webhook_url=WEBHOOK_URL,
        telegram_webhook_secret=SECRET,
    )  # fmt: skip
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Harness:
    telegram: FakeTelegram
    db: Database
    core: Core
    platform: TelegramPlatform
    http: httpx.AsyncClient

    async def post(self, update: JsonDict, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.http.post(WEBHOOK_PATH, json=update, headers=headers)

    async def send(self, update: JsonDict) -> None:
        response = await self.post(update)
        assert response.status_code == 200, response.text

    async def deliver(self) -> int:
        """Run the outbox until nothing is due; how many rows were settled."""
        unpaced = TelegramTransport(self.platform.bot, on_migrated=self.platform.move_chat,
                                    private_interval=0.0, group_interval=0.0,
                                    overall_rate=None)  # fmt: skip
        deliverer = Deliverer(self.db, [unpaced])
        total = 0
        while settled := await deliverer.run_once():
            total += settled
        return total

    def texts_to(self, chat_id: int) -> list[str]:
        """What a member of `chat_id` sees there: each message's text, without markup."""
        return [visible_text(str(a.get("text") or a.get("caption") or ""))
                for a in self.telegram.sent_to(chat_id)]  # fmt: skip

    def received(self, chat_id: int) -> list[str]:
        """What `chat_id` really got (sends Telegram refused left out), in order."""
        got = sorted((key, m) for key, m in self.telegram.messages.items() if key[0] == chat_id)
        return [str(m.get("text") or m.get("caption") or "") for _, m in got]

    def last_to(self, chat_id: int) -> str:
        texts = self.texts_to(chat_id)
        assert texts, f"nothing was sent to {chat_id}"
        return texts[-1]

    async def answer_to(self, chat_id: int) -> str:
        """The last message `chat_id` got once the outbox delivered what was due (a command's
        answer from a group arrives this way)."""
        await self.deliver()
        return self.last_to(chat_id)


async def open_harness(
    telegram: FakeTelegram, db: Database, **overrides: Any
) -> AsyncIterator[Harness]:
    settings = telegram_settings(telegram, "sqlite://", **overrides)
    core = Core(db, GroupDefaults("UTC", "USD"))
    platform = TelegramPlatform(settings, db, core, lambda: None)
    await platform.start()
    transport = httpx.ASGITransport(app=create_http_app(db, platform.routes))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Harness(telegram, db, core, platform, http)
    finally:
        await platform.stop()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def tg(telegram: FakeTelegram, db: Database) -> AsyncIterator[Harness]:
    async for harness in open_harness(telegram, db):
        yield harness
