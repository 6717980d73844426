"""The `herald` command line (SPEC §6): one module per command group, assembled here."""

from __future__ import annotations

import click

from api.cli import (
    db,
    limits,
    notifications,
    projects,
    providers,
    push,
    queues,
    senders,
    serve,
    suppressions,
    webhooks,
)

COMMANDS = (
    serve.serve,
    db.db,
    projects.project,
    projects.key,
    projects.secrets_group,
    notifications.notifications,
    queues.queues,
    queues.sweep,
    suppressions.suppressions,
    limits.limits,
    senders.senders,
    providers.providers,
    push.push,
    webhooks.webhooks,
)


@click.group()
def main() -> None:
    """Herald: self-hosted notifications by e-mail, SMS and an in-app feed."""


for command in COMMANDS:
    main.add_command(command)
