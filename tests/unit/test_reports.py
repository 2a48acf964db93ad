"""Balances and leaderboards: periods in the group's timezone, exact money, the ranking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Chat
from tests.unit.test_grammar import fast_db, template_file  # noqa: F401  (fixtures)
from tests.unit.test_rules import TickingClock, balance, balance_lines, ticking_clock  # noqa: F401

SECOND = timedelta(seconds=1)
_STANDING = re.compile(
    r"^(?P<rank>\d+)\. (?P<name>[^:\n]+): (?P<given>\d+) given · (?P<credited>.+?) closed business"
    r" credited · (?P<one_to_ones>\d+) one-to-ones? · (?P<ceus>\d+) CEUs?$",
    re.MULTILINE,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def standings(chat: Chat, who: str, period: str = "") -> list[dict[str, str]]:
    answer = await chat.text(who, f"/leaderboard {period}".strip())
    return [m.groupdict() for m in _STANDING.finditer(answer)]


async def at(chat: Chat, clock: TickingClock, when: datetime, who: str, text: str) -> str:
    """Send a command as if at `when` (UTC)."""
    clock.now = when
    answer = await chat.text(who, text)
    assert "recorded" in answer or "logged" in answer, answer
    return answer


async def auckland_group(chat: Chat, clock: TickingClock) -> None:
    clock.now = utc(2026, 6, 1)
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    answer = await chat.text("alice", "/settings timezone pacific/auckland")
    assert "Pacific/Auckland" in answer


# Each case: the period, the first instant of its current period in Pacific/Auckland (UTC),
# the time of asking (UTC), and how the answer names the period.
BOUNDARIES = [
    # Monday 23 Nov 2026 00:00 NZDT (+13); in UTC both entries are on Sunday 22 Nov.
    ("week", utc(2026, 11, 22, 11), utc(2026, 11, 25, 12), "This week (from Mon 23 Nov)"),
    # 1 Dec 2026 00:00 NZDT; in UTC it is still 30 November.
    ("month", utc(2026, 11, 30, 11), utc(2026, 12, 5), "December 2026"),
    # 1 Oct 2026 00:00 NZDT (daylight saving began 27 Sep).
    ("quarter", utc(2026, 9, 30, 11), utc(2026, 10, 10), "Q4 2026"),
    # 1 Jan 2027 00:00 NZDT.
    ("year", utc(2026, 12, 31, 11), utc(2027, 1, 5), "2027"),
    # DST: 1 Apr 2027 00:00 is NZDT (+13), asked after it ended on 4 Apr (NZST, +12).
    ("month", utc(2027, 3, 31, 11), utc(2027, 4, 10), "April 2027"),
    # DST: 1 Jul 2026 00:00 is NZST (+12), asked after it began on 27 Sep (NZDT, +13).
    ("quarter", utc(2026, 6, 30, 12), utc(2026, 9, 29), "Q3 2026"),
    # DST: the week of Mon 29 Mar 2027 (NZDT) asked on Sunday 4 Apr after 03:00 (NZST).
    ("week", utc(2027, 3, 28, 11), utc(2027, 4, 4, 8), "This week (from Mon 29 Mar)"),
    # DST: 1 Jan 2027 (NZDT) asked in June (NZST).
    ("year", utc(2026, 12, 31, 11), utc(2027, 6, 15), "2027"),
]


@pytest.mark.parametrize(
    ("period", "start", "now", "label"),
    BOUNDARIES,
    ids=[f"{p}-{s:%Y%m%d%H}" for p, s, _, _ in BOUNDARIES],
)
async def test_periods_follow_the_groups_timezone(
    chat: Chat, clock: TickingClock, period: str, start: datetime, now: datetime, label: str
) -> None:
    await auckland_group(chat, clock)
    before = start - SECOND
    await at(chat, clock, before, "alice", "/refer @bob Prospect just before")
    await at(chat, clock, before, "bob", "/thanks @alice 1.00")
    await at(chat, clock, before, "alice", "/onetoone @bob")
    await at(chat, clock, start, "alice", "/refer @bob Prospect at the start")
    await at(chat, clock, start, "bob", "/thanks @alice 2.00")
    await at(chat, clock, start + SECOND, "alice", "/visitor Jane Roe")

    clock.now = now
    lines = balance_lines(await chat.text("alice", f"/balance {period}"))
    assert list(lines) == [label]
    alice = lines[label]
    assert (alice["given"], alice["credited"], alice["one_to_ones"], alice["visitors"]) == (
        "1", "$2.00", "0", "1"
    )  # fmt: skip
    bob = await balance(chat, "bob", f"@bob {period}")
    assert (bob["received"], bob["thanked"], bob["one_to_ones"]) == ("1", "$2.00", "0")

    everything = await balance(chat, "alice", "all")
    assert (everything["given"], everything["credited"], everything["one_to_ones"]) == (
        "2", "$3.00", "1"
    )  # fmt: skip

    board = await standings(chat, "alice", period)
    # only members with activity in the period are ranked: bob only received and thanked
    assert [(s["name"], s["given"], s["credited"]) for s in board] == [("Alice", "1", "$2.00")]


async def test_default_balance_is_all_time_and_this_quarter(
    chat: Chat, clock: TickingClock
) -> None:
    await auckland_group(chat, clock)
    await at(chat, clock, utc(2026, 9, 30, 10, 59, 59), "alice", "/refer @bob Q3 in Auckland")
    await at(chat, clock, utc(2026, 9, 30, 11), "alice", "/refer @bob Q4 in Auckland")
    clock.now = utc(2026, 11, 25, 12)
    lines = balance_lines(await chat.text("alice", "/balance"))
    assert {label: f["given"] for label, f in lines.items()} == {"All time": "2", "Q4 2026": "1"}
    # the default leaderboard is this quarter
    assert [(s["name"], s["given"]) for s in await standings(chat, "bob")] == [("Alice", "1")]


async def test_amounts_are_exact_to_the_cent(chat: Chat, clock: TickingClock) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await chat.say("alice", "/thanks @bob 0.10")
    await chat.say("alice", "/thanks @bob 0.20")
    assert (await balance(chat, "bob"))["credited"] == "$0.30"
    assert (await balance(chat, "alice"))["thanked"] == "$0.30"
    for _ in range(7):
        await chat.say("alice", "/thanks @bob $0.01")
    await chat.say("alice", "/thanks @bob 999,999,999.99")
    assert (await balance(chat, "bob"))["credited"] == "$1,000,000,000.36"
    board = await standings(chat, "carol")
    assert [(s["name"], s["credited"]) for s in board] == [("Bob", "$1,000,000,000.36")]


async def test_the_groups_currency_is_shown(chat: Chat, clock: TickingClock) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await chat.say("alice", "/thanks @bob 10")
    assert "Changed. Currency: EUR" in await chat.text("alice", "/settings currency eur")
    assert "€2,500.50" in await chat.text("alice", "/thanks @bob 2500.50 EUR")
    bob = await balance(chat, "bob")
    assert bob["credited"] == "€2,500.50 + $10.00"  # the group's own currency first
    # the leaderboard shows every currency the group has used, as the balance does
    board = await standings(chat, "bob")
    assert [(s["name"], s["credited"]) for s in board] == [("Bob", "€2,500.50 + $10.00")]


async def test_the_leaderboard_ranks_the_groups_currency_then_the_others(
    chat: Chat, clock: TickingClock
) -> None:
    for who, classification in [("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Baker"),
                                ("dave", "Florist"), ("erin", "Lawyer")]:  # fmt: skip
        await chat.say(who, f"/join {classification}")
    await chat.say("alice", "/thanks @bob 5,000")  # dollars, before the change
    await chat.say("alice", "/thanks @dave 1,000")
    await chat.say("alice", "/settings currency EUR")
    await chat.say("alice", "/thanks @carol 100")  # euros
    await chat.say("alice", "/thanks @dave 100")
    await chat.say("erin", "/refer @alice a prospect")  # a referral given counts first
    board = await standings(chat, "alice")
    assert [(s["rank"], s["name"], s["credited"]) for s in board] == [
        ("1", "Erin", "€0.00"),
        ("2", "Dave", "€100.00 + $1,000.00"),
        ("3", "Carol", "€100.00"),
        ("4", "Bob", "$5,000.00"),
    ]


async def test_a_group_in_yen_has_whole_amounts(chat: Chat, clock: TickingClock) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await chat.say("alice", "/settings currency JPY")
    assert "decimals" not in await chat.text("alice", "/thanks @bob ¥2,500")
    assert "whole numbers" in await chat.text("alice", "/thanks @bob 2500.50")
    assert (await balance(chat, "bob"))["credited"] == "¥2,500"


async def test_leaderboard_shows_names_sorted_by_given_then_closed_business(
    chat: Chat, clock: TickingClock
) -> None:
    for who, classification in [
        ("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Accountant"), ("dave", "Baker"),
        ("erin", "Lawyer"),
    ]:  # fmt: skip
        await chat.say(who, f"/join {classification}")
    await chat.say("alice", "/refer @bob one")
    await chat.say("alice", "/refer <@carol|carol> two")
    await chat.say("bob", "/refer @alice three")
    await chat.say("carol", "/refer @alice four")
    await chat.say("alice", "/thanks @carol 900")
    await chat.say("alice", "/thanks @bob 500")
    await chat.say("alice", "/thanks @erin 10")
    for _ in range(3):
        await chat.say("dave", "/onetoone @erin")

    board = await standings(chat, "alice")
    assert [(s["rank"], s["name"], s["given"], s["credited"], s["one_to_ones"]) for s in board] == [
        ("1", "Alice", "2", "$0.00", "0"),
        ("2", "Carol", "1", "$900.00", "0"),
        ("3", "Bob", "1", "$500.00", "0"),
        ("4", "Erin", "0", "$10.00", "3"),
        ("5", "Dave", "0", "$0.00", "3"),
    ]
    answer = await chat.text("alice", "/leaderboard")
    assert "@" not in answer and "<" not in answer

    # voided entries leave the ranking
    assert "Withdrawn" in await chat.text("alice", "/undo referral 1")
    assert "Withdrawn" in await chat.text("alice", "/undo thanks 1 wrong member")
    board = await standings(chat, "alice")
    assert [(s["name"], s["given"], s["credited"]) for s in board] == [
        ("Bob", "1", "$500.00"),
        ("Alice", "1", "$0.00"),
        ("Carol", "1", "$0.00"),
        ("Erin", "0", "$10.00"),
        ("Dave", "0", "$0.00"),
    ]


@pytest.mark.parametrize(("members", "more"), [(15, None), (18, 3)])
async def test_leaderboard_and_n_more(
    chat: Chat, clock: TickingClock, members: int, more: int | None
) -> None:
    names = [f"m{i:02d}" for i in range(members + 1)]
    for name in names:
        await chat.say(name, "/join")
    for count, giver in enumerate(names[1:], start=1):  # m01 gives 1, m02 gives 2, ...
        for _ in range(count):
            await chat.say(giver, "/refer @m00 a prospect")
    answer = await chat.text("m00", "/leaderboard")
    board = [m.groupdict() for m in _STANDING.finditer(answer)]
    assert len(board) == 15
    assert [s["name"] for s in board] == [f"M{i:02d}" for i in range(members, members - 15, -1)]
    assert [s["rank"] for s in board] == [str(r) for r in range(1, 16)]
    if more is None:
        assert "more" not in answer
    else:
        assert answer.split("\nConversion")[0].rstrip().endswith(f"and {more} more")


async def test_tied_members_share_a_rank_in_natural_order_of_names(
    chat: Chat, clock: TickingClock
) -> None:
    for name in ("m10", "m2", "m1", "ann", "zed"):
        await chat.say(name, "/join")
    await chat.say("zed", "/refer @ann one")
    await chat.say("zed", "/refer @ann two")
    for giver in ("m10", "m2", "m1"):
        await chat.say(giver, "/refer @zed three")
    await chat.say("ann", "/onetoone @zed")  # ann and zed: one one-to-one each
    board = await standings(chat, "ann")
    assert [(s["rank"], s["name"]) for s in board] == [
        ("1", "Zed"), ("2", "M1"), ("2", "M2"), ("2", "M10"), ("5", "Ann"),
    ]  # fmt: skip


async def test_a_cut_never_separates_a_tie(chat: Chat, clock: TickingClock) -> None:
    # 13 members with 2 referrals each ahead, then 4 tied with 1 (places 14-17), then 1 more
    # with a one-to-one only: the tie is shown whole, and only the last is "more".
    names = [f"m{i:02d}" for i in range(19)]
    for name in names:
        await chat.say(name, "/join")
    for giver in names[1:14]:
        for _ in range(2):
            await chat.say(giver, "/refer @m00 a prospect")
    for giver in names[14:18]:
        await chat.say(giver, "/refer @m00 a prospect")
    await chat.say("m18", "/onetoone @m00")
    answer = await chat.text("m00", "/leaderboard")
    board = [m.groupdict() for m in _STANDING.finditer(answer)]
    assert [s["rank"] for s in board] == [*(["1"] * 13), "14", "14", "14", "14"]
    assert [s["name"] for s in board[13:]] == ["M14", "M15", "M16", "M17"]
    assert (
        answer.split("\nConversion")[0].rstrip().endswith("and 2 more")
    )  # m18 and m00 (a one-to-one each)


async def test_an_empty_period_says_so(chat: Chat, clock: TickingClock) -> None:
    await chat.say("alice", "/join Plumber")
    answer = await chat.text("alice", "/leaderboard week")
    assert "Nothing recorded yet" in answer
    figures = await balance(chat, "alice", "week")
    assert (figures["given"], figures["credited"]) == ("0", "$0.00")
