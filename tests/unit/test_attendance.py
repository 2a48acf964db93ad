"""Attendance in BNI's PALMS terms on both databases: an RSVP of substitute stands unless a
leader changes it, a substitute is never an absence, and /balance shows a member's
attendance once the group keeps meetings."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Chat, Clock

NONE_YET = "All time: 0 present · 0 late · 0 absences · 0 medical · 0 substitutes"


async def test_balance_shows_attendance_and_a_substitute_rsvp_stands(
    chat: Chat, clock: Clock
) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Electrician")
    await chat.say("carol", "/join Roofer")
    assert "Attendance" not in await chat.text("bob", "/balance")  # no meetings kept
    await chat.say("alice", "/meeting set thursday 07:00")
    assert f"Attendance at meetings\n{NONE_YET}" in await chat.text("bob", "/balance")
    assert "Noted: sending a substitute" in await chat.text("bob", "/meeting rsvp substitute")
    await chat.say("carol", "/meeting rsvp yes")
    # not counted before the meeting has started
    assert NONE_YET in await chat.text("bob", "/balance")

    clock.now = datetime(2026, 11, 26, 8, tzinfo=UTC)  # after Thursday's meeting
    await chat.say("alice", "/meeting attendance @alice present")
    await chat.say("alice", "/meeting attendance @carol absent")
    recorded = await chat.text("alice", "/meeting attendance")
    assert "Present (1): Alice" in recorded
    assert "Absent (1): Carol" in recorded
    assert "Substitute (1): Bob" in recorded  # his RSVP stands
    bob = "All time: 0 present · 0 late · 0 absences · 0 medical · 1 substitute"
    assert bob in await chat.text("bob", "/balance")
    carol = "All time: 0 present · 0 late · 1 absence · 0 medical · 0 substitutes"
    assert carol in await chat.text("alice", "/balance @carol")
    await chat.say("alice", "/meeting attendance @bob late")  # a leader changes it
    changed = "All time: 0 present · 1 late · 0 absences · 0 medical · 0 substitutes"
    assert changed in await chat.text("bob", "/balance")
