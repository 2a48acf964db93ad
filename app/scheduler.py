"""The scheduler: APScheduler 3's `AsyncIOScheduler` in the bot's event loop, in every
mode (HTTP, Socket Mode, polling, the interactive console).

It keeps no state of its own (no job store: the database is the truth). At start-up the
schedule is derived from every group's settings (`bot.occasions.build_schedule`), then one
job, the tick, asks the database what is due (`post_schedule`, one indexed range scan) and
runs each due occasion (`bot.occasions.Occasions`), which re-reads the group's settings
and claims the occurrence before anything is posted. The tick runs every `tick_seconds`
(20: a change made through another instance is followed within that), and once more at
the earliest due time it saw when that comes sooner (a leaderboard set for two minutes
from now is posted two minutes from now). Chosen over one job per group and kind: the
benchmark (`bench/bench_schedule.py`) builds the schedule of 10,000 groups in the time
one query and one upsert take, where 20,000 APScheduler jobs cost more to build and hold,
and every instance would have to re-derive them whenever any instance changed a setting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.occasions import Occasions, build_schedule
from storage import post_schedule
from storage.clock import utcnow
from storage.database import Database

log = logging.getLogger("referral_bot.scheduler")
TICK_SECONDS = 20.0
AT_ONCE = 4  # occasions run at once (each reads, draws its chart in a thread, writes)
BATCH = 500  # due occasions taken per round of a tick


class PostScheduler:
    """Runs the due scheduled posts; `on_posted` is called when some were enqueued."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_seconds: float = TICK_SECONDS,
        on_posted: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.clock, self.tick_seconds = db, clock, tick_seconds
        self.occasions = Occasions(db, clock)
        self.on_posted = on_posted
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._armed: datetime | None = None

    async def start(self) -> None:
        """Derive the schedule from the database, then start ticking (the first tick now)."""
        changed = await build_schedule(self.db, self.clock())
        log.info("schedule built: %d rows changed", changed)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick, "interval", seconds=self.tick_seconds, id="posts-tick",
            next_run_time=datetime.now().astimezone(), max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )  # fmt: skip
        self._scheduler.start()

    async def stop(self) -> None:
        """Stop ticking; an occasion under way finishes (its transaction is all or nothing)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:
            pass

    async def tick(self) -> int:
        """Run every occasion due now; how many posts were enqueued."""
        async with self._lock:
            try:
                return await self._tick()
            except Exception as error:  # the database is away: the next tick tries again
                log.warning("scheduler tick failed: %s", type(error).__name__)
                return 0

    async def _tick(self) -> int:
        posted = 0
        while True:
            now = self.clock()
            async with self.db.transaction(write=False) as session:
                due = await post_schedule.due_by(session, now, BATCH)
            if not due:
                break
            gate = asyncio.Semaphore(AT_ONCE)
            outcomes = await asyncio.gather(*(self._one(gate, g, k, now) for g, k in due))
            posted += outcomes.count("posted")
            if posted and self.on_posted is not None:
                self.on_posted()
            if "error" in outcomes or len(due) < BATCH:
                break
        await self._arm()
        return posted

    async def _one(self, gate: asyncio.Semaphore, group_id: int, kind: str, now: datetime) -> str:
        async with gate:
            try:
                return await self.occasions.run(group_id, kind, now)
            except Exception as error:  # this group's post waits for the next tick
                log.warning("occasion group=%d kind=%s failed: %s", group_id, kind,
                            type(error).__name__)  # fmt: skip
                return "error"

    async def _arm(self) -> None:
        """Tick once more at the earliest due time when it comes before the next tick."""
        now = self.clock()
        async with self.db.transaction(write=False) as session:
            earliest = await post_schedule.earliest_after(session, now)
        if earliest is None or self._scheduler is None:
            return
        if earliest - now >= timedelta(seconds=self.tick_seconds) or earliest == self._armed:
            return
        self._armed = earliest
        self._scheduler.add_job(
            self.tick, "date", run_date=earliest, id="posts-next", replace_existing=True,
            misfire_grace_time=None,
        )  # fmt: skip
