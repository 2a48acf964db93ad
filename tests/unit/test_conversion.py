"""Conversion in /balance and /leaderboard, and CEUs, through the core on both databases,
checked against a ledger the test keeps itself."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversion import Conversion
from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.tables import Ceu
from tests.conftest import Chat
from tests.unit.test_grammar import template_file  # noqa: F401  (fixture)
from tests.unit.test_rules import TickingClock, all_rows, ticking_clock  # noqa: F401

PROSPECT = "Jane Roe, 555-0100"
_CONVERSION = re.compile(
    r"^(?P<label>[^\n:]+): as giver (?P<giver>[^;]+); as receiver (?P<receiver>.+)$", re.MULTILINE
)


def conversions(answer: str) -> dict[str, tuple[str, str]]:
    """A /balance answer's conversion lines: period label -> (as giver, as receiver)."""
    section = answer.split("Conversion (won of closed)\n", 1)[1]
    return {m["label"]: (m["giver"], m["receiver"]) for m in _CONVERSION.finditer(section)}


def group_line(answer: str) -> str:
    return answer.split("The group: ", 1)[1].splitlines()[0]


def expected(won: int, lost: int, pending: int) -> str:
    """What the answer should say, written out here rather than by the code under test."""
    if won + lost == 0:
        return f"nothing closed yet, {pending} still open or contacted"
    percent = (200 * won + (won + lost)) // (2 * (won + lost))  # half up, in integers
    return f"{won} won of {won + lost} closed ({percent}%), {pending} still open or contacted"


async def _refer(chat: Chat, giver: str, receiver: str, n: int) -> None:
    for _ in range(n):
        assert "recorded" in await chat.text(giver, f"/refer @{receiver} {PROSPECT} {n}")


async def test_conversion_as_giver_receiver_and_group(chat: Chat, clock: TickingClock) -> None:
    for who, job in (("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Baker")):
        await chat.say(who, f"/join {job}")
    await _refer(chat, "alice", "bob", 7)  # referrals 1-7 from alice to bob
    await _refer(chat, "bob", "alice", 2)  # 8-9 from bob to alice
    moves = {1: "won 1,000", 2: "lost", 3: "contacted", 5: "won", 6: "lost", 7: "won"}
    for number, move in moves.items():
        assert f"#{number} is now" in await chat.text("bob", f"/status {number} {move}")
    assert "is now won" in await chat.text("alice", "/status 8 won")
    # a leader voids one won and one lost: they count nowhere
    for number in (5, 6):
        assert "Withdrawn" in await chat.text("alice", f"/undo referral {number} entered twice")
    # ledger: alice gave 1 won, 7 won, 2 lost, 3 contacted, 4 open; received 8 won, 9 open
    alice = conversions(await chat.text("alice", "/balance"))
    assert alice == {
        "All time": (expected(2, 1, 2), expected(1, 0, 1)),
        "Q4 2026": (expected(2, 1, 2), expected(1, 0, 1)),
    }
    assert alice["All time"][0] == "2 won of 3 closed (67%), 2 still open or contacted"
    bob = conversions(await chat.text("bob", "/balance all"))
    assert bob == {"All time": (expected(1, 0, 1), expected(2, 1, 2))}
    carol = conversions(await chat.text("carol", "/balance @carol"))
    assert set(carol.values()) == {(expected(0, 0, 0), expected(0, 0, 0))}
    assert "nothing closed yet, 0 still open" in carol["All time"][0]
    board = await chat.text("carol", "/leaderboard")
    assert (
        group_line(board)
        == expected(3, 1, 3)
        == "3 won of 4 closed (75%), 3 still open or contacted"
    )
    for answer in (board, await chat.text("alice", "/balance")):
        assert PROSPECT not in answer


