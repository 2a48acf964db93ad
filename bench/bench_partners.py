"""Reciprocity and goals end to end on the core benchmark's data: /partners, /partners group
and /goals, next to a naive baseline.

    python -m bench.bench_partners [--sqlite PATH] [--postgres URL] [--calls 500]
                                   [--baseline-calls 100] [--charts 20] [--scale 1.0]

The data set is bench/seed.py's (reused when a database already holds it, as
bench/bench_core.py does; its helpers are used here, not copied). Each command is timed
through `Core.handle` with a fresh delivery id, for a random group and member (the group's
leader for /partners group), next to a naive baseline measured in the same run: load the
group's rows as objects (`bench_core.load_group_rows`) and compute the same figures in
Python. /partners group queues its chart (the pairs it shows, drawn on delivery): its
drawing (matplotlib, Agg, in a drawing process) is timed apart on the charts the same calls
queued. For /goals every group is given four goals for the
run (taken off afterwards). It measures, never asserts: a table on stdout, the figures in
bench/results/partners.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import text, update

from bench.bench_core import (
    DEFAULT_SQLITE,
    PICK_SEED,
    WARMUP,
    Chapter,
    Person,
    call_core,
    code_version,
    flatten,
    incoming,
    load_chapters,
    load_group_rows,
    machine_state,
    picks,
    prewarm,
    render,
    summary,
    timed,
)
from bench.seed import TABLES, Plan, prepare, row_counts
from bot import charts
from bot import goals as goal_rules
from bot.actions.partners import ONE_SIDED, TOP_PAIRS
from bot.messages import Reply
from bot.service import Core, GroupDefaults
from storage import goals as counting
from storage import partners
from storage.database import Database

RESULTS = Path(__file__).with_name("results") / "partners.json"
GOALS = "referrals:40:month,business:250000:year,visitors:4:month,onetoones:20:quarter"
TARGETS_MS = {"partners": 10.0, "partners_group": 50.0, "goals": 10.0}
SPEEDUP_TARGET = 20.0

log = logging.getLogger("bench")


def _in(entry: Any, start: datetime | None, end: datetime) -> bool:
    return (
        not entry.voided and (start is None or entry.created_at >= start) and entry.created_at < end
    )


# --- the naive baselines and the storage calls they are compared with ---------------------


async def naive_partners(db: Database, chapter: Chapter, person: Person) -> Any:
    """/partners (all time) computed in Python from the group's rows."""
    data = await load_group_rows(db, chapter, person)
    me, now = data.member.id, datetime.now(UTC)
    found: dict[int, list[Any]] = {}
    for r in data.referrals:
        if _in(r, None, now) and me in (r.giver_id, r.receiver_id):
            row = found.setdefault(r.receiver_id if r.giver_id == me else r.giver_id,
                                   [0, 0, Decimal(0), Decimal(0)])  # fmt: skip
            row[0 if r.giver_id == me else 1] += 1
    for t in data.thanks:
        if _in(t, None, now) and t.amount is not None and me in (t.from_id, t.to_id):
            row = found.setdefault(t.from_id if t.to_id == me else t.to_id,
                                   [0, 0, Decimal(0), Decimal(0)])  # fmt: skip
            row[2 if t.to_id == me else 3] += t.amount
    return sorted((o, g, r, c, t) for o, (g, r, c, t) in found.items())


async def storage_partners(db: Database, chapter: Chapter, person: Person) -> Any:
    found = await db.run(
        lambda unit: partners.member_exchanges(unit, person.id, None, datetime.now(UTC)),
        write=False,
    )
    return sorted((x.member_id, x.given, x.received, sum(x.credited.values(), Decimal(0)),
                   sum(x.thanked.values(), Decimal(0))) for x in found)  # fmt: skip


def _told(pairs: dict[tuple[int, int], int], referrals: int) -> Any:
    """What `/partners group` says, from the pairs' counts: the referrals, the pairs, every
    pair from the 10th largest count up (ties included) and the one-sided ones."""
    counts = sorted(pairs.values(), reverse=True)
    cut = counts[TOP_PAIRS - 1] if len(counts) >= TOP_PAIRS else 0
    top = sorted((g, r, n) for (g, r), n in pairs.items() if n >= cut)
    lopsided = sorted((g, r, n) for (g, r), n in pairs.items()
                      if n >= ONE_SIDED and (r, g) not in pairs)  # fmt: skip
    return referrals, len(pairs), top, lopsided


async def naive_group(db: Database, chapter: Chapter, person: Person) -> Any:
    """/partners group (all time): the pairs counted in Python from the group's rows."""
    data = await load_group_rows(db, chapter, person)
    now, pairs = datetime.now(UTC), Counter[tuple[int, int]]()
    for r in data.referrals:
        if _in(r, None, now):
            pairs[(r.giver_id, r.receiver_id)] += 1
    return _told(dict(pairs), sum(pairs.values()))


