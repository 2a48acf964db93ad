"""A person's private chat with the bot: the group they picked there, and their guided steps.

Both are one row per person (platform, workspace, user id), written in the command's own
unit of work: several instances behind one webhook see the same choice and the same step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from storage.directory import insert_ignore
from storage.tables import GuidedSteps, PrivateChat
from storage.units import Unit


def _person(model: Any, platform: str, workspace_id: str, user_id: str) -> list[Any]:
    return [col(model.platform) == platform, col(model.workspace_id) == workspace_id,
            col(model.user_id) == user_id]  # fmt: skip


async def chosen_group(unit: Unit, platform: str, workspace_id: str, user_id: str) -> int | None:
    """The group the person picked for their private chat, if they did."""
    statement = select(PrivateChat.group_id).where(
        *_person(PrivateChat, platform, workspace_id, user_id)
    )
    found = (await unit.session.exec(statement)).first()
    return None if found is None else int(found)


async def choose_group(
    unit: Unit, platform: str, workspace_id: str, user_id: str, group_id: int, now: datetime
) -> None:
    """Remember `group_id` as where the person's private commands go."""
    values = dict(platform=platform, workspace_id=workspace_id, user_id=user_id,
                  group_id=group_id, chosen_at=now)  # fmt: skip
    if not await insert_ignore(unit.session, PrivateChat, values):
        await unit.session.exec(
            update(PrivateChat)
            .where(*_person(PrivateChat, platform, workspace_id, user_id))
            .values(group_id=group_id, chosen_at=now)
        )


async def current_steps(
    unit: Unit, platform: str, workspace_id: str, user_id: str, now: datetime
) -> GuidedSteps | None:
    """The person's guided steps, unless they expired (an expired row is dropped)."""
    statement = select(GuidedSteps).where(*_person(GuidedSteps, platform, workspace_id, user_id))
    found = (await unit.session.exec(statement)).first()
    if found is not None and found.expires_at <= now:
        await clear_steps(unit, platform, workspace_id, user_id)
        return None
    return found


async def save_steps(
    unit: Unit, platform: str, workspace_id: str, user_id: str, group_id: int,
    token: str, state: str, expires_at: datetime,
) -> None:  # fmt: skip
    """Start or move on the person's guided steps (one at a time: new steps replace old)."""
    values = dict(platform=platform, workspace_id=workspace_id, user_id=user_id,
                  group_id=group_id, token=token, state=state, expires_at=expires_at)  # fmt: skip
    if not await insert_ignore(unit.session, GuidedSteps, values):
        await unit.session.exec(
            update(GuidedSteps)
            .where(*_person(GuidedSteps, platform, workspace_id, user_id))
            .values(group_id=group_id, token=token, state=state, expires_at=expires_at)
        )


async def clear_steps(unit: Unit, platform: str, workspace_id: str, user_id: str) -> None:
    """The steps are done (or abandoned)."""
    await unit.session.exec(
        delete(GuidedSteps).where(*_person(GuidedSteps, platform, workspace_id, user_id))
    )
