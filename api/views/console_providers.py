"""The console's Providers & webhooks page (SPEC §11): each provider of the project's chains
with its health and a test send through it alone (`herald providers test`'s function); the
webhook endpoints with their state, a test (`webhooks.test`'s), their deliveries
(`webhooks.deliveries`') and a replay since a time (`herald webhooks replay`'s)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from api.cli.provider_test import send_test as provider_test
from api.http.requests import json_body, query_id, services
from api.views.console import _shell, _signed_in
from api.views.console_api import _seen, check_session
from shared.infra.db import autocommit, transaction
from shared.infra.errors import HeraldError
from shared.providers.health import project_health
from shared.providers.urls import ProviderUrlError
from shared.webhooks.deliveries import DeliveryFilter, list_deliveries, send_test
from shared.webhooks.endpoints import failing_since, list_webhooks
from shared.webhooks.replay import replay

pages = Blueprint("console_providers_pages", __name__)
bp = Blueprint("console_providers", __name__, url_prefix="/console/api")
bp.before_request(check_session)


@pages.get("/console/<project_id>/providers")
def providers_page(project_id: str):
    """The project's providers and webhook endpoints."""
    viewer = _signed_in()
    return viewer if isinstance(viewer, Response) else _shell(viewer, project_id, "providers")


def _text(body: dict, name: str) -> str:
    """A required string field of a JSON body."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise HeraldError(f"{name}/required", f"{name} is required, a string.")
    return value.strip()


@bp.get("/<project_id>/providers.health")
def providers_health(project_id: str):
    """Each provider of the project's chains, with its circuit's state and figures."""
    with autocommit(services().engine) as connection:
        return {"providers": project_health(connection, services().settings, _seen(project_id))}


@bp.post("/<project_id>/providers.test")
def providers_test(project_id: str):
    """One real message through that provider alone, to the address the operator typed."""
    body = json_body()
    name, to = _text(body, "name"), _text(body, "to")
    svc = services()
    try:
        outcome = provider_test(svc.settings, svc.engine, _seen(project_id), name, to)
    except ProviderUrlError as refused:
        raise HeraldError("provider/notFound", str(refused)) from None
    return {"provider": name, **outcome}


@bp.get("/<project_id>/webhooks.list")
def webhooks_list(project_id: str):
    """The endpoints as `webhooks.list` shows them, with when each began failing."""
    with autocommit(services().engine) as connection:
        shown = list_webhooks(connection, _seen(project_id))
        since = failing_since(connection, project_id)
    return {"webhooks": [{**hook, "failingSince": since.get(hook["id"])} for hook in shown]}


@bp.post("/<project_id>/webhooks.test")
def webhooks_test(project_id: str):
    """A `webhook.test` event posted now, as `webhooks.test` does."""
    svc = services()
    return send_test(svc.engine, svc.settings, _seen(project_id), _text(json_body(), "id"))


@bp.get("/<project_id>/webhooks.deliveries")
def webhooks_deliveries(project_id: str):
    """A page of the endpoint's deliveries, as `webhooks.deliveries` answers."""
    wanted = DeliveryFilter.from_query(request.args)
    with autocommit(services().engine) as connection:
        return list_deliveries(connection, _seen(project_id), query_id(), wanted)


@bp.post("/<project_id>/webhooks.replay")
def webhooks_replay(project_id: str):
    """Every event since a time sent again to the endpoint, as `herald webhooks replay`."""
    body = json_body()
    webhook_id, raw = _text(body, "id"), _text(body, "since")
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        raise HeraldError("since/invalid", f"{raw!r} is not an ISO 8601 time.") from None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    with transaction(services().engine) as connection:
        pending = replay(connection, _seen(project_id), since, webhook_id)
    return {"ok": True, "since": since.isoformat(), "pending": pending}
