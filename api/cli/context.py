"""What every command runs with: the settings, and an engine on an up-to-date schema."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from shared.infra.config import ConfigError, Settings
from shared.infra.db import SchemaOutdated, ensure_schema, make_engine


def load_settings() -> Settings:
    """The settings from the environment; a wrong variable is the command's error line."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def open_engine(settings: Settings) -> Engine:
    """An engine on an up-to-date schema (the embedded SQLite file upgrades itself)."""
    engine = make_engine(settings)
    try:
        ensure_schema(engine, settings.embedded)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None
    return engine
