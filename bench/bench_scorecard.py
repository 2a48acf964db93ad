"""/scorecard and /scorecard group end to end through the core, on the core benchmark's data.

    python -m bench.bench_scorecard [--sqlite PATH] [--postgres URL] [--calls 1000]
                                    [--baseline-calls 200] [--scale 1.0]

The data set is bench/seed.py's (1,000 groups x 40 members, 1,000,000 referrals, ...),
prepared as bench_core does, plus what a scorecard reads that the seed has none of: CEUs
over the last year and, for the last 26 weeks, a weekly meeting per group with every
member's attendance (added once; a data set that has them is reused). The calls go
through `Core.handle` with a fresh delivery id each, measured by bench_core's
`measure_read`: a member's own `/scorecard` for random members, `/scorecard group` from
each group's leader, next to a naive baseline in the same run that loads the group's rows
as objects and computes every figure in Python (its figures are compared with the SQL's).
It measures and never asserts: a table on stdout, the figures in bench/results/scorecard.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import func, select
from sqlmodel import select as orm_select

from bench import bench_core as core_bench
from bench.bench_core import Chapter, Person, Read, load_chapters, load_group_rows, measure_read
from bench.seed import Plan, _insert, member_id, prepare, row_counts
from bot.scoring import SPAN, Activity, score, span_start, total, weeks_between
from bot.service import Core, GroupDefaults
from storage import scorecard
from storage.database import Database
from storage.scorecard import Figures
from storage.tables import Ceu, Meeting, MeetingResponse

DEFAULT_SQLITE = Path("/tmp/referral-bot-bench.db")
RESULTS = Path(__file__).with_name("results") / "scorecard.json"
CEUS_PER_GROUP = 200  # over the last year
MEETINGS = 26  # weekly, the last 26 weeks, every member's attendance recorded
ATTENDANCE = ("present",) * 85 + ("absent",) * 4 + ("late",) * 4 + ("substitute",) * 4 + (
    "medical",) * 3  # fmt: skip
TARGETS = {"scorecard": (10.0, 20.0), "scorecard_group": (50.0, 20.0)}  # p50 ms, speed-up
EXTRA_SEED = 20261204

log = logging.getLogger("bench")


# --- what the seed lacks: CEUs, meetings and attendance ----------------------------------


def _tables() -> dict[str, Any]:
    return {"ceus": Ceu.__table__, "meetings": Meeting.__table__,  # type: ignore[attr-defined]
            "meeting_responses": MeetingResponse.__table__}  # type: ignore[attr-defined]  # fmt: skip


def extra_counts(plan: Plan) -> dict[str, int]:
    return {
        "ceus": plan.groups * CEUS_PER_GROUP,
        "meetings": plan.groups * MEETINGS,
        "meeting_responses": plan.groups * MEETINGS * plan.members_per_group,
    }


async def _counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
            for name, t in _tables().items()
        }


def _extra_rows(plan: Plan, now: datetime) -> dict[str, Iterator[dict[str, Any]]]:
    rng = random.Random(EXTRA_SEED)
    size = plan.members_per_group

    def ceus() -> Iterator[dict[str, Any]]:
        ident = 0
        for group in range(1, plan.groups + 1):
            for _ in range(CEUS_PER_GROUP):
                ident += 1
                yield {"id": ident, "group_id": group,
                       "member_id": member_id(plan, group, rng.randrange(size)),
                       "note": "a training", "created_at": now - timedelta(days=rng.random() * 365),
                       "voided": rng.random() < 0.01}  # fmt: skip

    def meetings() -> Iterator[dict[str, Any]]:
        for group in range(1, plan.groups + 1):
            for week in range(MEETINGS):
                yield {"id": (group - 1) * MEETINGS + week + 1, "group_id": group,
                       "starts_at": now - timedelta(weeks=week, days=1), "place": None}  # fmt: skip

    def responses() -> Iterator[dict[str, Any]]:
        ident = 0
        for meeting in range(1, plan.groups * MEETINGS + 1):
            group = (meeting - 1) // MEETINGS + 1
            for index in range(size):
                ident += 1
                yield {"id": ident, "meeting_id": meeting,
                       "member_id": member_id(plan, group, index), "rsvp": None,
                       "attendance": rng.choice(ATTENDANCE), "updated_at": now}  # fmt: skip

    return {"ceus": ceus(), "meetings": meetings(), "meeting_responses": responses()}


async def add_extras(url: str, plan: Plan) -> dict[str, Any]:
    """CEUs, meetings and attendance, unless the data set already has exactly these."""
    db = Database(url)
    try:
        if await _counts(db) == extra_counts(plan):
            return {"added_in_this_run": False}
        started = time.perf_counter()
        async with db.engine.begin() as conn:
            for name in ("meeting_responses", "meetings", "ceus"):
                await conn.execute(_tables()[name].delete())
        async with db.engine.connect() as conn:
            for name, rows in _extra_rows(plan, datetime.now(UTC)).items():
                await _insert(conn, _tables()[name], rows)
                await conn.commit()
        async with db.engine.connect() as conn:
            if db.is_sqlite:
                await conn.exec_driver_sql("ANALYZE")
            else:
                await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql(
                    "VACUUM ANALYZE"
                )
            await conn.commit()
        return {"added_in_this_run": True, "seconds": round(time.perf_counter() - started, 1)}
    finally:
        await db.dispose()


# --- the naive baseline: the group's rows into Python ------------------------------------


@dataclass
class Attendance:
    member_id: int
    attendance: str | None
    starts_at: datetime


async def _more_rows(db: Database, group_id: int) -> tuple[Sequence[Ceu], list[Attendance]]:
    async with db.transaction() as session:
        ceus = (await session.exec(orm_select(Ceu).where(Ceu.group_id == group_id))).all()
        rows = await session.exec(
            orm_select(MeetingResponse, Meeting)
            .join(Meeting, Meeting.id == MeetingResponse.meeting_id)  # type: ignore[arg-type]
            .where(Meeting.group_id == group_id)
        )
        return ceus, [Attendance(r.member_id, r.attendance, m.starts_at) for r, m in rows]


def _naive_figures(data: Any, ceus: Sequence[Ceu], attendance: list[Attendance],
                   member: Any, start: datetime, end: datetime) -> Figures:  # fmt: skip
    me, currency = member.id, data.group.currency

    def live(entry: Any) -> bool:
        return not entry.voided and start <= entry.created_at < end

    marks = [a.attendance for a in attendance
             if a.member_id == me and a.attendance and a.starts_at >= start]  # fmt: skip
    return Figures(
        me,
        member.name,
        member.joined_at,
        given=sum(1 for r in data.referrals if r.giver_id == me and live(r)),
        visitors=sum(1 for v in data.visitors if v.host_id == me and live(v)),
        one_to_ones=sum(
            live(o) and (o.member_a_id == me) + (o.member_b_id == me) for o in data.one_to_ones
        ),
        ceus=sum(1 for c in ceus if c.member_id == me and live(c)),
        credited=sum(
            (
                t.amount
                for t in data.thanks
                if t.to_id == me and t.amount is not None and t.currency == currency and live(t)
            ),
            Decimal(0),
        ),
        absences=marks.count("absent"),
        lates=marks.count("late"),
        attended=len(marks),
    )


def _activity(figures: Figures) -> Activity:
    return Activity(**{k: getattr(figures, k) for k in Activity.__dataclass_fields__})


def _weeks(figures: Figures, now: datetime) -> Any:
    return weeks_between(span_start(now, figures.joined_at), now)


async def naive_scorecard(db: Database, chapter: Chapter, person: Person) -> Any:
    """A member's /scorecard computed in Python from the group's rows."""
    data = await load_group_rows(db, chapter, person)
    ceus, attendance = await _more_rows(db, chapter.id)
    now = datetime.now(UTC)
    figures = _naive_figures(data, ceus, attendance, data.member,
                             span_start(now, data.member.joined_at), now)  # fmt: skip
    score(_activity(figures), _weeks(figures, now), data.group.currency)  # the card's texts
    return figures


async def naive_group(db: Database, chapter: Chapter, person: Person) -> Any:
    """/scorecard group computed in Python from the group's rows, every active member."""
    data = await load_group_rows(db, chapter, person)
    ceus, attendance = await _more_rows(db, chapter.id)
    now = datetime.now(UTC)
    everyone = [
        _naive_figures(data, ceus, attendance, m, now - SPAN, now)
        for m in data.members
        if m.left_at is None
    ]
    ranked = sorted(everyone, key=lambda f: total(_activity(f), _weeks(f, now)))
    return sorted(ranked, key=lambda f: f.member_id)


