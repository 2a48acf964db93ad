"""Telegram's limits paced in one place, the outbox: 1 a second per private chat, 20 a
minute per group, and 30 a second in all, here a burst across 40 chats sent by the
platform's own transport to the fake Bot API."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.telegram.transport import OVERALL_RATE
from bot.delivery import Deliverer, chat_key
from bot.messages import to_group
from storage import outbox
from storage.database import Database
from storage.tables import Group
from tests.adapters.telegram_harness import Harness, telegram, tg  # noqa: F401

pytestmark = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def burst(db: Database, chats: int) -> None:
    """One notice queued in each of `chats` Telegram groups at the same moment."""
    async with db.transaction() as session:
        groups = [Group(platform="telegram", chat_id=str(-1000 - i), name=f"g{i}",
                        timezone="UTC", currency="USD", created_at=NOW)
                  for i in range(chats)]  # fmt: skip
        session.add_all(groups)
        await session.flush()
    for group in groups:
        message = outbox.Message(to_group(f"notice {group.name}").to_json(), None, None)
        await db.run(lambda unit, g=group, m=message: outbox.enqueue(unit, g, [m], NOW))


async def test_a_burst_across_40_chats_keeps_to_30_a_second(tg: Harness) -> None:
    assert tg.platform.transport.overall_rate == OVERALL_RATE == 25.0  # below Telegram's 30
    await burst(tg.db, 40)
    deliverer = Deliverer(tg.db, [tg.platform.transport])  # the wiring's own transport

    assert await deliverer.run_once() == 40  # one row per chat: all claimed at once
    times = sorted(call.at for call in tg.telegram.calls_to("sendMessage"))
    assert len(times) == 40
    # never 31 sends within a second (a little slack for the HTTP hop's jitter)
    windows = [later - first for first, later in zip(times, times[30:], strict=False)]
    assert min(windows) >= 0.9, min(windows)
    assert times[-1] - times[0] >= 39 / OVERALL_RATE * 0.9


async def test_the_pacing_per_chat_stands_beside_it(tg: Harness) -> None:
    transport = tg.platform.transport
    assert transport.min_interval(chat_key("", "-100", None)) == 3.0  # 20 a minute per group
    assert transport.min_interval(chat_key("", "-100", "42")) == 1.0  # 1 a second per chat
