"""A large, deterministic ledger for the benchmarks.

1,000 groups x 40 members, 1,000,000 referrals, 300,000 thanks, some
one-to-ones and visitors, spread over the 3 years up to now. Rows are
generated from one `random.Random(seed)` and written with SQLAlchemy Core
bulk `insert()` (executemany, in chunks), never through the ORM row by row.
Ids are given explicitly, so thanks and members can point at them without
a round trip; PostgreSQL's sequences are moved past them afterwards.

    python -m bench.seed --sqlite /tmp/referral-bot-bench.db
    python -m bench.seed --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.migrate import upgrade
from storage.tables import Group, Member, OneToOne, Referral, Thanks, Visitor

SEED = 20261125
CHUNK = 10_000  # rows per executemany
COMMIT_EVERY = 100_000  # rows per transaction while seeding

FIRST = ("Ada", "Ben", "Carla", "Dev", "Ema", "Farid", "Gina", "Hugo", "Ines", "Jon", "Kemal",
         "Lena", "Milo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
         "Wes", "Xenia", "Yara", "Zane")  # fmt: skip
LAST = ("Abbott", "Berg", "Costa", "Dumas", "Evans", "Fischer", "Garcia", "Hale", "Ito", "Jensen",
        "Khan", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Silva",
        "Tanaka", "Ulloa", "Vogel", "Weber", "Young", "Zhou")  # fmt: skip
TIMEZONES = ("UTC", "UTC", "UTC", "Europe/London", "Europe/Berlin", "America/New_York",
             "America/Los_Angeles", "Asia/Singapore")  # fmt: skip
NEEDS = ("a new roof", "payroll software", "a wedding venue", "tax advice", "a website",
         "office cleaning", "life insurance", "a family lawyer", "solar panels",
         "IT support")  # fmt: skip
STATUSES = ("open",) * 8 + ("contacted",) * 5 + ("won",) * 4 + ("lost",) * 3
TEMPERATURES = (None, None, "hot", "warm", "cold")


@dataclass(frozen=True)
class Plan:
    """How much to seed."""

    groups: int = 1_000
    members_per_group: int = 40
    referrals: int = 1_000_000
    thanks: int = 300_000
    one_to_ones: int = 60_000
    visitors: int = 15_000
    years: int = 3
    seed: int = SEED

    @property
    def members(self) -> int:
        return self.groups * self.members_per_group

    def counts(self) -> dict[str, int]:
        """The row count each table must hold once seeded."""
        return {
            "groups": self.groups,
            "members": self.members,
            "referrals": self.referrals,
            "thanks": self.thanks,
            "one_to_ones": self.one_to_ones,
            "visitors": self.visitors,
        }


@dataclass
class SeedReport:
    """What seeding took."""

    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    seconds_by_table: dict[str, float] = field(default_factory=dict)
    finish_seconds: float = 0.0  # sequences, VACUUM ANALYZE / WAL checkpoint

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


TABLES: dict[str, Table] = {
    "groups": Group.__table__,  # type: ignore[attr-defined]
    "members": Member.__table__,  # type: ignore[attr-defined]
    "referrals": Referral.__table__,  # type: ignore[attr-defined]
    "thanks": Thanks.__table__,  # type: ignore[attr-defined]
    "one_to_ones": OneToOne.__table__,  # type: ignore[attr-defined]
    "visitors": Visitor.__table__,  # type: ignore[attr-defined]
}


def chat_id(group_number: int) -> str:
    """The console chat id of group `group_number` (1-based): g0001, g0002, ..."""
    return f"g{group_number:04d}"


def member_id(plan: Plan, group_id: int, index: int) -> int:
    """The id of the `index`-th (0-based) member of group `group_id` (1-based)."""
    return (group_id - 1) * plan.members_per_group + index + 1


def user_id(member: int) -> str:
    """The platform user id of member id `member`."""
    return f"U{member:06d}"


def _sorted_times(rng: random.Random, count: int, start: datetime, span: float) -> list[float]:
    """`count` uniform instants in [start, start + span), as seconds after start, ascending."""
    return sorted(rng.random() * span for _ in range(count))


def _pair(rng: random.Random, size: int) -> tuple[int, int]:
    """Two different member indexes of one group."""
    first = rng.randrange(size)
    return first, (first + 1 + rng.randrange(size - 1)) % size


class _Generator:
    """The rows, in a fixed order from one random stream."""

    def __init__(self, plan: Plan, now: datetime) -> None:
        self.plan, self.now = plan, now
        self.rng = random.Random(plan.seed)
        self.start = now - timedelta(days=365 * plan.years)
        self.span = (now - self.start).total_seconds()
        # Referrals are drawn first (time, group) so each group's numbering is known up front.
        self.referral_times = _sorted_times(self.rng, plan.referrals, self.start, self.span)
        self.referral_groups = [self.rng.randrange(plan.groups) + 1 for _ in range(plan.referrals)]
        self.referral_count = [0] * (plan.groups + 1)
        for group in self.referral_groups:
            self.referral_count[group] += 1

    def at(self, offset: float) -> datetime:
        return self.start + timedelta(seconds=offset)

    def groups(self) -> Iterator[dict[str, Any]]:
        for group in range(1, self.plan.groups + 1):
            yield {
                "id": group, "platform": "console", "workspace_id": "", "chat_id": chat_id(group),
                "name": f"Chapter {group:04d}", "timezone": self.rng.choice(TIMEZONES),
                "currency": "USD", "created_at": self.start - timedelta(days=30),
                "next_referral_number": self.referral_count[group] + 1,
            }  # fmt: skip

    def members(self) -> Iterator[dict[str, Any]]:
        for group in range(1, self.plan.groups + 1):
            for index in range(self.plan.members_per_group):
                ident = member_id(self.plan, group, index)
                first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
                yield {
                    "id": ident, "group_id": group, "platform_user_id": user_id(ident),
                    "username": f"{first.lower()}{ident}", "name": f"{first} {last}",
                    "business": f"{last} & Co", "role": "leader" if index == 0 else "member",
                    "joined_at": self.start - timedelta(days=30 - index % 30),
                }  # fmt: skip

    def referrals(self) -> Iterator[dict[str, Any]]:
        size = self.plan.members_per_group
        numbers = [0] * (self.plan.groups + 1)
        for ident in range(1, self.plan.referrals + 1):
            offset = self.referral_times[ident - 1]
            group = self.referral_groups[ident - 1]
            numbers[group] += 1
            giver, receiver = _pair(self.rng, size)
            created = self.at(offset)
            status = self.rng.choice(STATUSES)
            moved = created + timedelta(days=self.rng.random() * 20 if status != "open" else 0)
            yield {
                "id": ident, "group_id": group, "number": numbers[group],
                "giver_id": member_id(self.plan, group, giver),
                "receiver_id": member_id(self.plan, group, receiver),
                "prospect": f"Prospect {ident}, +1 555 {ident % 10000:04d}, "
                            f"needs {self.rng.choice(NEEDS)}",
                "temperature": self.rng.choice(TEMPERATURES), "inside": self.rng.random() < 0.1,
                "status": status, "created_at": created, "updated_at": min(moved, self.now),
                "voided": self.rng.random() < 0.01,
            }  # fmt: skip

    def thanks(self) -> Iterator[dict[str, Any]]:
        size = self.plan.members_per_group
        times = _sorted_times(self.rng, self.plan.thanks, self.start, self.span)
        for ident, offset in enumerate(times, start=1):
            group = self.rng.randrange(self.plan.groups) + 1
            closer, giver = _pair(self.rng, size)
            amount = None
            if self.rng.random() >= 0.03:  # 3% recognition only
                amount = Decimal(self.rng.randrange(1_000, 2_500_000)) / 100
            yield {
                "id": ident, "group_id": group,
                "from_id": member_id(self.plan, group, closer),
                "to_id": member_id(self.plan, group, giver),
                "amount": amount, "currency": "USD",
                "note": "closed business" if self.rng.random() < 0.2 else None,
                "referral_id": None, "created_at": self.at(offset),
                "voided": self.rng.random() < 0.01,
            }  # fmt: skip

    def one_to_ones(self) -> Iterator[dict[str, Any]]:
        size = self.plan.members_per_group
        times = _sorted_times(self.rng, self.plan.one_to_ones, self.start, self.span)
        for ident, offset in enumerate(times, start=1):
            group = self.rng.randrange(self.plan.groups) + 1
            a, b = _pair(self.rng, size)
            yield {
                "id": ident, "group_id": group, "member_a_id": member_id(self.plan, group, a),
                "member_b_id": member_id(self.plan, group, b), "note": None,
                "created_at": self.at(offset), "voided": self.rng.random() < 0.01,
            }  # fmt: skip

    def visitors(self) -> Iterator[dict[str, Any]]:
        size = self.plan.members_per_group
        times = _sorted_times(self.rng, self.plan.visitors, self.start, self.span)
        for ident, offset in enumerate(times, start=1):
            group = self.rng.randrange(self.plan.groups) + 1
            yield {
                "id": ident, "group_id": group,
                "host_id": member_id(self.plan, group, self.rng.randrange(size)),
                "name": f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                "business": None, "created_at": self.at(offset),
                "voided": self.rng.random() < 0.01,
            }  # fmt: skip


async def _insert(conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Bulk insert `rows` in chunks; a commit every COMMIT_EVERY rows. The row count."""
    statement = insert(table)
    written = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:  # bounded: the generators are finite
        chunk.append(row)
        if len(chunk) == CHUNK:
            await conn.execute(statement, chunk)
            written, chunk = written + len(chunk), []
            if written % COMMIT_EVERY == 0:
                await conn.commit()
    if chunk:
        await conn.execute(statement, chunk)
        written += len(chunk)
    await conn.commit()
    return written


