"""Buttons that name what they act on, the private chat's group, and guided steps, through
the core on a real database (both backends)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from bot import buttons
from bot.messages import Button, Reply
from storage.tables import GuidedSteps, MeetingResponse, Referral, Thanks
from tests.conftest import Chat, Clock
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_rules import all_rows, setup_group

BIGGEST = 2**63 - 1  # the largest id either database hands out


def test_the_longest_button_data_fits_telegrams_64_bytes_with_the_ask_mark() -> None:
    longest = [
        buttons.status(BIGGEST, BIGGEST, BIGGEST, "contacted"),
        buttons.rsvp(BIGGEST, datetime(2026, 12, 31).date(), "substitute"),
        buttons.pick_group(BIGGEST, BIGGEST),
        buttons.step(BIGGEST, BIGGEST, "ffffffff", buttons.encode_int(BIGGEST)),
    ]
    for data in longest:
        assert len((buttons.ASK + data).encode()) <= 64, data
        assert buttons.decode(data) is not None
    assert buttons.decode(longest[0]) == buttons.Press(
        buttons.STATUS, BIGGEST, BIGGEST, buttons.encode_int(BIGGEST), "contacted"
    )
    assert buttons.decode("/status 12 won") is None  # an older button: its command line
    assert buttons.decode("~s:1:2:3:married") is None  # no such status
    assert buttons.decode("~r:1::20261399:yes") is None  # no such date


def _button(replies: list[Reply], label: str) -> Button:
    found = [b for r in replies for b in r.buttons if b.label == label]
    assert found, [b.label for r in replies for b in r.buttons]
    return found[0]


async def press(chat: Chat, who: str, button: Button, typed: str = "", **kwargs: object
                ) -> str:  # fmt: skip
    assert button.data is not None
    incoming = replace(chat.incoming(who, typed, **kwargs), button=button.data)  # type: ignore[arg-type]
    replies = await chat.core.handle(incoming)
    return "\n".join(r.text for r in replies)


async def test_a_status_button_works_only_for_its_receiver_in_its_own_group(chat: Chat) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, roof")
    listed = await chat.say("bob", "/referrals")
    contacted = _button(listed, "Contacted #1")
    assert buttons.decode(contacted.data or "") is not None

    before = await counts(chat.core.db)
    answer = await press(chat, "carol", contacted)
    assert answer == "That button is for Bob, not for you: nothing was done."
    assert await counts(chat.core.db) == before

    # pressed by Bob in a private chat, far from the group's chat: the button's own group
    assert "now contacted" in await press(chat, "bob", contacted, private=True)
    (referral,) = await all_rows(chat.core.db, Referral)
    assert referral.status == "contacted"

    won = _button(await chat.say("bob", "/referrals"), "Won #1")
    assert "$4,000.00" in await press(chat, "bob", won, "4,000")
    (thanks,) = await all_rows(chat.core.db, Thanks)
    assert thanks.amount == Decimal("4000")


async def test_a_late_rsvp_press_is_refused_not_recorded_for_the_next_meeting(
    chat: Chat, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday
    await setup_group(chat)
    await chat.say("alice", "/meeting set thu 07:00 UTC")
    shown = await chat.say("bob", "/meeting")
    attend = _button(shown, "Attend")

    clock.now = datetime(2026, 11, 26, 8, tzinfo=UTC)  # the meeting started an hour ago
    answer = await press(chat, "bob", attend)
    assert "has already taken place; nothing was recorded" in answer
    assert await all_rows(chat.core.db, MeetingResponse) == []

    fresh = _button(await chat.say("bob", "/meeting"), "Attend")
    assert "Noted: coming on Thursday 03 December" in await press(chat, "bob", fresh)
    assert [r.rsvp for r in await all_rows(chat.core.db, MeetingResponse)] == ["yes"]


async def test_a_member_of_two_groups_picks_one_for_the_private_chat(chat: Chat) -> None:
    await setup_group(chat)
    other = Chat(chat.core, chat_id="westside")
    await other.say("alice", "/join Plumber")
    await other.say("dave", "/join Baker")

    replies = await chat.say("alice", "/balance", private=True)
    assert replies[0].text.startswith("You are in several groups: pick the one")
    picker = {b.label: b for b in replies[0].buttons}
    assert set(picker) == {"chapter", "westside"}
    assert "not for you" in await press(chat, "dave", picker["westside"], private=True)

    assert "now go to westside" in await press(chat, "alice", picker["westside"], private=True)
    answer = await chat.text("alice", "/thanks @dave 120 bread", private=True)
    assert "Thanks to Dave recorded" in answer  # Dave is only in westside
    (thanks,) = await all_rows(chat.core.db, Thanks)
    assert thanks.amount == Decimal("120")

    # Start in the private chat offers the picker again, and a new pick replaces the old
    opened = await chat.core.opened(chat.incoming("alice", "/start", private=True), None)
    again = {b.label: b for r in opened for b in r.buttons}
    assert "now go to chapter" in await press(chat, "alice", again["chapter"], private=True)
    assert "no member called @dave" in await chat.text("alice", "/thanks @dave 5", private=True)


async def test_guided_refer_ends_in_the_command_one_could_type(chat: Chat) -> None:
    await setup_group(chat)
    first = await chat.say("alice", "/refer")
    assert first[0].text == "Who gets the referral? Pick the member:"
    members = {b.label: b for b in first[0].buttons}
    assert set(members) == {"Bob", "Carol"}  # not the sender

    assert "not for you" in await press(chat, "bob", members["Bob"], private=True)
    asked = await press(chat, "alice", members["Bob"], private=True)
    assert asked.startswith("Referral to Bob: reply with the prospect")
    replies = await chat.say("alice", "Jane Roe, 555-0100, new roof", private=True)
    hot = _button(replies, "Hot")
    done = await press(chat, "alice", hot, private=True)
    assert done.startswith("That is: /refer @bob Jane Roe, 555-0100, new roof hot\n")
    assert "Referral #1 to Bob recorded (hot)" in done
    (referral,) = await all_rows(chat.core.db, Referral)
    assert (referral.prospect, referral.temperature) == ("Jane Roe, 555-0100, new roof", "hot")
    assert await all_rows(chat.core.db, GuidedSteps) == []
    assert "steps are over" in await press(chat, "alice", hot, private=True)  # pressed again
    assert len(await all_rows(chat.core.db, Referral)) == 1


async def test_guided_thanks_and_its_expiry(chat: Chat, clock: Clock) -> None:
    await setup_group(chat)
    members = {b.label: b for b in (await chat.say("bob", "/thanks"))[0].buttons}
    asked = await press(chat, "bob", members["Alice"], private=True)
    assert asked.startswith("Thanks to Alice: reply with the amount")
    assert (await chat.text("bob", "2,500", private=True)).startswith("Reply with a note")
    clock.advance(minutes=11)
    answer = await chat.text("bob", "kitchen job", private=True)
    assert answer.startswith("Nothing is waiting for an answer here")
    assert await all_rows(chat.core.db, Thanks) == []

    members = {b.label: b for b in (await chat.say("bob", "/thanks"))[0].buttons}
    await press(chat, "bob", members["Alice"], private=True)
    assert "is not an amount" in await chat.text("bob", "lovely", private=True)
    assert "amount" in await chat.text("bob", "$abc", private=True)
    await chat.say("bob", "-", private=True)  # the amount question stood: none
    done = await chat.text("bob", "great intro", private=True)
    assert done.startswith("That is: /thanks @alice great intro\n")
    (thanks,) = await all_rows(chat.core.db, Thanks)
    assert (thanks.amount, thanks.note) == (None, "great intro")


async def test_guided_steps_take_typed_answers_where_a_keyboard_cannot_be_pressed(
    chat: Chat,
) -> None:
    await setup_group(chat)
    await chat.say("alice", "/refer")
    assert "Pick the member" in await chat.text("alice", "@nobody", private=True)
    await chat.say("alice", "@carol", private=True)
    await chat.say("alice", "Sam Smith, sam@example.com, bookkeeping", private=True)
    assert "Pick the temperature" in await chat.text("alice", "lukewarm", private=True)
    done = await chat.text("alice", "-", private=True)
    assert done.startswith("That is: /refer @carol Sam Smith, sam@example.com, bookkeeping\n")
    (referral,) = await all_rows(chat.core.db, Referral)
    assert (referral.receiver_id, referral.temperature) == (3, None)


def test_refer_and_thanks_alone_start_guided_steps() -> None:
    from bot import commands as c
    from bot import grammar

    assert grammar.parse("/refer", "USD") == c.StartSteps("refer")
    assert grammar.parse("/REFER@MyBot", "USD") == c.StartSteps("refer")
    assert grammar.parse("/thanks", "USD") == c.StartSteps("thanks")
    assert grammar.parse("/tyfcb", "USD") == c.StartSteps("thanks")
