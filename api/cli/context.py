"""What every command runs with: the settings, and an engine on an up-to-date schema."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from shared.infra.config import ConfigError, Settings
from shared.infra.db import SchemaOutdated, ensure_schema, make_engine
from shared.templating.isolated import use_settings


def load_settings() -> Settings:
    """The settings from the environment; a wrong variable is the command's error line."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    use_settings(settings)  # `notifications import` compiles templates in the render pool
    return settings


def open_engine(settings: Settings) -> Engine:
    """An engine on an up-to-date schema (the embedded SQLite file upgrades itself)."""
    engine = make_engine(settings)
    try:
        ensure_schema(engine, settings.embedded)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None
    return engine
