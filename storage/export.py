"""The ledger out: the JSON export (format version 1) and the CSV export.

Both read one consistent snapshot and stream rows in chunks (Core selects of
columns, no ORM objects), so a million entries never sit in memory as objects.
Times are ISO 8601 UTC with a ``Z``: ``2026-11-25T12:00:00Z``, with a six-digit
fraction (``12:00:00.250000Z``) when the stored time has one.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import (
    Row,
    Select,
    Table,
    event,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from storage import group_settings
from storage.clock import utcnow
from storage.currency import quantize
from storage.database import BUSY_TIMEOUT_MS, Database
from storage.money_type import Money

FORMAT, VERSION = "referral-bot", 1
CHUNK = 5_000
LISTS = ("groups", "members", "referrals", "thanks", "one_to_ones", "visitors")  # = table names
# Lists added to the documented ones, so that moving a chapter (SQLite to PostgreSQL, say)
# keeps its meetings, RSVPs, attendance and audit trail; an import reads them when present.
EXTRA_LISTS = ("meetings", "meeting_responses", "audit_log")
# Documented lists that a version 1 document may lack ("a document without this list has
# none"): read when present, empty when not.
OPTIONAL_LISTS = ("ceus",)
ALL_LISTS = LISTS + EXTRA_LISTS + OPTIONAL_LISTS
# The interface's columns, then `number` (the one members see: a referral's number in its
# group, the id that the answers and /undo give a thanks, one-to-one or visitor) and
# `inside` (a referral's; empty for the other kinds), added at the end so that no column moves.
CSV_COLUMNS = ("kind", "id", "group", "created_at", "from", "to", "amount", "currency",
               "status", "temperature", "detail", "voided", "number", "inside")  # fmt: skip
BOM = "\ufeff"  # so that a spreadsheet reads the file as UTF-8 (accents, emoji)
# Keys added to the documented ones (the format allows it), so that an import loses nothing:
# groups: created_at, settings; members: username, ask, left_at, nudges_muted_at, nudged_at;
# referrals: updated_at.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def goals_list(stored: str) -> list[dict[str, str]]:
    """A group's goals as the export writes them: each `kind`, `target` (a decimal string)
    and `period`, from the group row's "kind:target:period,..." (`bot.goals`)."""
    keys = ("kind", "target", "period")
    return [dict(zip(keys, part.split(":"), strict=True)) for part in stored.split(",") if part]


def table(name: str) -> Table:
    """The table behind a list of the document (the names are the same)."""
    return SQLModel.metadata.tables[name]


def iso(value: datetime) -> str:
    """``2026-11-25T12:00:00Z`` (``...:00.250000Z`` when there is a fraction)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _amount(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else format(quantize(value, currency), "f")


_EXPORT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "groups": lambda r: {
        "id": str(r.id), "name": r.name, "platform": r.platform, "chat_id": r.chat_id,
        "workspace_id": r.workspace_id or None, "timezone": r.timezone, "currency": r.currency,
        "created_at": iso(r.created_at),
        "settings": {**group_settings.exported(r), "goals": goals_list(r.goals)},
    },
    "members": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "platform_user_id": r.platform_user_id,
        "name": r.name, "business": r.business, "classification": r.classification,
        "role": r.role, "joined_at": iso(r.joined_at), "username": r.username, "ask": r.ask,
        "left_at": None if r.left_at is None else iso(r.left_at),
        "nudges_muted_at": None if r.nudges_muted_at is None else iso(r.nudges_muted_at),
        "nudged_at": None if r.nudged_at is None else iso(r.nudged_at),
    },
    "referrals": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "number": r.number,
        "giver_id": str(r.giver_id), "receiver_id": str(r.receiver_id), "prospect": r.prospect,
        "temperature": r.temperature, "inside": bool(r.inside), "status": r.status,
        "created_at": iso(r.created_at), "voided": bool(r.voided),
        "updated_at": iso(r.updated_at),
    },
    "thanks": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "from_id": str(r.from_id),
        "to_id": str(r.to_id), "amount": _amount(r.amount, r.currency), "currency": r.currency,
        "note": r.note, "referral_id": None if r.referral_id is None else str(r.referral_id),
        "created_at": iso(r.created_at), "voided": bool(r.voided),
    },
    "one_to_ones": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id),
        "member_ids": [str(r.member_a_id), str(r.member_b_id)], "note": r.note,
        "created_at": iso(r.created_at), "voided": bool(r.voided),
    },
    "visitors": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "host_id": str(r.host_id),
        "name": r.name, "business": r.business, "created_at": iso(r.created_at),
        "voided": bool(r.voided),
    },
    "ceus": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "member_id": str(r.member_id),
        "note": r.note, "created_at": iso(r.created_at), "voided": bool(r.voided),
    },
    "meetings": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "starts_at": iso(r.starts_at),
        "place": r.place,
    },
    "meeting_responses": lambda r: {
        "id": str(r.id), "meeting_id": str(r.meeting_id), "member_id": str(r.member_id),
        "rsvp": r.rsvp, "attendance": r.attendance, "updated_at": iso(r.updated_at),
    },
    "audit_log": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id),
        "actor_id": None if r.actor_id is None else str(r.actor_id), "action": r.action,
        "entity_kind": r.entity_kind,
        "entity_id": None if r.entity_id is None else str(r.entity_id), "reason": r.reason,
        "created_at": iso(r.created_at),
    },
}  # fmt: skip


@contextlib.asynccontextmanager
async def _snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """A read transaction over one snapshot that does not hold up writers."""
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn
        return
    if make_url(db.url).database in (None, "", ":memory:"):  # one connection: share it
        async with db.transaction() as session:
            yield await session.connection()
        return
    # The main engine begins every transaction IMMEDIATE (the write lock); a plain BEGIN
    # reads a WAL snapshot while the bot goes on writing.
    engine = create_async_engine(db.url, poolclass=NullPool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.cursor().execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    try:
        async with engine.connect() as conn, conn.begin():
            yield conn
    finally:
        await engine.dispose()


async def _stream(conn: AsyncConnection, statement: Select[Any]) -> AsyncIterator[Row[Any]]:
    result = await conn.stream(statement.execution_options(yield_per=CHUNK))
    async for partition in result.partitions():
        for row in partition:
            yield row


async def _items(
    conn: AsyncConnection, name: str, group_id: int | None
) -> AsyncIterator[dict[str, Any]]:
    t = table(name)
    statement = select(t).order_by(t.c.id)
    if group_id is not None and name == "meeting_responses":  # the group of its meeting
        meetings = table("meetings")
        of_group = select(meetings.c.id).where(meetings.c.group_id == group_id)
        statement = statement.where(t.c.meeting_id.in_(of_group))
    elif group_id is not None:
        statement = statement.where(t.c["id" if name == "groups" else "group_id"] == group_id)
    async for row in _stream(conn, statement):
        yield _EXPORT[name](row)


async def groups_matching(db: Database, ref: str) -> list[tuple[int, str]]:
    """The groups `ref` names, as (id, name): its id, its chat id, or its name (any case)."""
    groups = table("groups")
    wanted = [groups.c.chat_id == ref, func.lower(groups.c.name) == ref.strip().lower()]
    if ref.strip().isdigit():
        wanted.append(groups.c.id == int(ref))
    statement = select(groups.c.id, groups.c.name).where(or_(*wanted)).order_by(groups.c.id)
    async with db.engine.connect() as conn:
        return [(int(i), str(n)) for i, n in (await conn.execute(statement)).all()]


def _header() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "exported_at": iso(utcnow())}


async def export_document(db: Database, group_id: int | None = None) -> dict[str, Any]:
    """The JSON export (format version 1) as one object; only `group_id`'s rows if given."""
    document = _header()
    async with _snapshot(db) as conn:
        for name in ALL_LISTS:
            document[name] = [item async for item in _items(conn, name, group_id)]
    return document


