"""Every command as a slash command, through bolt and the ASGI app, answered after commit."""

# ruff: noqa: F811  (the fixtures `slack` and `bot` are imported from slack_harness)

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.tables import Member, OutboxMessage, Referral
from tests.adapters.slack_harness import MARKS, Harness, blocks_text, bot, slack  # noqa: F401

pytestmark = MARKS


async def test_refer_answers_privately_after_commit(bot: Harness) -> None:
    response = await bot.command("/refer", "<@U2|bob> ACME Ltd, 555-1234, new roof hot")

    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "Referral #1 to Bob Baker recorded (hot)" in blocks_text(body["blocks"])
    assert "Referral #1" in body["text"]
    assert bot.slack.calls_to("chat.postMessage") == []  # notices wait for the outbox


async def test_slack_markup_in_a_command_is_stored_as_typed(bot: Harness) -> None:
    text = ("<@U2|bob> Smith &amp; Sons, <mailto:jo@smith.com|jo@smith.com>, "
            "<tel:5550100|555-0100>, see <https://smith.com|smith.com> hot")  # fmt: skip
    await bot.command("/refer", text)

    await bot.deliver()
    (private,) = bot.posts("DU2")
    shown = blocks_text(private["blocks"])
    assert "Smith &amp; Sons, jo@smith.com, 555-0100, see smith.com" in shown  # escaped once
    assert "mailto:" not in shown and "&amp;amp;" not in shown


@pytest.mark.parametrize("flag", ["is_bot", "deleted"])
async def test_a_bot_or_a_deactivated_account_is_never_made_a_member(
    bot: Harness, flag: str
) -> None:
    bot.slack.add_user("U7", name="helper", real_name="Helper", **{flag: True})

    answer = await bot.answer("/thanks", "<@U7|helper> 100 thanks")

    assert "I don't know that person yet" in answer
    members = await bot.answer("/members")
    assert "Helper" not in members


async def _count(bot: Harness, table: type) -> int:
    async with bot.db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one()[0])


