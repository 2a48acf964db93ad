"""Telegram updates as the core's `Incoming`: commands, addressees, mentions at UTF-16
offsets, private chats and senders the bot cannot know."""

from __future__ import annotations

import pytest
from telegram import Bot, Update

from adapters.telegram.incoming import command_line, delivery_id, incoming, speaker_unknown
from bot.messages import Platform
from tests.adapters.telegram_updates import (
    ALICE,
    BOB,
    CAROL,
    GROUP_ID,
    Person,
    anonymous_admin,
    command,
    private_command,
)

BOT = "ReferralTestBot"


def message_of(raw: dict[str, object]):  # type: ignore[no-untyped-def]
    message = Update.de_json(raw, Bot("1:x")).effective_message
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/balance", "/balance"),
        ("/Balance month", "/balance month"),
        (f"/balance@{BOT} month", "/balance month"),
        (f"/balance@{BOT.lower()}", "/balance"),
        ("/refer @bobby_b Jane Roe, 555-0100 hot", "/refer @bobby_b Jane Roe, 555-0100 hot"),
        ("/thanks 🎉🎉 @bobby_b $500 kitchen", "/thanks 🎉🎉 @bobby_b $500 kitchen"),
    ],
)
def test_the_command_as_the_core_reads_it(typed: str, expected: str) -> None:
    line = command_line(message_of(command(ALICE, typed)), BOT)
    assert line is not None and line.text == expected and line.mentioned == {}


@pytest.mark.parametrize("typed", ["/balance@OtherBot", "hello /balance", "just talking"])
def test_not_a_command_of_ours(typed: str) -> None:
    assert command_line(message_of(command(ALICE, typed)), BOT) is None


def test_a_text_mention_after_emoji_becomes_the_users_id() -> None:
    raw = command(ALICE, "/refer 👩‍🔧 Carol Jane Roe, 555-0100 🏠 warm",
                  text_mentions={"Carol": CAROL})  # fmt: skip
    line = command_line(message_of(raw), BOT)
    assert line is not None
    assert line.text == f"/refer 👩‍🔧 <@{CAROL.id}> Jane Roe, 555-0100 🏠 warm"
    assert line.mentioned == {str(CAROL.id): "Carol"}


def test_a_bot_mentioned_by_name_is_no_member() -> None:
    helper = Person(999, "Helper", is_bot=True)
    line = command_line(message_of(command(ALICE, "/thanks Helper 5", text_mentions={
        "Helper": helper})), BOT)  # fmt: skip
    assert line is not None and line.text == "/thanks @Helper 5" and line.mentioned == {}


def test_group_and_private_chats_and_the_delivery_id() -> None:
    raw = command(BOB, "/balance")
    message = message_of(raw)
    line = command_line(message, BOT)
    assert line is not None
    found = incoming(message, line, 123456, raw["update_id"], is_admin=True)
    assert found.chat.platform is Platform.TELEGRAM
    assert (found.chat.chat_id, found.chat.is_private, found.chat.title) == (
        str(GROUP_ID), False, "Chapter")  # fmt: skip
    assert (found.sender.user_id, found.sender.name, found.sender.username) == (
        str(BOB.id), "Bob", "bobby_b")  # fmt: skip
    assert found.sender.is_admin
    assert found.delivery_id == delivery_id(123456, raw["update_id"])

    private = message_of(private_command(ALICE, "/balance"))
    line = command_line(private, BOT)
    assert line is not None
    found = incoming(private, line, 123456, 1, is_admin=False)
    assert found.chat.is_private and found.chat.chat_id == str(ALICE.id)
    assert found.sender.name == "Alice Archer"


def test_an_anonymous_admin_is_not_a_known_speaker() -> None:
    assert speaker_unknown(message_of(anonymous_admin("/thanks @bobby_b 500")))
    assert not speaker_unknown(message_of(command(ALICE, "/balance")))
