"""What every action gets: the session, the group, the sender, the time, and the rules of who.

Only what a unit of work may use: the database (through `unit`) and plain values. No
platform client and nothing else to await: an action that needs outside work asks for
it (`bot.outside.Needs`) and finds its result in `outside` when it runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import MemberRef
from bot.messages import Incoming
from storage import directory
from storage.tables import AuditEntry, Member
from storage.units import Unit

T = TypeVar("T")
LEADER = "leader"
MEMBER = "member"


class Refusal(Exception):
    """An action refused by a rule; its text goes back to the sender and nothing is recorded."""


@dataclass
class Context:
    """One command being carried out, inside its transaction."""

    unit: Unit
    group: Any  # storage.tables.Group
    sender: Member | None  # None: not a member (a read-only command makes nobody a member)
    incoming: Incoming
    now: datetime
    joined: bool = False  # the sender became a member with this command
    # What the outside work an action asked for made (`bot.outside.Needs`); None until then.
    outside: object | None = None
    # What the action's first run kept for its second (`Needs.keep`); None until then.
    keeping: object | None = None

    def made(self, kind: type[T]) -> T | None:
        """The result of this action's outside work, when it is one of `kind`; None on the
        action's first run (it returns `Needs` then, with what it read)."""
        return self.outside if isinstance(self.outside, kind) else None

    def kept(self, kind: type[T]) -> T | None:
        """What the action's first run kept for this one (`Needs.keep`), when it is one of
        `kind`; None on the first run."""
        return self.keeping if isinstance(self.keeping, kind) else None

    @property
    def member(self) -> Member:
        """The sender as a member; refused (with how to join) when they are not one."""
        if self.sender is None:
            raise Refusal(
                f"You are not a member of {self.group.name} yet: send /join <classification>"
                " to join, e.g. /join Plumber."
            )
        return self.sender

    @property
    def sender_id(self) -> int | None:
        return None if self.sender is None else self.sender.id

    @property
    def session(self) -> AsyncSession:
        """The unit's ORM session (made on first use; the hot paths go without)."""
        return self.unit.session

    @property
    def group_id(self) -> int:
        assert self.group.id is not None
        return int(self.group.id)

    @property
    def member_id(self) -> int:
        assert self.member.id is not None
        return int(self.member.id)

    @property
    def is_leader(self) -> bool:
        """Leaders: the group's founder, those named leader, and the chat's admins."""
        named = self.sender is not None and self.sender.role == LEADER
        return named or self.incoming.sender.is_admin

    def require_leader(self, what: str) -> None:
        if not self.is_leader:
            raise Refusal(f"Only the group's leaders can {what}.")

    async def resolve(self, ref: MemberRef, *, reading: bool = False) -> Member:
        """The member a command names; people mentioned by id join on first mention.

        A member who left or was removed is refused ("no longer in the group"), unless the
        command only reads (`reading`: their history stays); a reading command makes
        nobody a member."""
        member = await self._named(ref, reading)
        if member.left_at is not None and not reading:
            raise Refusal(f"{member.name} is no longer in the group.")
        return member

    async def _named(self, ref: MemberRef, reading: bool) -> Member:
        if ref.user_id is not None:
            found = await directory.find_member(self.unit, self.group_id, ref.user_id)
            if found is not None:
                return found
            name = self.incoming.mentioned.get(ref.user_id)
            if name is None or reading:
                raise Refusal(
                    "I don't know that person yet: they join by sending /join in the group."
                )
            return await directory.ensure_member(self.unit, dict(
                group_id=self.group_id, platform_user_id=ref.user_id, name=name[:200],
                role=MEMBER, joined_at=self.now,
            ))  # fmt: skip
        assert ref.name is not None
        matches = await directory.members_named(self.unit, self.group_id, ref.name)
        # Someone who left and an active member of the same name: the active one is meant.
        current = [m for m in matches if m.left_at is None]
        if len(current) == 1 or (len(matches) == 1 and not current):
            return (current or matches)[0]
        if not matches:
            raise Refusal(
                f"There is no member called @{ref.name} in this group. "
                "They join by sending /join in the group."
            )
        raise Refusal(f"Several members are called @{ref.name}; mention the one you mean.")

    async def resolve_other(self, ref: MemberRef, what: str) -> Member:
        """Like `resolve`, refusing the sender themself."""
        other = await self.resolve(ref)
        if other.id == self.member.id:
            raise Refusal(f"You can't {what} yourself.")
        return other

    def audit(
        self, action: str, kind: str, reason: str | None, entity_id: int | None = None
    ) -> None:
        """Record who did what, when and why, in the command's transaction."""
        self.session.add(AuditEntry(
            group_id=self.group_id, actor_id=self.member_id, action=action, entity_kind=kind,
            entity_id=entity_id, reason=reason, created_at=self.now,
        ))  # fmt: skip
