"""The command grammar, through the core: every bad command gets one private answer that
says what was wrong and shows the right form, and records nothing; good commands parse to
the right command objects; /help is written from the specs."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text as sql
from sqlmodel import col, select

from adapters.slack import views
from bot import commands as c
from bot import grammar
from bot.messages import Audience
from bot.periods import Period
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import Referral, Thanks
from tests import conftest
from tests.conftest import Chat


@pytest.fixture(scope="session", name="migrated_sqlite")
def template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"

    async def make() -> None:
        database = Database(f"sqlite:///{path}")
        await upgrade(database)
        await database.dispose()  # the last connection checkpoints the WAL into the file

    asyncio.run(make())
    return path


@pytest.fixture(params=conftest.database_urls(), name="db")
async def fast_db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> AsyncIterator[Database]:
    """As `tests.conftest.db` (a migrated, empty database), faster on SQLite: a copy of a
    migrated file instead of running the migrations again for each of hundreds of cases."""
    if request.param == "postgres":
        assert conftest.POSTGRES_URL
        await conftest._reset_postgres(conftest.POSTGRES_URL)
        database = Database(conftest.POSTGRES_URL)
        await upgrade(database)
    else:
        shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    yield database
    await database.dispose()


TABLES = (
    "groups",
    "members",
    "referrals",
    "thanks",
    "one_to_ones",
    "visitors",
    "outbox",
    "deliveries",
    "audit_log",
    "meetings",
    "meeting_responses",
)


async def counts(db: Database) -> dict[str, int]:
    """The number of rows in every table a command could write to."""
    async with db.transaction() as session:
        connection = await session.connection()
        return {
            table: int(
                (await connection.execute(sql(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
            )
            for table in TABLES
        }


LONG = "x" * 10_000
SQL = "'; DROP TABLE referrals; --"

# (text, the command whose usage the answer must show (None: unknown command), what the
# answer must say was wrong (a fragment, any case)).
MALFORMED: list[tuple[str, str | None, str]] = [
    # /refer
    ("/refer bob Jane Roe, 555-0100, roof", "refer", "mention"),
    ("/refer bob x", "refer", "mention"),
    ("/refer @bob", "refer", "prospect"),
    ("/refer @bob hot", "refer", "prospect"),
    ("/refer @bob hot inside", "refer", "prospect"),
    ("/refer <@U123>", "refer", "prospect"),
    ("/refer <@U123|bob>   ", "refer", "prospect"),
    ("/refer @bob " + LONG, "refer", "too long"),
    ("/refer <!channel> Jane Roe", "refer", "mention"),
    ("/refer <script>alert(1)</script>", "refer", "mention"),
    (f"/refer {SQL}", "refer", "mention"),
    ("/refer 😀 Jane Roe", "refer", "mention"),
    ("/refer @bob \x00\x01\x02\x7f", "refer", "prospect"),
    ("/refer @bob \u2028\u2029", "refer", "prospect"),
    ("/refer@MyBot bob", "refer", "mention"),
    ("/refer Jane Roe @bob", "refer", "mention"),
    ("/refer @ Jane Roe", "refer", "mention"),
    ("/refer <@> Jane Roe", "refer", "mention"),
    # /thanks
    ("/thanks bob 5", "thanks", "mention"),
    ("/thanks @bob $abc", "thanks", "amount"),
    ("/thanks @bob 1e12", "thanks", "amount"),
    ("/thanks @bob -5", "thanks", "more than zero"),
    ("/thanks @bob 0", "thanks", "more than zero"),
    ("/thanks @bob 0.00", "thanks", "more than zero"),
    ("/thanks @bob $-5", "thanks", "more than zero"),
    ("/thanks @bob 12.345", "thanks", "at most 2 decimals"),
    ("/thanks @bob 2,500.505", "thanks", "at most 2 decimals"),
    ("/thanks @bob 1,00", "thanks", "commas"),
    ("/thanks @bob 12,34,567", "thanks", "commas"),
    ("/thanks @bob 2500 EUR", "thanks", "counts in USD, not EUR"),
    ("/thanks @bob $2,500.50 EUR", "thanks", "counts in USD, not EUR"),
    ("/thanks @bob 1000000001", "thanks", "too large"),
    ("/thanks @bob 1,000,000,000.01", "thanks", "too large"),
    ("/thanks @bob 99999999999999999999999999", "thanks", "too large"),
    ("/thanks @bob €2500", "thanks", "counts in USD"),
    ("/thanks @bob 2500€", "thanks", "counts in USD"),
    ("/thanks @bob ５００", "thanks", "digits 0-9"),
    ("/thanks @bob 1.2.3", "thanks", "amount"),
    ("/thanks @bob 2500XYZ", "thanks", "currency XYZ"),
    ("/thanks @bob --5", "thanks", "amount"),
    ("/thanks @bob +-5", "thanks", "amount"),
    ("/thanks @bob $", "thanks", "amount"),
    ("/thanks @bob 1_000", "thanks", "amount"),
    ("/thanks @bob 0x10", "thanks", "amount"),
    ("/thanks @bob -inf", "thanks", "amount"),
    ("/thanks @bob 5 " + LONG, "thanks", "too long"),
    ("/thanks <!channel> 5", "thanks", "mention"),
    ("/thanks <script>alert(1)</script>", "thanks", "mention"),
    ("/thanks '; DROP TABLE thanks; --", "thanks", "mention"),
    ("/tyfcb @bob -1", "thanks", "more than zero"),
    ("/thanks@MyBot @bob 0", "thanks", "more than zero"),
    # /balance
    ("/balance forever", "balance", "not a period"),
    ("/balance weekly", "balance", "not a period"),
    ("/balance @bob @carol", "balance", "one member"),
    ("/balance month week", "balance", "at most one member"),
    ("/balance @bob month extra", "balance", "at most one member"),
    ("/balance '; DROP TABLE members; --", "balance", "not a period"),
    ("/balance <script>", "balance", "not a period"),
    ("/balance 週", "balance", "not a period"),
    ("/balance 2026", "balance", "not a period"),
    # /leaderboard
    ("/leaderboard forever", "leaderboard", "not a period"),
    ("/leaderboard <!here>", "leaderboard", "not a period"),
    ("/leaderboard 🏆", "leaderboard", "not a period"),
    ("/leaderboard '; DROP TABLE thanks; --", "leaderboard", "period"),
    ("/leaderboard @bob", "leaderboard", "not a period"),
    ("/leaderboard week month", "leaderboard", "one period"),
    # /referrals, /members
    ("/referrals all", "referrals", "no arguments"),
    ("/referrals <script>", "referrals", "no arguments"),
    ("/members list", "members", "no arguments"),
    ("/members '; DROP TABLE members; --", "members", "no arguments"),
    # /status
    ("/status", "status", "number"),
    ("/status abc won", "status", "number"),
    ("/status 1 finished", "status", "contacted, won or lost"),
    ("/status 1 contacted 500", "status", "only `won` takes an amount"),
    ("/status 1 lost 500", "status", "only `won` takes an amount"),
    ("/status 1", "status", "contacted, won or lost"),
    ("/status -1 won", "status", "number"),
    ("/status 1.5 won", "status", "number"),
    ("/status 1234567890 won", "status", "number"),
    ("/status ١ won", "status", "number"),
    ("/status 1 won -5", "status", "more than zero"),
    ("/status 1 won 12.345", "status", "decimals"),
    ("/status 1 won 2500 EUR", "status", "not EUR"),
    ("/status 1 won $abc", "status", "amount"),
    ("/status 1 won 500 extra", "status", "nothing else may follow"),
    (f"/status {SQL} won", "status", "number"),
    ("/status 1 WON!", "status", "contacted, won or lost"),
    ("/status won 1", "status", "number"),
    # /onetoone
    ("/onetoone", "onetoone", "mention"),
    ("/onetoone bob coffee", "onetoone", "mention"),
    ("/121", "onetoone", "mention"),
    ("/121 carol", "onetoone", "mention"),
    ("/onetoone @bob " + LONG, "onetoone", "too long"),
    ("/onetoone <script>alert(1)</script>", "onetoone", "mention"),
    ("/onetoone 👋bob", "onetoone", "mention"),
    # /visitor
    ("/visitor", "visitor", "name, then optionally a comma"),
    ("/visitor , Roe Catering", "visitor", "name, then optionally a comma"),
    ("/visitor " + LONG, "visitor", "too long"),
    ("/visitor " + "x" * 300, "visitor", "200 characters"),
    ("/visitor \x00\x07\x1b", "visitor", "name"),
    # /join, /profile
    ("/join " + LONG, "join", "too long"),
    ("/join " + "x" * 101, "join", "too long"),
    ("/profile Plumber", "profile", "name the field first"),
    ("/profile business", "profile", "needs a value"),
    ("/profile ask", "profile", "needs a value"),
    ("/profile business " + LONG, "profile", "too long"),
    ("/profile classification " + "y" * 101, "profile", "too long"),
    ("/profile '; DROP TABLE members; --", "profile", "name the field first"),
    ("/profile @bob business Roe", "profile", "one member"),
    ("/profile @bob @carol", "profile", "one member"),
    # /leave
    ("/leave now", "leave", "no arguments"),
    ("/leave @bob", "leave", "no arguments"),
    # /meeting
    ("/meeting set funday 7:00", "meeting", "not a weekday"),
    ("/meeting set mon 25:00", "meeting", "not a time"),
    ("/meeting set mon 7:60", "meeting", "not a time"),
    ("/meeting set mon 7pm", "meeting", "not a time"),
    ("/meeting set mon 7:00:00", "meeting", "not a time"),
    ("/meeting set mon -1:00", "meeting", "not a time"),
    ("/meeting set", "meeting", "not a weekday"),
    ("/meeting set mon", "meeting", "not a time"),
    ("/meeting set 07:00 mon", "meeting", "not a weekday"),
    ("/meeting set 月曜日 07:00", "meeting", "not a weekday"),
    ("/meeting set mon 07:00 Europe/London " + "x" * 300, "meeting", "too long"),
    ("/meeting attendance present", "meeting", "mention"),
    ("/meeting attendance @bob here", "meeting", "attendance is one of"),
    ("/meeting attendance bob present", "meeting", "mention"),
    ("/meeting rsvp maybe", "meeting", "yes, no or substitute"),
    ("/meeting rsvp", "meeting", "yes, no or substitute"),
    ("/meeting tomorrow", "meeting", "use /meeting"),
    ("/meeting off now", "meeting", "use /meeting"),
    # /settings
    ("/settings timezone Mars/Base", "settings", "IANA timezone"),
    ("/settings timezone", "settings", "IANA timezone"),
    ("/settings timezone Europe/London Europe/Paris", "settings", "IANA timezone"),
    ("/settings timezone '; DROP TABLE groups; --", "settings", "IANA timezone"),
    ("/settings timezone +05:00", "settings", "IANA timezone"),
    ("/settings timezone Europe/Lоndon", "settings", "IANA timezone"),  # a Cyrillic o
    ("/settings currency XYZ", "settings", "ISO 4217"),
    ("/settings currency", "settings", "ISO 4217"),
    ("/settings currency dollars", "settings", "ISO 4217"),
    ("/settings currency €", "settings", "ISO 4217"),
    ("/settings reminders 0m", "settings", "between 1 minute and 14 days"),
    ("/settings reminders 15d", "settings", "between 1 minute and 14 days"),
    ("/settings reminders", "settings", "one to five lead times"),
    ("/settings reminders 1h 2h 3h 4h 5h 6h", "settings", "one to five lead times"),
    ("/settings reminders soon", "settings", "not a lead time"),
    ("/settings reminders -1h", "settings", "not a lead time"),
    ("/settings leaderboard fri", "settings", "weekday and a time"),
    ("/settings leaderboard funday 16:00", "settings", "not a weekday"),
    ("/settings leaderboard fri 16", "settings", "not a time"),
    ("/settings leaderboard fri 24:00", "settings", "not a time"),
    ("/settings recognition maybe", "settings", "on or off"),
    ("/settings recognition", "settings", "on or off"),
    ("/settings nudges yes", "settings", "on or off"),
    ("/settings nudges on off", "settings", "on or off"),
    ("/settings milestones", "settings", "one to ten amounts"),
    ("/settings milestones -5", "settings", "more than zero"),
    ("/settings milestones abc", "settings", "amount"),
    ("/settings milestones 1 2 3 4 5 6 7 8 9 10 11", "settings", "one to ten amounts"),
    ("/settings milestones 1000 EUR", "settings", "amount"),
    ("/settings colour blue", "settings", "no setting 'colour'"),
    ("/settings <script>", "settings", "no setting"),
    ("/settings leader", "settings", "mention"),
    ("/settings leader bob", "settings", "mention"),
    ("/settings leader @bob @carol", "settings", "one member"),
    ("/settings member", "settings", "mention"),
    ("/settings remove", "settings", "mention"),
    ("/settings remove bob", "settings", "mention"),
    ("/settings remove @bob @carol", "settings", "one member"),
    # /ceu and /scorecard
    ("/ceu " + LONG, "ceu", "too long"),
    ("/scorecard bob", "scorecard", "name a member"),
    ("/scorecard group now", "scorecard", "takes nothing more"),
    ("/scorecard @bob @carol", "scorecard", "one member at a time"),
    (f"/scorecard {SQL}", "scorecard", "name a member"),
    # /undo
    ("/undo referral", "undo", "name the entry"),
    ("/undo referral abc", "undo", "name the entry"),
    ("/undo invoice 1", "undo", "name the entry"),
    ("/undo 1", "undo", "name the entry"),
    ("/undo referral -1", "undo", "name the entry"),
    ("/undo thanks 1234567890", "undo", "name the entry"),
    ("/undo referral 1 " + LONG, "undo", "too long"),
    (f"/undo {SQL}", "undo", "name the entry"),
    # unknown commands and typos
    ("/thank @bob 5", None, "did you mean /thanks?"),
    ("/refr @bob x", None, "did you mean /refer?"),
    ("/balnce", None, "did you mean /balance?"),
    ("/leaderbord", None, "did you mean /leaderboard?"),
    ("/stauts 1 won", None, "did you mean /status?"),
    ("/onetone @bob", None, "did you mean /onetoone?"),
    ("/vistor Jane", None, "did you mean /visitor?"),
    ("/memebers", None, "did you mean /members?"),
    ("/setings", None, "did you mean /settings?"),
    ("/hepl", None, "did you mean /help?"),
    ("/foo", None, "don't know the command 'foo'"),
    ("/foo@MyBot bar", None, "don't know the command 'foo'"),
    ("/tip @bob 5", None, "don't know the command"),
    ("/", None, "don't know the command"),
    ("", None, "don't know the command"),
    (" \t\n ", None, "don't know the command"),
    ("hello there", None, "don't know the command 'hello'"),
    ("/DROP TABLE referrals;", None, "don't know the command"),
    (f"/{SQL}", None, "don't know the command"),
    ("/<script>alert(1)</script>", None, "don't know the command"),
    ("<!channel>", None, "don't know the command"),
    ("/refer\x00 @bob x", None, "don't know the command"),
    ("/😀", None, "don't know the command"),
    ("/" + LONG, None, "don't know the command"),
    # /partners, /goals, /find, /settings goal
    ("/partners fortnight", "partners", "not a period"),
    ("/partners @bob month @carol", "partners", "at most one member"),
    ("/partners group month year", "partners", "at most one member"),
    ("/goals referrals", "goals", "takes no arguments"),
    ("/find", "find", "what you are looking for"),
    ("/find    ", "find", "what you are looking for"),
    ("/mute", "mute", "what to mute: nudges"),
    ("/mute reminders", "mute", "what to mute: nudges"),
    ("/mute nudges please", "mute", "what to mute: nudges"),
    ("/unmute", "unmute", "what to unmute: nudges"),
    ("/settings goal referrals -3 month", "settings", "not a number of referrals"),
    ("/settings goal referrals 0 month", "settings", "not a number of referrals"),
    ("/settings goal referrals 2.5 month", "settings", "not a number of referrals"),
    ("/settings goal wibble 3 month", "settings", "not a kind of goal"),
    ("/settings goal", "settings", "kind of goal"),
    ("/settings goal referrals 40", "settings", "number and its period"),
    ("/settings goal referrals 40 all", "settings", "not a goal's period"),
    ("/settings goal referrals 40 fortnight", "settings", "not a goal's period"),
    ("/settings goal business $abc year", "settings", "amount"),
    ("/settings goal business -5 year", "settings", "more than zero"),
]


def _ident(case: tuple[str, str | None, str]) -> str:
    shown = case[0].encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= 40 else shown[:37] + "..."


async def _assert_malformed(chat: Chat, who: str, text: str, spec: str | None, wrong: str) -> None:
    replies = await chat.say(who, text)
    assert len(replies) == 1, replies
    (reply,) = replies
    assert reply.audience is Audience.SENDER
    assert reply.text.strip()
    assert len(reply.text) < 2_000  # a short answer, also to a 10,000-character command
    assert wrong.lower() in reply.text.lower(), reply.text
    if spec is None:
        assert "/help" in reply.text
    else:
        found = grammar.spec_named(spec)
        assert found is not None
        assert found.usage in reply.text, reply.text
    assert not reply.buttons


def test_the_table_is_big_enough() -> None:
    assert len(MALFORMED) >= 120
    known = {spec for _, spec, _ in MALFORMED if spec}
    assert known == {s.name for s in grammar.SPECS} - {"help"}


@pytest.mark.parametrize(("text", "spec", "wrong"), MALFORMED, ids=[_ident(c) for c in MALFORMED])
async def test_malformed_command_is_explained_and_records_nothing(
    chat: Chat, text: str, spec: str | None, wrong: str
) -> None:
    db = chat.core.db
    # As the very first command in a new chat: not even the group or the sender appear.
    await _assert_malformed(chat, "zed", text, spec, wrong)
    assert set((await counts(db)).values()) == {0}

    # In a group with members and entries.
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, new roof")
    await chat.say("bob", "/thanks @alice 100")
    before = await counts(db)
    assert before["referrals"] == before["thanks"] == 1
    for who in ("alice", "nina"):  # the leader, and a newcomer to the group
        await _assert_malformed(chat, who, text, spec, wrong)
    assert await counts(db) == before


def test_malformed_reason_comes_from_the_grammar() -> None:
    """The same table, straight through the parser: the spec it blames is the expected one."""
    for text, spec, _ in MALFORMED:
        with pytest.raises(grammar.Malformed) as caught:
            grammar.parse(text, "USD")
        blamed = caught.value.spec
        assert (blamed.name if blamed else None) == spec, text[:60]


async def test_leaderboard_with_two_periods_does_not_call_a_period_wrong(chat: Chat) -> None:
    answer = await chat.text("alice", "/leaderboard week month")
    assert "'week' is not a period" not in answer


D = Decimal
bob = c.MemberRef(name="bob")
u123 = c.MemberRef(user_id="U123")

GOOD: list[tuple[str, str, c.Command]] = [
    ("/refer <@U123> Jane Roe, 555-0100", "USD", c.GiveReferral(u123, "Jane Roe, 555-0100")),
    ("/refer <@U123|bob> Jane hot inside", "USD", c.GiveReferral(u123, "Jane", "hot", True)),
    ("/refer @bob Jane Roe", "USD", c.GiveReferral(bob, "Jane Roe")),
    ("/refer@MyBot @bob Jane warm", "USD", c.GiveReferral(bob, "Jane", "warm")),
    ("/REFER @bob Jane COLD", "USD", c.GiveReferral(bob, "Jane", "cold")),
    ("/refer @bob Jane, 555-0100, needs a roof inside hot", "USD",
     c.GiveReferral(bob, "Jane, 555-0100, needs a roof", "hot", True)),
    ("/refer @bob Jane outside", "USD", c.GiveReferral(bob, "Jane", None, False)),
    ("/refer @bob, Jane, 555 warm", "USD", c.GiveReferral(bob, "Jane, 555", "warm")),
    ("/refer <@U123>: Jane", "USD", c.GiveReferral(u123, "Jane")),
    (f"/refer @bob {SQL}", "USD", c.GiveReferral(bob, SQL)),
    ("/refer @bob Zoë 🏠 Ünïcode", "USD", c.GiveReferral(bob, "Zoë 🏠 Ünïcode")),
    ("/thanks @bob 2500 EUR", "EUR", c.ThankMember(bob, D("2500.00"))),
    ("/thanks @bob €2,500.50 kitchen job", "EUR", c.ThankMember(bob, D("2500.50"), "kitchen job")),
    ("/thanks @bob 2,500.50 kitchen job", "USD", c.ThankMember(bob, D("2500.50"), "kitchen job")),
    ("/thanks @bob $2,500.50", "USD", c.ThankMember(bob, D("2500.50"))),
    ("/thanks @bob 1000000000", "USD", c.ThankMember(bob, D("1000000000.00"))),
    ("/thanks @bob 0.01", "USD", c.ThankMember(bob, D("0.01"))),
    ("/thanks @bob great intro", "USD", c.ThankMember(bob, None, "great intro")),
    ("/thanks @bob 500\nkitchen job", "USD", c.ThankMember(bob, D("500.00"), "kitchen job")),
    ("/thanks @bob, 500 kitchen", "USD", c.ThankMember(bob, D("500.00"), "kitchen")),
    ("/thanks @bob", "USD", c.ThankMember(bob)),
    ("/thanks <@U123|bob> 10", "USD", c.ThankMember(u123, D("10.00"))),
    ("/thanks @bob ¥2,500", "JPY", c.ThankMember(bob, D("2500"))),
    ("/tyfcb @bob 100", "USD", c.ThankMember(bob, D("100.00"))),
    ("/thanks@MyBot @bob 5", "USD", c.ThankMember(bob, D("5.00"))),
    ("/balance", "USD", c.ShowBalance()),
    ("/balance @bob month", "USD", c.ShowBalance(bob, Period.MONTH)),
    ("/balance month @bob", "USD", c.ShowBalance(bob, Period.MONTH)),
    ("/balance ALL", "USD", c.ShowBalance(None, Period.ALL)),
    ("/leaderboard", "USD", c.ShowLeaderboard(Period.QUARTER)),
    ("/leaderboard week", "USD", c.ShowLeaderboard(Period.WEEK)),
    ("/leaderboard Year", "USD", c.ShowLeaderboard(Period.YEAR)),
    ("/referrals", "USD", c.ListReferrals()),
    ("/members", "USD", c.ListMembers()),
    ("/status 12 contacted", "USD", c.MoveReferral(12, "contacted")),
    ("/status #12 won 4,000", "USD", c.MoveReferral(12, "won", D("4000.00"))),
    ("/status 12 won", "USD", c.MoveReferral(12, "won")),
    ("/status 3 LOST", "USD", c.MoveReferral(3, "lost")),
    ("/onetoone @bob coffee at the bakery", "USD", c.LogOneToOne(bob, "coffee at the bakery")),
    ("/121 @bob", "USD", c.LogOneToOne(bob)),
    ("/121@MyBot <@U123>", "USD", c.LogOneToOne(u123)),
    ("/visitor Jane Roe, Roe Catering", "USD", c.LogVisitor("Jane Roe", "Roe Catering")),
    ("/visitor Jane Roe", "USD", c.LogVisitor("Jane Roe")),
    ("/join Plumber", "USD", c.Join("Plumber")),
    ("/join", "USD", c.Join()),
    ("/profile", "USD", c.ShowProfile()),
    ("/profile @bob", "USD", c.ShowProfile(bob)),
    ("/profile <@U123>", "USD", c.ShowProfile(u123)),
    ("/leave", "USD", c.Leave()),
    ("/settings remove @bob", "USD", c.RemoveMember(bob)),
    ("/profile business Doe Plumbing ask landlords with old buildings", "USD",
     c.UpdateProfile(None, "Doe Plumbing", "landlords with old buildings")),
    ("/profile classification Plumber business Doe", "USD", c.UpdateProfile("Plumber", "Doe")),
    ("/profile Business Doe Co", "USD", c.UpdateProfile(None, "Doe Co")),
    ("/meeting", "USD", c.ShowMeeting()),
    ("/meeting set Tue 07:30 Europe/London Town Hall", "USD",
     c.ScheduleMeeting(1, time(7, 30), "Europe/London", "Town Hall")),
    ("/meeting set friday 7:00", "USD", c.ScheduleMeeting(4, time(7, 0))),
    ("/meeting set SUNDAY 23:59 the pub", "USD",
     c.ScheduleMeeting(6, time(23, 59), None, "the pub")),
    ("/meeting off", "USD", c.CancelMeetings()),
    ("/meeting attendance @bob late", "USD", c.RecordAttendance(bob, "late")),
    ("/meeting attendance", "USD", c.ShowAttendance()),
    ("/meeting rsvp yes", "USD", c.AnswerMeeting("yes")),
    ("/settings", "USD", c.ShowSettings()),
    ("/settings timezone europe/london", "USD", c.ChangeSetting("timezone", "Europe/London")),
    ("/settings currency eur", "USD", c.ChangeSetting("currency", "EUR")),
    ("/settings reminders 1h 24h", "USD", c.ChangeSetting("reminders", (1440, 60))),
    ("/settings reminders 90m 2d", "USD", c.ChangeSetting("reminders", (2880, 90))),
    ("/settings reminders off", "USD", c.ChangeSetting("reminders", ())),
    ("/settings leaderboard FRI 16:00", "USD", c.ChangeSetting("leaderboard", (4, time(16, 0)))),
    ("/settings leaderboard off", "USD", c.ChangeSetting("leaderboard", "off")),
    ("/settings recognition off", "USD", c.ChangeSetting("recognition", False)),
    ("/settings nudges ON", "USD", c.ChangeSetting("nudges", True)),
    ("/settings milestones 5,000 1000", "USD",
     c.ChangeSetting("milestones", (D("1000.00"), D("5000.00")))),
    ("/settings leader @bob", "USD", c.SetRole(bob, "leader")),
    ("/settings member <@U123>", "USD", c.SetRole(u123, "member")),
    ("/undo", "USD", c.Undo()),
    ("/undo referral 12 entered twice", "USD", c.Undo("referral", 12, "entered twice")),
    ("/undo 121 3", "USD", c.Undo("one_to_one", 3)),
    ("/undo thanks #4 wrong amount", "USD", c.Undo("thanks", 4, "wrong amount")),
    ("/help", "USD", c.ShowHelp()),
    ("/help /thanks", "USD", c.ShowHelp("thanks")),
    ("/partners", "USD", c.ShowPartners()),
    ("/partners @bob year", "USD", c.ShowPartners(bob, Period.YEAR)),
    ("/partners month", "USD", c.ShowPartners(None, Period.MONTH)),
    ("/partners group", "USD", c.ShowGroupPartners()),
    ("/partners GROUP quarter", "USD", c.ShowGroupPartners(Period.QUARTER)),
    ("/goals", "USD", c.ShowGoals()),
    ("/find roof leak", "USD", c.FindMembers("roof leak")),
    ("/mute nudges", "USD", c.MuteNudges()),
    ("/MUTE Nudges", "USD", c.MuteNudges()),
    ("/unmute nudges", "USD", c.UnmuteNudges()),
    ("/settings goal referrals 40 month", "USD", c.SetGoal("referrals", D(40), Period.MONTH)),
    ("/settings goal Visitors 1,000 WEEK", "USD", c.SetGoal("visitors", D(1000), Period.WEEK)),
    ("/settings goal business 250,000 year", "USD",
     c.SetGoal("business", D("250000.00"), Period.YEAR)),
    ("/settings goal ceus 20 quarter", "USD", c.SetGoal("ceus", D(20), Period.QUARTER)),
    ("/settings goal onetoones off", "USD", c.SetGoal("onetoones")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "currency", "expected"), GOOD, ids=[g[0][:40] for g in GOOD])
def test_good_input_parses(text: str, currency: str, expected: c.Command) -> None:
    assert grammar.parse(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "user_id", "name"),
    [
        ("<@U123>", "U123", None),
        ("<@U123|bob>", "U123", None),
        ("<@W0ABC.d-e_f>", "W0ABC.d-e_f", None),
        ("@bob", None, "bob"),
        ("@Bob_Smith", None, "Bob_Smith"),
        ("@zoë", None, "zoë"),
        ("@bob,", None, "bob"),
    ],
)
def test_mention_forms(text: str, user_id: str | None, name: str | None) -> None:
    command = grammar.parse(f"/onetoone {text} coffee", "USD")
    assert isinstance(command, c.LogOneToOne)
    assert command.member == c.MemberRef(user_id=user_id, name=name)


async def test_help_lists_every_spec(chat: Chat) -> None:
    replies = await chat.say("alice", "/help")
    assert [r.audience for r in replies] == [Audience.SENDER]
    answer = await chat.text("alice", "/help")
    for spec in grammar.SPECS:
        assert spec.usage in answer
    assert set((await counts(chat.core.db)).values()) == {0}  # help records nothing


@pytest.mark.parametrize(
    "word", [name for spec in grammar.SPECS for name in (spec.name, *spec.aliases)]
)
async def test_help_for_one_command_shows_its_forms(chat: Chat, word: str) -> None:
    spec = grammar.spec_named(word)
    assert spec is not None
    answer = await chat.text("alice", f"/help {word}")
    forms = [line for form in spec.forms for line in (form.usage, form.example)]
    for line in (spec.usage, *spec.more, *spec.examples, *forms):
        assert line in answer
    assert answer == await chat.text("alice", f"/help /{word.upper()}")


# Each settings form, written wrong: the answer shows that form and its example, no other.
SETTINGS_MISTAKES = {
    "timezone": "/settings timezone Mars/Base",
    "currency": "/settings currency dollars",
    "reminders": "/settings reminders 3x",
    "leaderboard": "/settings leaderboard fri",
    "recognition": "/settings recognition maybe",
    "nudges": "/settings nudges yes please",
    "milestones": "/settings milestones abc",
    "leader": "/settings leader bob",
    "member": "/settings member",
    "remove": "/settings remove bob",
    "goal": "/settings goal wibble 3 month",
}


def test_every_settings_form_has_a_mistake_in_the_table_and_a_working_example() -> None:
    settings = grammar.spec_named("settings")
    assert settings is not None
    assert [form.word for form in settings.forms] == list(SETTINGS_MISTAKES)
    for form in settings.forms:
        assert form.usage.startswith(f"/settings {form.word}")
        assert form.example.startswith(f"/settings {form.word} ")
        command = grammar.parse(form.example, "USD")  # the example is a good command
        assert isinstance(command, c.ChangeSetting | c.SetRole | c.RemoveMember | c.SetGoal), (
            form.example
        )


@pytest.mark.parametrize(("word", "text"), SETTINGS_MISTAKES.items())
async def test_a_settings_error_shows_that_form_and_its_example(
    chat: Chat, word: str, text: str
) -> None:
    settings = grammar.spec_named("settings")
    assert settings is not None
    (form,) = [f for f in settings.forms if f.word == word]
    await chat.say("alice", "/join Plumber")  # the leader: the error is the grammar's
    answer = await chat.text("alice", text)
    reason, right_form = answer.split("\nThe right form:\n")
    assert reason.strip()
    assert right_form == f"{form.usage}\nExample: {form.example}"


async def test_an_unknown_setting_lists_each_settings_form_once(chat: Chat) -> None:
    settings = grammar.spec_named("settings")
    assert settings is not None
    answer = await chat.text("alice", "/settings colour blue")
    assert answer.splitlines() == [
        "There is no setting 'colour'.",
        "The right form:",
        *(form.usage for form in settings.forms),
        f"Example: {settings.forms[0].example}",
    ]


async def test_help_settings_lists_each_form_once_with_its_example(chat: Chat) -> None:
    settings = grammar.spec_named("settings")
    assert settings is not None
    lines = (await chat.text("alice", "/help settings")).splitlines()
    assert lines == [
        "How to use /settings",
        "/settings",
        settings.summary,
        *(f"{form.usage}  e.g. {form.example}" for form in settings.forms),
    ]


async def test_help_for_an_unknown_command_lists_them_all(chat: Chat) -> None:
    answer = await chat.text("alice", "/help frobnicate")
    assert "frobnicate" in answer
    for spec in grammar.SPECS:
        assert spec.usage in answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/thanks @bob 500 eur", "not EUR"),
        ("/thanks @bob 500 Gbp for the roof", "not GBP"),
        ("/refer @bob Jane Roe hot cold", "one temperature"),
    ],
)
def test_lower_case_common_currencies_and_double_temperatures_are_refused(
    text: str, expected: str
) -> None:
    with pytest.raises(grammar.Malformed) as refused:
        grammar.parse(text, "USD")
    assert expected in refused.value.reason


def test_note_words_that_are_also_currency_codes_stay_notes() -> None:
    command = grammar.parse("/thanks @bob 500 all good", "USD")
    assert isinstance(command, c.ThankMember)
    assert command.amount == Decimal("500.00") and command.note == "all good"
    assert grammar.parse("/thanks @bob 500 usd", "USD") == c.ThankMember(
        c.MemberRef(name="bob"), Decimal("500.00"), None
    )


def test_a_mention_inside_free_text_is_written_as_the_name() -> None:
    names = {"U3": "Carol Cole"}
    thanks = grammar.parse("/thanks <@U2> 50 intro to <@U3> and <@U4|dave> via <@U9>", "USD",
                           names)  # fmt: skip
    assert isinstance(thanks, c.ThankMember)
    assert thanks.member.user_id == "U2"
    assert thanks.note == "intro to @Carol Cole and @dave via @U9"
    refer = grammar.parse("/refer <@U2> Acme, ask <@U3> for the key, roof hot", "USD", names)
    assert isinstance(refer, c.GiveReferral)
    assert refer.prospect == "Acme, ask @Carol Cole for the key, roof"


# Amounts, one grammar for `/thanks @member <amount> [note]` and `/status N won <amount>`:
# (how it is written, the group's currency, what is recorded).
AMOUNTS: list[tuple[str, str, Decimal]] = [
    ("2500", "USD", D("2500.00")),
    ("2,500", "USD", D("2500.00")),
    ("$2,500.50", "USD", D("2500.50")),
    ("$ 2,500.50", "USD", D("2500.50")),
    ("+2500", "USD", D("2500.00")),
    ("0.50", "USD", D("0.50")),
    ("1,000,000,000", "USD", D("1000000000.00")),
    ("2500 USD", "USD", D("2500.00")),
    ("2500 usd", "USD", D("2500.00")),
    ("2500USD", "USD", D("2500.00")),
    ("USD 2500", "USD", D("2500.00")),
    ("USD 800", "USD", D("800.00")),
    ("usd 500", "USD", D("500.00")),
    ("Usd 2,500", "USD", D("2500.00")),
    ("USD2500", "USD", D("2500.00")),
    ("usd500", "USD", D("500.00")),
    ("US$500", "USD", D("500.00")),
    ("US$ 500", "USD", D("500.00")),
    ("$2500 USD", "USD", D("2500.00")),
    ("2500 $", "USD", D("2500.00")),
    ("2500 EUR", "EUR", D("2500.00")),
    ("2500 eur", "EUR", D("2500.00")),
    ("EUR 2500", "EUR", D("2500.00")),
    ("eur 300", "EUR", D("300.00")),
    ("€2,500.50", "EUR", D("2500.50")),
    ("2500€", "EUR", D("2500.00")),
    ("2500 €", "EUR", D("2500.00")),
    ("¥2,500", "JPY", D("2500")),
    ("JPY 2500", "JPY", D("2500")),
    ("jpy 2500", "JPY", D("2500")),
]

# Forms that look like an amount but are not one the group can take: (how it is written, what
# the answer must say), in a USD group.
REFUSED_AMOUNTS: list[tuple[str, str]] = [
    ("EUR 300", "counts in USD, not EUR"),
    ("eur 300", "counts in USD, not EUR"),
    ("EUR300", "counts in USD, not EUR"),
    ("300 EUR", "counts in USD, not EUR"),
    ("300 eur", "counts in USD, not EUR"),
    ("GBP 300", "counts in USD, not GBP"),
    ("ALL 300", "counts in USD, not ALL"),
    ("€300", "counts in USD"),
    ("300 €", "counts in USD"),
    ("CA$300", "counts in USD"),
    ("-5", "more than zero"),
    ("USD -5", "more than zero"),
    ("usd 0", "more than zero"),
    ("0", "more than zero"),
    ("$abc", "'$abc' is not an amount I can read: write it like $2,500.50"),
    ("1e12", "'1e12' is not an amount I can read"),
    ("USD 1e12", "'USD 1e12' is not an amount I can read"),
    ("5k", "'5k' is not an amount I can read"),
    (".5", "'.5' is not an amount I can read: write 0.50"),
    ("$.5", "write 0.50"),
    ("2500.", "write 2500"),
    ("1000000001", "too large"),
    ("USD 1000000001", "too large"),
    ("12.345", "at most 2 decimals"),
    ("USD 12.345", "at most 2 decimals"),
    ("2.500", "ambiguous"),
    ("1,00", "commas only between groups of 3 digits"),
    ("12,34,567", "commas only between groups of 3 digits"),
    ("2 500", "'2 500' is ambiguous: write 2,500"),
    ("$2 500", "write 2,500"),
    ("USD 2 500", "write 2,500"),
    ("2 500.50", "write 2,500"),
    ("1 234 567", "write 1,234,567"),
    ("５００", "digits 0-9"),
]


async def _referral_and_thanks(chat: Chat, currency: str = "USD") -> None:
    """Alice (the leader) and Bob in a group counting in `currency`; Alice gave Bob #1."""
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    if currency != "USD":
        await chat.say("alice", f"/settings currency {currency}")
    await chat.say("alice", "/refer @bob Jane Roe, 555-0100, new roof")


