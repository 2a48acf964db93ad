"""Forum supergroups: the group's notices of a command go to the topic it came from.

The updates are Telegram's own for a message in a forum topic: the chat `is_forum`, the
message `is_topic_message` with its `message_thread_id`, replying to the topic's
creation message."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.adapters.fake_telegram import JsonDict
from tests.adapters.telegram_harness import Harness, telegram, tg  # noqa: F401
from tests.adapters.telegram_updates import ALICE, BOB, GROUP_ID, chat_json, command

pytestmark = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]
TOPIC = 77  # the topic's thread id: the id of the message that created it


def in_topic(sender: Any, text: str, topic: int = TOPIC) -> JsonDict:
    """A command sent in a forum topic, as Telegram delivers it."""
    update = command(sender, text, thread_id=topic)
    update["message"]["reply_to_message"] = {
        "message_id": topic, "date": int(time.time()) - 3600, "from": ALICE.json(),
        "chat": chat_json(GROUP_ID, forum=True), "message_thread_id": topic,
        "forum_topic_created": {"name": "Referrals", "icon_color": 7322096},
        "is_topic_message": True,
    }  # fmt: skip
    return update


def group_posts(tg: Harness) -> list[tuple[str, object]]:
    """(text, its topic) of what the bot posted in the group chat."""
    return [(str(call.args.get("text", "")), call.args.get("message_thread_id"))
            for call in tg.telegram.calls_to("sendMessage")
            if str(call.args.get("chat_id")) == str(GROUP_ID)]  # fmt: skip


async def test_a_commands_notices_go_to_its_topic(tg: Harness) -> None:
    await tg.send(in_topic(ALICE, "/join Plumber"))
    await tg.send(command(BOB, "/join Electrician"))  # in the chat's General
    await tg.deliver()
    await tg.send(in_topic(ALICE, "/refer @bobby_b Jane Roe, 555-0100, roof"))
    await tg.deliver()

    posts = group_posts(tg)
    welcome_alice, welcome_bob, referral = [p for p in posts if ("Welcome" in p[0] and
                                             "first referral" not in p[0]) or
                                             "passed a referral" in p[0]]  # fmt: skip
    assert str(welcome_alice[1]) == str(TOPIC) and "Alice" in welcome_alice[0]
    assert welcome_bob[1] is None
    assert "passed a referral to Bob" in referral[0] and str(referral[1]) == str(TOPIC)
    # the answers themselves stay private, never in a topic
    private = [c.args for c in tg.telegram.calls_to("sendMessage")
               if str(c.args.get("chat_id")) == str(ALICE.id)]  # fmt: skip
    assert private and all(a.get("message_thread_id") is None for a in private)
    assert "555-0100" not in "\n".join(text for text, _ in posts)


async def test_a_deleted_topic_gets_the_notice_in_general(tg: Harness) -> None:
    await tg.send(in_topic(ALICE, "/join Plumber"))
    await tg.deliver()
    await tg.send(in_topic(BOB, "/join Electrician", topic=79))
    tg.telegram.deleted_topics.add(79)  # deleted before the outbox got to it
    await tg.deliver()
    *_, refused, (text, topic) = group_posts(tg)
    assert str(refused[1]) == "79"
    assert "Welcome Bob" in text and topic is None  # sent again, in the chat's General
