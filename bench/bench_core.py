"""The core end to end on a large ledger: /balance, /leaderboard quarter and /refer.

    python -m bench.bench_core [--sqlite PATH] [--postgres URL] [--calls 1000]
                               [--baseline-calls 200] [--writers 50] [--per-writer 40]
                               [--reseed] [--explain] [--scale 1.0]

For each database (an SQLite file, reused when it already holds the seeded
counts; PostgreSQL when --postgres or BENCH_DATABASE_URL is given, whose
public schema is dropped and recreated when it does not): seed it (see
bench/seed.py), then time `Core.handle` with a fresh delivery id per call
for a random group and member, next to a naive baseline measured in the same
run (load the group's rows with a plain SELECT into Python objects and sum
them there), and `/refer` from 50 concurrent writers. It measures, it never
asserts: a plain-text table on stdout, every figure in bench/results/core.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.engine import make_url
from sqlmodel import col
from sqlmodel import select as orm_select

from bench.seed import TABLES, Plan, SeedReport, prepare, row_counts
from bot.actions.reports import BALANCE_TITLE, CONVERSION_TITLE, balance_line, standings_lines
from bot.conversion import Conversion
from bot.messages import ChatRef, Incoming, Platform, Reply, Section, Sender, to_sender
from bot.periods import Period, window
from bot.service import Core, GroupDefaults
from storage import directory, reports
from storage.database import Database
from storage.reports import Standing, Totals
from storage.tables import Ceu, Member, OneToOne, Referral, Thanks, Visitor

DEFAULT_SQLITE = Path("/tmp/referral-bot-bench.db")
RESULTS = Path(__file__).with_name("results") / "core.json"
WARMUP = 20  # calls before each measurement, not counted
PICK_SEED = 7  # which groups and members are asked about
REFER_GROUPS = 5  # the concurrent writers share this many groups
P50_TARGET_MS = 10.0
SPEEDUP_TARGET = 20.0
BURST_TIMEOUT_S = 900.0
MAX_READS_DURING_WRITES = 100_000

log = logging.getLogger("bench")


# --- the directory of the seeded database ------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    user_id: str
    name: str
    username: str | None


@dataclass(frozen=True)
class Chapter:
    id: int
    chat_id: str
    name: str
    timezone: str
    currency: str
    members: tuple[Person, ...]


async def load_chapters(db: Database) -> list[Chapter]:
    """Every group with its members, as the benchmark addresses them."""
    groups_table, members_table = TABLES["groups"], TABLES["members"]
    async with db.engine.connect() as conn:
        groups = (await conn.execute(
            select(groups_table.c.id, groups_table.c.chat_id, groups_table.c.name,
                   groups_table.c.timezone, groups_table.c.currency)
            .where(groups_table.c.platform == "console").order_by(groups_table.c.id)
        )).all()  # fmt: skip
        people: dict[int, list[Person]] = defaultdict(list)
        rows = await conn.execute(
            select(members_table.c.group_id, members_table.c.id, members_table.c.platform_user_id,
                   members_table.c.name, members_table.c.username).order_by(members_table.c.id)
        )  # fmt: skip
        for group_id, ident, user_id, name, username in rows:
            people[group_id].append(Person(ident, user_id, name, username))
    return [
        Chapter(g, chat, name, tz, currency, tuple(people[g]))
        for g, chat, name, tz, currency in groups
        if people[g]
    ]


def incoming(chapter: Chapter, person: Person, words: str) -> Incoming:
    """A console message from `person` in `chapter`'s chat, with a fresh delivery id."""
    return Incoming(
        ChatRef(Platform.CONSOLE, chapter.chat_id, title=chapter.name),
        Sender(person.user_id, person.name, username=person.username),
        words,
        delivery_id=f"bench-{uuid.uuid4().hex}",
    )


def flatten(replies: Sequence[Reply]) -> str:
    """The answer as one string, to compare the core with the baseline."""
    return "\n".join(
        "\n".join([r.text, *(f"{s.title}\n" + "\n".join(s.lines) for s in r.sections)])
        for r in replies
    )