async def storage_group(db: Database, chapter: Chapter, person: Person) -> Any:
    def told(unit: Any) -> Any:
        return partners.group_partners(
            unit, chapter.id, None, datetime.now(UTC), top=TOP_PAIRS, one_sided=ONE_SIDED
        )

    found = await db.run(told, write=False)
    return found.referrals, found.pairs, sorted(found.top), sorted(found.one_sided)


async def naive_goals(db: Database, chapter: Chapter, person: Person) -> Any:
    """/goals: each goal's progress over its period counted in Python."""
    data = await load_group_rows(db, chapter, person)
    now, out = datetime.now(UTC), []
    for goal in goal_rules.parse_goals(GOALS):
        span, _ = goal_rules.period_bounds(goal.period, now, chapter.timezone)
        if goal.kind == "business":
            rows = [t.amount for t in data.thanks if _in(t, span.start, now)
                    and t.amount is not None and t.currency == chapter.currency]  # fmt: skip
            out.append(sum(rows, Decimal(0)))
        else:
            rows = {"referrals": data.referrals, "visitors": data.visitors,
                    "onetoones": data.one_to_ones}[goal.kind]  # fmt: skip
            out.append(Decimal(sum(1 for r in rows if _in(r, span.start, now))))
    return out


async def storage_goals(db: Database, chapter: Chapter, person: Person) -> Any:
    now = datetime.now(UTC)
    asked = [(goal.kind, goal_rules.period_bounds(goal.period, now, chapter.timezone)[0].start)
             for goal in goal_rules.parse_goals(GOALS)]  # fmt: skip
    return await db.run(
        lambda unit: counting.progress(unit, chapter.id, asked, now, chapter.currency),
        write=False,
    )


@dataclass(frozen=True)
class Read:
    key: str
    command: str
    expect: str
    leader: bool
    baseline: Callable[[Database, Chapter, Person], Awaitable[Any]]
    floor: Callable[[Database, Chapter, Person], Awaitable[Any]]


READS = (
    Read("partners", "/partners", "Partners of ", False, naive_partners, storage_partners),
    Read("partners_group", "/partners group", "Who referred whom in ", True, naive_group,
         storage_group),
    Read("goals", "/goals", "Goals of ", False, naive_goals, storage_goals),
)  # fmt: skip


