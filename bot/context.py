"""What every action gets: the session, the group, the sender, the time, and the rules of who."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import MemberRef
from bot.messages import Incoming
from storage import directory
from storage.tables import AuditEntry, Member
from storage.units import Unit

LEADER = "leader"
MEMBER = "member"


class Refusal(Exception):
    """An action refused by a rule; its text goes back to the sender and nothing is recorded."""


@dataclass
class Context:
    """One command being carried out, inside its transaction."""

    unit: Unit
    group: Any  # storage.tables.Group
    member: Member
    incoming: Incoming
    now: datetime

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
        return self.member.role == LEADER or self.incoming.sender.is_admin

    def require_leader(self, what: str) -> None:
        if not self.is_leader:
            raise Refusal(f"Only the group's leaders can {what}.")

    async def resolve(self, ref: MemberRef) -> Member:
        """The member a command names; people mentioned by id join on first mention."""
        if ref.user_id is not None:
            found = await directory.find_member(self.unit, self.group_id, ref.user_id)
            if found is not None:
                return found
            name = self.incoming.mentioned.get(ref.user_id)
            if name is None:
                raise Refusal(
                    "I don't know that person yet: they join by sending /join in the group."
                )
            return await directory.ensure_member(self.unit, dict(
                group_id=self.group_id, platform_user_id=ref.user_id, name=name[:200],
                role=MEMBER, joined_at=self.now,
            ))  # fmt: skip
        assert ref.name is not None
        matches = await directory.members_named(self.session, self.group_id, ref.name)
        if len(matches) == 1:
            return matches[0]
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
