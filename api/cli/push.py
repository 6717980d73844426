"""The `herald push` commands: the Web Push VAPID key pair (SPEC §10)."""

from __future__ import annotations

import click


@click.group()
def push() -> None:
    """Push notifications: the Web Push VAPID keys."""


@push.command("keys")
def push_keys() -> None:
    """Print a new VAPID key pair: the private key's line for the environment, then the public
    key (the applicationServerKey browsers subscribe with; the front API gives it too)."""
    from shared.push.vapid import new_key_pair

    private, public = new_key_pair()
    click.echo(f"HERALD_VAPID_PRIVATE_KEY={private}")
    click.echo(f"# public key (applicationServerKey): {public}")
