"""Export (JSON format version 1 and CSV) and import, over a ledger built through the core."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.messages import Incoming, Sender
from bot.service import Core, GroupDefaults
from storage import export
from storage.database import Database
from storage.migrate import upgrade
from storage.transfer import (
    CSV_COLUMNS,
    ImportRefused,
    export_document,
    import_document,
    write_csv,
    write_json,
)
from tests.conftest import POSTGRES_URL, Chat, Clock

# The core still calls sqlmodel's deprecated `AsyncSession.execute` (storage/directory.py,
# entries.py, reports.py); drop this once it no longer does. Nothing else is ignored.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:(?s).*use .session\.exec\(\). instead:DeprecationWarning"
)
LISTS = ("groups", "members", "referrals", "thanks", "one_to_ones", "visitors")
EXTRA_LISTS = ("meetings", "meeting_responses", "audit_log")
OPTIONAL_LISTS = ("ceus",)  # documented; a document without it has none
ALL_LISTS = LISTS + EXTRA_LISTS + OPTIONAL_LISTS
DOCUMENTED = {
    "groups": {"id", "name", "platform", "chat_id", "workspace_id", "timezone", "currency"},
    "members": {"id", "group_id", "platform_user_id", "name", "business", "classification",
                "role", "joined_at"},
    "referrals": {"id", "group_id", "number", "giver_id", "receiver_id", "prospect",
                  "temperature", "inside", "status", "created_at", "voided"},
    "thanks": {"id", "group_id", "from_id", "to_id", "amount", "currency", "note",
               "referral_id", "created_at", "voided"},
    "one_to_ones": {"id", "group_id", "member_ids", "note", "created_at", "voided"},
    "visitors": {"id", "group_id", "host_id", "name", "business", "created_at", "voided"},
}  # fmt: skip
ADDED = {"groups": {"created_at", "settings"},
         "members": {"username", "ask", "left_at", "nudges_muted_at", "nudged_at"},
         "referrals": {"updated_at"}}  # fmt: skip
ZOE = 'Zoë "Z", O\'Neil\nJr'  # a comma, quotes, a newline and a non-ASCII letter


def _zoe(chat: Chat, command: str) -> Incoming:
    base = chat.incoming("zoe", command)
    return Incoming(base.chat, Sender("zoe", ZOE, username="zoe"), command, base.delivery_id)


async def _say(chat: Chat, clock: Clock, who: str, command: str) -> str:
    clock.advance(minutes=7)
    if who == "zoe":
        replies = await chat.core.handle(_zoe(chat, command))
    else:
        replies = await chat.say(who, command)
    answer = "\n".join(r.text for r in replies)
    assert not any(w in answer for w in ("right form", "There is no", "can't", "Only")), answer
    return answer


async def build_ledger(chat: Chat, clock: Clock) -> None:
    """Every kind of entry, a voided one of each, and awkward text, through the core."""
    second = Chat(chat.core, chat_id="second chapter")
    for who, command in [
        ("alice", "/join Plumber"), ("bob", "/join Electrician"), ("zoe", "/join Roofer"),
        ("alice", "/profile business Doe Plumbing, Inc."),
        ("alice", "/refer @bob Jane Roe, 555-0100, new roof hot"),
        ("bob", "/refer @alice myself, a new kitchen warm inside"),
        ("alice", "/refer @zoe @acme corp, needs wiring cold"),
        ("zoe", "/refer @alice Tom \"T\" Smith, 555-0199, leaky tap"),
        ("bob", "/status 1 won $2,500.50"),
        ("alice", '/thanks @bob 100 =HYPERLINK("http://evil.example","click")'),
        ("bob", "/thanks @zoe great intro, thank you"),
        ("zoe", "/thanks @alice 75.25"),
        ("alice", "/onetoone @bob +1 555 0100 coffee"),
        ("bob", "/onetoone @zoe -lunch"),
        ("zoe", "/onetoone @alice"),
        ("alice", "/visitor Jane Roe, Roe Catering"),
        ("bob", "/visitor Sam"),
        ("zoe", "/visitor Ana Lima, =cmd|' /C calc'!A0"),
        ("alice", "/ceu Givers Gain, chapter 3"),
        ("zoe", "/ceu =1+1 webinar"),
        ("alice", "/meeting set Tuesday 07:00 Cafe Central"),
        ("bob", "/meeting rsvp yes"),
        ("zoe", "/meeting rsvp substitute"),
    ]:  # fmt: skip
        await _say(chat, clock, who, command)
    for command in ["/undo referral 4 duplicate", "/undo thanks 3 entered twice",
                    "/undo onetoone 3 wrong person", "/undo visitor 3 never came",
                    "/undo ceu 2 not a training"]:  # fmt: skip
        assert "Withdrawn" in await _say(chat, clock, "alice", command)
    clock.advance(days=7)  # the meeting has taken place
    await _say(chat, clock, "alice", "/meeting attendance @bob present")
    clock.advance(microseconds=250_000)  # the second chapter's times have a fraction
    for who, command in [("dave", "/join Baker"), ("erin", "/join Florist"),
                         ("dave", "/refer @erin Wedding cake, 555-0111 hot"),
                         ("erin", "/thanks @dave 40"), ("dave", "/visitor Kim")]:  # fmt: skip
        clock.advance(minutes=7)
        await second.say(who, command)
    for goal in ("referrals 40 month", "business 250,000.50 year"):  # settings, no entries
        assert "Goal set" in await _say(chat, clock, "alice", f"/settings goal {goal}")


@pytest.fixture
async def ledger(chat: Chat, clock: Clock) -> Chat:
    await build_ledger(chat, clock)
    return chat


@pytest.fixture
async def empty(db: Database, tmp_path: Path) -> AsyncIterator[Database]:
    """A second, empty database of the same kind as `db`."""
    if db.is_sqlite:
        other = Database(f"sqlite:///{tmp_path / 'imported.db'}")
        await upgrade(other)
        yield other
        await other.dispose()
        return
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_import_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    other = Database(url.set(database=name).render_as_string(hide_password=False))
    try:
        await upgrade(other)
        yield other
    finally:
        await other.dispose()
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "exported_at"}


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and bool(datetime.fromisoformat(value))


async def test_json_has_the_documented_keys_and_types(db: Database, ledger: Chat) -> None:
    document = await export_document(db)
    assert list(document) == ["format", "version", "exported_at", *ALL_LISTS]
    assert (document["format"], document["version"]) == ("referral-bot", 1)
    assert _is_time(document["exported_at"])
    assert [len(document[name]) for name in LISTS] == [2, 5, 5, 5, 3, 4]
    for name in LISTS:
        for item in document[name]:
            assert set(item) == DOCUMENTED[name] | ADDED.get(name, set()), name
            assert isinstance(item["id"], str) and item["id"].isdigit()
            if name != "groups":
                assert isinstance(item["group_id"], str)
                assert isinstance(item.get("voided", False), bool)
            for key in ("created_at", "joined_at", "updated_at"):
                assert key not in item or _is_time(item[key]), (name, key, item.get(key))
    groups, members = document["groups"], document["members"]
    assert groups[0] == groups[0] | {
        "id": "1", "name": "chapter", "platform": "console", "chat_id": "chapter",
        "workspace_id": None, "timezone": "UTC", "currency": "USD",
    }  # fmt: skip
    zoe = next(m for m in members if m["platform_user_id"] == "zoe")
    assert zoe | {"id": "3", "group_id": "1", "name": ZOE, "classification": "Roofer",
                  "role": "member", "joined_at": "2026-11-25T12:21:00Z"} == zoe  # fmt: skip
    assert members[0]["role"] == "leader" and members[0]["business"] == "Doe Plumbing, Inc."
    referrals = document["referrals"]
    assert [(r["number"], r["temperature"], r["inside"], r["status"], r["voided"])
            for r in referrals[:4]] == [(1, "hot", False, "won", False),
                                        (2, "warm", True, "open", False),
                                        (3, "cold", False, "open", False),
                                        (4, None, False, "open", True)]  # fmt: skip
    assert referrals[2]["prospect"].startswith("@acme corp")
    assert all(isinstance(r["number"], int) for r in referrals)
    thanks = document["thanks"]
    assert [(t["amount"], t["currency"], t["referral_id"], t["voided"]) for t in thanks] == [
        ("2500.50", "USD", "1", False), ("100.00", "USD", None, False),
        (None, "USD", None, True), ("75.25", "USD", None, False), ("40.00", "USD", None, False),
    ]  # fmt: skip
    assert thanks[1]["note"].startswith("=HYPERLINK(")
    assert [(o["member_ids"], o["note"], o["voided"]) for o in document["one_to_ones"]] == [
        (["1", "2"], "+1 555 0100 coffee", False), (["2", "3"], "-lunch", False),
        (["3", "1"], None, True),
    ]  # fmt: skip
    assert [(v["host_id"], v["name"], v["business"], v["voided"])
            for v in document["visitors"]] == [
        ("1", "Jane Roe", "Roe Catering", False), ("2", "Sam", None, False),
        ("3", "Ana Lima", "=cmd|' /C calc'!A0", True), ("4", "Kim", None, False),
    ]  # fmt: skip
    assert document["visitors"][3]["created_at"] == "2026-12-02T15:58:00.250000Z"
    ceus = document["ceus"]
    assert all(set(c) == {"id", "group_id", "member_id", "note", "created_at", "voided"}
               for c in ceus)  # fmt: skip
    assert [(c["id"], c["member_id"], c["note"], c["voided"]) for c in ceus] == [
        ("1", "1", "Givers Gain, chapter 3", False),
        ("2", "3", "=1+1 webinar", True),
    ]
    assert all(_is_time(c["created_at"]) for c in ceus)
    # Added lists: the meeting, its answers and attendance, and the audit trail.
    (meeting,) = document["meetings"]
    assert (meeting["group_id"], meeting["place"]) == ("1", "Cafe Central")
    assert _is_time(meeting["starts_at"])
    assert [(r["member_id"], r["rsvp"], r["attendance"])
            for r in document["meeting_responses"]] == [
        ("2", "yes", "present"), ("3", "substitute", None)]  # fmt: skip
    audit = document["audit_log"]
    assert {(a["actor_id"], a["action"], a["entity_kind"]) for a in audit} >= {
        ("1", "voided", "referral"),
        ("1", "voided", "thanks"),
        ("1", "attendance", "member"),
    }
    voided = next(a for a in audit if a["action"] == "voided")
    assert (voided["entity_kind"], voided["entity_id"], voided["reason"]) == (
        "referral",
        "4",
        "duplicate",
    )


async def test_write_json_is_the_document(db: Database, ledger: Chat) -> None:
    out = io.StringIO()
    await write_json(db, out)
    assert out.getvalue().isascii()
    written = json.loads(out.getvalue())
    assert _without_time(written) == _without_time(await export_document(db))
    empty_out = io.StringIO()
    await write_json(db, empty_out, group_id=99)
    assert all(json.loads(empty_out.getvalue())[name] == [] for name in LISTS)


async def test_round_trip_and_the_core_goes_on(db: Database, ledger: Chat, empty: Database) -> None:
    first = await export_document(db)
    assert all(first[name] for name in ALL_LISTS)  # every kind of row is in the data set
    counts = await import_document(empty, first)
    assert counts == {name: len(first[name]) for name in ALL_LISTS}
    again = await export_document(empty)
    assert _without_time(again) == _without_time(first)
    assert first["groups"][0]["settings"]["goals"] == [
        {"kind": "referrals", "target": "40", "period": "month"},
        {"kind": "business", "target": "250000.50", "period": "year"},
    ]

    clock = Clock(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    chat = Chat(Core(empty, GroupDefaults(), clock=clock))
    answer = "\n".join(r.text for r in await chat.say("alice", "/refer @bob Max, 555-0123 hot"))
    assert "Referral #5 to Bob recorded" in answer
    await _say(chat, clock, "bob", "/thanks @alice 10 thanks")
    await _say(chat, clock, "alice", "/onetoone @zoe walk")
    await _say(chat, clock, "zoe", "/visitor Lee")
    after = await export_document(empty)
    for name, new_id in [("referrals", "6"), ("thanks", "6"), ("one_to_ones", "4"),
                         ("visitors", "5")]:  # fmt: skip
        assert after[name][-1]["id"] == new_id, name
    assert after["referrals"][-1]["number"] == 5
    assert after["groups"] == first["groups"] and after["members"] == first["members"]


async def test_import_into_a_non_empty_database_is_refused(db: Database, ledger: Chat) -> None:
    before = await export_document(db)
    with pytest.raises(ImportRefused, match="empty database"):
        await import_document(db, before)
    assert _without_time(await export_document(db)) == _without_time(before)


async def test_bad_documents_are_refused_and_nothing_stays(
    db: Database, ledger: Chat, empty: Database
) -> None:
    document = await export_document(db)
    with pytest.raises(ImportRefused, match="version 2"):
        await import_document(empty, {**document, "version": 2})
    with pytest.raises(ImportRefused, match="not a referral-bot export"):
        await import_document(empty, {**document, "format": "other"})
    with pytest.raises(ImportRefused, match='no "visitors" list'):
        await import_document(empty, {k: v for k, v in document.items() if k != "visitors"})
    broken = [dict(r) for r in document["referrals"]]
    del broken[2]["prospect"]
    with pytest.raises(ImportRefused, match=r'"referrals" item 2 has no key .prospect.'):
        await import_document(empty, {**document, "referrals": broken})
    dangling = [*document["visitors"], {**document["visitors"][0], "id": "50", "host_id": "77"}]
    with pytest.raises(ImportRefused, match="refused"):
        await import_document(empty, {**document, "visitors": dangling})
    bad_flag = [{**document["thanks"][0], "voided": "no"}]
    with pytest.raises(ImportRefused, match="is not bool"):
        await import_document(empty, {**document, "thanks": bad_flag})
    bad_amount = [{**document["thanks"][0], "amount": "abc"}]
    with pytest.raises(ImportRefused) as refused:
        await import_document(empty, {**document, "thanks": bad_amount})
    assert str(refused.value) == (
        "\"thanks\" item 0 is not valid: the amount 'abc' is not a decimal number."
    )
    bad_time = [{**document["thanks"][0], "created_at": "yesterday"}]
    with pytest.raises(ImportRefused, match="the time 'yesterday' is not ISO 8601"):
        await import_document(empty, {**document, "thanks": bad_time})
    # each refusal left the database empty: the real import still works
    assert (await import_document(empty, document))["referrals"] == 5


async def test_csv(db: Database, ledger: Chat) -> None:
    out = io.StringIO()
    await write_csv(db, out)
    raw = out.getvalue()
    assert CSV_COLUMNS == ("kind", "id", "group", "created_at", "from", "to", "amount",
                           "currency", "status", "temperature", "detail", "voided",  # interface
                           "number", "inside")  # fmt: skip
    assert raw.startswith("\ufeff" + ",".join(CSV_COLUMNS) + "\r\n")  # a BOM: UTF-8
    reader = csv.DictReader(io.StringIO(raw.removeprefix("\ufeff"), newline=""))
    rows = list(reader)
    assert reader.fieldnames == list(CSV_COLUMNS)
    assert len(rows) == 5 + 5 + 3 + 4 + 2
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    assert {r["kind"] for r in rows} == {"referral", "thanks", "one_to_one", "visitor", "ceu"}
    by = {(r["kind"], r["id"]): r for r in rows}
    fields = ("group", "from", "to", "amount", "currency", "status", "temperature", "detail",
              "voided")  # fmt: skip
    expected = {
        ("referral", "3"): ("chapter", "Alice", ZOE, "", "", "open", "cold",
                            "'@acme corp, needs wiring", "false"),
        ("referral", "4"): ("chapter", ZOE, "Alice", "", "", "open", "",
                            'Tom "T" Smith, 555-0199, leaky tap', "true"),
        ("thanks", "1"): ("chapter", "Bob", "Alice", "2500.50", "USD", "", "",
                          "referral #1", "false"),
        ("thanks", "2"): ("chapter", "Alice", "Bob", "100.00", "USD", "", "",
                          '\'=HYPERLINK("http://evil.example","click")', "false"),
        ("thanks", "3"): ("chapter", "Bob", ZOE, "", "USD", "", "",
                          "great intro, thank you", "true"),
        ("thanks", "4"): ("chapter", ZOE, "Alice", "75.25", "USD", "", "", "", "false"),
        ("one_to_one", "1"): ("chapter", "Alice", "Bob", "", "", "", "",
                              "'+1 555 0100 coffee", "false"),
        ("one_to_one", "2"): ("chapter", "Bob", ZOE, "", "", "", "", "'-lunch", "false"),
        ("visitor", "1"): ("chapter", "Alice", "", "", "", "", "",
                           "Jane Roe (Roe Catering)", "false"),
        ("visitor", "2"): ("chapter", "Bob", "", "", "", "", "", "Sam", "false"),
        ("visitor", "3"): ("chapter", ZOE, "", "", "", "", "",
                           "Ana Lima (=cmd|' /C calc'!A0)", "true"),
        ("visitor", "4"): ("second chapter", "Dave", "", "", "", "", "", "Kim", "false"),
        ("ceu", "1"): ("chapter", "Alice", "", "", "", "", "", "Givers Gain, chapter 3",
                       "false"),
        ("ceu", "2"): ("chapter", ZOE, "", "", "", "", "", "'=1+1 webinar", "true"),
    }  # fmt: skip
    for key, values in expected.items():
        assert tuple(by[key][f] for f in fields) == values, key
    assert by["referral", "1"]["created_at"] == "2026-11-25T12:35:00Z"
    # The number members know an entry by: a referral's in its group (the second group's
    # first referral is referral 5 in the database), the id the answers give the others.
    assert [(r["id"], r["group"], r["number"], r["inside"])
            for r in rows if r["kind"] == "referral"] == [
        ("1", "chapter", "1", "false"), ("2", "chapter", "2", "true"),
        ("3", "chapter", "3", "false"), ("4", "chapter", "4", "false"),
        ("5", "second chapter", "1", "false"),
    ]  # fmt: skip
    assert all(r["number"] == r["id"] and r["inside"] == ""
               for r in rows if r["kind"] != "referral")  # fmt: skip


async def test_group_filter(db: Database, ledger: Chat) -> None:
    document = await export_document(db, group_id=2)
    assert [g["name"] for g in document["groups"]] == ["second chapter"]
    assert [len(document[name]) for name in LISTS] == [1, 2, 1, 1, 0, 1]
    assert all(item["group_id"] == "2" for name in LISTS[1:] for item in document[name])
    out = io.StringIO()
    await write_csv(db, out, group_id=2)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff"), newline="")))
    assert [(r["kind"], r["group"], r["from"]) for r in rows] == [
        ("referral", "second chapter", "Dave"), ("thanks", "second chapter", "Erin"),
        ("visitor", "second chapter", "Dave")]  # fmt: skip
    assert rows[1]["amount"] == "40.00"


async def test_export_reads_a_snapshot_without_blocking_writers(
    db: Database, ledger: Chat, clock: Clock
) -> None:
    count = text("SELECT count(*) FROM thanks")
    async with export._snapshot(db) as conn:
        before = (await conn.execute(count)).scalar_one()
        await asyncio.wait_for(_say(ledger, clock, "alice", "/thanks @bob 5"), timeout=10)
        assert (await conn.execute(count)).scalar_one() == before
    assert len((await export_document(db))["thanks"]) == before + 1


async def test_the_added_lists_are_optional_on_import(
    db: Database, ledger: Chat, empty: Database
) -> None:
    OPTIONAL = EXTRA_LISTS + OPTIONAL_LISTS
    # the added lists, and the documented ones a document may lack ("ceus")
    documented_only = {k: v for k, v in (await export_document(db)).items()
                       if k not in OPTIONAL}  # fmt: skip
    not_a_list = {**documented_only, "meetings": {"id": "1"}}
    with pytest.raises(ImportRefused, match='"meetings" is not a list'):
        await import_document(empty, not_a_list)

    counts = await import_document(empty, documented_only)

    assert [counts[name] for name in OPTIONAL] == [0, 0, 0, 0]
    again = await export_document(empty)
    assert all(again[name] == [] for name in OPTIONAL)
    assert _without_time(again) | {n: [] for n in OPTIONAL} == _without_time(
        documented_only | {n: [] for n in OPTIONAL}
    )


async def test_meeting_answers_follow_their_meeting_s_group(db: Database, ledger: Chat) -> None:
    first, second = await export_document(db, group_id=1), await export_document(db, group_id=2)
    assert len(first["meeting_responses"]) == 2 and first["audit_log"]
    assert [second[name] for name in EXTRA_LISTS] == [[], [], []]


async def test_settings_are_exported_typed_and_an_earlier_export_s_strings_are_read(
    db: Database, ledger: Chat, empty: Database
) -> None:
    clock = Clock(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    for command in ["/settings reminders 2d 90m", "/settings leaderboard sat 09:15",
                    "/settings milestones 2,500.50 10000"]:  # fmt: skip
        await _say(ledger, clock, "alice", command)
    document = await export_document(db)
    settings = document["groups"][0]["settings"]
    assert settings == {
        "meeting_weekday": 1, "meeting_time": "07:00", "meeting_place": "Cafe Central",
        "reminder_leads": [2880, 90], "leaderboard_on": True, "leaderboard_weekday": 5,
        "leaderboard_time": "09:15", "recognition": True, "nudges": True,
        "milestones": ["2500.50", "10000.00"],
        "goals": [{"kind": "referrals", "period": "month", "target": "40"},
                  {"kind": "business", "period": "year", "target": "250000.50"}],
    }  # fmt: skip
    # what the version before typed schedules (and goals) exported
    earlier = {"meeting_weekday": 1, "meeting_time": "07:00", "meeting_place": "Cafe Central",
               "reminder_leads": "2880,90", "leaderboard_schedule": "5 09:15",
               "recognition": True, "nudges": True, "milestones": "2500.50,10000.00"}  # fmt: skip
    document["groups"][0]["settings"] = earlier
    await import_document(empty, document)
    again = await export_document(empty)
    assert again["groups"][0]["settings"] == {**settings, "goals": []}
