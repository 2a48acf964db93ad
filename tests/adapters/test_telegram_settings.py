"""Telegram's webhook settings: a webhook without a secret, a secret Telegram would refuse,
or an address that is not https is one line at start-up and exit 2, never a weaker mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from tests.adapters.bot_process import bot_env, free_port, listening, start_bot

TOKEN = "123:ABC"
URL = "https://bot.example/telegram/webhook"


async def test_a_webhook_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(tmp_path, port, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_URL=URL)
    process = await start_bot(tmp_path, env)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        up_meanwhile = listening(port)
    finally:
        if process.returncode is None:  # it started: the bug this test is about
            process.kill()
            await process.wait()

    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("referral-bot: TELEGRAM_WEBHOOK_URL is set without "
                               "TELEGRAM_WEBHOOK_SECRET")  # fmt: skip
    assert not up_meanwhile


def _problem(**values: Any) -> str | None:
    try:
        Settings(_env_file=None, telegram_bot_token=TOKEN, **values)  # type: ignore[call-arg]
    except ValidationError as error:
        (only,) = error.errors()
        return str(only["msg"])
    return None


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (dict(telegram_webhook_url=URL), "set without TELEGRAM_WEBHOOK_SECRET"),
        (dict(telegram_webhook_url=URL, telegram_webhook_secret="has space"),
         "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 of A-Z a-z 0-9 _ -"),
        (dict(telegram_webhook_url=URL, telegram_webhook_secret="sécret"), "must be 1 to 256"),
        (dict(telegram_webhook_url=URL, telegram_webhook_secret="a" * 257), "must be 1 to 256"),
        (dict(telegram_webhook_url="http://bot.example/telegram/webhook",
              telegram_webhook_secret="s3cret"), "must be an https:// address"),
        (dict(telegram_webhook_url="bot.example/hook", telegram_webhook_secret="s3cret"),
         "must be an https:// address"),
        (dict(telegram_webhook_url="https:///hook", telegram_webhook_secret="s3cret"),
         "must be an https:// address"),
    ],
)  # fmt: skip
def test_what_is_refused(values: dict[str, str], words: str) -> None:
    problem = _problem(**values)

    assert problem is not None and words in problem
    assert "has space" not in problem and "sécret" not in problem  # never the secret's value


@pytest.mark.parametrize(
    "values",
    [
        {},  # long polling
        dict(telegram_webhook_url=URL, telegram_webhook_secret="s3cret-Token_1"),
        dict(telegram_webhook_url=URL, telegram_webhook_secret="a" * 256),
        dict(telegram_webhook_url=URL, telegram_webhook_secret="x"),
    ],
)
def test_whole_modes_are_accepted(values: dict[str, str]) -> None:
    assert _problem(**values) is None
