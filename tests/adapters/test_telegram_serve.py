"""One process serves Slack and Telegram side by side: one HTTP server, one database."""

# ruff: noqa: F811  (fixtures are imported from the harnesses)

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from app.serve import serve
from bot.settings import Settings
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.slack_harness import MARKS, TOKEN, slack  # noqa: F401
from tests.adapters.slack_requests import SIGNING_SECRET, slash_command
from tests.adapters.telegram_harness import SECRET, WEBHOOK_URL, telegram  # noqa: F401
from tests.adapters.telegram_updates import ALICE, GROUP_ID, command

pytestmark = MARKS


async def test_slack_and_telegram_in_one_process(
    slack: FakeSlack, telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}", port=0,
        slack_bot_token=TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.base_url,
        telegram_bot_token=telegram.token, telegram_api_url=telegram.base_url,
        telegram_webhook_url=WEBHOOK_URL, telegram_webhook_secret=SECRET,
    )  # fmt: skip
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, on_ready=port.set_result))
    base = f"http://127.0.0.1:{await asyncio.wait_for(port, 10)}"
    async with httpx.AsyncClient(base_url=base) as http:
        request = slash_command("/joingroup", "Plumber")
        on_slack = await http.post("/slack/events", content=request.body, headers=request.headers)
        on_telegram = await http.post(
            "/telegram/webhook", json=command(ALICE, "/join Plumber"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )  # fmt: skip
    await telegram.wait_for("sendMessage", 2)  # the answer, then the group's welcome
    await slack.wait_for("chat.postMessage", 1)
    stop.set()
    await asyncio.wait_for(task, 15)

    assert on_slack.status_code == 200 and "Welcome" in on_slack.json()["text"]
    assert on_telegram.status_code == 200
    chats = {int(call.args["chat_id"]) for call in telegram.calls_to("sendMessage")}
    assert chats == {ALICE.id, GROUP_ID}
    assert telegram.webhook["url"] == WEBHOOK_URL