async def _recorded(chat: Chat) -> list[tuple[Decimal | None, str, str | None]]:
    async with chat.core.db.transaction() as session:
        rows = (await session.exec(select(Thanks).order_by(col(Thanks.id)))).all()
    return [(t.amount, t.currency, t.note) for t in rows]


async def _status(chat: Chat) -> str:
    async with chat.core.db.transaction() as session:
        return (await session.exec(select(Referral))).one().status


@pytest.mark.parametrize(("form", "currency", "amount"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
async def test_every_amount_form_is_read_the_same_in_thanks_and_won(
    chat: Chat, form: str, currency: str, amount: Decimal
) -> None:
    await _referral_and_thanks(chat, currency)

    await chat.say("bob", f"/thanks @alice {form} kitchen job")
    await chat.say("bob", f"/status 1 won {form}")

    assert await _recorded(chat) == [
        (amount, currency, "kitchen job"),
        (amount, currency, "referral #1"),
    ]
    assert await _status(chat) == "won"


@pytest.mark.parametrize(("form", "wrong"), REFUSED_AMOUNTS, ids=[r[0] for r in REFUSED_AMOUNTS])
async def test_an_amount_the_group_cannot_take_is_explained_and_records_nothing(
    chat: Chat, form: str, wrong: str
) -> None:
    await _referral_and_thanks(chat)
    before = await counts(chat.core.db)

    await _assert_malformed(chat, "bob", f"/thanks @alice {form} kitchen job", "thanks", wrong)
    await _assert_malformed(chat, "bob", f"/status 1 won {form}", "status", wrong)

    assert await counts(chat.core.db) == before
    assert await _status(chat) == "open"


@pytest.mark.parametrize(
    "note",
    ["great intro", "all 3 intros were great", "top 10 referrer", "try 2 more", "EUR rates talk",
     "eur rates talk", "EUR", "bob 2 intros", "Ke$ha tickets", "XYZ 300 leads"],
)  # fmt: skip
async def test_a_note_that_only_starts_with_a_word_stays_recognition(chat: Chat, note: str) -> None:
    await _referral_and_thanks(chat)
    await chat.say("bob", f"/thanks @alice {note}")
    assert await _recorded(chat) == [(None, "USD", note)]


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("/status 1 won great", "'great' is not an amount I can read"),
        ("/status 1 won all 500", "counts in USD, not ALL"),
        ("/status 1 won 500 extra", "nothing else may follow"),
        ("/status 1 won USD 500 extra", "nothing else may follow"),
    ],
)
async def test_whatever_follows_won_is_its_amount(chat: Chat, text: str, wrong: str) -> None:
    await _referral_and_thanks(chat)
    before = await counts(chat.core.db)
    await _assert_malformed(chat, "bob", text, "status", wrong)
    assert await counts(chat.core.db) == before
    assert await _status(chat) == "open"


