"""/partners: reciprocity against a ledger built here, both ways and one-sided; the group's
who-referred-whom with its chart sent privately; the partners table sums to the ledger."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot import charts, heatmap
from bot.delivery import Deliverer
from bot.messages import Reply
from bot.service import Core, GroupDefaults
from storage import partners, reports
from storage.database import Database
from storage.tables import Group, Member, OutboxMessage
from tests.conftest import Chat, Clock
from tests.unit.test_delivery import FakeTransport
from tests.unit.test_grammar import template_file  # noqa: F401  (fixture)
from tests.unit.test_ledger_properties import END_OF_TIME, NAMES, Ledger, actions, snapshot
from tests.unit.test_rules import TickingClock, all_rows, ticking_clock  # noqa: F401

PROSPECT = "Jane Roe, 555-0100, new roof"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def ledger(chat: Chat, clock: TickingClock) -> None:
    """Alice and Bob both ways, Alice to Carol one way, Dan to Alice one way; one voided
    referral; one referral in October (outside "month" on 25 November)."""
    clock.now = utc(2026, 10, 20, 9)
    for who, what in (("alice", "Plumber"), ("bob", "Roofer"), ("carol", "Electrician"),
                      ("dan", "Accountant"), ("erin", "Baker")):  # fmt: skip
        await chat.say(who, f"/join {what}")
    await chat.say("alice", f"/refer @bob {PROSPECT}")  # October
    clock.now = utc(2026, 11, 20, 9)
    for _ in range(2):
        await chat.say("alice", f"/refer @bob {PROSPECT} hot")
    await chat.say("bob", f"/refer @alice {PROSPECT}")
    for _ in range(3):
        await chat.say("alice", f"/refer @carol {PROSPECT}")
        await chat.say("dan", f"/refer @alice {PROSPECT} warm")
    await chat.say("alice", f"/refer @erin {PROSPECT}")
    assert "withdrawn" in (await chat.text("alice", "/undo")).lower()  # the one to Erin
    await chat.say("bob", "/thanks @alice 2,500 the roof job")
    await chat.say("alice", "/thanks @bob 400.50")
    await chat.say("carol", "/thanks @alice great intro")  # recognition only: no amount
    clock.now = utc(2026, 11, 25, 12)


ALICE_ALL = [
    "Bob: 3 given to them · 1 received from them · closed business $2,500.00 credited to you"
    " · $400.50 credited to them",
    "Carol: 3 given to them · 0 received from them · closed business $0.00 credited to you"
    " · $0.00 credited to them",
    "Dan: 0 given to them · 3 received from them · closed business $0.00 credited to you"
    " · $0.00 credited to them",
]


async def test_partners_both_ways_sorted_by_the_whole_exchange(
    chat: Chat, clock: TickingClock
) -> None:
    await ledger(chat, clock)
    (reply,) = await chat.say("alice", "/partners")
    assert reply.text == "Partners of Alice"
    (table, one_sided) = reply.sections
    assert (table.title, list(table.lines)) == ("All time", ALICE_ALL)
    assert one_sided.title == "One-sided so far"
    assert list(one_sided.lines) == [
        "You have given Carol 3 referrals and none has come back yet: a one-to-one with Carol"
        " helps them learn who to send you.",
        "Dan has given you 3 referrals and none has gone back yet: a one-to-one with Dan"
        " helps you learn who they are looking for.",
    ]
    # this month: October's referral to Bob is out
    (month,) = await chat.say("alice", "/partners month")
    assert month.sections[0].title == "November 2026"
    assert month.sections[0].lines[0].startswith("Bob: 2 given to them · 1 received from them")


async def test_someone_elses_partners_and_a_member_with_none(
    chat: Chat, clock: TickingClock
) -> None:
    await ledger(chat, clock)
    (bob,) = await chat.say("carol", "/partners @bob")
    assert bob.text == "Partners of Bob"
    assert list(bob.sections[0].lines) == [
        "Alice: 1 given to them · 3 received from them · closed business $400.50 credited to"
        " Bob · $2,500.00 credited to them"
    ]
    assert len(bob.sections) == 1  # 3 and 1: not one-sided
    (carol,) = await chat.say("carol", "/partners")
    assert "Carol has" not in carol.text
    assert carol.sections[1].lines == (
        "Alice has given you 3 referrals and none has gone back yet: a one-to-one with Alice"
        " helps you learn who they are looking for.",
    )
    (erin,) = await chat.say("erin", "/partners week")
    assert erin.sections[0].lines == ("No referrals exchanged yet.",)


async def deliver_all(db: Database, transport: FakeTransport) -> None:
    """Every row that is due, delivered (a chat's rows one after the other)."""
    deliverer = Deliverer(db, [transport])
    for _ in range(100):
        if await deliverer.run_once() == 0:
            return


async def test_the_group_table_goes_to_leaders_with_the_chart_privately(
    chat: Chat, clock: TickingClock
) -> None:
    await ledger(chat, clock)
    before = len(await all_rows(chat.core.db, OutboxMessage))
    refused = await chat.text("bob", "/partners group")
    assert refused == "Only the group's leaders can see the whole group's partners."
    assert len(await all_rows(chat.core.db, OutboxMessage)) == before

    (reply,) = await chat.say("alice", "/partners group")
    assert reply.text == "Who referred whom in chapter. The chart is on its way to you privately."
    table, one_sided = reply.sections
    assert list(table.lines) == [
        "10 referrals between 4 pairs of members (giver → receiver).",
        "Alice → Bob: 3", "Alice → Carol: 3", "Dan → Alice: 3", "Bob → Alice: 1",
    ]  # fmt: skip
    assert list(one_sided.lines) == [
        "Alice gave Carol 3 referrals, none back yet",
        "Dan gave Alice 3 referrals, none back yet",
    ]
    rows = await all_rows(chat.core.db, OutboxMessage)
    assert len(rows) == before + 1  # the chart only: nothing in the group's chat
    (row,) = rows[before:]
    assert row.recipient_user_id == "alice" and row.image is None  # drawn on delivery
    chart = Reply.from_json(json.loads(row.payload)).chart
    assert chart is not None and chart.kind == "partners"
    window = {"start": chart.data["start"], "end": chart.data["end"][:16]}
    assert chart.data["group_id"] == 1 and window == {"start": None, "end": "2026-11-25T12:00"}
    assert chart.data["title"] == "Who referred whom in chapter, all time"
    # a referral given before it is delivered is not in it: it shows what the text counted
    assert "recorded" in await chat.text("bob", f"/refer @carol {PROSPECT}")
    grid = await charts.partners_grid(chat.core.db, chart.data)
    assert grid.givers == ("Alice", "Dan", "Bob") and grid.receivers == ("Alice", "Bob", "Carol")
    assert grid.counts == ((0, 3, 3), (3, 0, 0), (1, 0, 0))  # 10 referrals, 4 pairs
    transport = FakeTransport(row.platform)
    await deliver_all(chat.core.db, transport)
    (sent,) = [m for m in transport.calls if m.id == row.id]
    assert sent.recipient_user_id == "alice" and sent.reply.text.startswith("Who referred whom")
    assert sent.image is not None and sent.image.startswith(PNG_MAGIC)
    assert sent.reply.image == sent.image and sent.image_name == "chart.png"
    for who, text in (("alice", "/partners"), ("alice", "/partners group"), ("bob", "/partners")):
        assert "555-0100" not in await chat.text(who, text)


async def test_a_redelivered_partners_group_queues_its_chart_once(
    chat: Chat, clock: TickingClock
) -> None:
    await ledger(chat, clock)
    before = len(await all_rows(chat.core.db, OutboxMessage))
    first = await chat.say("alice", "/partners group", delivery_id="partners-1")
    again = await chat.say("alice", "/partners group", delivery_id="partners-1")
    assert again == first  # the answer kept with its delivery id, not a second chart
    assert len(await all_rows(chat.core.db, OutboxMessage)) == before + 1


async def test_a_chart_that_cannot_be_drawn_is_retried_not_lost(
    chat: Chat, clock: TickingClock
) -> None:
    await ledger(chat, clock)
    await chat.say("alice", "/partners group")
    async with chat.core.db.transaction() as session:  # a kind this version cannot draw
        (row,) = (await session.exec(select(OutboxMessage))).all()[-1:]
        payload = json.loads(row.payload)
        payload["chart"]["kind"] = "sundial"  # e.g. queued by a newer version
        row.payload = json.dumps(payload)
        session.add(row)
    transport = FakeTransport(row.platform)
    await deliver_all(chat.core.db, transport)
    assert [m for m in transport.calls if m.id == row.id] == []
    (kept,) = [r for r in await all_rows(chat.core.db, OutboxMessage) if r.id == row.id]
    assert kept.status == "pending" and kept.attempts == 1
    assert kept.last_error == "chart not drawn: KeyError"


def test_the_heatmap_names_givers_and_receivers_and_is_a_png() -> None:
    cells = [("Alice", "Bob", 3), ("Bob", "Alice", 1), ("Dan", "Alice", 3),
             ("Élodie Martin-Smithson", "Bob", 2)]  # fmt: skip
    grid = heatmap.grid("Who referred whom", cells)
    assert grid.givers == ("Alice", "Dan", "Élodie Martin-Smithson", "Bob")
    assert grid.receivers == ("Bob", "Alice")
    assert grid.counts == ((3, 0), (0, 3), (2, 0), (0, 1))
    figure = heatmap.figure(grid)
    (axes, _colour_bar) = figure.axes
    assert [t.get_text() for t in axes.get_yticklabels()] == [
        "Alice", "Dan", "Élodie Martin…", "Bob"
    ]  # fmt: skip
    assert [t.get_text() for t in axes.get_xticklabels()] == ["Bob", "Alice"]
    png = heatmap.draw(grid)
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000


def test_a_big_group_keeps_the_busiest_members_on_the_chart() -> None:
    cells = [(f"m{i}", f"m{(i + 1) % 40}", i + 1) for i in range(40)]
    grid = heatmap.grid("t", cells)
    assert len(grid.givers) == len(grid.receivers) == heatmap.MOST
    assert grid.givers[0] == "m39"
    assert heatmap.draw(grid).startswith(PNG_MAGIC)


# --- the property: the partners tables sum to the ledger -------------------------------------


async def check_partners_sum(db: Database) -> None:
    async def read(unit: Any) -> None:
        members = (await unit.session.exec(select(Member))).all()
        (group,) = (await unit.session.exec(select(Group))).all()
        pairs, _ = await partners.group_pairs(unit, group.id, None, END_OF_TIME)
        # what /partners group says, counted in SQL, agrees with the pairs themselves
        told = await partners.group_partners(unit, group.id, None, END_OF_TIME, top=3,
                                             one_sided=2)  # fmt: skip
        counts = {(g, r): n for g, r, n in pairs}
        cut = sorted(counts.values(), reverse=True)[2] if len(counts) >= 3 else 0
        assert (told.referrals, told.pairs) == (sum(counts.values()), len(counts))
        assert sorted(told.top) == sorted(p for p in pairs if p[2] >= cut)
        assert sorted(told.one_sided) == sorted(
            (g, r, n) for (g, r), n in counts.items() if n >= 2 and (r, g) not in counts
        )
        for m in members:
            totals = await reports.totals(unit, m.id, None, END_OF_TIME)
            found = await partners.member_exchanges(unit, m.id, None, END_OF_TIME)
            assert sum(x.given for x in found) == totals.given
            assert sum(x.received for x in found) == totals.received
            assert sum(n for g, _, n in pairs if g == m.id) == totals.given
            assert sum(n for _, r, n in pairs if r == m.id) == totals.received
            for code, amount in totals.credited.items():
                assert sum(x.credited.get(code, 0) for x in found) == amount
            for code, amount in totals.thanked.items():
                assert sum(x.thanked.get(code, 0) for x in found) == amount

    await db.run(read, write=False)


async def play_partners(template: Path, count: int, steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copyfile(template, Path(folder) / "p.db")
        db = Database(f"sqlite:///{Path(folder) / 'p.db'}")
        try:
            clock = Clock(datetime(2026, 11, 25, 12, tzinfo=UTC))
            chat = Chat(Core(db, GroupDefaults(), clock=clock))
            book = Ledger(chat, clock, list(NAMES[:count]))
            for name in book.names:
                await chat.say(name, "/join")
            async with db.transaction() as session:
                book.ids = {m.platform_user_id: int(m.id or 0)
                            for m in (await session.exec(select(Member))).all()}  # fmt: skip
            member_ids = sorted(book.ids.values())
            for step in steps:
                if step[0] == "wait":
                    clock.advance(hours=step[1])
                    continue
                who, text = await book.command(step, await snapshot(db, member_ids))
                clock.advance(seconds=1)
                await chat.say(who, text)
            await check_partners_sum(db)
        finally:
            await db.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(3, 6), steps=st.lists(actions, min_size=1, max_size=16))
def test_the_partners_tables_sum_to_the_referrals_given_and_received(
    migrated_sqlite: Path, count: int, steps: list[tuple[Any, ...]]
) -> None:
    asyncio.run(play_partners(migrated_sqlite, count, steps))


async def test_the_top_pairs_take_every_tie_at_the_cut_and_the_answer_keeps_ten(
    chat: Chat, clock: TickingClock
) -> None:
    clock.now = utc(2026, 11, 20, 9)
    people = ["ann", "ben", "cat", "dov", "eve"]
    for who in people:
        await chat.say(who, f"/join {who.capitalize()} Trade")
    for giver in people:  # 20 pairs, one referral each; Ann gives Ben a second
        for receiver in people:
            if giver != receiver:
                await chat.say(giver, f"/refer @{receiver} {PROSPECT}")
    await chat.say("ann", f"/refer @ben {PROSPECT}")
    chat.admins.add("ann")
    end = utc(2026, 12, 1)
    found = await chat.core.db.run(
        lambda unit: partners.group_partners(unit, 1, None, end, top=10, one_sided=3),
        write=False,
    )
    assert (found.referrals, found.pairs, len(found.top), found.one_sided) == (21, 20, 20, [])
    (reply,) = await chat.say("ann", "/partners group")  # the chart goes to the outbox
    assert list(reply.sections[0].lines) == [
        "21 referrals between 20 pairs of members (giver → receiver).",
        "Ann → Ben: 2", "Ann → Cat: 1", "Ann → Dov: 1", "Ann → Eve: 1", "Ben → Ann: 1",
        "Ben → Cat: 1", "Ben → Dov: 1", "Ben → Eve: 1", "Cat → Ann: 1", "Cat → Ben: 1",
    ]  # fmt: skip
    assert len(reply.sections) == 1  # nothing one-sided
