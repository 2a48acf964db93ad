"""Mentions, messages in the bot's DM and App Home through the Events API, processed before
the 200, once per event."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.tables import Thanks
from tests.adapters.slack_harness import (  # noqa: F401
    MARKS,
    Harness,
    blocks_text,
    bot,
    slack,
    view_of,
)
from tests.adapters.slack_requests import (
    app_home_opened_event,
    app_mention_event,
    message_event,
)

pytestmark = MARKS


async def _thanks(bot: Harness) -> list[Thanks]:
    async with bot.db.transaction() as session:
        return list((await session.exec(select(Thanks))).all())


@pytest.mark.parametrize("bot_mention", ["<@UBOT>", "<@UBOT|referral-bot>"])
@pytest.mark.parametrize("member", ["<@U2>", "<@U2|bob>"])
async def test_a_mention_runs_the_command_and_answers_ephemerally(
    bot: Harness, bot_mention: str, member: str
) -> None:
    response = await bot.post(app_mention_event(f"{bot_mention} thanks {member} 250 great job"))

    assert response.status_code == 200
    # processed before the 200: the answer was already posted when the response came back
    (answer,) = bot.slack.calls_to("chat.postEphemeral")
    assert answer.args["user"] == "U1"
    assert answer.args["channel"] == "C1"
    assert "Thanks to Bob Baker recorded" in blocks_text(answer.args["blocks"])
    assert len(await _thanks(bot)) == 1


async def test_a_mention_with_a_slash_works_too(bot: Harness) -> None:
    await bot.post(app_mention_event("<@UBOT> /joingroup Plumber", event_id="EvJ"))
    await bot.post(app_mention_event("<@UBOT> /balance", event_id="EvB"))

    (_, answer) = bot.slack.calls_to("chat.postEphemeral")
    assert "Balance of Alice" in blocks_text(answer.args["blocks"])


@pytest.mark.parametrize("words", ["joingroup Plumber", "join Plumber", "/joingroup Plumber"])
async def test_a_mention_takes_the_slack_names_too(bot: Harness, words: str) -> None:
    await bot.post(app_mention_event(f"<@UBOT> {words}", event_id="EvN"))

    (answer,) = bot.slack.calls_to("chat.postEphemeral")
    assert "Classification: Plumber" in blocks_text(answer.args["blocks"])


async def test_a_mention_is_stored_as_the_member_typed_it(bot: Harness) -> None:
    # Slack sends "&", "<", ">" as entities and links and channels as markup.
    text = ("<@UBOT> thanks <@U2> 250 R&amp;D intro &lt;3 via <#C9|sales>, "
            "<mailto:jo@acme.com|jo@acme.com>, <https://acme.com|acme.com>")  # fmt: skip
    await bot.post(app_mention_event(text, event_id="EvT"))

    (thanks,) = await _thanks(bot)
    assert thanks.note == "R&D intro <3 via #sales, jo@acme.com, acme.com"


async def test_the_group_is_named_after_the_channel(bot: Harness) -> None:
    await bot.post(app_mention_event("<@UBOT> join Plumber", event_id="EvJ"))
    await bot.post(app_mention_event("<@UBOT> settings", event_id="EvS"))

    (info,) = bot.slack.calls_to("conversations.info")
    assert info.args["channel"] == "C1"
    assert "chapter" in blocks_text(bot.slack.calls_to("chat.postEphemeral")[1].args["blocks"])


async def test_a_retried_event_records_once(bot: Harness) -> None:
    text = "<@UBOT> thanks <@U2> 250"
    first = await bot.post(app_mention_event(text, event_id="EvR"))
    retry = await bot.post(app_mention_event(text, event_id="EvR", retry_num=1))
    again = await bot.post(app_mention_event(text, event_id="EvR", retry_num=2))

    assert first.status_code == retry.status_code == again.status_code == 200
    assert len(await _thanks(bot)) == 1
    answers = [blocks_text(c.args["blocks"]) for c in bot.slack.calls_to("chat.postEphemeral")]
    assert len(set(answers)) == 1  # the retry gets the stored answer
    await bot.deliver()
    assert len(bot.posts("C1")) == 1


async def test_app_home_shows_balance_referrals_and_leaderboard(bot: Harness) -> None:
    await bot.command("/refer", "<@U1> Acme, 555-1, roof", user_id="U2", user_name="bob")

    response = await bot.post(app_home_opened_event("U1"))

    assert response.status_code == 200
    (publish,) = bot.slack.calls_to("views.publish")
    assert publish.args["user_id"] == "U1"
    view = view_of(publish.args)
    assert view["type"] == "home"
    text = blocks_text(view["blocks"])
    assert "Alice" in text  # the balance
    assert "#1" in text and "Acme" in text  # the open referral, with its buttons
    assert "[Contacted #1: ~s:" in text  # a button that names its group and referral
    assert len(view["blocks"]) <= 100


async def test_app_home_for_someone_in_no_group_says_how_to_join(bot: Harness) -> None:
    await bot.post(app_home_opened_event("U3"))

    view = view_of(bot.slack.calls_to("views.publish")[0].args)
    text = blocks_text(view["blocks"])
    assert "/join" in text
    assert text.count("/join") == 1  # the same answer once, not three times


async def test_the_messages_tab_is_ignored(bot: Harness) -> None:
    response = await bot.post(app_home_opened_event("U1", tab="messages"))

    assert response.status_code == 200
    assert bot.slack.calls_to("views.publish") == []


def _dm_answers(bot: Harness, channel: str = "DU1") -> list[str]:
    return [blocks_text(call.args["blocks"]) for call in bot.slack.calls_to("chat.postMessage")
            if call.args["channel"] == channel]  # fmt: skip


@pytest.mark.parametrize("text", ["balance", "Balance", "/balance", "<@UBOT> balance"])
async def test_a_command_typed_in_the_bots_dm_is_answered_there(bot: Harness, text: str) -> None:
    await bot.command("/joingroup", "Plumber")  # alice is in exactly one group

    response = await bot.post(message_event(text))

    assert response.status_code == 200
    (answer,) = _dm_answers(bot)  # posted before the 200, as a message in the DM
    assert "Alice" in answer and "given" in answer
    assert bot.slack.calls_to("chat.postEphemeral") == []


async def test_a_thanks_typed_in_the_dm_records_once_per_event(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")
    text = "thanks <@U2> 250 kitchen job"

    first = await bot.post(message_event(text, event_id="EvM"))
    retry = await bot.post(message_event(text, event_id="EvM", retry_num=1))

    assert first.status_code == retry.status_code == 200
    (thanks,) = await _thanks(bot)
    assert thanks.amount == 250 and thanks.note == "kitchen job"
    first_answer, retried_answer = _dm_answers(bot)
    assert "Thanks to Bob Baker recorded" in first_answer
    assert retried_answer == first_answer  # the stored answer, nothing recorded again
    await bot.deliver()
    assert len(bot.posts("C1")) == 2  # alice's welcome and the thanks, once


async def test_a_bad_command_in_the_dm_gets_the_right_form(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")

    await bot.post(message_event("thanks nobody"))

    (answer,) = _dm_answers(bot)
    assert "/thanks @member [amount] [note]" in answer
    assert await _thanks(bot) == []


@pytest.mark.parametrize(
    "request_kwargs",
    [
        dict(subtype="message_changed"),
        dict(subtype="bot_message", bot_id="BBOT"),
        dict(bot_id="BBOT", user="UBOT"),  # the bot's own post in the DM
        dict(channel="C1", channel_type="channel"),  # not the bot's DM
        dict(text="  "),
    ],
)
async def test_other_messages_are_acknowledged_and_ignored(
    bot: Harness, request_kwargs: dict[str, str]
) -> None:
    response = await bot.post(message_event(**{"text": "balance", **request_kwargs}))

    assert response.status_code == 200
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("chat.postEphemeral") == []
