"""Many workspaces: bolt's OAuth flow with slack_sdk's SQLAlchemy stores on our database.

The tables (`slack_installations`, `slack_bots`, `slack_oauth_states`) come
from our migration 0002, never from `create_all`. The stores write as every
writer does (`Database.writing`: on SQLite one writer at a time, a lock held
by another process waited for with the loop free) and read on readers'
connections.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import cast

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.settings import Settings
from storage.database import Database

BOT_SCOPES = (
    "app_mentions:read",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
)
STATE_SECONDS = 600


class _StoreEngine:
    """What slack_sdk's stores use of an engine: `begin()` to write, `connect()` to read."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._db.writing()

    def connect(self) -> AsyncConnection:
        return self._db.reading()


def _engine(db: Database) -> AsyncEngine:
    return cast(AsyncEngine, _StoreEngine(db))


def installation_store(settings: Settings, db: Database) -> AsyncSQLAlchemyInstallationStore:
    assert settings.slack_client_id is not None
    return AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=_engine(db))


def oauth_settings(settings: Settings, db: Database) -> AsyncOAuthSettings:
    """The install flow at /slack/install, /slack/oauth_redirect, stored in our database."""
    assert settings.slack_client_id and settings.slack_client_secret
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        installation_store=installation_store(settings, db),
        installation_store_bot_only=True,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=_engine(db)
        ),
        state_expiration_seconds=STATE_SECONDS,
    )
