"""A burst of /refer through the core on a small fresh database: what a write costs.

    python -m bench.bench_refer_burst --postgres URL [--groups 50] [--writers 50]
                                      [--per-writer 40] [--rounds 3]

Made to weigh the group lock of PostgreSQL's write units (`Unit.locks_groups`):
`--groups 50` spreads the 50 writers over 50 groups (no two wait for one group: the
lock's own statement is the cost), `--groups 5` puts 10 writers on each group (they
take turns). Drops and recreates the database's public schema: never point it at a
database that tests or a bot are using. Every round is a fresh ledger; it prints each
round and the median (with this process's CPU time per /refer, steadier than the rate
on a shared machine), and checks each group's numbers run 1..n. It measures, it never
asserts; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from sqlalchemy import func, select, text

from bot.messages import ChatRef, Incoming, Platform, Sender
from bot.service import Core, GroupDefaults
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import Referral


def incoming(group: int, who: str, words: str) -> Incoming:
    chat = ChatRef(Platform.CONSOLE, f"g{group:03d}", title=f"g{group:03d}")
    sender = Sender(who, who.capitalize(), username=who)
    return Incoming(chat, sender, words, uuid.uuid4().hex)


async def fresh(url: str) -> Database:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    return db


async def one_round(url: str, groups: int, writers: int, per_writer: int) -> dict[str, float]:
    db = await fresh(url)
    try:
        core = Core(db, GroupDefaults())
        per_group = -(-writers // groups) + 1  # the writers and someone to refer to
        for g in range(groups):
            for m in range(per_group):
                await core.handle(incoming(g, f"m{m}", f"/join Trade {m}"))
        for g in range(groups):  # warm-up: every group once
            await core.handle(incoming(g, "m0", "/refer @m1 warm-up"))
        latencies: list[float] = []
        failures = 0

        async def worker(w: int) -> None:
            nonlocal failures
            group, me = w % groups, w // groups
            for k in range(per_writer):
                started = time.perf_counter()
                replies = await core.handle(
                    incoming(group, f"m{me}", f"/refer @m{me + 1} Prospect {w}-{k}, 555-01{k:02d}")
                )
                latencies.append((time.perf_counter() - started) * 1000)
                failures += not any("recorded" in r.text for r in replies)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(w) for w in range(writers)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        async with db.transaction() as session:
            rows = await session.exec(
                select(Referral.group_id, func.count(), func.max(Referral.number)).group_by(
                    Referral.group_id
                )
            )
            numbered = all(count == top for _, count, top in rows.all())
        latencies.sort()
        return {
            "req_s": writers * per_writer / wall,
            "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[int(len(latencies) * 0.99)],
            "client_cpu_ms": cpu * 1000 / (writers * per_writer),  # this process, per /refer
            "failures": failures,
            "numbered": float(numbered),
        }
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", required=True, help="a scratch database's URL")
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--per-writer", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = []
    for i in range(args.rounds):
        result = await one_round(args.postgres, args.groups, args.writers, args.per_writer)
        results.append(result)
        print(f"round {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()))
    print(
        f"median of {args.rounds}: {args.writers * args.per_writer} /refer, {args.writers} writers,"
        f" {args.groups} groups: "
        + ", ".join(f"{k} {statistics.median(r[k] for r in results):.2f}" for k in results[0])
    )


if __name__ == "__main__":
    asyncio.run(main())
