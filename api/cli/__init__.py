"""The `herald` command line (SPEC §6)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from shared.infra.config import ConfigError, Settings
from shared.infra.db import SchemaOutdated, ensure_schema, make_engine, transaction, upgrade
from shared.infra.errors import HeraldError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _engine(settings: Settings):
    """An engine on an up-to-date schema (the embedded SQLite file upgrades itself)."""
    engine = make_engine(settings)
    try:
        ensure_schema(engine, settings.embedded)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None
    return engine


@click.group()
def main() -> None:
    """Herald: self-hosted notifications by e-mail, SMS and an in-app feed."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the embedded default, or the web process alone when REDIS_URL is set."""
    from werkzeug.serving import make_server

    from api import create_app

    settings = _settings()
    try:
        app = create_app(settings)
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None
    mode = "embedded (SQLite, in-process worker, outbox)" if settings.embedded else "production"
    click.echo(f"Herald listening on http://{host}:{port} - {mode} mode")
    if settings.embedded:
        click.echo(f"Outbox: {settings.outbox_dir.resolve()}")
    server = make_server(host, port, app, threaded=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker = app.extensions["herald"].get("worker")
        if worker is not None:
            worker.stop()


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations."""
    settings = _settings()
    upgrade(make_engine(settings))
    click.echo("The database schema is up to date.")


@main.group()
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
    with transaction(_engine(_settings())) as connection:
        created = create_project(connection, name, email_from, email_from_name, sms_sender_id)
    click.echo(json.dumps(created))


@main.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.argument("project_id")
def key_create(project_id: str) -> None:
    """Another API key of a project."""
    from shared.tenancy.projects import create_key

    try:
        with transaction(_engine(_settings())) as connection:
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
    with transaction(_engine(_settings())) as connection:
        if not revoke_key(connection, api_key):
            raise click.ClickException("No live API key matches.")
    click.echo("Revoked.")


@main.group()
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
    engine = _engine(_settings())
    try:
        values = [parse_notification(item) for item in loaded]
        with transaction(engine) as connection:
            load_project(connection, project_id)
            for value in values:
                upsert_notification(connection, project_id, value)
    except HeraldError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message} Nothing was imported.") from None
    click.echo(f"Imported {len(values)} notification(s) into {project_id}.")


@main.group(invoke_without_command=True)
@click.pass_context
def queues(context: click.Context) -> None:
    """Per queue: ready, delayed, in progress, dead letters; and in the database, messages
    waiting and messages failed with `delivery/crashed`."""
    from shared.infra.broker import QUEUE, build_broker
    from shared.operations.queues import messages_waiting, queue_depths

    if context.invoked_subcommand is not None:
        return
    settings = _settings()
    report: dict = {"database": messages_waiting(_engine(settings))}
    if settings.embedded:
        report["broker"] = "in-process (embedded mode): its queue lives in the web process"
    else:
        report[QUEUE] = queue_depths(build_broker(settings))
    click.echo(json.dumps(report, indent=2))


@queues.command("requeue")
@click.option("--message-id", help="Only the dead letters of this message (or job) id.")
def queues_requeue(message_id: str | None) -> None:
    """Move dead-lettered delivery jobs back to the queue; final channels are not sent again."""
    from shared.infra.broker import build_broker
    from shared.operations.queues import requeue, select_letters

    settings = _settings()
    if settings.embedded:
        raise click.ClickException(
            "The embedded mode's dead letters live inside `herald serve`: requeue them on /ops."
        )
    engine = _engine(settings)
    broker = build_broker(settings)
    letters = select_letters(engine, broker, message_id)
    if message_id is not None and not letters:
        raise click.ClickException(f"No dead letter of message {message_id!r}.")
    click.echo(json.dumps({"requeued": requeue(broker, letters)}))


@main.group()
def suppressions() -> None:
    """E-mail addresses suppressed by permanent bounces and complaints."""


@suppressions.command("list")
@click.argument("project_id")
def suppressions_list(project_id: str) -> None:
    """The project's suppressed addresses, as JSON."""
    from shared.contacts.suppressions import list_suppressions

    with transaction(_engine(_settings())) as connection:
        click.echo(json.dumps(list_suppressions(connection, project_id), indent=2))


@suppressions.command("remove")
@click.argument("project_id")
@click.argument("address")
def suppressions_remove(project_id: str, address: str) -> None:
    """Let e-mail go to an address again."""
    from shared.contacts.suppressions import remove_suppression

    with transaction(_engine(_settings())) as connection:
        if not remove_suppression(connection, project_id, address):
            raise click.ClickException(f"{address} is not suppressed in {project_id}.")
    click.echo(f"{address} is no longer suppressed in {project_id}.")


@main.command()
def sweep() -> None:
    """One pass of the sweeper: release due scheduled messages, re-enqueue stuck ones."""
    from shared.infra.broker import build_broker
    from shared.messages.sweeper import sweep as sweep_once

    settings = _settings()
    if settings.embedded:
        raise click.ClickException(
            "The embedded mode sweeps inside `herald serve`; "
            "`herald sweep` is for the production mode."
        )
    engine = _engine(settings)
    click.echo(json.dumps(sweep_once(engine, build_broker(settings), settings)))


@main.group()
def limits() -> None:
    """Request budgets of the backend API."""


@limits.command("set")
@click.argument("project_id")
@click.option("--rate", type=float, required=True, help="Requests a second, refilled steadily.")
@click.option("--burst", type=int, required=True, help="Requests at once, after a quiet spell.")
def limits_set(project_id: str, rate: float, burst: int) -> None:
    """Set a project's backend API budget."""
    from shared.tenancy.ratelimit import Budget, set_project_budget

    try:
        with transaction(_engine(_settings())) as connection:
            set_project_budget(connection, project_id, Budget(rate, burst))
    except HeraldError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"projectId": project_id, "rate": rate, "burst": burst}))


# Registered last: its commands import this module's settings and engine when they run.
from api.cli.senders import senders  # noqa: E402

main.add_command(senders)

if __name__ == "__main__":
    sys.exit(main())
