"""The one wiring function: storage, core and delivery from one `Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service import Core, GroupDefaults
from bot.settings import Settings
from storage.database import Database
from storage.migrate import upgrade


@dataclass
class Runtime:
    """Everything a running bot holds; adapters are built on top of it."""

    settings: Settings
    db: Database
    core: Core

    async def close(self) -> None:
        await self.db.dispose()


async def build(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the latest schema) and build the core."""
    db = Database(settings.database_url)
    if migrate:
        await upgrade(db)
    defaults = GroupDefaults(settings.default_timezone, settings.default_currency)
    return Runtime(settings, db, Core(db, defaults))