async def _session_settings(db: Database, conn: AsyncConnection, *, fast: bool = True) -> None:
    """Faster, unsafe-on-crash settings for this one seeding connection only; `fast=False`
    puts back what `storage.database` sets. Called outside a transaction."""
    if db.is_sqlite:  # on the driver connection: SQLAlchemy would wrap it in BEGIN IMMEDIATE
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        pragmas = ("synchronous = OFF", "cache_size = -262144") if fast else (
            "synchronous = NORMAL", "cache_size = -2000")  # fmt: skip
        for pragma in pragmas:
            await (await raw.execute(f"PRAGMA {pragma}")).close()
    else:
        await conn.exec_driver_sql(f"SET synchronous_commit = {'off' if fast else 'on'}")
        await conn.exec_driver_sql(f"SET maintenance_work_mem = '{'512MB' if fast else '64MB'}'")
        await conn.commit()


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def reset(db: Database, sqlite_path: Path | None) -> None:
    """An empty database: the SQLite file removed, or PostgreSQL's public schema recreated."""
    if db.is_sqlite:
        await db.dispose()
        assert sqlite_path is not None
        _remove_sqlite(sqlite_path)
        return
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


async def row_counts(db: Database) -> dict[str, int]:
    """The row count of each seeded table; {} when the schema is not there."""
    counts: dict[str, int] = {}
    try:
        async with db.engine.connect() as conn:
            for name, table in TABLES.items():
                statement = select(func.count()).select_from(table)
                counts[name] = int((await conn.execute(statement)).scalar_one())
    except Exception:  # no tables yet
        return {}
    return counts


