"""Real time, a real process: a weekly leaderboard set a few seconds ahead reaches the fake
Telegram API once, its chart included; the process killed (-9) before the post was
delivered and started again delivers it, still once."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import asyncio
import io
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import text

from storage.database import Database
from tests.adapters.bot_process import bot_env, free_port, start_bot
from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.telegram_harness import telegram  # noqa: F401
from tests.adapters.telegram_updates import ALICE, BOB, GROUP_ID, command


def photos(telegram: FakeTelegram) -> list[dict[str, object]]:
    """The photos the fake API accepted in the group."""
    return [m for (chat, _), m in telegram.messages.items() if chat == GROUP_ID and "photo" in m]


async def set_leaderboard(db_path: Path, at: datetime) -> None:
    """What `/settings leaderboard` stores, to the second, in the group's own timezone."""
    db = Database(f"sqlite:///{db_path}")
    try:
        async with db.engine.begin() as conn:
            zone = (await conn.execute(text("SELECT timezone FROM groups"))).scalar_one()
            local = at.astimezone(ZoneInfo(zone))
            await conn.execute(
                text("UPDATE groups SET leaderboard_on = true, leaderboard_weekday = :d, "
                     "leaderboard_time = :t"),
                {"d": local.weekday(), "t": local.strftime("%H:%M:%S.000000")},
            )  # fmt: skip
            await conn.execute(text("UPDATE post_schedule SET due_at = :at WHERE kind = :k"),
                               {"at": at.replace(tzinfo=None), "k": "leaderboard"})  # fmt: skip
    finally:
        await db.dispose()


async def wait_until(condition: object, seconds: float) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_a_leaderboard_a_few_seconds_ahead_is_posted_once_across_kill_9(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = bot_env(tmp_path, free_port(), TELEGRAM_BOT_TOKEN=telegram.token,
                  TELEGRAM_API_URL=telegram.base_url, SCHEDULER_TICK_SECONDS="1")  # fmt: skip
    for update in (command(ALICE, "/join Plumber"), command(BOB, "/join Electrician"),
                   command(ALICE, "/refer @bob Jane Roe, 555-0100, new roof hot"),
                   command(ALICE, "/meeting set monday 07:00")):  # fmt: skip
        telegram.push_update(update)
    process = await start_bot(tmp_path, env)
    try:
        assert await wait_until(lambda: len(telegram.calls_to("sendMessage")) >= 5, 30)
        process.send_signal(signal.SIGTERM)  # (SQLite: one writer; the test writes next)
        await process.wait()
        telegram.fail("sendPhoto", 500)  # the first attempt fails: the post stays pending
        await set_leaderboard(tmp_path / "bot.db", datetime.now(UTC) + timedelta(seconds=6))
        process = await start_bot(tmp_path, env)
        await telegram.wait_for("sendPhoto", 1, seconds=30)
        process.send_signal(signal.SIGKILL)  # before the retry: the post is in the outbox
        await process.wait()
        assert photos(telegram) == []

        process = await start_bot(tmp_path, env)
        # the outbox retries after the lease of the killed process (60 s) at the latest
        assert await wait_until(lambda: photos(telegram), 90)
        await asyncio.sleep(3)  # a few more ticks: nothing claimed or sent again
    finally:
        if process.returncode is None:
            process.kill()
        _, stderr = await process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-3000:]

    [post] = photos(telegram)
    assert "Weekly leaderboard" in str(post["caption"]) and "Alice" in str(post["caption"])
    assert "Jane Roe" not in str(post["caption"])
    png = telegram.calls_to("sendPhoto")[-1].args["photo"]
    assert isinstance(png, bytes)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 600
    described = image.text["Description"]  # type: ignore[attr-defined]
    assert described == "Alice Archer: 1 this week, 1 this quarter"
