"""The core's second door: a scheduled occasion (a group, a kind of post, a time), no sender.

`Occasions.run(group_id, kind, now)` is what a scheduler calls when a post is due; it goes
through the same units of work and the same outbox as a message (`bot.service`), in three
steps so that nothing slow happens inside a transaction (design: "a write unit only talks
to the database"):

1. read: the group's settings say which occurrence is due at `now` (`bot.due`: the
   latest one, while still useful); one already claimed is left alone; else the post's
   numbers are read;
2. outside work: the post is composed (in a thread) and its chart drawn (in a drawing
   process, `bot.drawing`);
3. one short write: the group is re-read (its row locked on PostgreSQL) and the due
   occurrence computed again from what the settings say now (a leader may have changed
   them meanwhile: then nothing is claimed); the occurrence is claimed (`post_claims`,
   unique per group, kind and occurrence) and, by whoever inserted the claim, the post is
   written to the outbox in the same transaction. The group's next due time is stored
   (`post_schedule`) in that transaction too.

A restart, a kill -9 or a second instance can run the same occasion again: the claim makes
the post happen once, and the outbox delivers it once it is committed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import calendar_posts, reminders, weekly
from bot.due import KINDS, LEADERBOARD, REMINDER, Kind, due, next_due
from bot.messages import Reply
from bot.reachability import stopped
from storage import outbox, post_schedule
from storage.clock import utcnow
from storage.database import Database
from storage.units import Unit

log = logging.getLogger("referral_bot.occasions")


@dataclass(frozen=True)
class Post:
    """How one kind of post is made: read its numbers, then compose it: a blocking function
    (run in a thread) or a coroutine function (awaited: the weekly post, which has its chart
    drawn in a drawing process)."""

    kind: Kind
    gather: Callable[[Unit, Any, datetime], Awaitable[Any]]
    compose: Callable[[Any], list[Reply] | Awaitable[list[Reply]]]
    # what else is written with the claim, in its transaction (e.g. who was nudged), given
    # the replies and the occurrence's time
    written: Callable[[Unit, Sequence[Reply], datetime], Awaitable[None]] | None = None


POSTS: dict[str, Post] = {"leaderboard": Post(LEADERBOARD, weekly.gather, weekly.compose),
                          **{n: Post(*p) for n, p in calendar_posts.PARTS.items()}}  # fmt: skip
POSTS["reminder"] = Post(REMINDER, reminders.gather, reminders.compose)
assert set(POSTS) == set(KINDS), "every kind of post is made by a Post"


class Occasions:
    """Runs due occasions; knows no platform and no scheduler."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    async def run(self, group_id: int, kind_name: str, now: datetime | None = None) -> str:
        """Post the group's due occurrence of `kind_name` once; the outcome: `posted`,
        `empty` (claimed, with nobody to tell: no anniversary today), `claimed` (made
        already, here or by another instance), `not_due` (nothing due, or no longer
        useful), `changed` (the settings changed meanwhile), `unreachable` (its chat has
        not taken posts for a week: no longer scheduled) or `gone`."""
        post, now = POSTS[kind_name], now or self.clock()
        read = await self.db.run(lambda unit: self._read(unit, post, group_id, now), write=False)
        if isinstance(read, str):
            outcome = read
            if read != "gone":
                await self.db.run(lambda unit: self._advance(unit, post.kind, group_id, now))
        else:
            at, data = read
            if inspect.iscoroutinefunction(post.compose):
                replies = await post.compose(data)
            else:
                replies = await asyncio.to_thread(post.compose, data)
            outcome = await self.db.run(
                lambda unit: self._claim(unit, post.kind, group_id, at, replies, now, post.written)
            )
        log.info("occasion group=%d kind=%s outcome=%s", group_id, kind_name, outcome)
        return outcome

    async def _read(
        self, unit: Unit, post: Post, group_id: int, now: datetime
    ) -> str | tuple[datetime, Any]:
        group = await post_schedule.lock_group(unit.session, group_id, lock=False)
        if group is None:
            return "gone"
        if stopped(group, now):
            return "unreachable"
        at = due(post.kind, group, now)
        if at is None:
            return "not_due"
        key = post.kind.occurrence_key(group, at)
        if await post_schedule.is_claimed(unit.session, group_id, post.kind.name, key):
            return "claimed"
        return at, await post.gather(unit, group, at)

    async def _advance(self, unit: Unit, kind: Kind, group_id: int, now: datetime) -> None:
        group = await post_schedule.lock_group(unit.session, group_id)
        if group is not None and stopped(group, now):  # none of its posts is scheduled
            await post_schedule.drop(unit.session, [(group_id, name) for name in KINDS])
        elif group is not None:
            after = next_due(kind, group, now, catch_up=False)
            await post_schedule.set_due(unit.session, group_id, kind.name, after)

    async def _claim(
        self, unit: Unit, kind: Kind, group_id: int, at: datetime, replies: Sequence[Reply],
        now: datetime, written: Callable[[Unit, Sequence[Reply], datetime], Awaitable[None]]
        | None = None,
    ) -> str:  # fmt: skip
        group = await post_schedule.lock_group(unit.session, group_id)
        if group is None:
            return "gone"
        if due(kind, group, now) != at:  # the settings changed since the read
            await post_schedule.set_due(unit.session, group_id, kind.name,
                                        next_due(kind, group, now, catch_up=False))  # fmt: skip
            return "changed"
        claimed = await post_schedule.claim(
            unit.session, group_id, kind.name, kind.occurrence_key(group, at), now
        )
        if claimed:
            messages = [outbox.Message(r.to_json(), r.recipient_user_id, r.image) for r in replies]
            await outbox.enqueue(unit, group, messages, now)
            if written is not None:
                await written(unit, replies, at)
        await post_schedule.set_due(unit.session, group_id, kind.name, kind.following(group, at))
        if not claimed:
            return "claimed"
        return "posted" if replies else "empty"


async def build_schedule(db: Database, now: datetime) -> int:
    """Derive every group's `post_schedule` rows from its settings (at start-up): a row
    still in the past is a post missed while the bot was down, kept to be made (or skipped
    when no longer useful); the others get the next occurrence; a group without one (new,
    imported, or migrated) gets its next occurrence. How many rows changed."""

    async def work(unit: Unit) -> int:
        session = unit.session
        stored = await post_schedule.all_due(session)
        changed: list[dict[str, Any]] = []
        gone: list[tuple[int, str]] = []
        for group in await post_schedule.every_group(session):
            for name, kind in KINDS.items():
                key = (int(group.id or 0), name)
                was = stored.get(key)
                at = None if stopped(group, now) else next_due(kind, group, now, catch_up=False)
                if was is not None and at is not None and was <= now:
                    continue  # missed while down: made (or skipped) by the next tick
                if at is None:
                    gone += [key] if was is not None else []
                elif at != was:
                    changed.append({"group_id": key[0], "kind": name, "due_at": at})
        await post_schedule.set_many(session, changed)
        await post_schedule.drop(session, gone)
        return len(changed) + len(gone)

    return await db.run(work)
