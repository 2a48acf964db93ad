"""FakeTelegram answers python-telegram-bot's real `Bot` as the Bot API does, and the
updates of `telegram_updates` parse as real ones (entities at UTF-16 offsets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageEntityType
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from tests.adapters.fake_telegram import FakeTelegram, html_error
from tests.adapters.telegram_updates import ALICE, BOB, CAROL, GROUP_ID, command


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=telegram.base_url) as real:
        yield real


async def test_messages_and_photos_are_recorded(telegram: FakeTelegram, bot: Bot) -> None:
    assert bot.username == telegram.bot_username  # getMe at initialize
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Won", callback_data="r:1:won")]])
    sent = await bot.send_message(GROUP_ID, "<b>Alice</b> &amp; Bob", parse_mode="HTML",
                                  reply_markup=keyboard)  # fmt: skip
    await bot.send_photo(GROUP_ID, b"\x89PNG\r\n", caption="<i>week</i>", parse_mode="HTML")

    assert sent.text == "Alice & Bob"
    assert sent.reply_markup == keyboard
    first, photo = telegram.sent_to(GROUP_ID)
    assert first["text"] == "<b>Alice</b> &amp; Bob"
    assert first["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "r:1:won"
    assert photo["photo"] == b"\x89PNG\r\n"


@pytest.mark.parametrize(
    "text",
    ["<script>x</script>", "<b>open", "a < b", "Tom & Jerry", "<b><i>x</b></i>", "&nbsp;"],
)
async def test_malformed_html_is_refused_as_telegram_does(bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(GROUP_ID, text, parse_mode="HTML")


def test_well_formed_html_passes() -> None:
    good = '<b>x</b> <a href="https://t.me/x">y</a> &lt;!channel&gt; &quot;q&quot; &#39;'
    assert html_error(good) is None


async def test_limits_of_text_and_buttons(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(GROUP_ID, "x" * 4097)
    await bot.send_message(GROUP_ID, "😀" * 2048)  # 4,096 UTF-16 code units
    too_big = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(GROUP_ID, "hi", reply_markup=too_big)


async def test_injected_failures(telegram: FakeTelegram, bot: Bot) -> None:
    telegram.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as rate:
        await bot.send_message(GROUP_ID, "hi")
    assert rate.value.retry_after == timedelta(seconds=7)  # PTB_TIMEDELTA (tests/conftest.py)
    telegram.blocked.add(BOB.id)
    with pytest.raises(Forbidden):
        await bot.send_message(BOB.id, "details")
    telegram.migrate(-42, GROUP_ID)
    with pytest.raises(ChatMigrated) as moved:
        await bot.send_message(-42, "hi")
    assert moved.value.new_chat_id == GROUP_ID
    await bot.send_message(GROUP_ID, "after the failures")


async def test_get_updates_confirms_by_offset(telegram: FakeTelegram, bot: Bot) -> None:
    first, second = command(ALICE, "/balance"), command(BOB, "/leaderboard week")
    telegram.push_update(first)
    telegram.push_update(second)

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    again = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert [u.update_id for u in again] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=0) == ()


async def test_entities_sit_at_utf16_offsets(bot: Bot) -> None:
    raw = command(ALICE, "/refer@ReferralTestBot 🎉 @bobby_b and Carol: roof hot",
                  text_mentions={"Carol": CAROL})  # fmt: skip
    message = Update.de_json(raw, bot).message
    assert message is not None
    parsed = {entity.type: text for entity, text in message.parse_entities().items()}
    assert parsed == {
        MessageEntityType.BOT_COMMAND: "/refer@ReferralTestBot",
        MessageEntityType.MENTION: "@bobby_b",
        MessageEntityType.TEXT_MENTION: "Carol",
    }


async def test_commands_and_webhook_are_kept(telegram: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://bot.example/telegram/webhook", secret_token="s3cret",
                          allowed_updates=["message", "callback_query"])  # fmt: skip
    await bot.set_my_commands([("balance", "Your balance")])
    assert telegram.webhook["secret_token"] == "s3cret"
    assert telegram.webhook["allowed_updates"] == ["message", "callback_query"]
    assert telegram.commands["default"] == [{"command": "balance", "description": "Your balance"}]
