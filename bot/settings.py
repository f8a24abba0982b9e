"""Runtime settings, read from the environment (and an optional ``.env`` file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.errors import ConfigError

_DIGEST_SCHEDULE = re.compile(r"(mon|tue|wed|thu|fri|sat|sun) ([01][0-9]|2[0-3]):[0-5][0-9]")


class Settings(BaseSettings):
    """Everything Handrail reads from its environment; secrets stay ``SecretStr``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./handrail.db", alias="HANDRAIL_DATABASE_URL"
    )
    database_schema: str | None = Field(
        default=None, alias="HANDRAIL_DATABASE_SCHEMA", pattern=r"^[a-z_][a-z0-9_]{0,62}$"
    )
    config_path: Path = Field(default=Path("./workflows.yml"), alias="HANDRAIL_CONFIG")
    host: str = Field(default="127.0.0.1", alias="HANDRAIL_HOST")
    port: int = Field(default=8080, ge=1, le=65535, alias="HANDRAIL_PORT")
    public_url: str = Field(default="http://127.0.0.1:8080", alias="HANDRAIL_PUBLIC_URL")
    max_body_bytes: int = Field(default=1024 * 1024, alias="HANDRAIL_MAX_BODY_BYTES")
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    timezone: str = Field(default="UTC", alias="HANDRAIL_TIMEZONE")
    digest_schedule: str = Field(
        default="mon 09:00",
        alias="HANDRAIL_DIGEST_SCHEDULE",
        description="When the weekly failure review goes out, in HANDRAIL_TIMEZONE",
    )
    scheduler_enabled: bool = Field(default=True, alias="HANDRAIL_SCHEDULER")
    outbox_worker_enabled: bool = Field(default=True, alias="HANDRAIL_OUTBOX_WORKER")
    log_format: Literal["text", "json"] = Field(default="text", alias="HANDRAIL_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="HANDRAIL_LOG_LEVEL"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    wakeups_enabled: bool = Field(
        default=True,
        alias="HANDRAIL_WAKEUPS",
        description="Wake other processes on this database at once (off: they re-read only)",
    )
    reread_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        alias="HANDRAIL_REREAD_SECONDS",
        description="How often a long-poll re-reads its handoff, in case a wake-up was lost",
    )
    outbox_poll_seconds: float = Field(
        default=0.2,
        gt=0,
        le=60,
        alias="HANDRAIL_OUTBOX_POLL_SECONDS",
        description="Longest the outbox worker sleeps between looks for due rows",
    )

    @field_validator("digest_schedule")
    @classmethod
    def _day_and_time(cls, value: str) -> str:
        value = " ".join(value.lower().split())
        if not _DIGEST_SCHEDULE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a day and a time; write it like 'mon 09:00' "
                "(mon, tue, wed, thu, fri, sat or sun, then 24-hour HH:MM)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value

    @property
    def slack_configured(self) -> bool:
        """Whether a bot token is set, so messages can actually reach Slack."""
        return self.slack_bot_token is not None

    @property
    def slack_reachable(self) -> bool:
        """Whether Slack can send clicks and commands in: HTTP with signatures, or Socket Mode."""
        return bool(self.slack_signing_secret or self.slack_app_token)  # an empty value is unset


def read_settings() -> Settings:
    """The settings from the environment; a bad value is a ``ConfigError`` naming its variable.

    Each problem is one line with the variable, what is wrong and the value read, so a
    typo in the environment stops the command without a traceback.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors(include_url=False)]) from None


def _describe(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "the environment"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = repr(error.get("input"))
    return f"{name}: {message}" + ("" if value in message else f" (got {value})")
