"""The `herald webhooks` commands (SPEC §9): a project's webhook endpoints added, listed,
removed, and its events sent again since a time."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import click

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction
from shared.infra.errors import HeraldError

_AGO = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@click.group()
def webhooks() -> None:
    """A project's webhook endpoints: where Herald posts what happens to its messages."""


@webhooks.command("add")
@click.argument("project_id")
@click.option("--url", required=True, help="The https URL Herald posts events to.")
@click.option("--events", default="*", show_default=True, help="Event types, comma-separated.")
@click.option("--description", default=None, help="A note for people.")
def webhooks_add(project_id: str, url: str, events: str, description: str | None) -> None:
    """Add an endpoint; prints it with its signing secret, shown this once."""
    from shared.tenancy.projects import load_project
    from shared.webhooks import upsert_webhook

    fields = {"url": url, "events": [e.strip() for e in events.split(",") if e.strip()]}
    if description is not None:
        fields["description"] = description
    settings = load_settings()
    with _errors(), transaction(open_engine(settings)) as connection:
        load_project(connection, project_id)
        click.echo(json.dumps(upsert_webhook(connection, settings, project_id, fields)))


@webhooks.command("list")
@click.argument("project_id")
def webhooks_list(project_id: str) -> None:
    """The project's endpoints, without their secrets."""
    from shared.tenancy.projects import load_project
    from shared.webhooks import list_webhooks

    with _errors(), open_engine(load_settings()).connect() as connection:
        load_project(connection, project_id)
        click.echo(json.dumps({"webhooks": list_webhooks(connection, project_id)}, indent=2))


@webhooks.command("remove")
@click.argument("project_id")
@click.argument("webhook_id")
def webhooks_remove(project_id: str, webhook_id: str) -> None:
    """Remove an endpoint and its deliveries."""
    from shared.webhooks import delete_webhook

    with _errors(), transaction(open_engine(load_settings())) as connection:
        delete_webhook(connection, project_id, webhook_id)
    click.echo(json.dumps({"projectId": project_id, "removed": webhook_id}))


@webhooks.command("replay")
@click.argument("project_id")
@click.option("--since", required=True, help="ISO 8601 time (UTC if no offset), or 30m, 2h, 1d.")
@click.option("--webhook", "webhook_id", default=None, help="Only this endpoint.")
def webhooks_replay(project_id: str, since: str, webhook_id: str | None) -> None:
    """Send again every event since a time to the endpoint (or to each endpoint that wants
    it); prints how many deliveries are pending again."""
    from shared.tenancy.projects import load_project
    from shared.webhooks.replay import replay

    start = parse_since(since)
    with _errors(), transaction(open_engine(load_settings())) as connection:
        load_project(connection, project_id)
        count = replay(connection, project_id, start, webhook_id)
    click.echo(json.dumps({"projectId": project_id, "since": start.isoformat(), "pending": count}))


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`--since`: an ISO 8601 time (UTC when it names no offset) or a span back from now."""
    ago = _AGO.match(value.strip())
    if ago:
        span = timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
        return (now or datetime.now(UTC)) - span
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither an ISO 8601 time nor a span such as 30m, 2h or 1d.",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """A domain error (unknown project or endpoint, a refused URL) as the error line."""
    try:
        yield
    except HeraldError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