async def measure(
    core: Core, db: Database, chapters: list[Chapter], read: Read, calls: int,
    baseline_calls: int,
) -> dict[str, Any]:  # fmt: skip
    """As bench_core.measure_read: the core `calls` times, the baseline on a spread of the
    same picks right after the core's call."""

    def who(chapter: Chapter, person: Person) -> Person:
        return chapter.members[0] if read.leader else person  # the seed's leader comes first

    def message(chapter: Chapter, person: Person) -> Any:
        sent = incoming(chapter, who(chapter, person), read.command)
        return replace(sent, sender=replace(sent.sender, is_admin=read.leader))

    for chapter, person in picks(chapters, WARMUP, PICK_SEED + 1):
        await core.handle(message(chapter, person))
        await read.baseline(db, chapter, who(chapter, person))
    gc.collect()
    every = max(1, calls // max(1, baseline_calls))
    latencies: list[float] = []
    errors = Counter[str]()
    base, floor, agree = [], [], 0
    for index, (chapter, person) in enumerate(picks(chapters, calls, PICK_SEED)):
        replies = await call_core(core, message(chapter, person), latencies, errors)
        if replies is None:
            continue
        if not replies or not replies[0].text.startswith(read.expect):
            errors[f"unexpected answer: {flatten(replies)[:160]}"] += 1
        if index % every or len(base) >= baseline_calls:
            continue
        person = who(chapter, person)
        ms, numbers = await timed(lambda c=chapter, p=person: read.floor(db, c, p))
        floor.append(ms)
        ms, naive = await timed(lambda c=chapter, p=person: read.baseline(db, c, p))
        base.append(ms)
        agree += numbers == naive
        if numbers != naive and agree == len(base) - 1:
            log.warning("SQL and Python disagree on %s:\n%s\n%s", read.key, numbers, naive)
    core_stats, base_stats = summary(latencies), summary(base)
    speedup = round(base_stats["p50_ms"] / core_stats["p50_ms"], 1) if latencies and base else None
    target = TARGETS_MS[read.key]
    return {
        "command": read.command, "core": core_stats, "baseline": base_stats,
        "storage_only": summary(floor), "speedup_p50": speedup,
        "sql_agrees_with_baseline": f"{agree}/{len(base)}", "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "target": f"p50 <= {target:g} ms and >= {SPEEDUP_TARGET:g}x baseline",
        "target_met": bool(not errors and speedup and core_stats["p50_ms"] <= target
                           and speedup >= SPEEDUP_TARGET),
    }  # fmt: skip


async def measure_charts(db: Database, count: int, since: datetime) -> dict[str, Any]:
    """The heatmaps the last /partners group calls queued (`count` of them), drawn as their
    delivery draws them: in a drawing process (`bot.charts`, `bot.drawing`)."""
    async with db.engine.connect() as conn:
        payloads = (await conn.execute(
            text("SELECT payload FROM outbox WHERE payload LIKE '%\"chart\"%' AND created_at >= :t"
                 " ORDER BY id DESC LIMIT :n"), {"t": since.replace(tzinfo=None), "n": count},
        )).scalars().all()  # fmt: skip
    latencies, sizes = [], []
    for payload in payloads:
        chart = Reply.from_json(json.loads(payload)).chart
        assert chart is not None
        ms, png = await timed(lambda c=chart: charts.picture(c, db))
        latencies.append(ms)
        sizes.append(len(png))
    return {"command": "/partners group chart (heatmap PNG)", "core": summary(latencies),
            "png_bytes_p50": sorted(sizes)[len(sizes) // 2] if sizes else None}  # fmt: skip


async def set_goals(db: Database, value: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(update(TABLES["groups"]).values(goals=value))


async def bench_database(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    await prepare(url, args.plan, log=print)
    db = Database(url)
    try:
        chapters = await load_chapters(db)
        core = Core(db, GroupDefaults(timezone="UTC", currency="USD"))
        result: dict[str, Any] = {"url": db.engine.url.render_as_string(hide_password=True),
                                  "rows": await row_counts(db), "measurements": {},
                                  "machine_before": machine_state()}  # fmt: skip
        await set_goals(db, GOALS)
        began = datetime.now(UTC)
        try:
            for read in READS:
                warmed = await prewarm(db)
                print(f"[{name}] {read.command}: {args.calls} calls (prewarmed: {warmed}) ...",
                      flush=True)  # fmt: skip
                result["measurements"][read.key] = await measure(
                    core, db, chapters, read, args.calls, args.baseline_calls
                )
                if read.key == "partners_group":
                    result["measurements"]["chart"] = await measure_charts(db, args.charts, began)
        finally:
            await set_goals(db, "")
            async with db.engine.begin() as conn:  # what the run wrote
                await conn.execute(text("DELETE FROM deliveries"))
                await conn.execute(text("DELETE FROM outbox WHERE created_at >= :t"),
                                   {"t": began.replace(tzinfo=None)})  # fmt: skip
        result["machine_after"] = machine_state()
        return result
    finally:
        await db.dispose()


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = [["measurement", "database", "calls", "p50 ms", "p99 ms", "baseline p50 ms",
             "speed-up", "target", "met"]]  # fmt: skip
    for name, result in results.items():
        for key, m in result["measurements"].items():
            core = m["core"]
            if key == "chart":
                rows.append([m["command"], name, str(core["calls"]), f"{core['p50_ms']:.2f}",
                             f"{core['p99_ms']:.2f}", "-", "-", "timed apart", "-"])  # fmt: skip
                continue
            base = m["baseline"]
            rows.append([
                m["command"], name, str(core["calls"]), f"{core['p50_ms']:.2f}",
                f"{core['p99_ms']:.2f}", f"{base['p50_ms']:.2f} ({base['calls']} calls)",
                f"{m['speedup_p50']}x", m["target"].replace(" and ", ", ").replace(" ", ""),
                "yes" if m["target_met"] else "no",
            ])  # fmt: skip
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_partners",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--baseline-calls", type=int, default=100)
    parser.add_argument("--charts", type=int, default=20, help="charts drawn, timed apart")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    full = Plan()
    args.plan = Plan(**{name: max(1, round(getattr(full, name) * args.scale))
                        for name in ("groups", "referrals", "thanks", "one_to_ones",
                                     "visitors")})  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("referral_bot").setLevel(logging.WARNING)
    args = parse_args(argv)
    started = time.perf_counter()
    targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{args.sqlite}")]
    if args.postgres:
        targets.append(("postgresql", args.postgres))

    async def run() -> dict[str, Any]:
        return {name: await bench_database(name, url, args) for name, url in targets}

    results = asyncio.run(run())
    rows = table_rows(results)
    print()
    print(render(rows))
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "sqlalchemy": sqlalchemy.__version__, "code": code_version(),
        "settings": {"calls": args.calls, "baseline_calls": args.baseline_calls,
                     "charts": args.charts, "warmup": WARMUP, "goals": GOALS,
                     "plan": args.plan.counts()},
        "seconds": round(time.perf_counter() - started, 1), "table": rows, "databases": results,
    }  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
