"""`herald project` and `herald key`: projects (tenants) and their API keys."""

from __future__ import annotations

import json
import sys

import click

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction
from shared.infra.errors import HeraldError


@click.group()
def project() -> None:
    """Projects (tenants)."""


@project.command("create")
@click.argument("name")
@click.option("--email-from", help="Default From address of the project's e-mails.")
@click.option("--email-from-name", help="Default From name.")
@click.option("--sms-sender-id", help="Default SMS sender id (up to 11 characters).")
def project_create(
    name: str, email_from: str | None, email_from_name: str | None, sms_sender_id: str | None
) -> None:
    """Create a project; prints {"projectId", "apiKey", "widgetSecret"}."""
    from shared.infra.validation import check_email
    from shared.tenancy.projects import create_project

    if email_from is not None:
        try:
            email_from = check_email(email_from)
        except ValueError as exc:
            raise click.ClickException(f"--email-from: {exc}") from None
    if sms_sender_id is not None and not (sms_sender_id.isalnum() and len(sms_sender_id) <= 11):
        raise click.ClickException("--sms-sender-id must be 1 to 11 letters or digits.")
    with transaction(open_engine(load_settings())) as connection:
        created = create_project(connection, name, email_from, email_from_name, sms_sender_id)
    click.echo(json.dumps(created))


@click.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.argument("project_id")
def key_create(project_id: str) -> None:
    """Another API key of a project."""
    from shared.tenancy.projects import create_key

    try:
        with transaction(open_engine(load_settings())) as connection:
            click.echo(
                json.dumps({"projectId": project_id, "apiKey": create_key(connection, project_id)})
            )
    except HeraldError as exc:
        raise click.ClickException(exc.message) from None


@key.command("revoke")
def key_revoke() -> None:
    """Revoke the API key read from standard input (never from the command line, where other
    users of the machine and the shell's history would see it)."""
    from shared.tenancy.projects import revoke_key

    api_key = sys.stdin.readline().strip()
    if not api_key:
        raise click.ClickException("Give the key on standard input: `herald key revoke < key`.")
    with transaction(open_engine(load_settings())) as connection:
        if not revoke_key(connection, api_key):
            raise click.ClickException("No live API key matches.")
    click.echo("Revoked.")