# --- the floor: storage.scorecard alone ---------------------------------------------------


async def sql_scorecard(db: Database, chapter: Chapter, person: Person) -> Any:
    now = datetime.now(UTC)

    async def read(unit: Any) -> Figures:
        start = now - SPAN  # every seeded member joined before
        return await scorecard.member_figures(
            unit, chapter.id, person.id, chapter.currency, start, now
        )

    return await db.run(read, write=False)


async def sql_group(db: Database, chapter: Chapter, person: Person) -> Any:
    now = datetime.now(UTC)

    async def read(unit: Any) -> list[Figures]:
        return await scorecard.group_figures(unit, chapter.id, chapter.currency, now - SPAN, now)

    return sorted(await db.run(read, write=False), key=lambda f: f.member_id)


READS = (
    Read("scorecard", "/scorecard", "/scorecard", "Scorecard of ", naive_scorecard,
         sql_scorecard),
    Read("scorecard_group", "/scorecard group", "/scorecard group", "Scorecards of ",
         naive_group, sql_group),
)  # fmt: skip


# --- running ------------------------------------------------------------------------------


async def _plan_lines(db: Database, chapter: Chapter) -> list[str]:
    """PostgreSQL's plan of the group statement (EXPLAIN ANALYZE), for bench/README.md."""
    if db.is_sqlite:
        return []
    statement = scorecard._statement(False)._build(db.engine.dialect.name)
    now = datetime.now(UTC).replace(tzinfo=None)
    params = {"group_id": chapter.id, "currency": chapter.currency, "start": now - SPAN,
              "end": now}  # fmt: skip
    try:
        compiled = statement.compile(dialect=db.engine.dialect)
        values = {**compiled.params, **params}
        args = tuple(values[name] for name in compiled.positiontup or ())
        async with db.engine.connect() as conn:
            found = await conn.exec_driver_sql(f"EXPLAIN ANALYZE {compiled}", args)
            return [row[0] for row in found]
    except Exception as error:  # a plan is a help, not a measurement
        return [f"no plan: {type(error).__name__}: {str(error)[:200]}"]


