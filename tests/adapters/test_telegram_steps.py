"""Telegram's inline keyboards: buttons that name what they act on, the private chat's
group picker, guided steps (across a restart too); real Update JSON in, Bot API calls out."""

# ruff: noqa: F811  (fixtures are imported from telegram_harness)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.database import Database
from storage.tables import MeetingResponse, Referral
from tests.adapters.fake_telegram import FakeTelegram, JsonDict
from tests.adapters.telegram_harness import Harness, open_harness, telegram, tg  # noqa: F401
from tests.adapters.telegram_updates import (
    ALICE,
    BOB,
    CAROL,
    GROUP_ID,
    Person,
    callback,
    command,
    private_command,
    update,
)
from tests.unit.test_rules import all_rows

pytestmark = [pytest.mark.filterwarnings(r"ignore:(?s).*session\.exec\(\):DeprecationWarning")]


async def join(tg: Harness, *people: tuple[Person, str], chat_id: int = GROUP_ID,
               title: str = "Chapter") -> None:  # fmt: skip
    for person, classification in people:
        await tg.send(command(person, f"/join {classification}", chat_id=chat_id, title=title))
    await tg.deliver()


def last_message(tg: Harness, chat_id: int) -> JsonDict:
    return tg.telegram.messages[max(k for k in tg.telegram.messages if k[0] == chat_id)]


def keyboard(message: JsonDict) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def private_text(sender: Person, text: str, **extra: object) -> JsonDict:
    return update(message={
        "message_id": 8000 + len(text), "date": int(datetime.now(UTC).timestamp()),
        "chat": {"id": sender.id, "type": "private", "first_name": sender.first_name},
        "from": sender.json(), "text": text, **extra,
    })  # fmt: skip


def callback_answers(tg: Harness) -> list[str]:
    return [str(c.args.get("text", "")) for c in tg.telegram.calls_to("answerCallbackQuery")]


async def test_a_status_button_pressed_by_another_member_does_nothing_and_says_so(
    tg: Harness, db: Database
) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"), (CAROL, "Baker"))
    await tg.send(command(ALICE, "/refer @bobby_b Jane Roe, 555-0100, roof"))
    await tg.deliver()
    details = last_message(tg, BOB.id)
    buttons = keyboard(details)
    assert all(len(data.encode()) <= 64 for data in buttons.values())

    forwarded = dict(details, chat={"id": CAROL.id, "type": "private", "first_name": "Carol"})
    await tg.send(callback(CAROL, buttons["Contacted #1"], forwarded))
    assert callback_answers(tg)[-1] == ""  # answered, in a private chat: the text follows
    assert tg.last_to(CAROL.id) == "That button is for Bob, not for you: nothing was done."
    assert [r.status for r in await all_rows(db, Referral)] == ["open"]

    await tg.send(callback(BOB, buttons["Contacted #1"], details))
    assert "now contacted" in tg.last_to(BOB.id)
    assert [r.status for r in await all_rows(db, Referral)] == ["contacted"]

    await tg.send(callback(BOB, buttons["Won #1"], details))  # asks, in a reply it can read
    assert "reply with the amount" in tg.last_to(BOB.id)
    await tg.send(private_text(BOB, "4,000"))
    assert "$4,000.00" in tg.last_to(BOB.id)
    assert len(tg.telegram.calls_to("answerCallbackQuery")) == 3


async def test_a_stale_rsvp_press_in_the_group_is_refused(tg: Harness, db: Database) -> None:
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    await tg.send(command(ALICE, "/meeting set mon 00:00 UTC"))  # always in the past by now
    await tg.send(command(BOB, "/meeting"))
    await tg.deliver()
    shown = last_message(tg, BOB.id)
    attend = keyboard(shown)["Attend"]
    # the same button, for an occurrence that already took place (a week earlier)
    stale = attend.split(":")
    stale[3] = "20200106"  # a Monday, long gone
    shown_in_group = dict(shown, chat={"id": GROUP_ID, "type": "supergroup", "title": "g"})
    await tg.send(callback(BOB, ":".join(stale), shown_in_group))
    assert "has already taken place; nothing was recorded" in callback_answers(tg)[-1]
    assert await all_rows(db, MeetingResponse) == []

    await tg.send(callback(BOB, attend, shown_in_group))
    assert callback_answers(tg)[-1].startswith("Noted: coming on Monday")
    assert [r.rsvp for r in await all_rows(db, MeetingResponse)] == ["yes"]


async def test_the_picker_with_two_groups_is_remembered_for_the_private_chat(
    tg: Harness,
) -> None:
    west = -1009876543210
    await join(tg, (ALICE, "Plumber"), (BOB, "Electrician"))
    await join(tg, (ALICE, "Plumber"), (CAROL, "Baker"), chat_id=west, title="Westside")

    await tg.send(private_command(ALICE, "/members"))
    picker = last_message(tg, ALICE.id)
    assert "several groups" in tg.last_to(ALICE.id)
    groups = keyboard(picker)
    assert list(groups) == ["Chapter", "Westside"]
    await tg.send(callback(BOB, groups["Westside"], picker))  # not Bob's to press
    assert tg.last_to(ALICE.id).endswith("you are not one: nothing was done.")
    await tg.send(callback(ALICE, groups["Westside"], picker))
    assert "now go to" in tg.last_to(ALICE.id)

    await tg.send(private_command(ALICE, "/members"))  # re-sending works after picking
    assert "Carol" in tg.last_to(ALICE.id) and "Bob" not in tg.last_to(ALICE.id)


async def test_guided_refer_from_the_group_runs_in_the_private_chat_across_a_restart(
    telegram: FakeTelegram, db: Database
) -> None:
    async for first in open_harness(telegram, db):
        await join(first, (ALICE, "Plumber"), (BOB, "Electrician"))
        group_before = len(first.texts_to(GROUP_ID))
        await first.send(command(ALICE, "/refer"))
        await first.deliver()
        assert first.texts_to(GROUP_ID)[group_before:] == []  # the steps are private
        question = last_message(first, ALICE.id)
        assert first.last_to(ALICE.id) == "Who gets the referral? Pick the member:"
        members = keyboard(question)
        assert list(members) == ["Bob"]
        assert all(len(d.encode()) <= 64 for d in members.values())

    async for second in open_harness(telegram, db):  # another instance, the same database
        await second.send(callback(ALICE, members["Bob"], question))
        assert second.last_to(ALICE.id).startswith("Referral to Bob: reply with the prospect")
        await second.send(private_text(ALICE, "Jane Roe, 555-0100, new roof"))
        temperatures = last_message(second, ALICE.id)
        await second.send(callback(ALICE, keyboard(temperatures)["Warm"], temperatures))
        done = "\n".join(second.texts_to(ALICE.id)[-2:]).replace("\u2060", "")  # no ping
        assert done.startswith("That is: /refer @bobby_b Jane Roe, 555-0100, new roof warm")
        assert "Referral #1 to Bob recorded (warm)" in done
        await second.deliver()
        group = second.texts_to(GROUP_ID)[group_before:]
        assert any("passed a referral to Bob" in t for t in group)
        assert not any("555-0100" in t for t in group)  # the prospect never in the group
        (referral,) = await all_rows(db, Referral)
        assert referral.temperature == "warm"
