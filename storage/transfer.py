"""The ledger out and in: the JSON export (format version 1), the CSV export, and import.

Exports read one consistent snapshot and stream rows in chunks (Core selects of
columns, no ORM objects). Times are ISO 8601 UTC with a ``Z``:
``2026-11-25T12:00:00Z``, with a six-digit fraction when the time has one.
Import loads a JSON export into an empty database in one transaction, in bulk.
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
    insert,
    literal,
    null,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from bot.actions.roster import classification_key
from bot.money import quantize
from storage.clock import utcnow
from storage.database import BUSY_TIMEOUT_MS, Database
from storage.money_type import Money
from storage.tables import Group

FORMAT, VERSION = "referral-bot", 1
CHUNK = 5_000
LISTS = ("groups", "members", "referrals", "thanks", "one_to_ones", "visitors")  # = table names
CSV_COLUMNS = ("kind", "id", "group", "created_at", "from", "to", "amount", "currency",
               "status", "temperature", "detail", "voided")  # fmt: skip
# Added keys (allowed by the format): a group's own settings, so an import loses nothing.
SETTINGS: dict[str, tuple[type, ...]] = {
    "meeting_weekday": (int, type(None)), "meeting_time": (str, type(None)),
    "meeting_place": (str, type(None)), "reminder_leads": (str,),
    "leaderboard_schedule": (str,), "recognition": (bool,), "nudges": (bool,), "milestones": (str,),
}  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportRefused(Exception):
    """The document cannot be imported; str() says why, for the operator."""


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def iso(value: datetime) -> str:
    """``2026-11-25T12:00:00Z`` (``...:00.250000Z`` when there is a fraction)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _amount(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else format(quantize(value, currency), "f")


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


# -- export ---------------------------------------------------------------------------------

_EXPORT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "groups": lambda r: {
        "id": str(r.id), "name": r.name, "platform": r.platform, "chat_id": r.chat_id,
        "workspace_id": r.workspace_id or None, "timezone": r.timezone, "currency": r.currency,
        "created_at": iso(r.created_at), "settings": {k: getattr(r, k) for k in SETTINGS},
    },
    "members": lambda r: {
        "id": str(r.id), "group_id": str(r.group_id), "platform_user_id": r.platform_user_id,
        "name": r.name, "business": r.business, "classification": r.classification,
        "role": r.role, "joined_at": iso(r.joined_at), "username": r.username, "ask": r.ask,
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
        "note": r.note, "referral_id": _id(r.referral_id), "created_at": iso(r.created_at),
        "voided": bool(r.voided),
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
}  # fmt: skip


@contextlib.asynccontextmanager
async def _snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction over one snapshot that does not hold up writers."""
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
    # reads a WAL snapshot while the bot keeps writing.
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
    table = _table(name)
    statement = select(table).order_by(table.c.id)
    if group_id is not None:
        statement = statement.where(table.c["id" if name == "groups" else "group_id"] == group_id)
    async for row in _stream(conn, statement):
        yield _EXPORT[name](row)


def _header() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "exported_at": iso(utcnow())}


async def export_document(db: Database, group_id: int | None = None) -> dict[str, Any]:
    """The JSON export (format version 1) as one object; only `group_id`'s rows if given."""
    document = _header()
    async with _snapshot(db) as conn:
        for name in LISTS:
            document[name] = [item async for item in _items(conn, name, group_id)]
    return document


async def write_json(db: Database, out: TextIO, group_id: int | None = None) -> None:
    """Write the JSON export, streamed: one list item per line (ASCII, any terminal)."""
    async with _snapshot(db) as conn:
        out.write("{\n")
        for key, value in _header().items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
        for index, name in enumerate(LISTS):
            out.write(f'  "{name}": [')
            separator = "\n    "
            async for item in _items(conn, name, group_id):
                out.write(separator + json.dumps(item))
                separator = ",\n    "
            out.write("]" if separator == "\n    " else "\n  ]")
            out.write(",\n" if index < len(LISTS) - 1 else "\n}\n")


def _csv_query(group_id: int | None) -> Select[Any]:
    groups, members = _table("groups"), _table("members")
    parts = []
    for rank, (kind, name, from_id, to_id, detail, extra) in enumerate((
        ("referral", "referrals", "giver_id", "receiver_id", "prospect", None),
        ("thanks", "thanks", "from_id", "to_id", "note", None),
        ("one_to_one", "one_to_ones", "member_a_id", "member_b_id", "note", None),
        ("visitor", "visitors", "host_id", None, "name", "business"),
    )):  # fmt: skip
        t = _table(name)
        giver, receiver = members.alias(), members.alias()
        joined = t.join(groups, groups.c.id == t.c.group_id).join(giver, giver.c.id == t.c[from_id])
        if to_id:
            joined = joined.join(receiver, receiver.c.id == t.c[to_id])
        opt = {c: t.c[c] if c in t.c else null() for c in ("status", "temperature", "currency")}
        part = select(
            literal(kind).label("kind"), literal(rank).label("rank"), t.c.id,
            groups.c.name.label("group_name"), t.c.created_at, giver.c.name.label("from_name"),
            (receiver.c.name if to_id else null()).label("to_name"),
            (t.c.amount if kind == "thanks" else type_coerce(null(), Money())).label("amount"),
            *(value.label(key) for key, value in opt.items()), t.c[detail].label("detail"),
            (t.c[extra] if extra else null()).label("extra"), t.c.voided,
        ).select_from(joined)  # fmt: skip
        parts.append(part if group_id is None else part.where(t.c.group_id == group_id))
    entries = union_all(*parts).subquery()
    return select(entries).order_by(entries.c.created_at, entries.c.rank, entries.c.id)


def _cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_row(r: Any) -> list[str]:
    detail = r.detail or ""
    if r.extra:  # a visitor's business
        detail = f"{detail} ({r.extra})"
    amount = _amount(r.amount, r.currency) if r.amount is not None else ""
    cells = [r.kind, str(r.id), r.group_name, iso(r.created_at), r.from_name, r.to_name or "",
             amount, r.currency or "", r.status or "", r.temperature or "", detail,
             "true" if r.voided else "false"]  # fmt: skip
    return [_cell(cell or "") for cell in cells]


async def write_csv(db: Database, out: TextIO, group_id: int | None = None) -> None:
    """Write the CSV export: one row per entry of every kind, oldest first."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    async with _snapshot(db) as conn:
        async for row in _stream(conn, _csv_query(group_id)):
            writer.writerow(_csv_row(row))


# -- import ---------------------------------------------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not an id or number")
    return int(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _check(value: Any, *kinds: type) -> Any:
    if not isinstance(value, kinds):
        raise ValueError(f"{value!r} is not {' or '.join(k.__name__ for k in kinds)}")
    return value


def _str(value: Any) -> str:
    return str(_check(value, str))


def _opt(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    return bool(_check(value, bool))


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(_str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _money(value: Any) -> Decimal | None:
    amount = None if value is None else Decimal(_str(value))
    if amount is not None and not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount


def _in_group(x: dict[str, Any]) -> dict[str, Any]:
    settings = _check(x.get("settings") or {}, dict)
    return {
        "id": _int(x["id"]), "name": _str(x["name"]), "platform": _str(x["platform"]),
        "chat_id": _str(x["chat_id"]), "workspace_id": _opt(x["workspace_id"]) or "",
        "timezone": _str(x["timezone"]), "currency": _str(x["currency"]),
        "created_at": _time(x.get("created_at") or iso(utcnow())),
        **{key: _check(settings[key], *kinds) if key in settings
           else Group.model_fields[key].get_default() for key, kinds in SETTINGS.items()},
    }  # fmt: skip


_IMPORT: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "groups": _in_group,
    "members": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]),
        "platform_user_id": _str(x["platform_user_id"]), "name": _str(x["name"]),
        "business": _opt(x["business"]), "classification": _opt(x["classification"]),
        "classification_key": classification_key(x["classification"])
        if x["classification"] is not None else None,
        "role": _str(x["role"]), "joined_at": _time(x["joined_at"]),
        "username": _opt(x.get("username")), "ask": _opt(x.get("ask")),
    },
    "referrals": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]), "number": _int(x["number"]),
        "giver_id": _int(x["giver_id"]), "receiver_id": _int(x["receiver_id"]),
        "prospect": _str(x["prospect"]), "temperature": _opt(x["temperature"]),
        "inside": _bool(x["inside"]), "status": _str(x["status"]),
        "created_at": _time(x["created_at"]), "voided": _bool(x["voided"]),
        "updated_at": _time(x.get("updated_at") or x["created_at"]),
    },
    "thanks": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]), "from_id": _int(x["from_id"]),
        "to_id": _int(x["to_id"]), "amount": _money(x["amount"]),
        "currency": _str(x["currency"]), "note": _opt(x["note"]),
        "referral_id": _opt_int(x["referral_id"]), "created_at": _time(x["created_at"]),
        "voided": _bool(x["voided"]),
    },
    "one_to_ones": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]),
        "member_a_id": _int(_check(x["member_ids"], list)[0]),
        "member_b_id": _int(x["member_ids"][1]), "note": _opt(x["note"]),
        "created_at": _time(x["created_at"]), "voided": _bool(x["voided"]),
    },
    "visitors": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]), "host_id": _int(x["host_id"]),
        "name": _str(x["name"]), "business": _opt(x["business"]),
        "created_at": _time(x["created_at"]), "voided": _bool(x["voided"]),
    },
}  # fmt: skip


def _convert(name: str, index: int, item: Any) -> dict[str, Any]:
    where = f'"{name}" item {index}'
    try:
        return _IMPORT[name](_check(item, dict))
    except KeyError as error:
        raise ImportRefused(f"{where} has no key {error}.") from error
    except (ValueError, TypeError, IndexError, ArithmeticError) as error:
        raise ImportRefused(f"{where} is not valid: {error}.") from error


def _lists(document: Any) -> dict[str, list[Any]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused(f'This is not a referral-bot export (its "format" is not "{FORMAT}").')
    if document.get("version") != VERSION:
        raise ImportRefused(f"This export has format version {document.get('version')!r}; "
                            f"this referral-bot reads version {VERSION} only.")  # fmt: skip
    for name in LISTS:
        if not isinstance(document.get(name), list):
            raise ImportRefused(f'The document has no "{name}" list.')
    return {name: document[name] for name in LISTS}


async def import_document(db: Database, document: dict[str, Any]) -> dict[str, int]:
    """Load a JSON export into an empty database, ids as given; the rows per list."""
    lists = _lists(document)
    async with db.transaction() as session:
        conn = await session.connection()
        for name in LISTS:
            if (await conn.execute(select(_table(name).c.id).limit(1))).first() is not None:
                raise ImportRefused(f"The database already holds {name}: import only into an "
                                    "empty database (a new DATABASE_URL).")  # fmt: skip
        try:
            for name, items in lists.items():
                for start in range(0, len(items), CHUNK):
                    rows = [_convert(name, start + i, item)
                            for i, item in enumerate(items[start : start + CHUNK])]  # fmt: skip
                    await conn.execute(insert(_table(name)), rows)
        except DBAPIError as error:
            raise ImportRefused(f"The database refused the document: {error.orig}") from error
        await _after_import(conn, db.is_sqlite)
    return {name: len(items) for name, items in lists.items()}


async def _after_import(conn: AsyncConnection, is_sqlite: bool) -> None:
    """Referral numbers and ids continue after the imported ones."""
    groups, referrals = _table("groups"), _table("referrals")
    highest = (
        select(func.coalesce(func.max(referrals.c.number), 0) + 1)
        .where(referrals.c.group_id == groups.c.id)
        .scalar_subquery()
    )
    await conn.execute(update(groups).values(next_referral_number=highest))
    if is_sqlite:  # a rowid table continues after its highest id by itself
        return
    for name in LISTS:
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
        ))  # fmt: skip