async def test_conversion_follows_the_period(chat: Chat, clock: TickingClock) -> None:
    clock.now = datetime(2026, 9, 30, 12, tzinfo=UTC)  # Q3
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await _refer(chat, "alice", "bob", 1)
    await chat.say("bob", "/status 1 lost")
    clock.now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    await _refer(chat, "alice", "bob", 1)
    await chat.say("bob", "/status 2 won")
    alice = conversions(await chat.text("alice", "/balance"))
    assert alice["All time"][0] == expected(1, 1, 0)
    assert alice["Q4 2026"][0] == "1 won of 1 closed (100%), 0 still open or contacted"
    assert group_line(await chat.text("bob", "/leaderboard quarter")) == expected(1, 0, 0)
    assert group_line(await chat.text("bob", "/leaderboard all")) == expected(1, 1, 0)


async def test_ceus_count_in_balance_and_leaderboard_and_undo(
    chat: Chat, clock: TickingClock
) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    assert "CEU logged (CEU #1)" in await chat.text("bob", "/ceu Givers Gain podcast")
    assert "CEU #2" in await chat.text("bob", "/ceu")  # what was learned is optional
    assert "CEU #3" in await chat.text("bob", "/ceu book chapter 4")
    assert "Withdrawn: CEU #3" in await chat.text("bob", "/undo")
    assert "Withdrawn: CEU #2" in await chat.text("alice", "/undo ceu 2 not a training")
    assert "already withdrawn" in await chat.text("bob", "/undo ceu 2")
    rows = await all_rows(chat.core.db, Ceu)
    assert [(r.id, r.note, r.voided) for r in rows] == [
        (1, "Givers Gain podcast", False), (2, None, True), (3, "book chapter 4", True),
    ]  # fmt: skip
    assert "· 1 CEU" in await chat.text("bob", "/balance all")
    board = await chat.text("alice", "/leaderboard")
    assert "Bob: 0 given · $0.00 closed business credited · 0 one-to-ones · 1 CEU" in board


async def test_a_long_ceu_is_refused_with_the_right_form_and_records_nothing(
    chat: Chat, clock: TickingClock
) -> None:
    await chat.say("alice", "/join Plumber")
    answer = await chat.text("alice", "/ceu " + "x" * 10_000)
    assert "too long" in answer and "/ceu [what you learned]" in answer
    assert await all_rows(chat.core.db, Ceu) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    referrals=st.lists(
        st.tuples(st.sampled_from(["open", "contacted", "won", "lost"]), st.booleans()),
        max_size=12,
    )
)
def test_conversion_is_between_0_and_100_and_counts_no_voided_referral(
    migrated_sqlite: Path, referrals: list[tuple[str, bool]]
) -> None:
    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as folder:
            shutil.copyfile(migrated_sqlite, Path(folder) / "t.db")
            db = Database(f"sqlite:///{Path(folder) / 't.db'}")
            try:
                chat = Chat(Core(db, GroupDefaults(), clock=TickingClock()))
                await chat.say("ann", "/join")
                await chat.say("ben", "/join")
                for number, (status, voided) in enumerate(referrals, start=1):
                    await chat.say("ann", f"/refer @ben prospect {number}")
                    if status != "open":
                        await chat.say("ben", f"/status {number} {status}")
                    if voided:
                        await chat.say("ann", f"/undo referral {number} test")
                live = [s for s, voided in referrals if not voided]
                won, lost = live.count("won"), live.count("lost")
                pending = len(live) - won - lost
                (giver, receiver) = conversions(await chat.text("ann", "/balance all"))["All time"]
                assert giver == expected(won, lost, pending)
                assert receiver == expected(0, 0, 0)
                percent = re.search(r"\((\d+)%\)", giver)
                assert percent is None or 0 <= int(percent[1]) <= 100
            finally:
                await db.dispose()

    asyncio.run(scenario())


@given(won=st.integers(0, 10**6), lost=st.integers(0, 10**6), pending=st.integers(0, 99))
def test_a_conversion_is_a_share_of_the_closed_only(won: int, lost: int, pending: int) -> None:
    conversion = Conversion(won, lost, pending)
    if won + lost == 0:
        assert conversion.percent is None
    else:
        assert conversion.percent is not None and 0 <= conversion.percent <= 100
    assert conversion.describe() == expected(won, lost, pending).replace(
        f"{won} won of {won + lost}", f"{won:,} won of {won + lost:,}"
    )
