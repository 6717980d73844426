"""`herald limits`: request budgets of the backend API."""

from __future__ import annotations

import json

import click

from api.cli.context import load_settings, open_engine
from shared.infra.db import transaction
from shared.infra.errors import HeraldError


@click.group()
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
        with transaction(open_engine(load_settings())) as connection:
            set_project_budget(connection, project_id, Budget(rate, burst))
    except HeraldError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"projectId": project_id, "rate": rate, "burst": burst}))