async def is_seeded(db: Database, plan: Plan) -> bool:
    """True when every table holds exactly the planned number of rows."""
    return await row_counts(db) == plan.counts()


async def seed(db: Database, plan: Plan, now: datetime | None = None) -> SeedReport:
    """Fill an empty, migrated database following `plan`."""
    report = SeedReport()
    started = time.perf_counter()
    generator = _Generator(plan, now or datetime.now(UTC))
    sources = {
        "groups": generator.groups, "members": generator.members,
        "referrals": generator.referrals, "thanks": generator.thanks,
        "one_to_ones": generator.one_to_ones, "visitors": generator.visitors,
    }  # fmt: skip
    async with db.engine.connect() as conn:
        await _session_settings(db, conn)
        before = await conn.run_sync(_index_names)
        await conn.commit()
        for name, rows in sources.items():
            table_started = time.perf_counter()
            # Secondary indexes are built once at the end (a sort) rather than row by row.
            indexes = sorted(TABLES[name].indexes, key=lambda ix: str(ix.name))
            for index in indexes:
                await conn.run_sync(index.drop)
            report.rows[name] = await _insert(conn, TABLES[name], rows())
            for index in indexes:
                await conn.run_sync(index.create)
            await conn.commit()
            report.seconds_by_table[name] = round(time.perf_counter() - table_started, 2)
        await _session_settings(db, conn, fast=False)
        after = await conn.run_sync(_index_names)
        await conn.commit()
        if after != before:  # the metadata's indexes must be the migration's
            raise RuntimeError(f"indexes differ after seeding: {before} != {after}")
    finish_started = time.perf_counter()
    await _finish(db)
    report.finish_seconds = round(time.perf_counter() - finish_started, 2)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _index_names(sync_conn: Any) -> dict[str, list[str]]:
    inspector = inspect(sync_conn)
    return {name: sorted(str(ix["name"]) for ix in inspector.get_indexes(name)) for name in TABLES}


async def _finish(db: Database) -> None:
    """Sequences past the explicit ids (PostgreSQL) and fresh statistics / a clean WAL."""
    if db.is_sqlite:
        async with db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await (await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")).close()
        return
    async with db.engine.begin() as conn:
        for name in TABLES:
            await conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            ))  # fmt: skip
    # VACUUM sets the visibility map (index-only scans) as autovacuum eventually would.
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE")


async def prepare(
    url: str, plan: Plan, *, reseed: bool = False, log: Any = print
) -> tuple[bool, SeedReport | None]:
    """Make `url` hold the planned data set: reused when its counts match, else rebuilt.

    Returns (seeded now, the report when it was).
    """
    db = Database(url)
    sqlite_path = Path(db.engine.url.database or "") if db.is_sqlite else None
    try:
        if not reseed and await is_seeded(db, plan):
            await upgrade(db)
            return False, None
        log(f"seeding {db.engine.url.render_as_string(hide_password=True)} ...")
        await reset(db, sqlite_path)
        await upgrade(db)
        report = await seed(db, plan)
        log(f"seeded in {report.seconds:.1f} s: {report.seconds_by_table}")
        return True, report
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--sqlite", type=Path, help="SQLite file to (re)create")
    target.add_argument("--postgres", help="PostgreSQL URL; its public schema is recreated")
    parser.add_argument("--reseed", action="store_true", help="rebuild even if already seeded")
    args = parser.parse_args(argv)
    url = args.postgres or f"sqlite:///{args.sqlite}"
    asyncio.run(prepare(url, Plan(), reseed=args.reseed))


if __name__ == "__main__":
    main()
