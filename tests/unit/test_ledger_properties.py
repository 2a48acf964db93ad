"""Properties of the ledger over any sequence of commands (hypothesis).

Each example runs on a fresh SQLite file (a copy of a migrated one) with its own event loop,
so examples share nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.service import Core, GroupDefaults
from storage import reports
from storage.database import Database
from storage.entries import KINDS
from storage.tables import Member, Referral, Thanks
from storage.units import Unit
from tests.conftest import Chat, Clock
from tests.unit.test_grammar import template_file  # noqa: F401  (fixture)
from tests.unit.test_rules import balance

NAMES = ("ann", "ben", "cat", "dan", "eve", "fay")
UNDO_WORD = {"referral": "referral", "thanks": "thanks", "one_to_one": "onetoone",
             "visitor": "visitor", "ceu": "ceu"}  # fmt: skip
END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)

Vector = dict[str, Any]  # "given", "received", ..., "credited:USD", "thanked:EUR": int | Decimal


def vector(totals: reports.Totals) -> Vector:
    values: Vector = {
        "given": totals.given,
        "received": totals.received,
        "one_to_ones": totals.one_to_ones,
        "visitors": totals.visitors,
    }
    values.update({f"credited:{c}": v for c, v in totals.credited.items()})
    values.update({f"thanked:{c}": v for c, v in totals.thanked.items()})
    return {k: v for k, v in values.items() if v}


def combine(a: Vector, b: Vector, sign: int) -> Vector:
    keys = set(a) | set(b)
    result = {k: a.get(k, 0) + sign * b.get(k, 0) for k in keys}
    return {k: v for k, v in result.items() if v}


@dataclass
class Snapshot:
    totals: dict[int, Vector]  # member id -> all-time totals
    entries: dict[tuple[str, int], bool]  # (kind, id) -> voided


async def snapshot(db: Database, member_ids: list[int]) -> Snapshot:
    async def read(unit: Unit) -> Snapshot:
        entries = {
            (kind, row.id): row.voided
            for kind, model in KINDS.items()
            for row in (await unit.session.exec(select(model))).all()
        }
        totals = {m: vector(await reports.totals(unit, m, None, END_OF_TIME)) for m in member_ids}
        return Snapshot(totals, entries)

    return await db.run(read, write=False)


def check_balanced(snap: Snapshot) -> None:
    """(a) referrals given == received, (b) thanks credited == thanked, per currency."""
    summed: Vector = {}
    for values in snap.totals.values():
        summed = combine(summed, values, +1)
    assert summed.get("given", 0) == summed.get("received", 0)
    currencies = {key.split(":")[1] for key in summed if ":" in key}
    for code in currencies:
        credited, thanked = summed.get(f"credited:{code}", 0), summed.get(f"thanked:{code}", 0)
        assert isinstance(credited, Decimal) and isinstance(thanked, Decimal)
        assert credited == thanked, code


# --- the actions ---------------------------------------------------------------------------

member = st.integers(0, len(NAMES) - 1)
cents = st.integers(1, 100_000_000_000)  # $0.01 .. $1,000,000,000.00
amount = st.one_of(st.none(), cents)

actions = st.one_of(
    st.tuples(st.just("refer"), member, member, st.sampled_from(["", " hot", " cold inside"])),
    st.tuples(st.just("thanks"), member, member, amount),
    st.tuples(st.just("onetoone"), member, member),
    st.tuples(st.just("visitor"), member),
    st.tuples(st.just("status"), st.integers(1, 3),
              st.sampled_from(["contacted", "won", "lost"]), amount),
    st.tuples(st.just("undo"), st.one_of(st.none(), member)),  # None: the last entry's author
    st.tuples(st.just("void"), st.sampled_from(list(KINDS)), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 23, 25])),  # hours
    st.tuples(st.just("currency"), st.sampled_from(["USD", "EUR"])),
)  # fmt: skip


def money_text(value: int) -> str:
    return f"{Decimal(value) / 100:,.2f}"


@dataclass
class Ledger:
    chat: Chat
    clock: Clock
    names: list[str]
    ids: dict[str, int] = field(default_factory=dict)
    deltas: dict[tuple[str, int], Vector] = field(default_factory=dict)  # per member id
    last_author: str = "ann"

    def name(self, index: int) -> str:
        return self.names[index % len(self.names)]

    async def command(self, action: tuple[Any, ...], snap: Snapshot) -> tuple[str, str]:
        """The sender and text for one action."""
        kind, *args = action
        if kind == "refer":
            giver, receiver, flags = args
            return self.name(giver), f"/refer @{self.name(receiver)} Prospect {giver}{flags}"
        if kind == "thanks":
            sender, receiver, value = args
            money = f" {money_text(value)}" if value else " thank you"
            return self.name(sender), f"/thanks @{self.name(receiver)}{money}"
        if kind == "onetoone":
            return self.name(args[0]), f"/onetoone @{self.name(args[1])}"
        if kind == "visitor":
            return self.name(args[0]), f"/visitor Guest {args[0]}, Their Business"
        if kind == "status":
            number, status, value = args
            receiver = await self.receiver_of(number)
            money = f" {money_text(value)}" if value and status == "won" else ""
            return receiver or self.names[0], f"/status {number} {status}{money}"
        if kind == "undo":
            return self.last_author if args[0] is None else self.name(args[0]), "/undo"
        if kind == "void":
            entry_kind, index = args
            existing = sorted(i for (k, i), voided in snap.entries.items() if k == entry_kind)
            number = existing[index % len(existing)] if existing else index + 1
            if entry_kind == "referral" and existing:
                number = await self.number_of(number)
            return self.names[0], f"/undo {UNDO_WORD[entry_kind]} {number} entered twice"
        if kind == "currency":
            return self.names[0], f"/settings currency {args[0]}"
        raise AssertionError(kind)

    async def receiver_of(self, number: int) -> str | None:
        async with self.chat.core.db.transaction() as session:
            found = (await session.exec(select(Referral).where(Referral.number == number))).first()
        by_id = {v: k for k, v in self.ids.items()}
        return by_id[found.receiver_id] if found else None

    async def number_of(self, referral_id: int) -> int:
        async with self.chat.core.db.transaction() as session:
            found = await session.get(Referral, referral_id)
        assert found is not None
        return found.number


async def run_scenario(
    template: Path, count: int, steps: list[tuple[Any, ...]], note: Callable[[str], None]
) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        shutil.copyfile(template, path)
        db = Database(f"sqlite:///{path}")
        try:
            clock = Clock(datetime(2026, 11, 25, 12, tzinfo=UTC))
            chat = Chat(Core(db, GroupDefaults(), clock=clock))
            ledger = Ledger(chat, clock, list(NAMES[:count]))
            for name in ledger.names:
                await chat.say(name, "/join")
            async with db.transaction() as session:
                ledger.ids = {
                    m.platform_user_id: int(m.id or 0)
                    for m in (await session.exec(select(Member))).all()
                }
            return await play(ledger, steps, note)
        finally:
            await db.dispose()


async def play(
    ledger: Ledger, steps: list[tuple[Any, ...]], note: Callable[[str], None]
) -> list[str]:
    """Play the steps, checking the properties after each; what each step did."""
    db, member_ids = ledger.chat.core.db, sorted(ledger.ids.values())
    snap = await snapshot(db, member_ids)
    assert all(not v for v in snap.totals.values())
    outcomes: list[str] = []
    newest: tuple[tuple[str, int], dict[int, Vector]] | None = None  # and the totals before it
    for step in steps:
        if step[0] == "wait":
            ledger.clock.advance(hours=step[1])
            continue
        who, text = await ledger.command(step, snap)
        ledger.clock.advance(seconds=1)
        await ledger.chat.say(who, text)
        after = await snapshot(db, member_ids)
        created = [key for key in after.entries if key not in snap.entries]
        voided = [key for key, v in after.entries.items() if v and not snap.entries.get(key)]
        assert len(created) + len(voided) <= 1, (text, created, voided)
        change = {m: combine(after.totals[m], snap.totals[m], -1) for m in member_ids}
        change = {m: v for m, v in change.items() if v}
        if created:
            ledger.deltas[created[0]] = change
            ledger.last_author = who
            newest = (created[0], snap.totals)
            outcome = "created"
        elif voided:
            # (c) voiding takes out exactly what the entry brought in, for every member
            expected = ledger.deltas[voided[0]]
            assert change == {m: combine({}, v, -1) for m, v in expected.items()}, text
            outcome = "voided"
            if newest is not None and newest[0] == voided[0]:
                # ... and voiding the newest entry gives back the totals from before it
                assert after.totals == newest[1]
                outcome = "voided, totals as before it"
            newest = None
        else:
            assert change == {}, text  # a refusal, a status move without money, a setting
            outcome = "nothing"
        note(f"{step[0]}: {outcome}")
        outcomes.append(outcome)
        check_balanced(after)
        snap = after

    # every member's totals are the sum of what the entries still standing brought in
    for m in member_ids:
        expected_totals: Vector = {}
        for key, delta in ledger.deltas.items():
            if not snap.entries[key]:
                expected_totals = combine(expected_totals, delta.get(m, {}), +1)
        assert snap.totals[m] == expected_totals
    return outcomes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(4, 6), steps=st.lists(actions, min_size=1, max_size=14))
def test_the_ledger_balances_and_voiding_takes_an_entry_back(
    migrated_sqlite: Path,
    count: int,
    steps: list[tuple[Any, ...]],
) -> None:
    asyncio.run(run_scenario(migrated_sqlite, count, steps, event))


def test_a_void_right_after_an_entry_restores_the_totals_before_it(
    migrated_sqlite: Path,
) -> None:
    """The literal form of (c), for each kind: void the newest entry, get yesterday back."""
    steps: list[tuple[Any, ...]] = [
        ("refer", 0, 1, ""), ("thanks", 1, 0, 12345), ("onetoone", 2, 3), ("visitor", 3),
        ("refer", 1, 2, " hot"), ("undo", 1), ("thanks", 2, 3, 5), ("void", "thanks", 1),
        ("status", 1, "won", 99999), ("undo", 1), ("onetoone", 0, 3), ("undo", 0),
        ("visitor", 2), ("void", "visitor", 1),
    ]  # fmt: skip
    outcomes = asyncio.run(run_scenario(migrated_sqlite, 4, steps, lambda _: None))
    restored = "voided, totals as before it"
    assert outcomes == [
        "created", "created", "created", "created", "created", restored, "created", restored,
        "created", restored, "created", restored, "created", restored,
    ]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(value=cents, style=st.sampled_from(["plain", "grouped", "symbol", "code", "short"]))
def test_an_amount_round_trips_through_thanks_into_the_balance(
    migrated_sqlite: Path,
    value: int,
    style: str,
) -> None:
    expected = Decimal(value) / 100
    written = {
        "plain": f"{expected:.2f}",
        "grouped": f"{expected:,.2f}",
        "symbol": f"${expected:,.2f}",
        "code": f"{expected:.2f} USD",
        "short": format(expected.normalize(), "f"),
    }[style]

    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as folder:
            shutil.copyfile(migrated_sqlite, Path(folder) / "t.db")
            db = Database(f"sqlite:///{Path(folder) / 't.db'}")
            try:
                clock = Clock()
                chat = Chat(Core(db, GroupDefaults(), clock=clock))
                await chat.say("ann", "/join")
                await chat.say("ben", "/join")
                await chat.say("ann", f"/thanks @ben {written} for the job")
                clock.advance(seconds=1)
                figures = await balance(chat, "ben")
                assert figures["credited"] == f"${expected:,.2f}"
                async with db.transaction() as session:
                    (ben,) = (await session.exec(select(Member).where(Member.name == "Ben"))).all()
                    (thanks,) = (await session.exec(select(Thanks))).all()
                totals = await db.run(
                    lambda unit: reports.totals(unit, int(ben.id or 0), None, END_OF_TIME),
                    write=False,
                )
                assert thanks.amount == expected and thanks.note == "for the job"
                assert totals.credited == {"USD": expected}
            finally:
                await db.dispose()

    asyncio.run(scenario())


def test_money_text_is_what_members_write() -> None:
    assert money_text(1) == "0.01"
    assert money_text(100_000_000_000) == "1,000,000,000.00"
    assert combine({"given": 1}, {"given": 1}, -1) == {}
    assert vector(reports.Totals(credited={"USD": Decimal(0)})) == {}
