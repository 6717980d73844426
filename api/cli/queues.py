"""`herald queues` and `herald sweep`: the delivery queue, its dead letters, the sweeper."""

from __future__ import annotations

import json

import click

from api.cli.context import load_settings, open_engine


@click.group(invoke_without_command=True)
@click.pass_context
def queues(context: click.Context) -> None:
    """Per queue: ready, delayed, in progress, dead letters; and in the database, messages
    waiting and messages failed with `delivery/crashed`."""
    from shared.infra.broker import QUEUE, build_broker
    from shared.operations.queues import messages_waiting, queue_depths

    if context.invoked_subcommand is not None:
        return
    settings = load_settings()
    report: dict = {"database": messages_waiting(open_engine(settings))}
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

    settings = load_settings()
    if settings.embedded:
        raise click.ClickException(
            "The embedded mode's dead letters live inside `herald serve`: requeue them on /ops."
        )
    engine = open_engine(settings)
    broker = build_broker(settings)
    letters = select_letters(engine, broker, message_id)
    if message_id is not None and not letters:
        raise click.ClickException(f"No dead letter of message {message_id!r}.")
    click.echo(json.dumps({"requeued": requeue(broker, letters)}))


@click.command()
def sweep() -> None:
    """One pass of the sweeper: release due scheduled messages, re-enqueue stuck ones."""
    from shared.infra.broker import build_broker
    from shared.messages.sweeper import sweep as sweep_once

    settings = load_settings()
    if settings.embedded:
        raise click.ClickException(
            "The embedded mode sweeps inside `herald serve`; "
            "`herald sweep` is for the production mode."
        )
    engine = open_engine(settings)
    click.echo(json.dumps(sweep_once(engine, build_broker(settings), settings)))
