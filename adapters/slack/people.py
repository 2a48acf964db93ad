"""Who is who in a workspace: `users.info` and `conversations.info`, cached with a TTL.

A stale entry is refreshed on the next use; when Slack does not answer (a network
error, a timeout, 5xx, rate limited), the stale entry (or the name Slack wrote in
the payload) is used instead. When Slack answers that the user does not exist
(`user_not_found`), no name stands in: the core asks them to join.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Sender

log = logging.getLogger("referral_bot.slack.people")


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    username: str | None
    is_admin: bool
    can_be_member: bool = True  # not a bot (Slackbot included), not a deactivated account
    timezone: str | None = None  # the IANA zone of the person's Slack profile
    exists: bool = True  # False: Slack answered that there is no such user


# `users.info` errors that are Slack's answer about the user, not a failure to answer.
NO_SUCH_USER = frozenset({"user_not_found", "user_not_visible"})


def nobody(user_id: str) -> Person:
    """A user Slack says does not exist (or this app may not see): never made a member."""
    return Person(user_id, user_id, None, False, can_be_member=False, exists=False)


def person_from(user: dict[str, Any]) -> Person:
    """Name: display name, else real name, else the handle; leaders: admins and owners."""
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    bot = bool(user.get("is_bot") or user.get("deleted")) or user["id"] == "USLACKBOT"
    return Person(
        user["id"], str(name), user.get("name"), admin, can_be_member=not bot,
        timezone=user.get("tz") or None,
    )  # fmt: skip


def as_sender(user_id: str, found: Person | None, fallback_name: str | None) -> Sender:
    """The core's `Sender`: the user as found, else the name Slack wrote in the payload
    (Slack signed the request this user sent, whatever `users.info` says)."""
    if found is None or not found.exists:
        return Sender(user_id, fallback_name or user_id, username=fallback_name)
    return Sender(
        user_id, found.name, username=found.username, is_admin=found.is_admin,
        timezone=found.timezone,
    )  # fmt: skip


def as_names(
    labels: dict[str, str], ids: list[str], found: Sequence[Person | None]
) -> dict[str, str]:
    """id -> display name; a user Slack did not answer about keeps the label Slack wrote
    in the text (`<@U2|bob>`), and one with neither is left out, as are users Slack says
    do not exist, bots and deactivated accounts: the core then asks them to join rather
    than recording such a member."""
    names = {}
    for user_id, person in zip(ids, found, strict=True):
        if person is not None and not person.can_be_member:
            continue  # a bot or a deactivated account: never recorded as a member
        name = person.name if person else labels[user_id]
        if name:
            names[user_id] = name
    return names


class People:
    """A per-process cache of users and channel names, keyed by workspace."""

    def __init__(self, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._users: dict[tuple[str, str], tuple[float, Person]] = {}
        self._channels: dict[tuple[str, str], tuple[float, str | None]] = {}

    def fresh(self, team_id: str, user_id: str) -> Person | None:
        """The user from the cache while fresh, else None (no Web API call)."""
        cached = self._users.get((team_id, user_id))
        return cached[1] if cached is not None and self._is_fresh(cached[0]) else None

    async def person(self, client: AsyncWebClient, team_id: str, user_id: str) -> Person | None:
        """The user, from the cache while fresh, else from `users.info`; `nobody` when
        Slack answers that there is no such user; None when Slack does not answer."""

        async def fetch() -> Person:
            try:
                return person_from((await client.users_info(user=user_id))["user"])
            except SlackApiError as error:
                if error.response.get("error") not in NO_SUCH_USER:
                    raise  # Slack did not answer about the user (5xx, rate limited, a scope)
                return nobody(user_id)

        found: Person | None = await self._through(
            self._users, (team_id, user_id), fetch, f"users.info {user_id}"
        )
        return found

    async def sender(
        self, client: AsyncWebClient, team_id: str, user_id: str, fallback_name: str | None
    ) -> Sender:
        """The core's `Sender` for a Slack user."""
        return as_sender(user_id, await self.person(client, team_id, user_id), fallback_name)

    async def names(
        self, client: AsyncWebClient, team_id: str, labels: dict[str, str], skip: str | None
    ) -> dict[str, str]:
        """Display names of the mentioned users (`labels`: id -> the label in the text)."""
        ids = [user_id for user_id in labels if user_id != skip]
        found = await asyncio.gather(*(self.person(client, team_id, u) for u in ids))
        return as_names(labels, ids, found)

    def cached_sender_and_names(
        self, team_id: str, user_id: str, fallback_name: str | None, labels: dict[str, str]
    ) -> tuple[Sender, dict[str, str]] | None:
        """`sender` and `names` (skip None) when every user is fresh in the cache, else None.

        No task and no Web API call: the answer `sender` and `names` would give.
        """
        sender = self.fresh(team_id, user_id)
        if sender is None:
            return None
        found = []
        for mentioned in labels:
            person = self.fresh(team_id, mentioned)
            if person is None:
                return None
            found.append(person)
        return as_sender(user_id, sender, fallback_name), as_names(labels, list(labels), found)

    async def channel_name(
        self, client: AsyncWebClient, team_id: str, channel_id: str
    ) -> str | None:
        """The channel's name (None for a DM or when Slack does not say)."""
        if channel_id.startswith("D"):
            return None

        async def fetch() -> str | None:
            response = await client.conversations_info(channel=channel_id)
            return (response.get("channel") or {}).get("name")

        name: str | None = await self._through(
            self._channels, (team_id, channel_id), fetch, f"conversations.info {channel_id}"
        )
        return name

    async def _through(
        self,
        cache: dict[tuple[str, str], tuple[float, Any]],
        key: tuple[str, str],
        fetch: Callable[[], Awaitable[Any]],
        what: str,
    ) -> Any:
        """The cached value while fresh, else fetched and cached; when Slack does not
        answer, the stale value (or None)."""
        cached = cache.get(key)
        if cached is not None and self._is_fresh(cached[0]):
            return cached[1]
        try:
            value = await fetch()
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("%s failed: %s", what, error)
            return cached[1] if cached else None
        cache[key] = (self.clock(), value)
        return value

    def _is_fresh(self, cached_at: float) -> bool:
        return self.clock() - cached_at < self.ttl
