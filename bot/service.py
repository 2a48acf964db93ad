"""The core's one entry point: an `Incoming` in, the direct answer out, exactly once.

A delivery id is claimed first in the command's transaction; the entry, the
outbox messages and the stored answer are committed with it. A redelivery
finds the claim and gets the stored answer back; a concurrent duplicate
(PostgreSQL) fails on the claim's unique key and does the same.

Where the platform cannot show the sender an answer only they see (a Telegram
group: `ChatRef.private_in_place` False), the command's direct answers are
written to the outbox for the sender's private chat in the same transaction,
and nothing is answered in place. What records nothing (/help, a malformed
command, a refusal) is still returned, for the adapter to send privately: a
redelivery computes it again, so it needs no outbox.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import buttons, definitions, grammar, held, presses, reachability
from bot import commands as c
from bot.commands import Command
from bot.context import LEADER, MEMBER, Context, Refusal
from bot.handlers import Handler, run
from bot.messages import Audience, Button, Incoming, Reply, to_sender
from bot.outside import NeededTwice, Needs
from bot.parsing import timezone_name
from bot.rescheduling import reschedule
from storage import directory, outbox, private
from storage.clock import utcnow
from storage.database import Database, is_disconnect, is_read_only
from storage.directory import delivered
from storage.tables import Group, Member
from storage.units import Unit

log = logging.getLogger("referral_bot.core")
DELIVERY_MEMORY = timedelta(days=7)
FAILED = (
    "Sorry, something went wrong on my side and nothing was recorded. Please try again in a minute."
)
NO_GROUP = (
    "You are not in a group yet: send /join in your group's chat first, "
    "then you can talk to me here too."
)
PICK_GROUP = (
    "You are in several groups: pick the one your commands here go to, then send the command again."
)
PICK_AGAIN = "Your commands here go to one of your groups; pick another here:"
NO_STEPS = (
    "Nothing is waiting for an answer here (guided steps last 10 minutes). Send a command: "
    "/help lists them."
)
NO_GROUP_HERE = (
    "There is no group in this chat yet: send /join <classification> to start one "
    "(e.g. /join Plumber); whoever starts it is its first leader."
)


@dataclass(frozen=True)
class GroupDefaults:
    """What a new group starts with."""

    timezone: str = "UTC"
    currency: str = "USD"


class _WritesAfterAll(Exception):
    """A command that only reads, run where it must write after all (its group's chat
    answers again: `bot.reachability.resume`): run again in a writing unit."""


class _Answer(Exception):
    """Leave the transaction (rolling it back) with an answer for the sender."""

    def __init__(self, outcome: str, text: str, buttons: tuple[Button, ...] = ()) -> None:
        super().__init__(text)
        self.outcome, self.text, self.buttons = outcome, text, buttons


class _NeedsOutside(Exception):
    """Leave the transaction (rolling it back: it only read) to do an action's outside work."""

    def __init__(self, needs: Needs[Any]) -> None:
        super().__init__(needs.what)
        self.needs = needs


class _Redelivered(Exception):
    """Leave the transaction (rolling back what the second run did) with the first answer."""

    def __init__(self, replies: list[Reply]) -> None:
        super().__init__("redelivered")
        self.replies = replies


def malformed_text(error: grammar.Malformed) -> str:
    """The reason, the right form and an example: of the form meant when the command has
    several (`/settings reminders 3x`: the reminders form), else every form of it."""
    spec, form = error.spec, error.form
    if spec is None:
        return error.reason
    if form is not None:
        forms, example = form.usage, form.example
    elif spec.forms:  # a sub-command it does not have: the ones it has
        forms, example = "\n".join(f.usage for f in spec.forms), spec.forms[0].example
    else:
        forms, example = "\n".join((spec.usage, *spec.more)), spec.examples[0]
    return f"{error.reason}\nThe right form:\n{forms}\nExample: {example}"


