"""Group goals: set by leaders, progress and pace at fixed clocks (on track and behind), the
group told once per period when one is reached, and bad input recording nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col

from storage.tables import Group, OutboxMessage, PostClaim
from tests.conftest import Chat, Clock
from tests.unit.test_rules import all_rows, payload_text

PROSPECT = "Jane Roe, 555-0100, new roof"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def group_goals(chat: Chat) -> str:
    (group,) = await all_rows(chat.core.db, Group)
    return str(group.goals)


async def notices(chat: Chat) -> list[str]:
    to_group = col(OutboxMessage.recipient_user_id).is_(None)
    rows = await all_rows(chat.core.db, OutboxMessage, to_group)
    return [payload_text(r) for r in rows if payload_text(r).startswith("Goal reached")]


async def setup(chat: Chat, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 9)
    await chat.say("alice", "/join Plumber")  # the first: a leader
    await chat.say("bob", "/join Roofer")
    for text in ("/settings goal referrals 10 month", "/settings goal business 10,000 quarter"):
        assert (await chat.text("alice", text)).startswith("Goal set: ")


async def test_goals_on_track_and_behind_at_a_fixed_clock(chat: Chat, clock: Clock) -> None:
    await setup(chat, clock)
    for _ in range(4):
        await chat.say("alice", f"/refer @bob {PROSPECT}")
    await chat.say("bob", "/thanks @alice 6,000")
    await chat.say("bob", "/thanks @alice 50 coffee")
    assert "withdrawn" in (await chat.text("bob", "/undo")).lower()  # the $50 leaves the total
    await chat.say("bob", "/refer @alice Someone, 555-0199 hot")
    assert "withdrawn" in (await chat.text("bob", "/undo")).lower()
    clock.now = utc(2026, 11, 16)  # half of November, half of Q4

    (reply,) = await chat.say("bob", "/goals")
    assert reply.text == "Goals of chapter"
    assert list(reply.sections[0].lines) == [
        "Referrals given, November 2026: 4 of 10 (40%). 6 to go: 2.8 a week over the 2.1"
        " weeks left. Behind (the pace so far comes to 8).",
        "Closed business, Q4 2026: $6,000.00 of $10,000.00 (60%). $4,000.00 to go: $608.70 a"
        " week over the 6.6 weeks left. On track (the pace so far comes to $12,000.00).",
    ]
    assert "555-01" not in reply.text + "".join(reply.sections[0].lines)


async def test_a_goal_reached_is_told_in_the_group_once_per_period(
    chat: Chat, clock: Clock
) -> None:
    await setup(chat, clock)
    clock.now = utc(2026, 11, 16, 10)  # Monday
    assert "Goal set" in await chat.text("alice", "/settings goal visitors 2 week")
    await chat.say("bob", "/visitor Jane Roe, Roe Catering")
    assert await notices(chat) == []
    await chat.say("alice", "/visitor John Doe")
    await chat.say("alice", "/visitor Ann Other")
    assert await notices(chat) == [
        "Goal reached: 2 visitors in this week (from Mon 16 Nov) (the goal was 2). "
        "Well done, everyone!"
    ]
    line = (await chat.say("bob", "/goals")).pop().sections[0].lines[2]  # after the other two
    assert line == "Visitors, this week (from Mon 16 Nov): 3 of 2 (150%). Reached. Well done!"
    clock.now = utc(2026, 11, 23, 10)  # the next week: reached again, told again
    await chat.say("bob", "/visitor A")
    await chat.say("bob", "/visitor B")
    assert len(await notices(chat)) == 2
    claims = await all_rows(chat.core.db, PostClaim)
    assert [c.occurrence for c in claims] == ["visitors:week:2026-11-16T00:00",
                                              "visitors:week:2026-11-23T00:00"]  # fmt: skip


async def test_leaders_set_and_remove_goals_and_settings_show_them(
    chat: Chat, clock: Clock
) -> None:
    await setup(chat, clock)
    assert await chat.text("bob", "/settings goal visitors 2 week") == (
        "Only the group's leaders can set the group's goals."
    )
    assert await group_goals(chat) == "referrals:10:month,business:10000.00:quarter"
    shown = await chat.text("bob", "/settings")
    assert "Goals: 10 referrals given a month; $10,000.00 of closed business a quarter" in shown
    assert await chat.text("alice", "/settings goal referrals 40 month") == (
        "Goal set: 40 referrals given a month. /goals shows the progress."
    )
    assert await chat.text("alice", "/settings goal referrals off") == (
        "The referrals goal (40 referrals given a month) is removed."
    )
    assert await chat.text("alice", "/settings goal referrals off") == (
        "There is no referrals goal to remove. /goals shows the goals."
    )
    assert await chat.text("alice", "/settings goal business off")
    assert await group_goals(chat) == ""
    assert await chat.text("bob", "/goals") == (
        "Goals of chapter: none set yet. Leaders set one, e.g. /settings goal referrals 40 month."
    )


async def test_a_ceus_goal_counts_the_ceus_recorded_and_is_told_once_reached(
    chat: Chat, clock: Clock
) -> None:
    await setup(chat, clock)
    assert await chat.text("alice", "/settings goal ceus 4 month") == (
        "Goal set: 4 CEUs a month. /goals shows the progress."
    )
    await chat.say("bob", "/ceu Estate planning seminar")
    await chat.say("alice", "/ceu Podcast on referral scripts")
    await chat.say("bob", "/ceu Wrong one")
    assert "withdrawn" in (await chat.text("bob", "/undo")).lower()  # voided: not counted
    clock.now = utc(2026, 11, 16)
    (reply,) = await chat.say("bob", "/goals")
    (line,) = [x for x in reply.sections[0].lines if x.startswith("CEUs")]
    assert line.startswith("CEUs, November 2026: 2 of 4 (50%)"), line
    await chat.say("bob", "/ceu Networking course")
    assert await notices(chat) == []
    await chat.say("alice", "/ceu Book on one-to-ones")
    assert await notices(chat) == [
        "Goal reached: 4 CEUs in November 2026 (the goal was 4). Well done, everyone!"
    ]
    await chat.say("alice", "/ceu One more")
    assert len(await notices(chat)) == 1  # once per period


async def test_a_malformed_goal_records_nothing(chat: Chat, clock: Clock) -> None:
    await setup(chat, clock)
    before = await group_goals(chat)
    for text, wrong in (
        ("/settings goal referrals -3 month", "'-3' is not a number of referrals"),
        ("/settings goal wibble 3 month", "'wibble' is not a kind of goal"),
        ("/settings goal visitors 3 fortnight", "'fortnight' is not a goal's period"),
    ):
        answer = await chat.text("alice", text)
        assert answer.startswith(wrong), answer
        assert "The right form:\n/settings goal <referrals|business|visitors|onetoones|ceus>" in (
            answer
        )
        assert "Example: /settings goal referrals 40 month" in answer
    assert await group_goals(chat) == before
