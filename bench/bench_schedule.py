"""The scheduled posts at scale: 10,000 groups with weekly meetings and leaderboards.

    python -m bench.bench_schedule [--groups 10000] [--members 12] [--drain 600]
                                   [--sqlite PATH] [--json bench/results/schedule.json]

On a fresh SQLite file, seeded in a child process (so that the figures below are the bot's
own): `--groups` Telegram groups in 24 timezones, each with a weekly meeting, `--members`
members and a few referrals, thanks, one-to-ones and visitors in the week, and a
leaderboard on Friday 16:00 local. Then, in this process:

1. the schedule built at start-up (`bot.occasions.build_schedule`: every group's
   settings read, every `post_schedule` row derived and written), timed, with the
   process's peak RSS;
2. every group's weekly leaderboard computed, its chart drawn and enqueued by the
   scheduler's tick (`app.scheduler.PostScheduler.tick`, the clock on the Saturday
   when all of them are due): leaderboards (charts) a second;
3. `--drain` of those posts delivered by the real `Deliverer` through a fake Telegram
   that enforces Telegram's limits (30 messages a second overall, 20 a minute in a
   group) and answers 429 with Retry-After beyond them: the 429s counted.

It measures, it never asserts. Targets: schedule built <= 5 s, RSS <= 300 MB, no 429,
charts >= 20 a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "schedule.json"
ZONES = ["Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
         "America/Chicago", "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "UTC",
         "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Athens", "Europe/Istanbul",
         "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok",
         "Asia/Singapore", "Asia/Tokyo", "Australia/Brisbane", "Australia/Sydney",
         "Pacific/Auckland"]  # fmt: skip
# Saturday 5 December 2026 02:30 UTC: every Friday 16:00 (local) leaderboard is due and
# still useful, from Auckland's (Friday 03:00 UTC) to Honolulu's (Saturday 02:00 UTC)
NOW = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def drawing_peak_rss_mb() -> list[float]:
    """The peak RSS of each drawing process (`bot.drawing`) alive now (Linux's VmHWM)."""
    from bot import drawing

    pool = drawing._pool
    found = []
    for pid in getattr(pool, "_processes", None) or {}:
        status = Path(f"/proc/{pid}/status")
        for line in status.read_text().splitlines() if status.exists() else ():
            if line.startswith("VmHWM:"):
                found.append(round(int(line.split()[1]) / 1024, 1))
    return found


async def seed(path: Path, groups: int, members: int) -> None:
    from sqlalchemy import insert

    from storage.database import Database
    from storage.migrate import upgrade
    from storage.tables import Group, Member, OneToOne, Referral, Thanks, Visitor

    db = Database(f"sqlite:///{path}")
    await upgrade(db)
    rng = random.Random(7)
    created = NOW - timedelta(days=60)
    week = [NOW - timedelta(days=6, hours=h) for h in range(0, 140, 7)]
    group_rows, member_rows, referrals, thanks, meetings, visitors = [], [], [], [], [], []
    for g in range(1, groups + 1):
        group_rows.append(dict(
            id=g, platform="telegram", workspace_id="", chat_id=str(-1000000000 - g),
            name=f"Chapter {g}", timezone=ZONES[g % len(ZONES)], currency="USD",
            created_at=created, next_referral_number=4, meeting_weekday=rng.randrange(7),
            meeting_time=clock_time(rng.choice([7, 8, 12, 18]), rng.choice([0, 30])),
            leaderboard_on=True, leaderboard_weekday=4, leaderboard_time=clock_time(16, 0),
        ))  # fmt: skip
        ids = [(g - 1) * members + m for m in range(1, members + 1)]
        member_rows += [dict(id=i, group_id=g, platform_user_id=str(i), name=f"Member {i}",
                             role="member", joined_at=created) for i in ids]  # fmt: skip
        for n in range(1, 4):
            giver, receiver = rng.sample(ids, 2)
            at = rng.choice(week)
            referrals.append(dict(group_id=g, number=n, giver_id=giver,
                                  receiver_id=receiver, prospect="p", status="open",
                                  created_at=at, updated_at=at))  # fmt: skip
        a, b = rng.sample(ids, 2)
        thanks.append(dict(group_id=g, from_id=a, to_id=b, amount=Decimal("125.50"),
                           currency="USD", created_at=rng.choice(week)))  # fmt: skip
        meetings.append(dict(group_id=g, member_a_id=a, member_b_id=b, created_at=rng.choice(week)))
        visitors.append(dict(group_id=g, host_id=b, name="Guest", created_at=rng.choice(week)))
    async with db.transaction() as session:
        tables = ((Group, group_rows), (Member, member_rows), (Referral, referrals),
                  (Thanks, thanks), (OneToOne, meetings), (Visitor, visitors))  # fmt: skip
        for model, rows in tables:
            table: Any = getattr(model, "__table__")  # noqa: B009
            for start in range(0, len(rows), 5000):
                await session.exec(insert(table), params=rows[start : start + 5000])
    await db.dispose()


class LimitedTelegram:
    """A fake Bot API as the Deliverer sees it: Telegram's limits enforced, 429 beyond."""

    platform = "telegram"

    def __init__(self) -> None:
        from adapters.telegram.transport import OVERALL_RATE

        self.overall_rate = OVERALL_RATE  # the real transport's pacing
        self.sent = 0
        self.rate_limited = 0
        self._overall: deque[float] = deque()
        self._per_chat: dict[str, deque[float]] = {}

    def min_interval(self, chat: Any) -> float:
        return 1.0 if chat.private else 3.0

    async def send(self, message: Any) -> Any:
        from bot.delivery import Sent

        now = time.monotonic()
        # a private message's chat is its recipient's, not the group's
        where = message.recipient_user_id or message.chat_id
        overall, chat = self._overall, self._per_chat.setdefault(where, deque())
        while overall and now - overall[0] >= 1.0:
            overall.popleft()
        while chat and now - chat[0] >= 60.0:
            chat.popleft()
        if len(overall) >= 30 or len(chat) >= 20:
            self.rate_limited += 1
            return Sent.rate_limited(1.0)
        overall.append(now)
        chat.append(now)
        self.sent += 1
        return Sent.ok()


async def measure(path: Path, leaderboards: int, drain: int) -> dict[str, Any]:
    from sqlalchemy import text

    from app.scheduler import PostScheduler
    from bot.delivery import Deliverer
    from bot.occasions import build_schedule
    from storage.database import Database

    db = Database(f"sqlite:///{path}")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    rows = await build_schedule(db, NOW - timedelta(days=2))  # Thursday: all still ahead
    built = time.perf_counter() - started
    rss_built = peak_rss_mb()

    # Only the leaderboards are measured: every other post (the meeting reminders, the daily
    # and monthly ones) and the leaderboards past `leaderboards` move a week on.
    async with db.transaction() as session:
        await session.exec(
            text(  # type: ignore[call-overload]
                "UPDATE post_schedule SET due_at = :later"
                " WHERE kind <> 'leaderboard' OR group_id > :n"
            ),
            params={"later": (NOW + timedelta(days=7)).replace(tzinfo=None), "n": leaderboards},
        )
    scheduler = PostScheduler(db, clock=lambda: NOW)
    started = time.perf_counter()
    posted = await scheduler.tick()
    enqueue = time.perf_counter() - started
    drawing_rss = drawing_peak_rss_mb()

    transport = LimitedTelegram()
    began = time.monotonic()  # the outbox's clock runs on from the bench's NOW

    def clock() -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - began)

    deliverer = Deliverer(db, [transport], clock=clock, batch=100)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop, idle=0.05))
    started = time.perf_counter()
    drain = min(drain, posted)
    while transport.sent < drain and time.perf_counter() - started < 600:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    drained = time.perf_counter() - started
    stop.set()
    await task
    await db.dispose()
    return {
        "schedule_rows": rows, "schedule_build_s": round(built, 3),
        "peak_rss_mb_before_build": round(rss_before, 1),
        "peak_rss_mb_after_build": round(rss_built, 1),
        "leaderboards_enqueued": posted, "enqueue_s": round(enqueue, 2),
        "leaderboards_per_s": round(posted / enqueue, 1),
        "drained": transport.sent, "drain_s": round(drained, 2),
        "drain_per_s": round(transport.sent / drained, 1),
        "http_429": transport.rate_limited, "peak_rss_mb": round(peak_rss_mb(), 1),
        "drawing_processes": len(drawing_rss), "drawing_peak_rss_mb": drawing_rss,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=12)
    parser.add_argument("--drain", type=int, default=600)
    parser.add_argument(
        "--leaderboards",
        type=int,
        default=10_000,
        help="how many of the groups' leaderboards to enqueue (the rest wait)",
    )
    parser.add_argument("--sqlite", type=Path, default=None)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    path = args.sqlite or Path(tempfile.mkdtemp()) / "schedule.db"
    if args.seed_only:
        asyncio.run(seed(path, args.groups, args.members))
        return
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.bench_schedule", "--seed-only",
                    "--sqlite", str(path), "--groups", str(args.groups),
                    "--members", str(args.members)], check=True)  # fmt: skip
    seeded = time.perf_counter() - started
    measured = asyncio.run(measure(path, args.leaderboards, args.drain))
    result = {"groups": args.groups, "members_per_group": args.members,
              "seed_s": round(seeded, 1), **measured}  # fmt: skip
    targets = {"schedule_build_s": "<= 5", "peak_rss_mb": "<= 300", "http_429": "0",
               "leaderboards_per_s": ">= 20"}  # fmt: skip
    for name, value in result.items():
        print(f"{name:28} {value!s:>12}  {targets.get(name, '')}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"result": result, "targets": targets}, indent=2) + "\n")


if __name__ == "__main__":
    main()