# --- statistics ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(latencies_ms: Sequence[float]) -> dict[str, Any]:
    if not latencies_ms:
        return {"calls": 0}
    return {
        "calls": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "mean_ms": round(statistics.fmean(latencies_ms), 3),
        "max_ms": round(max(latencies_ms), 3),
    }


def machine_state() -> dict[str, Any]:
    """How busy the machine is: load averages and a fixed pure-Python loop's time."""
    started = time.perf_counter()
    total = 0
    for number in range(1_000_000):
        total += number
    return {
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "calibration_loop_ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def timed(make: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await make()
    return (time.perf_counter() - started) * 1000, result


async def call_core(
    core: Core, message: Incoming, latencies: list[float], errors: Counter[str]
) -> list[Reply] | None:
    """One `Core.handle`, timed into `latencies`; an exception is counted in `errors` (None)."""
    try:
        ms, replies = await timed(lambda: core.handle(message))
    except Exception as error:
        errors[f"{type(error).__name__}: {str(error)[:160]}"] += 1
        return None
    latencies.append(ms)
    return list(replies)


def answered(replies: Sequence[Reply], expect: str) -> bool:
    """The first reply is the answer expected (its text starts with `expect`)."""
    return bool(replies) and replies[0].text.startswith(expect)


# --- the naive baseline: the group's rows into Python ------------------------------------


@dataclass
class GroupRows:
    group: Any
    member: Member
    members: Sequence[Member]
    referrals: Sequence[Referral]
    thanks: Sequence[Thanks]
    one_to_ones: Sequence[OneToOne]
    visitors: Sequence[Visitor]
    ceus: Sequence[Ceu]


async def load_group_rows(db: Database, chapter: Chapter, person: Person) -> GroupRows:
    """Everything of the group, every column, as ORM objects (what a naive report does)."""
    async with db.transaction() as session:
        group = await directory.find_group(session, Platform.CONSOLE, "", chapter.chat_id)
        assert group is not None and group.id is not None
        member = (await session.exec(orm_select(Member).where(
            Member.group_id == group.id, Member.platform_user_id == person.user_id
        ))).first()  # fmt: skip
        assert member is not None

        async def rows(model: Any) -> Sequence[Any]:
            return (await session.exec(orm_select(model).where(model.group_id == group.id))).all()

        return GroupRows(
            group, member, await rows(Member), await rows(Referral), await rows(Thanks),
            await rows(OneToOne), await rows(Visitor), await rows(Ceu),
        )  # fmt: skip


def _in(entry: Any, start: datetime | None, end: datetime) -> bool:
    created = entry.created_at
    return not entry.voided and (start is None or created >= start) and created < end


# Each baseline and floor returns comparable numbers: a list of `Totals` (all time, quarter)
# for /balance, the standings as (member id, given, credited, one-to-ones) for the leaderboard.


async def naive_balance(db: Database, chapter: Chapter, person: Person) -> Any:
    """/balance (all time and this quarter) summed in Python, and its reply text built."""
    data = await load_group_rows(db, chapter, person)
    me, now, lines, numbers = data.member.id, datetime.now(UTC), [], []
    for period in (Period.ALL, Period.QUARTER):
        span = window(period, now, data.group.timezone)
        totals = Totals()
        for r in data.referrals:
            if _in(r, span.start, span.end):
                totals.given += r.giver_id == me
                totals.received += r.receiver_id == me
                for side, who in (
                    ("given_by_status", r.giver_id),
                    ("received_by_status", r.receiver_id),
                ):
                    if who == me:  # the conversion
                        counts = getattr(totals, side)
                        counts[r.status] = counts.get(r.status, 0) + 1
        for t in data.thanks:
            if t.amount is not None and _in(t, span.start, span.end):
                for side, who in (("credited", t.to_id), ("thanked", t.from_id)):
                    if who == me:
                        sums = getattr(totals, side)
                        sums[t.currency] = sums.get(t.currency, Decimal(0)) + t.amount
        for o in data.one_to_ones:
            totals.one_to_ones += _in(o, span.start, span.end) and me in (
                o.member_a_id,
                o.member_b_id,
            )
        for v in data.visitors:
            totals.visitors += _in(v, span.start, span.end) and v.host_id == me
        for u in data.ceus:
            totals.ceus += _in(u, span.start, span.end) and u.member_id == me
        lines.append(f"{span.label}: {balance_line(totals, data.group.currency)}")
        numbers.append(totals)
    to_sender(f"Balance of {data.member.name}", Section(BALANCE_TITLE, tuple(lines)))
    return numbers


def _standings(
    standings: Sequence[Standing],
) -> list[tuple[int, int, dict[str, Decimal], int, int]]:
    return sorted((s.member_id, s.given, s.credited, s.one_to_ones, s.ceus) for s in standings)


async def naive_leaderboard(db: Database, chapter: Chapter, person: Person) -> Any:
    """/leaderboard quarter ranked in Python, and its reply text built."""
    data = await load_group_rows(db, chapter, person)
    group = data.group
    span = window(Period.QUARTER, datetime.now(UTC), group.timezone)
    lines: dict[int, dict[str, Any]] = defaultdict(dict)
    statuses: dict[str, int] = {}  # the group's conversion
    for r in data.referrals:
        if _in(r, span.start, span.end):
            lines[r.giver_id]["given"] = lines[r.giver_id].get("given", 0) + 1
            statuses[r.status] = statuses.get(r.status, 0) + 1
    for t in data.thanks:
        if t.amount is not None and _in(t, span.start, span.end):
            credited = lines[t.to_id].setdefault("credited", {})
            credited[t.currency] = credited.get(t.currency, Decimal(0)) + t.amount
    for o in data.one_to_ones:
        if _in(o, span.start, span.end):
            for who in (o.member_a_id, o.member_b_id):
                lines[who]["one_to_ones"] = lines[who].get("one_to_ones", 0) + 1
    for u in data.ceus:
        if _in(u, span.start, span.end):
            lines[u.member_id]["ceus"] = lines[u.member_id].get("ceus", 0) + 1
    names = {m.id: m.name for m in data.members}
    standings = [Standing(i, names[i], **fields) for i, fields in lines.items()]
    conversion = Section(CONVERSION_TITLE, (f"The group: {Conversion.of(statuses).describe()}",))
    to_sender(  # standings_lines ranks them
        f"Leaderboard of {group.name}",
        standings_lines(standings, span.label, group.currency),
        conversion,
    )
    return _standings(standings)


# --- the floor: storage.reports alone, in the same kind of transaction as the core's reads -


async def reports_balance(db: Database, chapter: Chapter, person: Person) -> Any:
    """/balance's `reports.totals_since` call (both windows), without the core around it."""
    now = datetime.now(UTC)
    starts = [
        window(period, now, chapter.timezone).start for period in (Period.ALL, Period.QUARTER)
    ]
    return await db.run(
        lambda unit: reports.totals_since(unit, person.id, starts, now), write=False
    )


async def reports_leaderboard(db: Database, chapter: Chapter, person: Person) -> Any:
    """The `reports.leaderboard` call of /leaderboard quarter, without the core."""
    span = window(Period.QUARTER, datetime.now(UTC), chapter.timezone)
    standings = await db.run(
        lambda unit: reports.leaderboard(unit, chapter.id, span.start, span.end),
        write=False,
    )
    return _standings(standings)


# --- measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """A read command measured against its baseline."""

    key: str
    label: str
    command: str
    expect: str  # how a right answer starts
    baseline: Callable[[Database, Chapter, Person], Awaitable[Any]]
    floor: Callable[[Database, Chapter, Person], Awaitable[Any]]


READS = (
    Read("balance", "/balance", "/balance", "Balance of ", naive_balance, reports_balance),
    Read("leaderboard_quarter", "/leaderboard quarter", "/leaderboard quarter",
         "Leaderboard of ", naive_leaderboard, reports_leaderboard),
)  # fmt: skip


def picks(chapters: Sequence[Chapter], count: int, seed: int) -> list[tuple[Chapter, Person]]:
    rng = random.Random(seed)
    chosen = []
    for _ in range(count):
        chapter = rng.choice(chapters)
        chosen.append((chapter, rng.choice(chapter.members)))
    return chosen


async def measure_read(
    core: Core, db: Database, chapters: Sequence[Chapter], read: Read, calls: int,
    baseline_calls: int,
) -> dict[str, Any]:  # fmt: skip
    """The core `calls` times; every `calls / baseline_calls`-th pick also goes through
    storage.reports alone and the naive baseline, right after the core, so that a change in
    the machine's load hits both sides of the ratio alike."""
    chosen = picks(chapters, calls, PICK_SEED)
    every = max(1, calls // max(1, baseline_calls))
    for chapter, person in picks(chapters, WARMUP, PICK_SEED + 1):
        await core.handle(incoming(chapter, person, read.command))
        await read.baseline(db, chapter, person)
        await read.floor(db, chapter, person)
    gc.collect()
    latencies, errors = [], Counter[str]()
    base_latencies, floor_latencies, agree = [], [], 0
    for index, (chapter, person) in enumerate(chosen):
        replies = await call_core(core, incoming(chapter, person, read.command), latencies, errors)
        if replies is None:
            continue
        if not answered(replies, read.expect):
            errors[f"unexpected answer: {flatten(replies)[:160]}"] += 1
        if index % every or len(base_latencies) >= baseline_calls:
            continue
        ms, numbers = await timed(lambda c=chapter, p=person: read.floor(db, c, p))
        floor_latencies.append(ms)
        ms, naive = await timed(lambda c=chapter, p=person: read.baseline(db, c, p))
        base_latencies.append(ms)
        if numbers == naive:
            agree += 1
        elif agree == len(base_latencies) - 1:  # show the first disagreement only
            log.warning("SQL and Python disagree:\n%s\n%s", numbers, naive)
    core_stats, base_stats = summary(latencies), summary(base_latencies)
    speedup = None
    if latencies and base_latencies:
        speedup = round(base_stats["p50_ms"] / core_stats["p50_ms"], 1)
    met = (
        not errors and speedup is not None and core_stats["p50_ms"] <= P50_TARGET_MS
        and speedup >= SPEEDUP_TARGET
    )  # fmt: skip
    return {
        "command": read.command,
        "core": core_stats,
        "baseline": base_stats,
        "reports_only": summary(floor_latencies),
        "speedup_p50": speedup,
        "sql_agrees_with_baseline": f"{agree}/{len(base_latencies)}",
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "target": f"p50 <= {P50_TARGET_MS:g} ms and >= {SPEEDUP_TARGET:g}x baseline",
        "target_met": met,
    }


async def _referral_marks(db: Database) -> tuple[int, dict[int, int]]:
    """The highest referral id and each group's next number, before writing."""
    groups_table = TABLES["groups"]
    async with db.engine.connect() as conn:
        top = (await conn.execute(select(func.max(col(Referral.id))))).scalar_one() or 0
        numbers = dict((await conn.execute(
            select(groups_table.c.id, groups_table.c.next_referral_number)
        )).all())  # fmt: skip
    return int(top), {int(k): int(v) for k, v in numbers.items()}


async def measure_refer(
    core: Core, db: Database, chapters: Sequence[Chapter], writers: int, per_writer: int,
    seed: int,
) -> dict[str, Any]:  # fmt: skip
    """`writers` concurrent workers each sending `per_writer` /refer, one member per worker."""
    rng = random.Random(seed)
    groups = rng.sample(list(chapters), min(REFER_GROUPS, len(chapters)))
    plans: list[list[Incoming]] = []
    for worker in range(writers):
        chapter = groups[worker % len(groups)]
        giver = chapter.members[(worker // len(groups)) % len(chapter.members)]
        others = [m for m in chapter.members if m.id != giver.id]
        plans.append([
            incoming(chapter, giver,
                     f"/refer <@{rng.choice(others).user_id}> bench prospect {worker}-{k}, "
                     f"+1 555 01{k:02d}, needs a website {rng.choice(('hot', 'warm', 'cold'))}")
            for k in range(per_writer)
        ])  # fmt: skip
    top, numbers_before = await _referral_marks(db)
    latencies: list[float] = []
    errors, refused = Counter[str](), Counter[str]()

    async def worker(messages: list[Incoming]) -> None:
        for message in messages:
            replies = await call_core(core, message, latencies, errors)
            if replies is not None and not answered(replies, "Referral #"):
                refused[flatten(replies)[:160]] += 1

    done = asyncio.Event()
    read_latencies: list[float] = []
    read_errors = Counter[str]()

    async def reader() -> None:
        """One member asking /balance over and over while the writers write."""
        pick = random.Random(seed + 1)
        for _ in range(MAX_READS_DURING_WRITES):
            if done.is_set():
                return
            chapter = pick.choice(chapters)
            message = incoming(chapter, pick.choice(chapter.members), "/balance")
            replies = await call_core(core, message, read_latencies, read_errors)
            if replies is not None and not answered(replies, "Balance of "):
                read_errors[flatten(replies)[:160]] += 1

    pool = db.engine.pool
    peak = {"connections_checked_out": 0, "samples": 0}

    async def watch_pool() -> None:
        """The most pooled connections in use at once (every 10 ms)."""
        checked_out = None if db.is_sqlite else getattr(pool, "checkedout", None)
        for _ in range(int(BURST_TIMEOUT_S * 100)):
            if done.is_set() or checked_out is None:
                return
            peak["connections_checked_out"] = max(peak["connections_checked_out"], checked_out())
            peak["samples"] += 1
            await asyncio.sleep(0.01)

    started = time.perf_counter()
    reading, watching = asyncio.create_task(reader()), asyncio.create_task(watch_pool())
    try:
        await asyncio.wait_for(asyncio.gather(*(worker(p) for p in plans)), BURST_TIMEOUT_S)
    finally:
        wall = time.perf_counter() - started
        done.set()
        await reading
        await watching
    recorded, numbering_ok = await _check_refer(db, top, numbers_before, groups)
    lock_errors = sum(n for kind, n in errors.items() if "locked" in kind.lower())
    total_errors = sum(errors.values()) + sum(refused.values())
    return {
        "writers": writers,
        "per_writer": per_writer,
        "groups": len(groups),
        "requests": writers * per_writer,
        "seconds": round(wall, 3),
        "requests_per_second": round(writers * per_writer / wall, 1),
        "core": summary(latencies),
        "errors": total_errors,
        "lock_errors": lock_errors,
        "error_kinds": dict((errors + refused).most_common(5)),
        "recorded": recorded,
        "numbering_contiguous": numbering_ok,
        "pool": None
        if db.is_sqlite
        else {  # SQLite: one writer at a time (the write lock)
            "size": pool.size() if hasattr(pool, "size") else None,
            "max_overflow": getattr(pool, "_max_overflow", None),
            "peak_checked_out": peak["connections_checked_out"],
            "samples": peak["samples"],
        },
        "balance_during_writes": {
            **summary(read_latencies),
            "errors": sum(read_errors.values()),
            "error_kinds": dict(read_errors.most_common(5)),
        },
        "target": "no write fails (0 errors, 0 lock errors)",
        "target_met": total_errors == 0 and recorded == writers * per_writer and numbering_ok,
    }


async def _check_refer(
    db: Database, top: int, numbers_before: dict[int, int], groups: Sequence[Chapter]
) -> tuple[int, bool]:
    """How many referrals the burst recorded, and whether each group's numbers run on
    without a gap or a repeat from where they were."""
    ok = True
    recorded = 0
    async with db.engine.connect() as conn:
        for chapter in groups:
            statement = select(
                func.count(), func.min(col(Referral.number)), func.max(col(Referral.number))
            ).where(col(Referral.id) > top, Referral.group_id == chapter.id)
            count, low, high = (await conn.execute(statement)).one()
            recorded += int(count)
            if count:
                ok = ok and low == numbers_before[chapter.id] and high - low + 1 == count
    return recorded, ok


async def measure_refer_sequential(
    core: Core, chapters: Sequence[Chapter], calls: int, seed: int
) -> dict[str, Any]:
    """/refer one at a time (concurrency 1)."""
    rng = random.Random(seed)
    latencies, errors = [], Counter[str]()
    for k in range(calls):
        chapter = rng.choice(chapters)
        giver, receiver = rng.sample(chapter.members, 2)
        message = incoming(chapter, giver, f"/refer <@{receiver.user_id}> bench prospect s-{k}, "
                                           "+1 555 0199, needs tax advice")  # fmt: skip
        replies = await call_core(core, message, latencies, errors)
        if replies is not None and not answered(replies, "Referral #"):
            errors[flatten(replies)[:160]] += 1
    return {
        "core": summary(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "target": None,
        "target_met": None,
    }


async def cleanup(db: Database, top: int) -> None:
    """Remove what the benchmark wrote, so the seeded data set can be reused as is."""
    groups_table = TABLES["groups"]
    async with db.engine.begin() as conn:
        await conn.execute(delete(TABLES["referrals"]).where(TABLES["referrals"].c.id > top))
        for name in ("outbox", "deliveries", "audit_log"):
            await conn.execute(text(f"DELETE FROM {name}"))
        highest = (
            select(func.coalesce(func.max(col(Referral.number)), 0) + 1)
            .where(Referral.group_id == groups_table.c.id)
            .scalar_subquery()
        )
        await conn.execute(update(groups_table).values(next_referral_number=highest))


# --- query plans --------------------------------------------------------------------------


async def query_plans(db: Database, core: Core, chapter: Chapter, person: Person) -> dict[str, Any]:
    """EXPLAIN QUERY PLAN (SQLite) / EXPLAIN ANALYZE (PostgreSQL) of every ledger query that
    one /balance and one /leaderboard quarter send, captured as the core sends them."""
    plans: dict[str, Any] = {}
    for read in READS:
        captured: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool,
                    sink: list[tuple[str, Any]] = captured) -> None:  # fmt: skip
            sink.append((statement, params))

        event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
        try:
            await core.handle(incoming(chapter, person, read.command))
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
        ledger = ("referrals", "thanks", "one_to_ones", "visitors")
        queries = [
            (s, p) for s, p in captured
            if s.lstrip().upper().startswith("SELECT") and any(t in s for t in ledger)
        ]  # fmt: skip
        entries = []
        async with db.engine.connect() as conn:
            for statement, params in queries:
                prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
                rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
                if db.is_sqlite:
                    depth: dict[int, int] = {0: -1}
                    plan = []
                    for node, parent, _, detail in rows:
                        depth[node] = depth.get(parent, -1) + 1
                        plan.append("  " * depth[node] + detail)
                else:
                    plan = [row[0] for row in rows]
                entries.append({"sql": " ".join(statement.split()), "params": list(params),
                                "plan": plan})  # fmt: skip
            await conn.rollback()
        plans[read.key] = entries
    return plans


# --- one database -------------------------------------------------------------------------


def _read_through(path: Path) -> int:
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass
    return path.stat().st_size


async def prewarm(db: Database) -> str:
    """Read the whole data set once, so that the calls measure the code and the queries
    rather than the disk: a running bot's data is in memory, and this host's kernel
    drops idle file pages within minutes (its page cache holds ~1 GB of 24)."""
    if db.is_sqlite:
        size = await asyncio.to_thread(_read_through, Path(make_url(db.url).database or ""))
        return f"read the file ({size // 2**20} MiB)"
    async with db.engine.begin() as conn:
        try:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        except Exception as error:  # not installed: the first calls read from disk
            return f"pg_prewarm unavailable ({type(error).__name__})"
    async with db.engine.begin() as conn:
        pages = (await conn.execute(text(
            "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
        ))).scalar_one()  # fmt: skip
    return f"pg_prewarm read {int(pages or 0) * 8 // 1024} MiB"


async def bench_database(
    name: str, url: str, args: argparse.Namespace, previous: dict[str, Any]
) -> dict[str, Any]:
    plan = args.plan
    seeded_now, report = await prepare(url, plan, reseed=args.reseed, log=print)
    db = Database(url)
    try:
        rows = await row_counts(db)
        server = sqlite3.sqlite_version
        if not db.is_sqlite:
            async with db.engine.connect() as conn:
                server = (await conn.execute(text("SHOW server_version"))).scalar_one()
        chapters = await load_chapters(db)
        core = Core(db, GroupDefaults(timezone="UTC", currency="USD"))
        result: dict[str, Any] = {
            "url": db.engine.url.render_as_string(hide_password=True),
            "server_version": server,
            "rows": rows,
            "prewarmed": {},
            "seed": _seed_info(seeded_now, report, previous, rows),
            "measurements": {},
        }
        top, _ = await _referral_marks(db)
        result["machine_before"] = machine_state()
        try:
            for read in READS:
                result["prewarmed"][read.key] = warmed = await prewarm(db)
                print(f"[{name}] {read.command}: {args.calls} calls, baseline "
                      f"{args.baseline_calls} (prewarmed: {warmed}) ...", flush=True)  # fmt: skip
                result["measurements"][read.key] = await measure_read(
                    core, db, chapters, read, args.calls, args.baseline_calls
                )
            print(f"[{name}] /refer: 1 writer x {args.sequential_refers} ...", flush=True)
            result["measurements"]["refer_1"] = await measure_refer_sequential(
                core, chapters, args.sequential_refers, PICK_SEED + 2
            )
            print(f"[{name}] /refer: {args.writers} writers x {args.per_writer} ...", flush=True)
            result["measurements"]["refer_concurrent"] = await measure_refer(
                core, db, chapters, args.writers, args.per_writer, PICK_SEED + 3
            )
            chapter, person = picks(chapters, 1, PICK_SEED)[0]
            result["plans"] = await query_plans(db, core, chapter, person)
            result["machine_after"] = machine_state()
        finally:
            await cleanup(db, top)
        return result
    finally:
        await db.dispose()


def _seed_info(
    seeded_now: bool, report: SeedReport | None, previous: dict[str, Any], rows: dict[str, int]
) -> dict[str, Any]:
    """This run's seeding figures, or those of the run that seeded the data set reused now."""
    if seeded_now and report is not None:
        return {"seeded_in_this_run": True, **report.to_json(),
                "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    kept = previous.get("seed", {}) if previous.get("rows") == rows else {}
    return {
        "seeded_in_this_run": False,
        **{k: v for k, v in kept.items() if k != "seeded_in_this_run"},
    }


# --- the table ----------------------------------------------------------------------------


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    header = ["measurement", "database", "calls", "p50 ms", "p99 ms", "baseline p50 ms",
              "speed-up", "target", "met"]  # fmt: skip
    rows = [header]

    def yes(met: bool | None) -> str:
        return "-" if met is None else ("yes" if met else "no")

    for db_name, result in results.items():
        measured = result["measurements"]
        for read in READS:
            m = measured[read.key]
            base = m["baseline"]
            rows.append([
                read.label, db_name, str(m["core"].get("calls", 0)),
                f"{m['core'].get('p50_ms', float('nan')):.2f}",
                f"{m['core'].get('p99_ms', float('nan')):.2f}",
                f"{base.get('p50_ms', float('nan')):.2f} ({base.get('calls', 0)} calls)",
                "-" if m["speedup_p50"] is None else f"{m['speedup_p50']}x",
                f"p50<={P50_TARGET_MS:g}ms, >={SPEEDUP_TARGET:g}x",
                yes(m["target_met"]),
            ])  # fmt: skip
        one = measured["refer_1"]
        rows.append([
            "/refer, 1 writer", db_name, str(one["core"].get("calls", 0)),
            f"{one['core'].get('p50_ms', float('nan')):.2f}",
            f"{one['core'].get('p99_ms', float('nan')):.2f}", "-", "-",
            f"{one['errors']} errors", "-",
        ])  # fmt: skip
        burst = measured["refer_concurrent"]
        rows.append([
            f"/refer, {burst['writers']} writers", db_name, str(burst["requests"]),
            f"{burst['core'].get('p50_ms', float('nan')):.2f}",
            f"{burst['core'].get('p99_ms', float('nan')):.2f}", "-", "-",
            f"{burst['requests_per_second']:.0f} req/s, {burst['errors']} errors "
            f"({burst['lock_errors']} locked)",
            yes(burst["target_met"]),
        ])  # fmt: skip
        during = burst["balance_during_writes"]
        rows.append([
            f"/balance during the {burst['writers']} writers", db_name, str(during.get("calls", 0)),
            f"{during.get('p50_ms', float('nan')):.2f}",
            f"{during.get('p99_ms', float('nan')):.2f}", "-", "-",
            f"{during['errors']} errors", "-",
        ])  # fmt: skip
    return rows


def render(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_plans(results: dict[str, Any]) -> None:
    for db_name, result in results.items():
        for key, entries in result.get("plans", {}).items():
            for entry in entries:
                print(f"\n[{db_name}] {key}: {entry['sql'][:300]}")
                print(f"  params: {entry['params']}")
                for line in entry["plan"]:
                    print(f"    {line}")


# --- main ---------------------------------------------------------------------------------


def code_version() -> dict[str, Any]:
    """The commit measured, and which of the core's files differ from it."""
    root = Path(__file__).resolve().parent.parent

    def git(*words: str) -> str:
        try:
            done = subprocess.run(["git", *words], cwd=root, capture_output=True, text=True,
                                  timeout=30, check=False)  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "bot", "storage").splitlines()
    return {"commit": git("rev-parse", "HEAD"), "uncommitted": [line[3:] for line in changed]}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_core", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE,
                        help=f"SQLite file (default {DEFAULT_SQLITE})")  # fmt: skip
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL, never the tests' "
                             "database); its public "
                             "schema is recreated unless it holds the data set")  # fmt: skip
    parser.add_argument("--calls", type=int, default=1000, help="calls per read measurement")
    parser.add_argument("--baseline-calls", type=int, default=200,
                        help="baseline calls, spread over the --calls picks")  # fmt: skip
    parser.add_argument("--writers", type=int, default=50, help="concurrent /refer writers")
    parser.add_argument("--per-writer", type=int, default=40, help="/refer per writer")
    parser.add_argument("--sequential-refers", type=int, default=200,
                        help="/refer calls at concurrency 1")  # fmt: skip
    parser.add_argument("--reseed", action="store_true", help="rebuild the data sets")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="shrink the data set for a quick try (e.g. 0.02)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"output (default {RESULTS})")
    args = parser.parse_args(argv)
    args.baseline_calls = min(args.baseline_calls, args.calls)
    full = Plan()
    args.plan = Plan(**{
        name: max(1, round(getattr(full, name) * args.scale))
        for name in ("groups", "referrals", "thanks", "one_to_ones", "visitors")
    })  # fmt: skip
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    previous: dict[str, Any] = {}
    if args.json.exists():
        try:
            previous = json.loads(args.json.read_text()).get("databases", {})
        except (ValueError, AttributeError):
            previous = {}
    targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{args.sqlite}")]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    results = {}
    for name, url in targets:
        results[name] = await bench_database(name, url, args, previous.get(name, {}))
    return results


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("referral_bot").setLevel(logging.WARNING)
    args = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    rows = table_rows(results)
    table = render(rows)
    print()
    print(table)
    for name, result in results.items():
        seed = result["seed"]
        how = "seeded in this run" if seed.get("seeded_in_this_run") else "reused"
        took = f", seeding took {seed['seconds']} s" if "seconds" in seed else ""
        print(f"{name}: {how}{took}; rows {result['rows']}")
        print(f"  machine before: {result['machine_before']}, after: {result['machine_after']}")
    if args.explain:
        print_plans(results)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "sqlalchemy": sqlalchemy.__version__,
        "code": code_version(),
        "settings": {
            "calls": args.calls,
            "baseline_calls": args.baseline_calls,
            "warmup": WARMUP,
            "writers": args.writers,
            "per_writer": args.per_writer,
            "sequential_refers": args.sequential_refers,
            "plan": args.plan.counts(),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "table": rows,
        "databases": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
