"""The one wiring: storage, core, platform adapters and delivery from one `Settings`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from adapters.platform import PlatformAdapter
from app.scheduler import PostScheduler
from bot.delivery import Deliverer
from bot.service import Core, GroupDefaults
from bot.settings import Settings
from storage.database import Database
from storage.migrate import upgrade

# How each platform is built when the settings configure it: adding one is adding a line.
PlatformFactory = Callable[[Settings, Database, Core, Callable[[], None]], PlatformAdapter]


def _slack(
    settings: Settings, db: Database, core: Core, wake: Callable[[], None]
) -> PlatformAdapter:
    from adapters.slack.platform import SlackPlatform

    return SlackPlatform(settings, db, core, wake)


def _telegram(
    settings: Settings, db: Database, core: Core, wake: Callable[[], None]
) -> PlatformAdapter:
    # python-telegram-bot's time periods as timedelta: its v22.2 opt-in, the default in v23.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from adapters.telegram.app import TelegramPlatform

    return TelegramPlatform(settings, db, core, wake)


PLATFORMS: tuple[tuple[Callable[[Settings], bool], PlatformFactory], ...] = (
    (lambda settings: settings.slack_configured, _slack),
    (lambda settings: settings.telegram_configured, _telegram),
)


@dataclass
class Runtime:
    """Everything a running bot holds."""

    settings: Settings
    db: Database
    core: Core
    platforms: list[PlatformAdapter] = field(default_factory=list)
    deliverer: Deliverer | None = None
    scheduler: PostScheduler | None = None

    async def close(self) -> None:
        await self.db.dispose()


async def build(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the latest schema) and build the core."""
    db = Database(settings.database_url)
    if migrate:
        await upgrade(db)
    defaults = GroupDefaults(settings.default_timezone, settings.default_currency)
    return Runtime(settings, db, Core(db, defaults))


def add_platforms(runtime: Runtime) -> None:
    """Build every configured platform adapter and the one `Deliverer` over their
    transports; an adapter wakes the deliverer after each command it handled."""

    def wake() -> None:
        if runtime.deliverer is not None:
            runtime.deliverer.wake()

    for configured, factory in PLATFORMS:
        if configured(runtime.settings):
            runtime.platforms.append(factory(runtime.settings, runtime.db, runtime.core, wake))
    transports = [platform.transport for platform in runtime.platforms]
    runtime.deliverer = Deliverer(runtime.db, transports)


def add_scheduler(runtime: Runtime, on_posted: Callable[[], None]) -> PostScheduler:
    """The scheduled posts' scheduler (every mode has one); `on_posted` wakes the outbox."""
    tick = runtime.settings.scheduler_tick_seconds
    runtime.scheduler = PostScheduler(runtime.db, tick_seconds=tick, on_posted=on_posted)
    return runtime.scheduler


def console_deliverer(runtime: Runtime, out: TextIO) -> Deliverer:
    """The console's outbox: everything the bot sends to others is printed to `out`."""
    from adapters.console import ConsoleTransport

    return Deliverer(runtime.db, [ConsoleTransport(out)])
