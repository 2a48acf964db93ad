"""Outside work (`bot.outside`): read, then the work with no unit open, then one write.

The actions here are the test's own, put in the core's action table beside the real
ones: a visitor logged with a badge drawn in a thread, the shape of a chart."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlmodel import select

from bot import commands as c
from bot.actions import ledger
from bot.context import Context
from bot.definitions import HANDLERS
from bot.handlers import Action, Handler, reads
from bot.messages import Reply, to_group, to_member, to_sender
from bot.outside import Needs, in_thread
from bot.service import FAILED, Core, GroupDefaults
from storage.database import Database
from storage.tables import OutboxMessage, Visitor
from tests.conftest import Chat, Clock

DRAWN: list[str] = []


def draw_badge(name: str, visitors_before: int) -> bytes:
    """Stands for a chart: computed in a worker thread, never on the loop."""
    assert threading.current_thread() is not threading.main_thread()
    DRAWN.append(name)
    return f"badge:{name}:{visitors_before + 1}".encode()


async def visitor_with_badge(ctx: Context, cmd: c.LogVisitor) -> list[Reply] | Needs[Any]:
    badge = ctx.made(bytes)
    if badge is None:  # first run: read what the work needs, ask for it
        count = len((await ctx.session.exec(select(Visitor))).all())
        return in_thread("a badge", draw_badge, cmd.name, count)
    replies = await ledger.log_visitor(ctx, cmd)  # second run: the write
    return [*replies, to_group(f"Welcome, {cmd.name}!", image=badge)]


async def visitor_waiting_inside(ctx: Context, cmd: c.LogVisitor) -> list[Reply]:
    replies = await ledger.log_visitor(ctx, cmd)
    await asyncio.to_thread(draw_badge, cmd.name, 0)  # the rule broken: fails on both DBs
    return replies


async def visitor_asking_twice(ctx: Context, cmd: c.LogVisitor) -> Needs[Any]:
    return in_thread("a badge", draw_badge, cmd.name, 0)


def chat_with(db: Database, clock: Clock, action: Action) -> Chat:
    table = {**HANDLERS, c.LogVisitor: Handler(c.LogVisitor, action)}
    return Chat(Core(db, GroupDefaults(), clock=clock, table=table))


async def visitors(db: Database) -> list[str]:
    async with db.transaction(write=False) as session:
        return list((await session.exec(select(Visitor.name))).all())


async def group_images(db: Database) -> list[bytes]:
    async with db.transaction(write=False) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        return [row.image for row in rows if row.image is not None]


async def test_outside_work_runs_between_a_read_and_the_write(db: Database, clock: Clock) -> None:
    chat = chat_with(db, clock, visitor_with_badge)
    await chat.say("ann", "/join Plumber")
    DRAWN.clear()
    answer = await chat.text("ann", "/visitor Zoe")
    assert "Visitor Zoe logged" in answer
    assert DRAWN == ["Zoe"]  # drawn once, in a thread, with no unit open
    assert await visitors(db) == ["Zoe"]  # recorded once: the first run only read
    assert await group_images(db) == [b"badge:Zoe:1"]


async def test_a_redelivery_records_nothing_new(db: Database, clock: Clock) -> None:
    chat = chat_with(db, clock, visitor_with_badge)
    await chat.say("ann", "/join Plumber")
    first = await chat.text("ann", "/visitor Zoe", delivery_id="same")
    assert await chat.text("ann", "/visitor Zoe", delivery_id="same") == first
    assert await visitors(db) == ["Zoe"]
    assert len(await group_images(db)) == 1


async def test_an_action_that_waits_inside_its_unit_fails_and_records_nothing(
    db: Database, clock: Clock
) -> None:
    chat = chat_with(db, clock, visitor_waiting_inside)
    await chat.say("ann", "/join Plumber")
    assert await chat.text("ann", "/visitor Zoe") == FAILED
    assert await visitors(db) == []


async def test_an_action_that_asks_again_after_its_work_fails(db: Database, clock: Clock) -> None:
    chat = chat_with(db, clock, visitor_asking_twice)
    await chat.say("ann", "/join Plumber")
    assert await chat.text("ann", "/visitor Zoe") == FAILED
    assert await visitors(db) == []


RUNS: list[str] = []


async def goals_with_a_chart(ctx: Context, cmd: c.ShowGoals) -> list[Reply] | Needs[Any]:
    """A command that only reads, with a chart for the sender privately (as /partners
    group): its first run keeps its text for the second."""
    chart = ctx.made(bytes)
    RUNS.append("second" if chart is not None else "first")
    if chart is None:
        return in_thread("a chart", draw_badge, "goals", 0, keep=("the text", "read once"))
    assert ctx.kept(tuple) == ("the text", "read once")
    assert ctx.kept(str) is None  # kept as what it is, not as another kind
    return [to_sender("Goals."), to_member(ctx.member, "Your chart.", image=chart)]


async def test_a_reading_command_runs_twice_and_writes_its_chart_in_the_second(
    db: Database, clock: Clock
) -> None:
    table = {**HANDLERS, c.ShowGoals: reads(c.ShowGoals, goals_with_a_chart)}
    chat = Chat(Core(db, GroupDefaults(), clock=clock, table=table))
    await chat.say("ann", "/join Plumber")
    RUNS.clear()
    assert await chat.text("ann", "/goals") == "Goals."
    # once to read, once to write: not a third time after failing to write in a reader
    assert RUNS == ["first", "second"]
    assert await group_images(db) == [b"badge:goals:1"]
