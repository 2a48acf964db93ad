"""The weekly meeting: which meeting attendance goes on, what a leader sees of it, and what a
change of timezone does to the meeting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col

from storage.tables import Meeting, MeetingResponse, OutboxMessage
from tests.conftest import Chat, Clock
from tests.unit.test_grammar import counts, fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_rules import all_rows, payload_text, refused, setup_group


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def thursday_meetings(chat: Chat, clock: Clock, zone: str = "UTC") -> None:
    """Set up on Wednesday 25 November 2026: Thursdays at 07:00 in `zone`."""
    clock.now = utc(2026, 11, 25, 12)
    await setup_group(chat)
    await chat.say("dave", "/join Baker")
    assert "Meetings are every Thursday" in await chat.text(
        "alice", f"/meeting set thu 07:00 {zone}"
    )


async def meetings_with_attendance(chat: Chat) -> list[datetime]:
    rows = await all_rows(chat.core.db, MeetingResponse)
    ids = {r.meeting_id for r in rows if r.attendance}
    return [m.starts_at for m in await all_rows(chat.core.db, Meeting) if m.id in ids]


# --- attendance goes on today's meeting from the start of its day -----------------------


@pytest.mark.parametrize(
    ("zone", "when", "day"),
    [
        ("UTC", utc(2026, 11, 26, 6, 5), "Thursday 26 November at 07:00 (UTC)"),  # before it
        ("UTC", utc(2026, 11, 26, 0, 0), "Thursday 26 November at 07:00 (UTC)"),  # midnight
        ("UTC", utc(2026, 11, 26, 9), "Thursday 26 November at 07:00 (UTC)"),  # after it
        ("UTC", utc(2026, 11, 28, 10), "Thursday 26 November at 07:00 (UTC)"),  # the latest
        # Thursday 00:30 in Auckland (NZDT, +13) is still Wednesday in UTC
        ("Pacific/Auckland", utc(2026, 11, 25, 11, 30),
         "Thursday 26 November at 07:00 (Pacific/Auckland)"),
    ],
)  # fmt: skip
async def test_attendance_goes_on_the_meeting_of_the_day(
    chat: Chat, clock: Clock, zone: str, when: datetime, day: str
) -> None:
    await thursday_meetings(chat, clock, zone)
    clock.now = when
    answer = await chat.text("alice", "/meeting attendance @bob present")
    assert answer == f"Bob: present on {day}."
    (starts,) = await meetings_with_attendance(chat)
    assert starts.astimezone(UTC) == (
        utc(2026, 11, 26, 7) if zone == "UTC" else utc(2026, 11, 25, 18)
    )


async def test_no_attendance_on_a_meeting_from_before_the_schedule(
    chat: Chat, clock: Clock
) -> None:
    await thursday_meetings(chat, clock)
    clock.now = utc(2026, 11, 25, 23, 59)  # Wednesday: the latest Thursday was before it was set
    await refused(chat, "alice", "/meeting attendance @bob present",
                  "No meeting has taken place since the meeting was set",
                  "Thursday 26 November at 07:00")  # fmt: skip
    await refused(chat, "alice", "/meeting attendance", "No meeting has taken place")
    clock.now = utc(2026, 12, 2, 12)  # the next Wednesday: the latest is Thursday 26th
    assert "on Thursday 26 November" in await chat.text("alice", "/meeting attendance @bob late")


async def test_a_leader_sees_what_was_recorded(chat: Chat, clock: Clock) -> None:
    await thursday_meetings(chat, clock)
    clock.now = utc(2026, 11, 26, 7, 30)
    await chat.say("alice", "/meeting attendance @bob present")
    await chat.say("alice", "/meeting attendance @carol late")
    await chat.say("alice", "/meeting attendance @bob absent")  # corrected
    answer = await chat.text("alice", "/meeting attendance")
    assert answer == (
        "Attendance on Thursday 26 November at 07:00 (UTC)\n"
        "Attendance\n"
        "Absent (1): Bob\n"
        "Late (1): Carol\n"
        "Not recorded yet (2): Alice, Dave"
    )
    await refused(chat, "bob", "/meeting attendance", "only the group's leaders")
    clock.now = utc(2026, 12, 3, 5)  # the next meeting's day: nothing recorded yet
    assert "Not recorded yet (4): Alice, Bob, Carol, Dave" in await chat.text(
        "alice", "/meeting attendance"
    )


# --- /settings timezone: the meeting keeps its local time, and its answers ----------------


async def test_a_new_timezone_says_what_it_does_to_the_meeting_and_keeps_the_answers(
    chat: Chat, clock: Clock
) -> None:
    await thursday_meetings(chat, clock)
    await chat.say("bob", "/meeting rsvp yes")
    await chat.say("carol", "/meeting rsvp no")

    answer = await chat.text("alice", "/settings timezone Europe/Berlin")

    assert answer == (
        "Changed. Timezone: Europe/Berlin. The Thursday 07:00 meeting is now 07:00 Berlin "
        "time, 06:00 UTC (it was 07:00 UTC); the answers for Thursday 26 November are kept."
    )
    posts = [payload_text(m) for m in await all_rows(chat.core.db, OutboxMessage)
             if m.recipient_user_id is None]  # fmt: skip
    assert posts[-1] == (
        "The group's timezone is now Europe/Berlin. The Thursday 07:00 meeting is now "
        "07:00 Berlin time, 06:00 UTC (it was 07:00 UTC)."
    )
    meeting = await chat.text("bob", "/meeting")
    assert "Next meeting: Thursday 26 November at 07:00 (Europe/Berlin)" in meeting
    assert "Coming (1): Bob" in meeting and "Not coming (1): Carol" in meeting
    (row,) = await all_rows(chat.core.db, Meeting)
    assert row.starts_at.astimezone(UTC) == utc(2026, 11, 26, 6)
    await chat.say("dave", "/meeting rsvp substitute")  # answers go on the same meeting
    assert len(await all_rows(chat.core.db, Meeting)) == 1

    before = len(posts)
    answer = await chat.text("alice", "/settings timezone Europe/Paris")  # the same offset
    assert answer.endswith("The Thursday 07:00 meeting stays at 06:00 UTC.")
    group_posts = col(OutboxMessage.recipient_user_id).is_(None)
    assert len(await all_rows(chat.core.db, OutboxMessage, group_posts)) == before
