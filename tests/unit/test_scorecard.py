"""/scorecard through the core on both databases: every component at each threshold's edge
(just below, at, above), a newcomer's shorter span, attendance, the leaders' views.

The expected points are written out here from the interface's table, not read from
`bot.scoring`; the members joined more than 26 weeks before, so a span is 26 weeks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from bot.scoring import COMPONENTS, POINTS, colour
from storage.tables import Member
from tests.conftest import Chat
from tests.unit.test_rules import TickingClock, all_rows, ticking_clock  # noqa: F401

JOINED = datetime(2026, 5, 1, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday, 30 weeks after JOINED
PROSPECT = "Jane Roe, 555-0100, new roof"
_LINE = re.compile(r"^(?P<label>[^:\n]+): (?P<figure>.+): (?P<points>\d+) of (?P<full>\d+)$",
                   re.MULTILINE)  # fmt: skip
_HEAD = re.compile(r"Scorecard of (?P<name>\w+), (?P<since>.+): (?P<total>\d+) of 100 points,"
                   r" (?P<colour>\w+)")  # fmt: skip


def card(answer: str) -> dict[str, tuple[str, int]]:
    """A scorecard's lines: the label's first word -> (figure, points)."""
    return {m["label"].split()[0]: (m["figure"], int(m["points"])) for m in _LINE.finditer(answer)}


async def scorecard(chat: Chat, clock: TickingClock, who: str, args: str = "") -> str:
    clock.now = max(clock.now, NOW)
    return await chat.text(who, f"/scorecard {args}".strip())


@pytest.fixture
async def group(chat: Chat, clock: TickingClock) -> Chat:
    """alice (the leader), bob and carol, who joined 30 weeks before NOW."""
    clock.now = JOINED
    for who, job in (("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Baker")):
        await chat.say(who, f"/join {job}")
    clock.now = NOW - timedelta(days=2)
    return chat


async def _edges(chat: Chat, clock: TickingClock, component: str, command: str,
                 edges: list[tuple[int, int]], who: str = "alice") -> None:  # fmt: skip
    """Add entries one at a time; at each count of `edges`, the component has those points."""
    done = 0
    for count, points in edges:
        while done < count:
            clock.now = NOW - timedelta(days=1)
            assert "recorded" in (answer := await chat.text(who, command)) or "logged" in answer
            done += 1
        figure, got = card(await scorecard(chat, clock, who))[component]
        assert (count, got) == (count, points), figure
        assert figure.startswith(f"{count} (")


async def test_referrals_given_at_each_edge(group: Chat, clock: TickingClock) -> None:
    # 26 weeks: 0.5 a week is 13, 0.75 is 19.5, 1 is 26, 1.2 is 31.2
    edges = [(0, 0), (12, 0), (13, 5), (14, 5), (19, 5), (20, 10), (25, 10), (26, 15),
             (27, 15), (31, 15), (32, 20), (33, 20)]  # fmt: skip
    await _edges(group, clock, "Referrals", f"/refer @bob {PROSPECT}", edges)
    answer = await scorecard(group, clock, "alice")
    assert "Referrals given: 33 (1.27 a week): 20 of 20" in answer
    assert PROSPECT not in answer and "Jane" not in answer


async def test_visitors_at_each_edge(group: Chat, clock: TickingClock) -> None:
    # 0.083 a week is 2.158 in 26 weeks, 0.167 is 4.342, 0.25 is 6.5, 0.5 is 13
    edges = [(2, 0), (3, 5), (4, 5), (5, 10), (6, 10), (7, 15), (12, 15), (13, 20), (14, 20)]
    await _edges(group, clock, "Visitors", "/visitor Sam Lee, Lee Catering", edges)


async def test_one_to_ones_either_side_at_each_edge(group: Chat, clock: TickingClock) -> None:
    # 0.25 a week is 6.5, 0.5 is 13; bob logs some with alice: they count for her too
    for _ in range(3):
        await group.say("bob", "/onetoone @alice coffee")
    edges = [(6, 0), (7, 5), (12, 5), (13, 10), (14, 10)]
    done = 3
    for count, points in edges:
        while done < count:
            await group.say("alice", "/onetoone @carol lunch")
            done += 1
        figure, got = card(await scorecard(group, clock, "alice"))["One-to-ones"]
        assert (figure.split()[0], got) == (str(count), points)


async def test_ceus_at_each_edge(group: Chat, clock: TickingClock) -> None:
    edges = [(0, 0), (1, 5), (6, 5), (7, 10), (12, 10), (13, 15), (14, 15)]
    await _edges(group, clock, "CEUs", "/ceu a training", edges)
    assert "CEUs: 14 (0.54 a week): 15 of 15" in await scorecard(group, clock, "alice")


async def test_closed_business_at_each_edge(group: Chat, clock: TickingClock) -> None:
    await group.say("bob", "/thanks @alice 10,000 a voided one")
    assert "Withdrawn" in await group.text("bob", "/undo")
    steps = [
        ("999.99", "$999.99", 0),
        ("0.01", "$1,000.00", 5),
        ("0.01", "$1,000.01", 5),
        ("1,499.98", "$2,499.99", 5),
        ("0.01", "$2,500.00", 10),
        ("0.01", "$2,500.01", 10),
        ("2,499.98", "$4,999.99", 10),
        ("0.01", "$5,000.00", 15),
        ("0.01", "$5,000.01", 15),
    ]
    for amount, total, points in steps:
        assert "recorded" in await group.text("bob", f"/thanks @alice {amount}")
        assert card(await scorecard(group, clock, "alice"))["Closed"] == (total, points)
    # the thanks alice gave are closed business she received, not credited to her
    await group.say("alice", "/thanks @bob 9,000")
    assert card(await scorecard(group, clock, "alice"))["Closed"] == ("$5,000.01", 15)


async def test_closed_business_in_another_currency_does_not_count(
    group: Chat, clock: TickingClock
) -> None:
    await group.say("bob", "/thanks @alice 1,200")
    await group.say("alice", "/settings currency EUR")
    await group.say("bob", "/thanks @alice 300")
    assert card(await scorecard(group, clock, "alice"))["Closed"] == ("€300.00", 0)


async def _meeting_week(chat: Chat, clock: TickingClock, week: int, **statuses: str) -> None:
    """Record attendance on the Thursday meeting `week` weeks after 1 October 2026."""
    clock.now = datetime(2026, 10, 1, 8, tzinfo=UTC) + timedelta(weeks=week)
    for who, status in statuses.items():
        answer = await chat.text("alice", f"/meeting attendance @{who} {status}")
        assert status in answer.lower(), answer


async def test_absences_and_lateness_from_recorded_attendance(
    group: Chat, clock: TickingClock
) -> None:
    clock.now = datetime(2026, 9, 1, tzinfo=UTC)
    assert "Thursday" in await group.text("alice", "/meeting set thursday 07:00")
    before = card(await scorecard(group, clock, "bob"))
    assert before["Absences"] == ("no meetings recorded (full points)", 15)
    assert before["On"] == ("no meetings recorded (full points)", 5)
    # bob: substitutes and a medical are no absence; carol: late
    weeks = [
        {"bob": "substitute", "carol": "present"},  # bob 0 absences, carol 0 late
        {"bob": "absent", "carol": "late"},  # 1, 1
        {"bob": "substitute", "carol": "present"},  # 1, 1
        {"bob": "medical", "carol": "late"},  # 1, 2
        {"bob": "absent"},  # 2
        {"bob": "absent"},  # 3
    ]
    expected_bob = [15, 10, 10, 10, 5, 0]
    expected_carol_on_time = [5, 5, 5, 0, 0, 0]
    for week, (statuses, bob_points, carol_points) in enumerate(
        zip(weeks, expected_bob, expected_carol_on_time, strict=True)
    ):
        await _meeting_week(group, clock, week, **statuses)
        bob = card(await scorecard(group, clock, "bob"))
        carol = card(await scorecard(group, clock, "carol"))
        assert bob["Absences"][1] == bob_points, (week, bob)
        assert carol["On"][1] == carol_points, (week, carol)
        assert carol["Absences"] == ("0", 15)
        clock.now = NOW - timedelta(days=3)
    assert card(await scorecard(group, clock, "bob"))["Absences"] == ("3", 0)


async def test_a_member_who_joined_three_weeks_ago(group: Chat, clock: TickingClock) -> None:
    clock.now = NOW - timedelta(weeks=3)
    await group.say("dave", "/join Florist")
    clock.now = NOW - timedelta(days=2)
    for _ in range(2):
        await group.say("dave", f"/refer @alice {PROSPECT}")
    clock.now = NOW
    answer = await group.text("dave", "/scorecard")
    assert "since joining on 04 Nov 2026 (3 weeks)" in answer
    assert card(answer)["Referrals"] == ("2 (0.67 a week)", 5)  # 2 in 3 weeks: below 0.75
    clock.now = NOW - timedelta(days=1)
    await group.say("dave", f"/refer @alice {PROSPECT}")
    clock.now = NOW
    assert card(await group.text("dave", "/scorecard"))["Referrals"] == ("3 (1.00 a week)", 15)
    # the same three in 26 weeks would score nothing
    assert card(await scorecard(group, clock, "alice", "@alice"))["Referrals"][1] == 0


async def test_total_colour_and_the_step_that_adds_most(group: Chat, clock: TickingClock) -> None:
    answer = await scorecard(group, clock, "bob")
    # no meetings: absences 15 and on time 5; nothing else
    head = _HEAD.search(answer)
    assert head is not None
    assert (head["since"], head["total"], head["colour"]) == (
        "over the last 26 weeks",
        "20",
        "grey",
    )
    assert "Next step: 1 more CEU would add 5 points." in answer  # the fewest entries for 5
    for _ in range(13):
        await group.say("bob", "/ceu reading")
    for _ in range(13):
        await group.say("bob", "/visitor Kim")
    for _ in range(13):
        await group.say("bob", "/onetoone @carol")
    answer = await scorecard(group, clock, "bob")
    head = _HEAD.search(answer)
    assert head is not None and (head["total"], head["colour"]) == ("65", "amber")
    assert "Next step: 13 more referrals given would add 5 points." in answer
    await group.say("alice", "/thanks @bob 5,000")
    for _ in range(13):
        await group.say("bob", f"/refer @carol {PROSPECT}")
    answer = await scorecard(group, clock, "bob")
    head = _HEAD.search(answer)
    assert head is not None and (head["total"], head["colour"]) == ("85", "green")
    assert "Next step: 7 more referrals given would add 5 points." in answer  # 20 is 0.77


async def test_who_sees_which_scorecard(group: Chat, clock: TickingClock) -> None:
    for _ in range(13):
        await group.say("carol", "/ceu course")
    refused = await scorecard(group, clock, "bob", "@carol")
    assert "leaders see anyone's" in refused and "Scorecard of" not in refused
    assert "Scorecard of Bob" in await scorecard(group, clock, "bob", "@bob")
    assert "Only the group's leaders" in await scorecard(group, clock, "bob", "group")
    assert "Scorecard of Carol" in await scorecard(group, clock, "alice", "@carol")
    listing = await scorecard(group, clock, "alice", "group")
    lines = [line for line in listing.splitlines() if re.match(r"^\d+ \w+: ", line)]
    assert lines == ["20 grey: Alice", "20 grey: Bob", "35 red: Carol"]
    assert "Group average: 25.0 of 100 points, grey" in listing


async def test_an_unknown_member_is_refused_with_the_right_form(
    group: Chat, clock: TickingClock
) -> None:
    members = len(await all_rows(group.core.db, Member))
    answer = await scorecard(group, clock, "alice", "@nobody")
    assert "no member called @nobody" in answer
    assert "The right form:\n/scorecard [@member]" in answer
    assert len(await all_rows(group.core.db, Member)) == members


def test_the_table_adds_up_to_100_and_each_edge_is_exact() -> None:
    assert POINTS == 100
    assert [colour(t) for t in (100, 70, 69, 50, 49, 30, 29, 0)] == [
        "green", "green", "amber", "amber", "red", "red", "grey", "grey",
    ]  # fmt: skip
    by_key = {c.key: c for c in COMPONENTS}
    tiny = Fraction(1, 10**9)
    for key, edges in {
        "given": [("0.5", 0, 5), ("0.75", 5, 10), ("1", 10, 15), ("1.2", 15, 20)],
        "visitors": [("0.083", 0, 5), ("0.167", 5, 10), ("0.25", 10, 15), ("0.5", 15, 20)],
        "one_to_ones": [("0.25", 0, 5), ("0.5", 5, 10)],
        "credited": [("1000", 0, 5), ("2500", 5, 10), ("5000", 10, 15)],
        "ceus": [("0.25", 5, 10), ("0.5", 10, 15)],
    }.items():
        for limit, below, at in edges:
            edge = Fraction(limit)
            points = [by_key[key].points(edge - tiny), by_key[key].points(edge),
                      by_key[key].points(edge + tiny)]  # fmt: skip
            assert points == [below, at, at], (key, limit)
    assert [by_key["ceus"].points(f) for f in (Fraction(0), tiny)] == [0, 5]
    assert [by_key["absences"].points(n) for n in range(5)] == [15, 10, 5, 0, 0]
    assert [by_key["lates"].points(n) for n in range(4)] == [5, 5, 0, 0]
