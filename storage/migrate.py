"""Apply the Alembic migrations: at start-up and from `referral-bot db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Any, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Any, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision`; several instances starting at once take turns
    (on SQLite, as every writer does: `Database.writing`)."""
    async with db.writing(rebuilds_tables=True) as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(7243011)"))
        await conn.run_sync(_upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (tests, and an operator undoing an upgrade)."""
    async with db.writing(rebuilds_tables=True) as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(7243011)"))
        await conn.run_sync(_downgrade, revision)


def _revision(connection: Any) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """The schema's revision (None for an empty database)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_revision)


def head_revision() -> str | None:
    """The latest revision this version's migrations know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known(revision: str) -> bool:
    """True when `revision` is one of this version's migrations."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