async def bench_database(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    seeded_now, report = await prepare(url, args.plan, reseed=args.reseed, log=print)
    extras = await add_extras(url, args.plan)
    db = Database(url)
    try:
        chapters = await load_chapters(db)
        leaders = [replace(c, members=c.members[:1]) for c in chapters]  # index 0 leads
        core = Core(db, GroupDefaults(timezone="UTC", currency="USD"))
        result: dict[str, Any] = {
            "url": db.engine.url.render_as_string(hide_password=True),
            "rows": {**await row_counts(db), **await _counts(db)},
            "seeded_in_this_run": seeded_now,
            "seed_seconds": report.seconds if report else None,
            "extras": extras,
            "machine_before": core_bench.machine_state(),
            "measurements": {},
        }
        for read in READS:
            warmed = await core_bench.prewarm(db)
            print(f"[{name}] {read.command}: {args.calls} calls (prewarmed: {warmed}) ...",
                  flush=True)  # fmt: skip
            who = leaders if read.key == "scorecard_group" else chapters
            measured = await measure_read(core, db, who, read, args.calls, args.baseline_calls)
            p50_target, speedup_target = TARGETS[read.key]
            speedup = measured["speedup_p50"]
            measured["target"] = f"p50 <= {p50_target:g} ms and >= {speedup_target:g}x baseline"
            measured["target_met"] = bool(
                not measured["errors"] and speedup is not None
                and measured["core"]["p50_ms"] <= p50_target and speedup >= speedup_target
            )  # fmt: skip
            result["measurements"][read.key] = measured
        result["plan_group"] = await _plan_lines(db, chapters[0])
        result["machine_after"] = core_bench.machine_state()
        return result
    finally:
        await db.dispose()


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = [["measurement", "database", "calls", "p50 ms", "p99 ms", "baseline p50 ms",
             "speed-up", "SQL = Python", "target", "met"]]  # fmt: skip
    for db_name, result in results.items():
        for read in READS:
            m = result["measurements"][read.key]
            p50_target, speedup_target = TARGETS[read.key]
            rows.append([
                read.label, db_name, str(m["core"].get("calls", 0)),
                f"{m['core'].get('p50_ms', float('nan')):.2f}",
                f"{m['core'].get('p99_ms', float('nan')):.2f}",
                f"{m['baseline'].get('p50_ms', float('nan')):.2f} ({m['baseline'].get('calls', 0)}"
                " calls)",
                "-" if m["speedup_p50"] is None else f"{m['speedup_p50']}x",
                m["sql_agrees_with_baseline"],
                f"p50<={p50_target:g}ms, >={speedup_target:g}x",
                "yes" if m["target_met"] else "no",
            ])  # fmt: skip
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scorecard",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE,
                        help=f"SQLite file (default {DEFAULT_SQLITE})")  # fmt: skip
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL)")  # fmt: skip
    parser.add_argument("--calls", type=int, default=1000, help="calls per measurement")
    parser.add_argument("--baseline-calls", type=int, default=200, help="baseline calls")
    parser.add_argument("--reseed", action="store_true", help="rebuild the data sets")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the data set (e.g. 0.02)")
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
    targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{args.sqlite}")]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    return {name: await bench_database(name, url, args) for name, url in targets}


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    rows = table_rows(results)
    print()
    print(core_bench.render(rows))
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "sqlalchemy": sqlalchemy.__version__,
        "code": core_bench.code_version(),
        "settings": {
            "calls": args.calls,
            "baseline_calls": args.baseline_calls,
            "warmup": core_bench.WARMUP,
            "plan": args.plan.counts(),
            "extras": extra_counts(args.plan),
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
