"""The webhook endpoints API (SPEC §9): a project's endpoints saved, listed, deleted, their
secrets rotated, one tested now, and their deliveries read. Backend key auth, as SPEC §3's."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, request
from pydantic import Field, StringConstraints

from api.http.auth import current_project, require_project
from api.http.ratelimit import limit_project
from api.http.requests import json_body, query_id, refuse_nul_in_query, services
from shared.infra.db import autocommit, transaction
from shared.infra.validation import Item, parse_item
from shared.webhooks import (
    EVENT_TYPES,
    DeliveryFilter,
    delete_webhook,
    list_deliveries,
    list_webhooks,
    rotate_secret,
    send_test,
    upsert_webhook,
)

bp = Blueprint("endpoints", __name__)
bp.before_request(refuse_nul_in_query)
bp.before_request(require_project)
bp.before_request(limit_project)

WebhookId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WebhookBody(Item):
    """`webhooks.upsert`'s body: types here, the URL and the events' names in shared."""

    id: WebhookId | None = None
    url: str
    events: Annotated[list[EventName], Field(min_length=1, max_length=len(EVENT_TYPES) + 1)]
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    enabled: bool | None = None


class NamedWebhook(Item):
    """The body of a call that names one endpoint: `{"id"}`."""

    id: WebhookId


def _named() -> str:
    """The endpoint id of a `{"id"}` body."""
    return parse_item(NamedWebhook, json_body(), required=("id",)).id


@bp.post("/webhooks.upsert")
def webhooks_upsert():
    """Create an endpoint (its secret shown this once) or change one."""
    body = parse_item(WebhookBody, json_body(), required=("url", "events"))
    fields: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    if fields.get("enabled") is None:
        fields.pop("enabled", None)
    svc = services()
    with transaction(svc.engine) as connection:
        return upsert_webhook(connection, svc.settings, current_project().id, fields)


@bp.get("/webhooks.list")
def webhooks_list():
    """The project's endpoints (never their secrets)."""
    with autocommit(services().engine) as connection:
        return {"webhooks": list_webhooks(connection, current_project().id)}


@bp.post("/webhooks.delete")
def webhooks_delete():
    """Remove an endpoint and its deliveries."""
    webhook_id = _named()
    with transaction(services().engine) as connection:
        delete_webhook(connection, current_project().id, webhook_id)
    return {"ok": True, "id": webhook_id}


@bp.post("/webhooks.rotateSecret")
def webhooks_rotate_secret():
    """A new secret; the old one signs too for 24 h."""
    webhook_id = _named()
    svc = services()
    with transaction(svc.engine) as connection:
        return rotate_secret(connection, svc.settings, current_project().id, webhook_id)


@bp.post("/webhooks.test")
def webhooks_test():
    """Post a `webhook.test` event to the endpoint now; what it answered, and how fast."""
    webhook_id = _named()
    svc = services()
    return send_test(svc.engine, svc.settings, current_project().id, webhook_id)


@bp.get("/webhooks.deliveries")
def webhooks_deliveries():
    """The endpoint's deliveries, newest first, cursor-paged."""
    webhook_id = query_id()
    wanted = DeliveryFilter.from_query(request.args)
    with autocommit(services().engine) as connection:
        return list_deliveries(connection, current_project().id, webhook_id, wanted)