async def test_a_prospect_after_a_comma_is_stored_without_it(chat: Chat) -> None:
    await chat.say("alice", "/join Plumber")
    await chat.say("bob", "/join Roofer")
    await chat.say("alice", "/refer @bob, Jane, 555 warm")
    async with chat.core.db.transaction() as session:
        referral = (await session.exec(select(Referral))).one()
    assert (referral.prospect, referral.temperature) == ("Jane, 555", "warm")


def _modal(amount: str, note: str) -> dict[str, object]:
    return {
        "member": {"user": {"type": "users_select", "selected_user": "U3"}},
        "amount": {"value": {"type": "plain_text_input", "value": amount or None}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
    }


@pytest.mark.parametrize(("form", "amount"), [(f, a) for f, cur, a in AMOUNTS if cur == "USD"])
def test_the_slack_thanks_modal_builds_what_the_member_meant(form: str, amount: Decimal) -> None:
    values = _modal(form, "kitchen job")
    assert views.thanks_field_errors(values) == {}
    command = grammar.parse(views.thanks_command(values), "USD")
    assert command == c.ThankMember(c.MemberRef(user_id="U3"), amount, "kitchen job")


@pytest.mark.parametrize("note", ["USD 800 headshots", "usd 500 test", "US$500 test", ".5 off"])
def test_the_slack_thanks_modal_flags_a_note_that_reads_as_an_amount(note: str) -> None:
    assert list(views.thanks_field_errors(_modal("", note))) == ["note"]
