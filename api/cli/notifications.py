"""`herald notifications import`: notifications from a JSON or YAML file."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction
from shared.infra.errors import HeraldError


@click.group()
def notifications() -> None:
    """Notifications."""


@notifications.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", "project_id", required=True, help="The project's id.")
def notifications_import(file: Path, project_id: str) -> None:
    """Upsert the notifications of a JSON or YAML file (a list)."""
    from shared.notifications.catalog import parse_notification, upsert_notification
    from shared.tenancy.projects import load_project

    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{file} is not JSON or YAML: {exc}") from None
    if not isinstance(loaded, list):
        raise click.ClickException(f"{file} must hold a list of notifications.")
    engine = open_engine(load_settings())
    try:
        values = [parse_notification(item) for item in loaded]
        with transaction(engine) as connection:
            load_project(connection, project_id)
            for value in values:
                upsert_notification(connection, project_id, value)
    except HeraldError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message} Nothing was imported.") from None
    click.echo(f"Imported {len(values)} notification(s) into {project_id}.")
