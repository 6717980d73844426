"""`herald suppressions`: e-mail addresses suppressed by bounces and complaints."""

from __future__ import annotations

import json

import click

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction


@click.group()
def suppressions() -> None:
    """E-mail addresses suppressed by permanent bounces and complaints."""


@suppressions.command("list")
@click.argument("project_id")
def suppressions_list(project_id: str) -> None:
    """The project's suppressed addresses, as JSON."""
    from shared.contacts.suppressions import list_suppressions

    with transaction(open_engine(load_settings())) as connection:
        click.echo(json.dumps(list_suppressions(connection, project_id), indent=2))


@suppressions.command("remove")
@click.argument("project_id")
@click.argument("address")
def suppressions_remove(project_id: str, address: str) -> None:
    """Let e-mail go to an address again."""
    from shared.contacts.suppressions import remove_suppression

    with transaction(open_engine(load_settings())) as connection:
        if not remove_suppression(connection, project_id, address):
            raise click.ClickException(f"{address} is not suppressed in {project_id}.")
    click.echo(f"{address} is no longer suppressed in {project_id}.")
