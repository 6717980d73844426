"""The `herald providers` commands: a project's own provider chains (SPEC §8). A refusal
names the part that is wrong (`scheme`, `host`, `port`, `credentials`, a query parameter,
`project`, `name`, `priority`) and stores nothing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import click

from api.cli.context import load_settings, open_engine
from shared.infra.config import ConfigError
from shared.infra.errors import HeraldError
from shared.providers.urls import ProviderUrlError

CHANNELS = click.Choice(["email", "sms", "push"])


@click.group()
def providers() -> None:
    """A project's own provider chains, replacing the operator's default for its messages."""


@providers.command("add")
@click.argument("project_id")
@click.option("--channel", type=CHANNELS, required=True)
@click.option("--url", required=True, help="The provider URL (see the README).")
@click.option("--name", default=None, help="Its name in results (default: its kind).")
@click.option("--priority", type=int, default=None, help="Lower goes first (default: last).")
def providers_add(project_id: str, channel: str, url: str, name, priority) -> None:
    """Add a provider to the end of a project's chain for a channel (or at --priority)."""
    from shared.providers.store import add_provider

    settings = load_settings()
    with _refusals():
        added = add_provider(
            open_engine(settings), settings.secret_keys, project_id, channel, url, name, priority
        )
    click.echo(json.dumps({"projectId": project_id, **added}))


@providers.command("list")
@click.argument("project_id")
def providers_list(project_id: str) -> None:
    """The project's own providers in chain order, secrets masked."""
    from shared.providers.store import list_providers

    settings = load_settings()
    with _refusals():
        listed = list_providers(open_engine(settings), settings.secret_keys, project_id)
    click.echo(json.dumps({"projectId": project_id, "providers": listed}))


@providers.command("remove")
@click.argument("project_id")
@click.argument("name")
def providers_remove(project_id: str, name: str) -> None:
    """Remove one of the project's providers by name."""
    from shared.providers.store import remove_provider

    with _refusals():
        remove_provider(open_engine(load_settings()), project_id, name)
    click.echo(json.dumps({"projectId": project_id, "removed": name}))


@providers.command("test")
@click.argument("project_id")
@click.argument("name")
@click.option("--to", "to", required=True, help="An e-mail address or an E.164 number.")
def providers_test(project_id: str, name: str, to: str) -> None:
    """Send one real message through that provider alone and print the outcome."""
    from api.cli.provider_test import send_test

    settings = load_settings()
    with _refusals():
        outcome = send_test(settings, open_engine(settings), project_id, name, to)
    click.echo(json.dumps({"projectId": project_id, "provider": name, **outcome}))
    if outcome["status"] != "sent":
        raise SystemExit(1)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A refused URL, an unknown project or name, a missing key: the command's error line."""
    try:
        yield
    except ProviderUrlError as exc:
        raise click.ClickException(f"{exc.part}: {exc}") from None
    except HeraldError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
