"""The web process's views: one blueprint per area, each parsing, calling `shared`, answering."""

from __future__ import annotations

from flask import Flask

from api.views import (
    assets,
    backend,
    bell,
    console,
    console_api,
    console_messages,
    console_messages_api,
    console_providers,
    console_users,
    demo,
    docs,
    endpoints,
    front,
    ops_page,
    probes,
    unsubscribe,
    webhooks,
)

BLUEPRINTS = (
    backend.bp,  # the backend API (SPEC §3)
    endpoints.bp,  # the webhook endpoints API (SPEC §9)
    front.bp,  # the frontend API (SPEC §4), the bell's calls
    bell.bp,  # /widget.js
    demo.bp,  # /demo, embedded mode only
    webhooks.bp,  # delivery feedback from SES through SNS
    ops_page.bp,  # /ops, the operator page
    console.bp,  # /console, the people's page (SPEC §11)
    console_api.bp,  # /console/api/, its JSON calls
    console_messages.bp,  # /console/<project>/messages, the Messages pages
    console_messages_api.bp,  # /console/api/<project>/messages.*, their JSON calls
    console_users.pages,  # /console/<project>/users, the Users page
    console_users.bp,  # its JSON calls
    console_providers.pages,  # /console/<project>/providers, Providers & webhooks
    console_providers.bp,  # its JSON calls
    unsubscribe.bp,  # /unsubscribe/<token>, the e-mails' one-click unsubscribe (SPEC §8)
    probes.bp,  # /healthz, /readyz, /metrics
    docs.bp,  # /openapi.json, /docs
)


def init_app(app: Flask) -> None:
    """Register every view, and the static files under /static/."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    assets.init_app(app)
