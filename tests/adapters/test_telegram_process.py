"""`referral-bot` with only TELEGRAM_BOT_TOKEN set: long polling, no public address needed;
SIGTERM ends it cleanly, with what it processed confirmed."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.telegram_harness import telegram  # noqa: F401
from tests.adapters.telegram_updates import ALICE, command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_only_a_token_starts_polling(telegram: FakeTelegram, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))
    } | {
        "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.base_url,
        "PORT": "0", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    join = command(ALICE, "/join Plumber")
    telegram.push_update(join)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await telegram.wait_for("sendMessage", 2, seconds=20)  # the answer and the welcome
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()
    assert telegram.calls_to("deleteWebhook") and not telegram.calls_to("setWebhook")
    last_offset = telegram.calls_to("getUpdates")[-1].args.get("offset")
    assert int(last_offset) == join["update_id"] + 1