async def test_a_user_slack_says_does_not_exist_is_asked_to_join(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")  # the group, with alice in it

    answer = await bot.answer("/refer", "<@U404|ghost> Jane Roe, 555-0100, roof")

    assert [call.args["user"] for call in bot.slack.calls_to("users.info")][-1] == "U404"
    assert "I don't know that person yet: they join by sending /joingroup" in answer
    assert await _count(bot, Referral) == 0
    assert await _count(bot, Member) == 1  # no member "ghost"
    assert await _count(bot, OutboxMessage) == 1  # alice's welcome, nothing for the referral


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_when_slack_does_not_answer_the_name_in_the_text_stands_in(
    bot: Harness, status: int
) -> None:
    bot.slack.fail("users.info", status=status, times=None)

    answer = await bot.answer("/refer", "<@U404|ghost> Jane Roe, 555-0100, roof")

    assert "Referral #1 to ghost recorded" in answer
    assert await _count(bot, Referral) == 1


@pytest.mark.parametrize(
    ("zone", "expected"), [("America/Chicago", "America/Chicago"), ("Mars/Olympus", "UTC")]
)
async def test_a_new_group_starts_in_its_founders_slack_timezone(
    bot: Harness, zone: str, expected: str
) -> None:
    user = bot.slack.add_user("U8", name="erin", real_name="Erin")
    user["tz"] = zone  # as Slack reports it, even a zone this machine does not know

    await bot.command("/joingroup", "Florist", user_id="U8", channel_id="C8")
    settings = await bot.answer("/settings", user_id="U8", channel_id="C8")

    assert f"Timezone: {expected}" in settings


async def test_prospect_details_go_only_to_the_receiver(bot: Harness) -> None:
    await bot.command("/refer", "<@U2> Jane Roe, 555-0100, new roof warm inside")

    assert await bot.deliver() == 3  # the DM, the group's notice, Alice's first referral
    dm = await bot.slack.wait_for("conversations.open")
    assert dm[0].args["users"] == "U2"
    (private,) = bot.posts("DU2")
    public, first = bot.posts("C1")
    assert "Jane Roe, 555-0100, new roof" in blocks_text(private["blocks"])
    assert "555-0100" not in str(public) and "555-0100" not in str(first)
    assert "Alice passed a referral to Bob Baker" in public["text"]
    assert "Alice gave their first referral" in first["text"]


@pytest.mark.parametrize("mention", ["<@U2>", "<@U2|bob>"])
async def test_both_mention_forms_name_the_member_from_users_info(
    bot: Harness, mention: str
) -> None:
    answer = await bot.answer("/thanks", f"{mention} 2,500 kitchen job")

    assert "Thanks to Bob Baker recorded" in answer
    assert "$2,500.00" in answer
    users = {call.args["user"] for call in bot.slack.calls_to("users.info")}
    assert users == {"U1", "U2"}


async def test_user_lookups_are_cached(bot: Harness) -> None:
    await bot.command("/thanks", "<@U2> 10")
    await bot.command("/thanks", "<@U2> 20")
    await bot.command("/balance")

    assert len(bot.slack.calls_to("users.info")) == 2  # U1 and U2, once each


async def test_admins_are_leaders(bot: Harness) -> None:
    await bot.command("/join", "Plumber")  # alice founds the group and leads it
    refused = await bot.answer("/settings", "currency EUR", user_id="U2", user_name="bob")
    allowed = await bot.answer("/settings", "currency EUR", user_id="U4", user_name="dave")

    assert "Only the group's leaders" in refused
    assert "Only the group's leaders" not in allowed
    assert "EUR" in allowed


COMMANDS = [
    ("/balance", "", "Alice"),
    ("/balance", "<@U2> month", "Bob"),
    ("/leaderboard", "", ""),
    ("/leaderboard", "week", ""),
    ("/referrals", "", "#1"),
    ("/status", "1 contacted", "contacted"),
    ("/refstatus", "1 contacted", "contacted"),  # Slack's name for /status
    ("/onetoone", "<@U2> coffee", "One-to-one with Bob Baker logged"),
    ("/121", "<@U3|carol> lunch", "One-to-one with Carol logged"),
    ("/tyfcb", "<@U3|carol> 1,200 the kitchen", "Thanks to Carol recorded"),  # /thanks
    ("/visitor", "Jane Roe, Roe Catering", "Visitor Jane Roe (Roe Catering) logged"),
    ("/join", "Accountant", ""),
    ("/joingroup", "Accountant", "Accountant"),  # Slack's name for /join
    ("/profile", "business Archer Books ask landlords", ""),
    ("/members", "", "Bob Baker"),
    ("/meeting", "", ""),
    ("/meeting", "set thursday 07:00 Europe/London Cafe", ""),
    ("/settings", "", ""),
    ("/undo", "", ""),
    ("/help", "", "/refer"),
    ("/help", "thanks", "/thanks"),
]


@pytest.mark.parametrize(("command", "text", "expected"), COMMANDS)
async def test_every_command_as_a_slash_command(
    bot: Harness, command: str, text: str, expected: str
) -> None:
    await bot.command("/refer", "<@U1> Acme, 555, roof", user_id="U2", user_name="bob")

    answer = await bot.answer(command, text)

    assert answer.strip()
    assert "I don't know the command" not in answer
    assert expected in answer


async def test_a_bad_command_gets_the_right_form(bot: Harness) -> None:
    answer = await bot.answer("/refer", "nobody here")

    assert "/refer @member" in answer


async def test_help_names_the_slack_commands_for_status_and_join(bot: Harness) -> None:
    answer = await bot.answer("/help")

    assert (
        "Slack keeps the names status, join, leave and mute for its own commands, so here they "
        "are /refstatus, /joingroup, /leavegroup and /refmute; a mention of the bot takes every "
        "command by its own name, e.g. @referral-bot status 12 won 4000. In a direct message "
        "with the bot a command works without the slash too, e.g. balance."
    ) in answer
    assert "/leavegroup: Leave the group" in answer  # the usage line, in Slack's name
    assert "/status" not in answer and "/join " not in answer


async def test_slack_names_in_the_answers_for_status_and_join(bot: Harness) -> None:
    malformed = await bot.answer("/refstatus", "twelve won")
    stranger = await bot.answer("/thanks", "<@U9> 10")  # users.info does not know U9

    assert "/refstatus &lt;referral number&gt;" in malformed
    assert "Example: /refstatus 12 contacted" in malformed and "/status" not in malformed
    assert "they join by sending /joingroup in the group" in stranger


async def test_help_renders_as_blocks_within_limits(bot: Harness) -> None:
    body = (await bot.command("/help")).json()

    assert body["blocks"][0]["type"] == "section"
    assert any(block["type"] == "header" for block in body["blocks"])
    assert len(body["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if "text" in b)


async def test_a_command_in_a_dm_uses_the_members_only_group(bot: Harness) -> None:
    await bot.command("/join", "Plumber")

    answer = await bot.answer("/balance", channel_id="DU1", channel_name="directmessage")

    assert "Alice" in answer


async def test_leavegroup_is_slacks_name_for_leave(bot: Harness) -> None:
    await bot.command("/joingroup", "Plumber")
    await bot.command("/joingroup", "Roofer", user_id="U2")

    answer = await bot.answer("/leavegroup", user_id="U2")

    assert "You left" in answer and "/joingroup brings you back" in answer
    assert "Bob Baker" not in await bot.answer("/members")
    assert "Bob Baker is no longer in the group" in await bot.answer(
        "/refer", "<@U2|bob> ACME Ltd, 555-1234"
    )