async def write_json(db: Database, out: TextIO, group_id: int | None = None) -> None:
    """Write the JSON export, streamed: one list item per line (ASCII-escaped)."""
    async with _snapshot(db) as conn:
        out.write("{\n")
        for key, value in _header().items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        for index, name in enumerate(ALL_LISTS):
            out.write(f'  "{name}": [')
            separator = "\n    "
            async for item in _items(conn, name, group_id):
                out.write(separator + json.dumps(item))
                separator = ",\n    "
            out.write("]" if separator == "\n    " else "\n  ]")
            out.write(",\n" if index < len(ALL_LISTS) - 1 else "\n}\n")


def _csv_query(group_id: int | None) -> Select[Any]:
    groups, members = table("groups"), table("members")
    parts = []
    for rank, (kind, name, from_id, to_id, detail, extra, number) in enumerate((
        ("referral", "referrals", "giver_id", "receiver_id", "prospect", None, "number"),
        ("thanks", "thanks", "from_id", "to_id", "note", None, "id"),
        ("one_to_one", "one_to_ones", "member_a_id", "member_b_id", "note", None, "id"),
        ("visitor", "visitors", "host_id", None, "name", "business", "id"),
        ("ceu", "ceus", "member_id", None, "note", None, "id"),
    )):  # fmt: skip
        t = table(name)
        giver, receiver = members.alias(), members.alias()
        joined = t.join(groups, groups.c.id == t.c.group_id).join(giver, giver.c.id == t.c[from_id])
        if to_id:
            joined = joined.join(receiver, receiver.c.id == t.c[to_id])
        optional = {c: t.c[c] if c in t.c else null() for c in ("status", "temperature", "inside")}
        optional["currency"] = t.c.currency if kind == "thanks" else null()
        part = select(
            literal(kind).label("kind"), literal(rank).label("rank"), t.c.id,
            groups.c.name.label("group_name"), t.c.created_at, giver.c.name.label("from_name"),
            (receiver.c.name if to_id else null()).label("to_name"),
            # typed in the first SELECT too, so the union reads the amount as money
            (t.c.amount if kind == "thanks" else type_coerce(null(), Money())).label("amount"),
            *(value.label(key) for key, value in optional.items()), t.c[detail].label("detail"),
            (t.c[extra] if extra else null()).label("extra"), t.c.voided,
            t.c[number].label("number"),
        ).select_from(joined)  # fmt: skip
        parts.append(part if group_id is None else part.where(t.c.group_id == group_id))
    entries = union_all(*parts).subquery()
    return select(entries).order_by(entries.c.created_at, entries.c.rank, entries.c.id)


def _cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _csv_row(r: Any) -> list[str]:
    detail = r.detail or ""
    if r.extra:  # a visitor's business
        detail = f"{detail} ({r.extra})"
    inside = _flag(r.inside) if r.kind == "referral" else None
    cells = [r.kind, str(r.id), r.group_name, iso(r.created_at), r.from_name, r.to_name,
             _amount(r.amount, r.currency), r.currency, r.status, r.temperature, detail,
             _flag(r.voided), str(r.number), inside]  # fmt: skip
    return [_cell(cell or "") for cell in cells]


async def write_csv(db: Database, out: TextIO, group_id: int | None = None) -> None:
    """Write the CSV export: a byte order mark, then one row per entry of every kind,
    oldest first (RFC 4180: CRLF, quoted where needed; `out` should not translate them)."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    async with _snapshot(db) as conn:
        async for row in _stream(conn, _csv_query(group_id)):
            writer.writerow(_csv_row(row))
