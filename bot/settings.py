"""The one settings object: environment variables (and a `.env` file), typed and checked."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.money import is_currency_code
from bot.parsing import timezone_name
from bot.slack_config import SLACK_FIELDS, slack_problem


class Settings(BaseSettings):
    """Everything an operator configures; see `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite:///referral-bot.db"
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

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone = timezone_name(value)
        if zone is None:
            raise ValueError(f"unknown IANA timezone {value!r}")
        return zone

    @field_validator("default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not is_currency_code(value.upper()):
            raise ValueError(f"unknown ISO 4217 currency {value!r}")
        return value.upper()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

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

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token or self.slack_client_id or self.slack_app_token)

    @property
    def telegram_configured(self) -> bool:
        return self.telegram_bot_token is not None


def _plain(value: SecretStr | str | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
