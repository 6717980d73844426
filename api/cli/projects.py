"""`herald project`, `herald key` and `herald secrets`: projects (tenants), their API keys and
widget secrets, and the sealing of stored secrets with HERALD_SECRET_KEY."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

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
    from shared.infra.secrets import secret_box
    from shared.infra.validation import check_email
    from shared.tenancy.projects import create_project

    if email_from is not None:
        try:
            email_from = check_email(email_from)
        except ValueError as exc:
            raise click.ClickException(f"--email-from: {exc}") from None
    if sms_sender_id is not None and not (sms_sender_id.isalnum() and len(sms_sender_id) <= 11):
        raise click.ClickException("--sms-sender-id must be 1 to 11 letters or digits.")
    settings = load_settings()
    box = secret_box(settings.secret_keys)
    with transaction(open_engine(settings)) as connection:
        created = create_project(
            connection, name, email_from, email_from_name, sms_sender_id, box=box
        )
    click.echo(json.dumps(created))


@project.command("rotate-widget-secret")
@click.argument("project_id")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=86400.0,
    show_default=True,
    help="Seconds the previous secret's HMACs stay valid (0: refused at once).",
)
def project_rotate_widget_secret(project_id: str, grace: float) -> None:
    """Give a project a new widget secret; prints {"projectId", "widgetSecret"} once."""
    from shared.infra.config import ConfigError
    from shared.infra.secrets import secret_box
    from shared.tenancy.projects import rotate_widget_secret

    settings = load_settings()
    box = secret_box(settings.secret_keys)
    try:
        with transaction(open_engine(settings)) as connection:
            secret = rotate_widget_secret(connection, box, project_id, timedelta(seconds=grace))
    except HeraldError as exc:
        raise click.ClickException(exc.message) from None
    except ConfigError as exc:  # the keys don't open the current secret
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"projectId": project_id, "widgetSecret": secret}))


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


@click.group("secrets")
def secrets_group() -> None:
    """The sealing of stored secrets with HERALD_SECRET_KEY."""


@secrets_group.command("new-key")
def secrets_new_key() -> None:
    """Print a new key for HERALD_SECRET_KEY."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@secrets_group.command("reencrypt")
def secrets_reencrypt() -> None:
    """Seal every stored secret under HERALD_SECRET_KEY's first key (plaintext ones, and ones
    sealed under a key listed after it), so older keys can be dropped."""
    from shared.infra.config import ConfigError
    from shared.infra.secrets import secret_box
    from shared.tenancy.projects import reseal_secrets

    settings = load_settings()
    if not settings.secret_keys:
        raise click.ClickException("Set HERALD_SECRET_KEY first: there is no key to seal with.")
    try:
        with transaction(open_engine(settings)) as connection:
            count = reseal_secrets(connection, secret_box(settings.secret_keys))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Sealed the widget secrets of {count} projects, the providers' URLs and the webhooks' "
        "secrets under the first key."
    )
