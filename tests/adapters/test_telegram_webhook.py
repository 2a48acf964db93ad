"""The Telegram adapter through its webhook: real Update JSON in, the Bot API calls out."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

import re

import pytest

from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.telegram_harness import Harness, telegram, tg  # noqa: F401
from tests.adapters.telegram_updates import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GROUP_ID,
    Person,
    anonymous_admin,
    command,
    edited,
    migrated,
    my_chat_member,
    private_command,
)

pytestmark = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]


async def join(tg: Harness, *people_and_classes: tuple[object, str]) -> None:
    for person, classification in people_and_classes:
        await tg.send(command(person, f"/join {classification}"))  # type: ignore[arg-type]
    await tg.deliver()  # their answers and the welcomes


async def test_the_secret_is_required_and_a_bad_body_refused(tg: Harness) -> None:
    assert (await tg.post(command(ALICE, "/join Plumber"), secret=None)).status_code == 403
    assert (await tg.post(command(ALICE, "/join Plumber"), secret="wrong")).status_code == 403
    bad = await tg.http.post(
        "/telegram/webhook",
        content=b"not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"},
    )
    assert bad.status_code == 400
    assert tg.telegram.calls_to("sendMessage") == []  # nothing was answered, nothing recorded
    await tg.send(private_command(ALICE, "/members"))
    assert "not in a group" in tg.last_to(ALICE.id)


async def test_answers_go_privately_and_the_group_sees_notices(tg: Harness) -> None:
    tg.telegram.set_administrators(GROUP_ID, tg.telegram.bot_user)  # it may delete messages
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    assert "Welcome" in await tg.answer_to(ALICE.id)
    raw = command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, new roof hot")
    await tg.send(raw)
    answer = await tg.answer_to(ALICE.id)
    assert "#1" in answer and "Bob" in answer

    group = "\n".join(tg.texts_to(GROUP_ID))
    assert "Alice Archer passed a referral to Bob" in group
    assert "555-0100" not in group and "Jane Roe" not in group
    assert "555-0100" in "\n".join(tg.texts_to(BOB.id))
    # the command itself held the prospect's details: taken out of the group
    await tg.telegram.wait_for("deleteMessage")
    assert (GROUP_ID, raw["message"]["message_id"]) in tg.telegram.deleted


async def test_a_bot_that_may_not_delete_does_not_try(tg: Harness) -> None:
    tg.telegram.set_administrators(GROUP_ID, DAVE.json())  # the bot is no administrator
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, new roof hot"))
    assert "#1" in await tg.answer_to(ALICE.id)
    assert tg.telegram.calls_to("deleteMessage") == []


async def test_a_group_command_is_answered_after_the_commit_with_no_call(tg: Harness) -> None:
    """The webhook answers 200 with the answer in the outbox: no Bot API call on the way."""
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    before = len(tg.telegram.calls)
    await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, roof"))
    await tg.send(command(ALICE, "/balance"))  # reading, too
    assert [c.method for c in tg.telegram.calls[before:] if c.method != "deleteMessage"] == []
    await tg.deliver()
    mine = tg.texts_to(ALICE.id)
    assert "Welcome" in mine[0] and "#1" in mine[1] and "Balance of Alice" in mine[2]
    assert not any("Balance of" in text for text in tg.texts_to(GROUP_ID))


async def test_refusals_and_mistakes_reach_only_the_sender(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    group_before = tg.texts_to(GROUP_ID)
    await tg.send(command(ALICE, "/thanks @bobby_b $abc kitchen"))  # malformed
    assert "Example" in tg.last_to(ALICE.id)
    await tg.send(command(BOB, "/status 7 won"))  # refused: there is no referral #7
    assert "#7" in tg.last_to(BOB.id)
    await tg.send(command(BOB, "/help"))
    assert "/refer" in tg.last_to(BOB.id)
    await tg.deliver()
    assert tg.texts_to(GROUP_ID) == group_before  # nothing of it in the group


async def test_an_unknown_username_is_told_how_to_join(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"))
    await tg.send(command(ALICE, "/refer @nobody_here Jane, 555 warm"))
    assert "/join" in await tg.answer_to(ALICE.id)
    await tg.send(command(ALICE, "/referrals"))
    assert "#1" not in await tg.answer_to(ALICE.id)


async def test_text_mentions_around_emoji_name_the_users(tg: Harness) -> None:
    flo = Person(555, "🌸 Flo")  # no username; astral characters in the mention itself
    await join(tg, (ALICE, "Plumber"))
    await tg.send(command(ALICE, "/thanks 🌸 Flo $250 🎉 intro to Carol",
                          text_mentions={"🌸 Flo": flo, "Carol": CAROL}))  # fmt: skip
    assert "$250.00" in await tg.answer_to(ALICE.id)
    await tg.send(command(flo, "/balance"))
    assert "$250.00" in await tg.answer_to(flo.id)


def start_code(notice: str) -> str:
    match = re.search(r"https://t\.me/ReferralTestBot\?start=([A-Za-z0-9_-]{1,64}) ", notice)
    assert match, notice
    return match.group(1)


async def test_someone_who_never_started_the_bot_gets_a_link(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"))
    tg.telegram.not_started.add(DAVE.id)
    await tg.send(command(DAVE, "/join Architect"))
    await tg.send(command(DAVE, "/balance"))  # held later, under the same code
    await tg.deliver()
    notices = [t for t in tg.texts_to(GROUP_ID) if "private message" in t]
    assert len(notices) == 1  # one notice for the one code
    assert notices[0].startswith("Dave, I have a private message for you: open https://t.me/")
    code = start_code(notices[0])
    group = "\n".join(tg.texts_to(GROUP_ID))
    assert "Welcome to Chapter" not in group and "Balance of" not in group
    assert tg.received(DAVE.id) == []

    await tg.send(private_command(ALICE, f"/start {code}"))  # somebody else's code
    assert "someone else" in tg.last_to(ALICE.id)
    assert await tg.deliver() == 0  # released nothing

    tg.telegram.not_started.discard(DAVE.id)  # Dave presses Start in the private chat
    await tg.send(private_command(DAVE, f"/start {code}"))
    assert tg.last_to(DAVE.id) == "Here they are (2 private messages I kept for you):"
    await tg.deliver()
    welcome, balance = tg.received(DAVE.id)[1:]
    assert "Welcome to Chapter, Dave" in welcome and "Balance of Dave" in balance

    await tg.send(private_command(DAVE, f"/start {code}"))  # used: once only
    assert "used already" in tg.last_to(DAVE.id)
    assert await tg.deliver() == 0


async def test_a_blocked_bot_holds_until_start(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    tg.telegram.blocked.add(BOB.id)
    await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, roof"))
    await tg.deliver()
    notice = tg.last_to(GROUP_ID)
    assert notice.startswith("Bob, I have a private message for you") and "555" not in notice
    tg.telegram.blocked.discard(BOB.id)
    await tg.send(private_command(BOB, "/start"))  # Telegram's Start (Restart) button
    help_text, said = tg.texts_to(BOB.id)[-2:]
    assert "/refer" in help_text
    assert said == "I also kept 1 private message for you; here they come."
    await tg.deliver()
    assert "555-0100" in tg.last_to(BOB.id)


async def test_a_command_from_someone_never_started_records_and_says_how(tg: Harness) -> None:
    """What recorded nothing cannot be held: the group is told how to start the chat."""
    tg.telegram.not_started.add(DAVE.id)
    await tg.send(command(DAVE, "/thanks @nobody_here 5"))
    notice = tg.last_to(GROUP_ID)
    assert "https://t.me/ReferralTestBot" in notice and "send the command again" in notice


async def test_redelivery_and_edits_record_once(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    raw = command(ALICE, "/thanks @bobby_b 500 kitchen")
    await tg.send(raw)
    await tg.send(raw)  # the same update_id again
    await tg.send(edited(raw, "/thanks @bobby_b 900 kitchen"))
    await tg.send(command(BOB, "/balance"))
    balance = await tg.answer_to(BOB.id)
    assert "$500.00" in balance and "$1,000.00" not in balance and "$900.00" not in balance
    answers = [t for t in tg.texts_to(ALICE.id) if "$500.00" in t]
    assert len(answers) == 1  # answered once
    assert len([t for t in tg.texts_to(GROUP_ID) if "thanked" in t]) == 1


async def test_a_redelivered_read_is_answered_once(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"))
    raw = command(ALICE, "/balance")
    await tg.send(raw)
    await tg.send(raw)
    await tg.deliver()
    assert len([t for t in tg.texts_to(ALICE.id) if "Balance of" in t]) == 1


async def test_an_anonymous_admin_records_nothing(tg: Harness) -> None:
    await tg.send(anonymous_admin("/join Plumber"))
    assert "who is speaking" in tg.last_to(GROUP_ID)
    await tg.send(command(ALICE, "/members"))
    assert "There is no group" in await tg.answer_to(ALICE.id)  # nothing was set up


async def test_a_command_for_another_bot_is_ignored(tg: Harness) -> None:
    await tg.send(command(ALICE, "/join@SomeOtherBot Plumber"))
    assert tg.telegram.calls_to("sendMessage") == []


async def test_administrators_lead(tg: Harness) -> None:
    tg.telegram.set_administrators(GROUP_ID, DAVE.json(), creator=ALICE.json())
    await join(tg, (BOB, "Electrician"), (DAVE, "Architect"))  # Bob founds the group
    await tg.send(command(DAVE, "/settings currency EUR"))
    assert "EUR" in await tg.answer_to(DAVE.id)
    await tg.send(command(CAROL, "/settings currency GBP"))
    assert "leaders" in await tg.answer_to(CAROL.id)


async def test_buttons_move_a_referral_and_ask_for_the_amount(tg: Harness) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, roof"))
    await tg.deliver()
    details = tg.telegram.sent_to(BOB.id)[-1]
    buttons = {b["text"]: b["callback_data"]
               for row in details["reply_markup"]["inline_keyboard"] for b in row}  # fmt: skip
    message = tg.telegram.messages[(BOB.id, max(k[1] for k in tg.telegram.messages
                                                if k[0] == BOB.id))]  # fmt: skip
    from tests.adapters.telegram_updates import callback, update

    await tg.send(callback(BOB, buttons["Contacted #1"], message))
    assert "contacted" in tg.last_to(BOB.id).lower()
    assert tg.telegram.calls_to("answerCallbackQuery")

    await tg.send(callback(BOB, buttons["Won #1"], message))
    assert "reply with the amount" in tg.last_to(BOB.id)  # asked in the private chat
    asked = tg.telegram.messages[(BOB.id, max(k[1] for k in tg.telegram.messages
                                              if k[0] == BOB.id))]  # fmt: skip
    reply = {"message_id": 9001, "date": asked["date"], "chat": asked["chat"],
             "from": BOB.json(), "text": "4,000", "reply_to_message": asked}  # fmt: skip
    await tg.send(update(message=reply))
    assert "$4,000.00" in tg.last_to(BOB.id)


async def test_a_group_that_becomes_a_supergroup_keeps_everything(
    tg: Harness, telegram: FakeTelegram
) -> None:
    old, new = -4001, -1004001
    await tg.send(command(ALICE, "/join Plumber", chat_id=old))
    await tg.send(command(BOB, "/join Electrician", chat_id=old))
    await tg.send(command(ALICE, "/thanks @bobby_b 300 job", chat_id=old))
    telegram.migrate(old, new)
    await tg.send(migrated(old, new))
    await tg.deliver()  # the pending notices follow the group to its new id
    assert any("Bob" in text for text in tg.texts_to(new))
    await tg.send(command(BOB, "/balance", chat_id=new))
    assert "$300.00" in await tg.answer_to(BOB.id)


async def test_removed_from_a_group_its_pending_posts_are_given_up(tg: Harness) -> None:
    await tg.send(command(ALICE, "/join Plumber"))
    await tg.send(my_chat_member(tg.telegram.bot_user, GROUP_ID, "member", "kicked"))
    tg.telegram.blocked.add(GROUP_ID)
    assert await tg.deliver() == 1  # Alice's answer; the welcome notice was given up
    assert tg.texts_to(GROUP_ID) == [] and "Welcome" in tg.last_to(ALICE.id)


async def test_the_command_menus_are_set_at_start(tg: Harness) -> None:
    for scope in ("all_group_chats", "all_private_chats"):
        names = [c["command"] for c in tg.telegram.commands[scope]]
        assert {"refer", "thanks", "balance", "leaderboard", "help"} <= set(names)
    assert tg.telegram.webhook["url"] == "https://bot.example/telegram/webhook"
    assert tg.telegram.webhook["secret_token"] == "s3cret-Token_1"


async def test_the_partners_chart_goes_to_the_leaders_private_chat_as_a_photo(
    tg: Harness,
) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    for _ in range(3):
        await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, new roof"))
    await tg.deliver()
    await tg.send(command(ALICE, "/partners group"))
    await tg.deliver()

    (photo,) = tg.telegram.calls_to("sendPhoto")
    assert int(photo.args["chat_id"]) == ALICE.id  # privately, never the group
    assert "givers by receivers" in str(photo.args.get("caption"))
    assert "The chart is on its way to you privately." in "\n".join(tg.texts_to(ALICE.id))
    assert not [m for m in tg.telegram.sent_to(GROUP_ID) if "photo" in m or "Who referred" in
                str(m.get("text"))]  # fmt: skip
