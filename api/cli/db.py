"""`herald db`: the database schema."""

from __future__ import annotations

import click

from api.cli.context import load_settings
from shared.infra.db import make_engine, upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations."""
    upgrade(make_engine(load_settings()))
    click.echo("The database schema is up to date.")
