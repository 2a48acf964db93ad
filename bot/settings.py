"""The one settings object: environment variables (and a `.env` file), typed and checked.

`load_settings()` reads them once; a bad value is a `ConfigurationError` whose lines each
name the variable, say what is wrong and what it should look like (never a secret's value).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.money import is_currency_code
from bot.parsing import timezone_name
from bot.slack_config import SLACK_FIELDS, slack_problem
from bot.telegram_config import telegram_problem

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_FORMS = "use sqlite:///path.db or postgresql://user:pass@host:port/db"
DATABASE_BACKENDS = ("sqlite", "postgresql", "postgres")
DEFAULT_DATABASE_URL = "sqlite:///referral-bot.db"


class ConfigurationError(Exception):
    """Settings that cannot work: one line per problem, each naming its variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Everything an operator configures; see `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=0, le=65535)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    default_timezone: str = "UTC"
    default_currency: str = "USD"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # how often the scheduler asks the database what is due (also how soon a change made
    # through another instance is followed)
    scheduler_tick_seconds: float = Field(default=20.0, gt=0, le=60)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(f"{quoted(shown_url(value))} is not a database URL; "
                             f"{DATABASE_FORMS}") from None  # fmt: skip
        if backend not in DATABASE_BACKENDS:
            raise ValueError(f"{quoted(shown_url(value))} uses the unsupported scheme "
                             f"{quoted(backend)}; {DATABASE_FORMS}")  # fmt: skip
        return value

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> object:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and int(text) <= 65535):
            raise ValueError(f"{quoted(text)} is not a port number; use a whole number from "
                             "1 to 65535, e.g. 3000 (0: any free port)")  # fmt: skip
        return int(text)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone = timezone_name(value.strip())
        if zone is None:
            raise ValueError(f"{quoted(value)} is not an IANA timezone; use a name such as "
                             "Europe/London, America/New_York or UTC")  # fmt: skip
        return zone

    @field_validator("default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not is_currency_code(value.strip().upper()):
            raise ValueError(f"{quoted(value)} is not an ISO 4217 currency code; use three "
                             "letters such as USD, EUR or GBP")  # fmt: skip
        return value.strip().upper()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{quoted(str(value))} is not a log level; use "
                             "DEBUG, INFO, WARNING or ERROR")  # fmt: skip
        return level

    @property
    def log_level_set(self) -> bool:
        """True when LOG_LEVEL was given (environment or `.env`), not the default."""
        return "log_level" in self.model_fields_set

    @field_validator(*SLACK_FIELDS, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _slack_complete(self) -> Settings:
        problem = slack_problem({name: _plain(getattr(self, name)) for name in SLACK_FIELDS})
        if problem is not None:  # one line that names the settings (no "Value error, ")
            raise PydanticCustomError("slack_settings", problem)
        return self

    @model_validator(mode="after")
    def _telegram_webhook(self) -> Settings:
        url, secret = self.telegram_webhook_url, _plain(self.telegram_webhook_secret)
        if (problem := telegram_problem(url, secret)) is not None:
            raise PydanticCustomError("telegram_settings", problem)
        return self

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token or self.slack_client_id or self.slack_app_token)

    @property
    def telegram_configured(self) -> bool:
        return self.telegram_bot_token is not None


def load_settings() -> Settings:
    """The settings from the environment and `.env`, read once; `ConfigurationError` when
    a value cannot work."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError([_problem(e) for e in error.errors()]) from None


def _problem(error: ErrorDetails) -> str:
    """One line: the variable, then what is wrong (pydantic's own words where we have none,
    without its "Value error, " prefix and never with the value given)."""
    name = "_".join(str(part) for part in error["loc"]).upper()
    message = error["msg"].removeprefix("Value error, ")
    return f"{name}: {message}" if name else message


def quoted(value: str, limit: int = 80) -> str:
    """A value as a message shows it: in double quotes, shortened past `limit`."""
    value = value.strip()
    return '"' + (value if len(value) <= limit else value[: limit - 3] + "...") + '"'


def shown_url(url: str) -> str:
    """A database URL as it may be printed: its password hidden."""
    head, at, host = url.rpartition("@")
    if at:
        start = head.find("//") + 2 if "//" in head else 0
        user, colon, _ = head[start:].partition(":")
        url = head[:start] + user + (":***" if colon else "") + "@" + host
    base, question, query = url.partition("?")
    if question and "password" in query.lower():
        url = base + "?***"
    return url


def sqlite_file(url: str) -> Path | None:
    """The SQLite file a database URL names (None for PostgreSQL or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_database_file(settings: Settings, *, create: bool) -> None:
    """Refuse, naming DATABASE_URL and the path, an SQLite file that cannot be opened:
    missing (when `create` is false: a read never makes a database), a folder, or in a
    folder that does not exist or cannot be written."""
    path = sqlite_file(settings.database_url)
    if path is None:
        return
    where = path.absolute()
    if path.is_dir():
        raise ConfigurationError([f"DATABASE_URL: {where} is a folder, not an SQLite file; "
                                  f"{DATABASE_FORMS}"])  # fmt: skip
    if path.exists():
        return
    if not create:
        given = ("DATABASE_URL is not set: the default is referral-bot.db in the working "
                 "directory" if "database_url" not in settings.model_fields_set
                 else f"from {quoted(shown_url(settings.database_url))}")  # fmt: skip
        raise ConfigurationError([f"DATABASE_URL: there is no database at {where} ({given}); "
                                  "point DATABASE_URL at the bot's database, e.g. "
                                  "sqlite:////srv/referral-bot/referral-bot.db"])  # fmt: skip
    folder = where.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigurationError([f"DATABASE_URL: cannot create the SQLite file {where}: "
                                  f"{folder} {why}; create that folder, or give a path in "
                                  "an existing one (sqlite:///path.db)"])  # fmt: skip
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError([f"DATABASE_URL: cannot create the SQLite file {where}: "
                                  f"the folder {folder} is not writable; give a path in a "
                                  "folder the bot may write to (sqlite:///path.db)"])  # fmt: skip


def _plain(value: SecretStr | str | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
