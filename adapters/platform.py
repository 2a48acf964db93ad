"""What the composition root needs of a chat platform's adapter, and nothing more.

An adapter offers its HTTP routes (mounted on the project's one server), its
outbox transport (the `Deliverer` sends through it), and start and stop for
whatever it runs besides HTTP (Slack's Socket Mode, Telegram's long polling).
Adding a platform is one more of these, registered in `app.wiring`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.routing import BaseRoute

from bot.delivery import Transport


class PlatformAdapter(Protocol):
    """One chat platform, as the wiring sees it."""

    name: str

    @property
    def routes(self) -> Sequence[BaseRoute]:
        """The HTTP routes this platform takes requests on (none in Socket Mode or polling)."""
        ...

    @property
    def transport(self) -> Transport:
        """Sends the outbox's rows for this platform's chats."""
        ...

    async def start(self) -> None:
        """Connect what runs besides the HTTP routes; return once it is running."""

    async def stop(self) -> None:
        """Disconnect; requests in flight are finished by the HTTP server's own shutdown."""