class Core:
    """Parses, checks, records and answers; knows no platform."""

    def __init__(
        self,
        db: Database,
        defaults: GroupDefaults,
        clock: Callable[[], datetime] = utcnow,
        table: Mapping[type, Handler[Any]] | None = None,
    ) -> None:
        self.db, self.defaults, self.clock = db, defaults, clock
        self.table = table or definitions.HANDLERS  # each command type's handler

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message; its answer for the sender (other replies go to the outbox)."""
        started = time.perf_counter()
        try:
            try:
                replies, outcome = await self._handle(incoming)
            except DBAPIError as error:  # a pooled connection had died: once more, afresh
                if not is_disconnect(error):
                    raise
                replies, outcome = await self._handle(incoming)
        except _Answer as answer:
            replies, outcome = [to_sender(answer.text, buttons=answer.buttons)], answer.outcome
        except _Redelivered as redelivered:
            replies, outcome = redelivered.replies, "redelivered"
        except IntegrityError:  # the delivery id was there already (or a unique rule clashed)
            replies, outcome = await self._stored_answer(incoming)
        except Exception as error:  # the database is away, or a bug: say so, record nothing
            # Where it failed, never the error's text: that may quote what a member typed.
            where = "".join(traceback.format_tb(error.__traceback__))
            log.error("command failed: %s\n%s", type(error).__name__, where)
            replies, outcome = [to_sender(FAILED)], "error"
        if log.isEnabledFor(logging.INFO):
            spec = grammar.spec_named(grammar.split_command(incoming.text)[0])
            name = "button" if incoming.button else spec.name if spec else "unknown"
            log.info(
                "group=%s:%s command=%s outcome=%s ms=%.1f",
                incoming.chat.platform, incoming.chat.chat_id, name,
                outcome, (time.perf_counter() - started) * 1000,
            )  # fmt: skip
        return replies

    async def forget_deliveries(self, older_than: timedelta = DELIVERY_MEMORY) -> int:
        """Drop delivery ids older than any platform redelivers (Telegram: up to a day)."""
        before = self.clock() - older_than
        return await self.db.run(lambda unit: directory.forget_deliveries(unit.session, before))

    async def opened(self, incoming: Incoming, code: str | None) -> list[Reply]:
        """The sender opened their private chat with the bot (Telegram's Start; with `code`
        when by a held message's link): what is held for them is due now, once (`bot.held`);
        a code that is someone else's, or used, releases nothing. A bare Start is answered
        with /help. Recorded with the delivery id: a redelivery gets the same answer."""
        started = time.perf_counter()
        try:
            replies = await self.db.run(lambda unit: self._open(unit, incoming, code))
            outcome = "ok"
        except IntegrityError:  # the same Start delivered again: the first answer
            replies, outcome = await self._stored_answer(incoming)
        except Exception as error:  # the database is away, or a bug: say so, release nothing
            where = "".join(traceback.format_tb(error.__traceback__))
            log.error("start failed: %s\n%s", type(error).__name__, where)
            replies, outcome = [to_sender(FAILED)], "error"
        ms = (time.perf_counter() - started) * 1000
        log.info("group=%s:%s command=start outcome=%s ms=%.1f",
                 incoming.chat.platform, incoming.chat.chat_id, outcome, ms)  # fmt: skip
        return replies

    async def _open(self, unit: Unit, incoming: Incoming, code: str | None) -> list[Reply]:
        now, replies = self.clock(), []
        if code is None:
            help_command = grammar.parse("/help", self.defaults.currency)
            shown = run(None, help_command, self.table[c.ShowHelp])  # type: ignore[arg-type]
            replies = _plain(await shown)
            chat = incoming.chat
            groups = await directory.groups_of_user(
                unit, chat.platform, chat.workspace_id or "", incoming.sender.user_id
            )
            if len(groups) > 1:  # where the private chat's commands go, to pick again
                picker = await self._picker(unit, incoming, groups)
                replies.append(to_sender(PICK_AGAIN, buttons=picker))
        if (said := await held.release(unit, incoming, code, now)) is not None:
            replies.append(said)
        answer = orjson.dumps([r.to_json() for r in replies]).decode()
        await directory.record_delivery(unit, self._key(incoming), answer, now)
        return replies

    def _key(self, incoming: Incoming) -> str:
        chat = incoming.chat
        return f"{chat.platform}:{chat.workspace_id or ''}:{incoming.delivery_id}"[:200]

    async def _stored_answer(self, incoming: Incoming) -> tuple[list[Reply], str]:
        stored = await self.db.run(lambda unit: delivered(unit, self._key(incoming)), write=False)
        if stored is None:  # not a redelivery after all: a rare race on a unique key
            clash = "That clashed with another change at the same moment; try again."
            return [to_sender(clash)], "clash"
        return [Reply.from_json(r) for r in json.loads(stored)], "redelivered"

    def _command(
        self, incoming: Incoming, currency: str, press: buttons.Press | None
    ) -> Command | grammar.Malformed:
        """What the message asks for: a pressed button's command, an answer to guided
        steps (text that is no command, in a private chat), else the command typed."""
        if press is not None:
            return presses.command_of(press, incoming.text, currency)
        text = incoming.text.strip()
        if incoming.chat.is_private and text and not text.startswith("/"):
            return c.AnswerStep(text=text)
        return self._parse(incoming, currency)

    def _parse(self, incoming: Incoming, currency: str) -> Command | grammar.Malformed:
        try:
            return grammar.parse(incoming.text, currency, incoming.mentioned)
        except grammar.Malformed as error:
            return error

    async def _handle(self, incoming: Incoming) -> tuple[list[Reply], str]:
        # Parsed in the new groups' currency, to know whether the unit of work writes; a
        # group with another currency parses it again (amounts are read in its currency).
        press = None if incoming.button is None else buttons.decode(incoming.button)
        if incoming.button is not None and press is None:
            raise _Answer("stale", presses.STALE)
        parsed = self._command(incoming, self.defaults.currency, press)
        # where the answer goes to the outbox, even reading writes (the answer and its id)
        handler = self.table.get(type(parsed))  # None: malformed, answered in a unit that writes
        writes = handler is None or handler.writes or not incoming.chat.private_in_place
        try:
            return await self._in_unit(incoming, parsed, writes, press)
        except _NeedsOutside as asked:  # read; then the outside work, with no unit open
            needs = asked.needs
        made = await self._outside(needs)
        # The second run is the one that writes (its chart, at least, goes to the outbox):
        # in a writing unit, even for a command that reads (on SQLite a reading unit would
        # fail on the outbox and run the action a third time).
        return await self._in_unit(incoming, parsed, True, press, (made, needs.keep))

    async def _outside(self, needs: Needs[Any]) -> object:
        """An action's outside work, run between its two units with none open."""
        return await needs.run()

    async def _in_unit(
        self,
        incoming: Incoming,
        parsed: Command | grammar.Malformed,
        writes: bool,
        press: buttons.Press | None,
        made: tuple[object, object] | None = None,
    ) -> tuple[list[Reply], str]:
        def work(unit: Unit) -> Any:
            return self._work(unit, incoming, parsed, press, made)

        try:
            return await self.db.run(work, write=writes)
        except _WritesAfterAll:
            pass
        except DBAPIError as error:  # a command that only reads found something to write
            if writes or not is_read_only(error):
                raise
        return await self.db.run(work)

    async def _work(
        self,
        unit: Unit,
        incoming: Incoming,
        parsed: Command | grammar.Malformed,
        press: buttons.Press | None = None,
        made: tuple[object, object] | None = None,
    ) -> tuple[list[Reply], str]:
        """Everything one message does, in its unit of work; a pressed button's in the
        group it names, by the member it belongs to (`made`: what its outside work made
        and what its first run kept, on the action's second run)."""
        key = self._key(incoming)
        group, member, no_group = await self._find_group(unit, incoming, parsed, press)
        if group is not None and group.currency != self.defaults.currency:
            parsed = self._command(incoming, group.currency, press)
        if isinstance(parsed, grammar.Malformed):
            raise _Answer("malformed", malformed_text(parsed)) from parsed
        command, handler = parsed, self.table[type(parsed)]
        recording = handler.writes
        in_place = incoming.chat.private_in_place
        keeps = recording or not in_place  # its answer is kept with its delivery id
        if not handler.needs_group:
            return _plain(await run(None, command, handler)), "ok"  # type: ignore[arg-type]
        if no_group is not None:
            raise no_group
        # Only a command that records something, or /join, makes the sender a member (and
        # sets the group up); reading, or leaving, makes nobody a member.
        joins = handler.joins
        if group is None and not joins:
            raise _Answer("no_group", NO_GROUP_HERE)
        if press is not None and group is not None:
            await self._check_presser(unit, group, member, press)
        now = self.clock()
        group = group or await self._create_group(unit, incoming, now)
        if group.unreachable_since is not None and group.chat_id == incoming.chat.chat_id:
            if not unit.write:  # the bot is used in its chat again: that writes
                raise _WritesAfterAll
            await reachability.resume(unit.session, group, now)
        member, joined = await self._sender(unit, group, member, incoming, now, joins)
        gone = member is not None and member.left_at is not None
        if gone and recording and not handler.brings_back:
            raise _Answer("left", f"You are no longer a member of {group.name}: "
                          "send /join to come back.")  # fmt: skip
        outside, kept = made if made else (None, None)
        ctx = Context(unit, group, member, incoming, now, joined, outside, kept)
        try:
            result = await run(ctx, command, handler)
        except Refusal as refusal:
            # A redelivery of a command already carried out can be refused the second
            # time (the referral has moved on): the first answer is the right one.
            if keeps and (stored := await delivered(unit, key)) is not None:
                stored_replies = [Reply.from_json(r) for r in json.loads(stored)]
                raise _Redelivered(stored_replies) from refusal
            raise _Answer("refused", str(refusal)) from refusal
        if isinstance(result, Needs):
            if made is not None:
                raise NeededTwice(f"{type(command).__name__} asked for {result.what} again")
            raise _NeedsOutside(result)
        replies = result
        direct = [r for r in replies if r.audience is Audience.SENDER]
        later = [r for r in replies if r.audience is not Audience.SENDER]
        if not in_place:  # to their private chat, before what the command sends them
            sender = incoming.sender.user_id
            member_id = member.id if member is not None else None
            later[:0] = [replace(r, audience=Audience.MEMBER, member_id=member_id,
                                 recipient_user_id=sender) for r in direct]  # fmt: skip
            direct = []
        messages = [outbox.Message(r.to_json(), r.recipient_user_id, r.image) for r in later]
        await outbox.enqueue(unit, group, messages, now, incoming.chat.thread_id)
        # Recorded with the entry. A redelivery (or a concurrent duplicate) fails here on
        # the key and rolls back whole, then gets the stored answer (`handle`): a lookup
        # before the work would cost every command a statement for the rare redelivery.
        if keeps:
            answer = orjson.dumps([r.to_json() for r in direct]).decode()
            await directory.record_delivery(unit, key, answer, now)
        return direct, "ok"

    async def _find_group(
        self,
        unit: Unit,
        incoming: Incoming,
        parsed: Command | grammar.Malformed,
        press: buttons.Press | None,
    ) -> tuple[Group | None, Member | None, _Answer | None]:
        """The chat's group and the sender's membership: a button's own group; guided
        steps' group; in a private chat the sender's only group or the one they picked,
        else why there is none (with the buttons to pick one)."""
        chat, user_id = incoming.chat, incoming.sender.user_id
        workspace = chat.workspace_id or ""
        fixed = press.group_id if press is not None else None
        if fixed is None and isinstance(parsed, c.AnswerStep) and chat.is_private:
            current = await private.current_steps(
                unit, chat.platform.value, workspace, user_id, self.clock()
            )
            if current is None:
                return None, None, _Answer("no_steps", NO_STEPS)
            fixed = current.group_id
        if fixed is not None:
            group = await unit.session.get(Group, fixed)
            if group is None or (group.platform, group.workspace_id) != (chat.platform, workspace):
                return None, None, _Answer("stale", presses.STALE)
            return group, await directory.find_member(unit, fixed, user_id), None
        if not chat.is_private:
            named = next(iter(incoming.mentioned), None)  # e.g. a referral's receiver
            group, member = await directory.find_group_and_member(
                unit, chat.platform, workspace, chat.chat_id, user_id, named
            )
            return group, member, None
        groups = await directory.groups_of_user(unit, chat.platform, workspace, user_id)
        if len(groups) == 1:
            return groups[0], None, None
        if not groups:
            return None, None, _Answer("no_group", NO_GROUP)
        chosen = await private.chosen_group(unit, chat.platform.value, workspace, user_id)
        if (picked := next((g for g in groups if g.id == chosen), None)) is not None:
            return picked, None, None
        picker = await self._picker(unit, incoming, groups)
        return None, None, _Answer("ambiguous_group", PICK_GROUP, picker)

    async def _picker(
        self, unit: Unit, incoming: Incoming, groups: Sequence[Group]
    ) -> tuple[Button, ...]:
        """One button per group the sender is in: it picks that group for their private
        chat (and belongs to them only)."""
        picker = []
        for group in groups:
            assert group.id is not None
            member = await directory.find_member(unit, group.id, incoming.sender.user_id)
            if member is not None and member.id is not None:
                picker.append(Button(group.name, "", data=buttons.pick_group(group.id, member.id)))
        return tuple(picker)

    async def _check_presser(
        self, unit: Unit, group: Group, member: Member | None, press: buttons.Press
    ) -> None:
        """A button does something only for the member it belongs to (any member of its
        group, for a button that belongs to nobody in particular)."""
        if member is None or member.left_at is not None:
            raise _Answer("not_member", presses.NOT_MEMBER.format(group=group.name))
        if press.member_id is not None and member.id != press.member_id:
            owner = await unit.session.get(Member, press.member_id)
            name = owner.name if owner is not None else "another member"
            raise _Answer("not_yours", presses.NOT_YOURS.format(name=name))

    async def _create_group(self, unit: Unit, incoming: Incoming, now: datetime) -> Group:
        chat = incoming.chat
        # The person setting the group up is most likely where the chapter meets.
        zone = timezone_name(incoming.sender.timezone or "") or self.defaults.timezone
        group, created = await directory.ensure_group(unit, dict(
            platform=chat.platform.value, workspace_id=chat.workspace_id or "",
            chat_id=chat.chat_id, name=(chat.title or chat.chat_id)[:200],
            timezone=zone, currency=self.defaults.currency, created_at=now,
        ))  # fmt: skip
        if created:  # its posts that are on from the start (anniversaries, nudges, scorecards)
            await reschedule(unit.session, group, now)
        return group

    async def _sender(
        self,
        unit: Unit,
        group: Group,
        member: Member | None,
        incoming: Incoming,
        now: datetime,
        joins: bool,
    ) -> tuple[Member | None, bool]:
        """The sender's membership (made when `joins` and they have none); True when this
        command made them a member."""
        assert group.id is not None
        sender, name = incoming.sender, incoming.sender.name[:200]
        member = member or await directory.find_member(unit, group.id, sender.user_id)
        if member is None:
            if not joins:
                return None, False
            first = await directory.member_count(unit, group.id) == 0
            return await directory.add_member(unit, dict(
                group_id=group.id, platform_user_id=sender.user_id, username=sender.username,
                name=name, role=LEADER if first else MEMBER, joined_at=now,
            ))  # fmt: skip
        if sender.name_is_current and (member.name, member.username) != (name, sender.username):
            member.name, member.username = name, sender.username
            unit.session.add(member)
        return member, False


def _plain(result: list[Reply] | Needs[Any]) -> list[Reply]:
    """The replies of an action that needs no group (and so no outside work)."""
    assert not isinstance(result, Needs)
    return result
