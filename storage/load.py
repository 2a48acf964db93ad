"""The ledger in: load a JSON export (format version 1) into an empty database.

The ids are kept as given, so an export after the import gives the same
document. Rows go in with Core `insert(table)` executemany, 5,000 at a time,
all in one transaction: a refusal half-way leaves the database empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import group_settings
from storage.clock import utcnow
from storage.database import Database
from storage.directory import classification_key
from storage.export import (
    ALL_LISTS,
    CHUNK,
    EXTRA_LISTS,
    FORMAT,
    LISTS,
    OPTIONAL_LISTS,
    VERSION,
    iso,
    table,
)

SQLITE_CACHE_KIB = -262_144  # PRAGMA cache_size during an import: up to 256 MiB


class ImportRefused(Exception):
    """The document cannot be imported; str() says why, for the operator."""


def _check(value: Any, *kinds: type) -> Any:
    if not isinstance(value, kinds):
        raise ValueError(f"{value!r} is not {' or '.join(k.__name__ for k in kinds)}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not an id or a number")
    return int(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    return str(_check(value, str))


def _opt(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    return bool(_check(value, bool))


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_str(value))
    except ValueError:
        raise ValueError(f"the time {value!r} is not ISO 8601") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(_str(value))
    except ArithmeticError:  # decimal.InvalidOperation, whose text names no value
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"the amount {value!r} is not a decimal number")
    return amount


def _group(x: dict[str, Any]) -> dict[str, Any]:
    settings = _check(x.get("settings") or {}, dict)
    return {
        "id": _int(x["id"]), "name": _str(x["name"]), "platform": _str(x["platform"]),
        "chat_id": _str(x["chat_id"]), "workspace_id": _opt(x["workspace_id"]) or "",
        "timezone": _str(x["timezone"]), "currency": _str(x["currency"]),
        "created_at": _time(x.get("created_at") or iso(utcnow())),
        **group_settings.imported(settings),
        "goals": _goals(_check(settings.get("goals") or [], list)),
    }  # fmt: skip


def _goals(goals: list[Any]) -> str:
    """The export's goals (`storage.export.goals_list`) as the group row keeps them."""
    parts = []
    for goal in goals:
        goal = _check(goal, dict)
        kind, period = _str(goal["kind"]), _str(goal["period"])
        target = _money(goal["target"])
        if not kind.isalpha() or not period.isalpha() or target is None or target <= 0:
            raise ValueError(f"the goal {goal!r} is not a kind, a target above 0 and a period")
        parts.append(f"{kind}:{target}:{period}")
    return ",".join(parts)


def _member(x: dict[str, Any]) -> dict[str, Any]:
    classification = _opt(x["classification"])
    left_at = None if x.get("left_at") is None else _time(x["left_at"])
    # One who left has freed their classification: it is kept as text, without its key.
    key = classification_key(classification) if classification and left_at is None else None
    return {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]),
        "platform_user_id": _str(x["platform_user_id"]), "name": _str(x["name"]),
        "business": _opt(x["business"]), "classification": classification,
        "classification_key": key,
        "role": _str(x["role"]), "joined_at": _time(x["joined_at"]),
        "username": _opt(x.get("username")), "ask": _opt(x.get("ask")), "left_at": left_at,
        "nudges_muted_at": _time_or_none(x.get("nudges_muted_at")),
        "nudged_at": _time_or_none(x.get("nudged_at")),
    }  # fmt: skip


def _time_or_none(value: Any) -> datetime | None:
    return None if value is None else _time(value)


_ROWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "groups": _group,
    "members": _member,
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
    "ceus": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]), "member_id": _int(x["member_id"]),
        "note": _opt(x["note"]), "created_at": _time(x["created_at"]),
        "voided": _bool(x["voided"]),
    },
    "meetings": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]),
        "starts_at": _time(x["starts_at"]), "place": _opt(x["place"]),
    },
    "meeting_responses": lambda x: {
        "id": _int(x["id"]), "meeting_id": _int(x["meeting_id"]),
        "member_id": _int(x["member_id"]), "rsvp": _opt(x["rsvp"]),
        "attendance": _opt(x["attendance"]), "updated_at": _time(x["updated_at"]),
    },
    "audit_log": lambda x: {
        "id": _int(x["id"]), "group_id": _int(x["group_id"]),
        "actor_id": _opt_int(x["actor_id"]), "action": _str(x["action"]),
        "entity_kind": _str(x["entity_kind"]), "entity_id": _opt_int(x["entity_id"]),
        "reason": _opt(x["reason"]), "created_at": _time(x["created_at"]),
    },
}  # fmt: skip


def _row(name: str, index: int, item: Any) -> dict[str, Any]:
    where = f'"{name}" item {index}'
    try:
        return _ROWS[name](_check(item, dict))
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
    for name in (
        EXTRA_LISTS + OPTIONAL_LISTS
    ):  # not in every version 1 document: an empty list when absent
        if not isinstance(document.get(name, []), list):
            raise ImportRefused(f'The document\'s "{name}" is not a list.')
    return {name: document.get(name, []) for name in ALL_LISTS}


async def import_document(db: Database, document: dict[str, Any]) -> dict[str, int]:
    """Load a JSON export into an empty database, ids as given; the rows per list."""
    lists = _lists(document)
    async with db.transaction() as session:
        conn = await session.connection()
        for name in ALL_LISTS:
            if (await conn.execute(select(table(name).c.id).limit(1))).first() is not None:
                raise ImportRefused(f"The database already holds {name}: import only into an "
                                    "empty database (a new DATABASE_URL).")  # fmt: skip
        cache = None
        if db.is_sqlite:  # room for the indexes while they grow (the default is 2 MiB)
            cache = int((await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one())
            await conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
        try:
            for name, items in lists.items():
                for start in range(0, len(items), CHUNK):
                    rows = [_row(name, start + i, item)
                            for i, item in enumerate(items[start : start + CHUNK])]  # fmt: skip
                    await conn.execute(insert(table(name)), rows)
            await _continue_after(conn, db.is_sqlite)
        except DBAPIError as error:
            raise ImportRefused(f"The database refused the document: {error.orig}") from error
        finally:
            if cache is not None:
                await conn.exec_driver_sql(f"PRAGMA cache_size = {cache}")
    return {name: len(items) for name, items in lists.items()}


async def _continue_after(conn: AsyncConnection, is_sqlite: bool) -> None:
    """Referral numbers and ids continue after the imported ones."""
    groups, referrals = table("groups"), table("referrals")
    highest = (
        select(func.coalesce(func.max(referrals.c.number), 0) + 1)
        .where(referrals.c.group_id == groups.c.id)
        .scalar_subquery()
    )
    await conn.execute(update(groups).values(next_referral_number=highest))
    if is_sqlite:  # a rowid table continues after its highest id by itself
        return
    for name in ALL_LISTS:
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
        ))  # fmt: skip
