"""The `herald senders` commands: a project's allowed e-mail senders (SPEC §6)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import click

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction
from shared.infra.errors import HeraldError


@click.group()
def senders() -> None:
    """A project's allowed e-mail senders: addresses, or domains allowing every address at them."""


@senders.command("add")
@click.argument("project_id")
@click.argument("address_or_domain")
def senders_add(project_id: str, address_or_domain: str) -> None:
    """Allow a project to send from an address or from any address of a domain."""
    from shared.tenancy.senders import add_sender

    with _project_errors(), transaction(open_engine(load_settings())) as connection:
        sender = add_sender(connection, project_id, address_or_domain)
    click.echo(json.dumps({"projectId": project_id, "sender": sender}))


@senders.command("remove")
@click.argument("project_id")
@click.argument("address_or_domain")
def senders_remove(project_id: str, address_or_domain: str) -> None:
    """Stop allowing an address or a domain (templates already stored keep it until upserted)."""
    from shared.tenancy.senders import remove_sender

    with _project_errors(), transaction(open_engine(load_settings())) as connection:
        if not remove_sender(connection, project_id, address_or_domain):
            raise click.ClickException(
                f"{address_or_domain} is not an allowed sender of {project_id}."
            )
    click.echo(json.dumps({"projectId": project_id, "removed": address_or_domain}))


@senders.command("list")
@click.argument("project_id")
def senders_list(project_id: str) -> None:
    """The project's allowed senders."""
    from shared.tenancy.senders import list_senders

    with _project_errors(), open_engine(load_settings()).connect() as connection:
        click.echo(
            json.dumps({"projectId": project_id, "senders": list_senders(connection, project_id)})
        )


@contextlib.contextmanager
def _project_errors() -> Iterator[None]:
    """A domain error (unknown project, invalid sender) as the command's error line."""
    try:
        yield
    except HeraldError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
