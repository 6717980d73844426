"""Herald's web process: the app factory."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.infra.broker import build_broker
from shared.infra.config import Settings
from shared.infra.db import ensure_schema, make_engine
from shared.infra.logs import configure_logging
from shared.push.vapid import with_embedded_key
from shared.templating.isolated import render_pool_started, use_settings


def create_app(settings: Settings | None = None, run_worker: bool | None = None) -> Flask:
    """Build the app. Embedded (no REDIS_URL): upgrade the SQLite file and run the worker pool
    in this process. Production: refuse an old schema; the workers run as their own processes."""
    configure_logging("web")
    settings = with_embedded_key(settings or Settings.from_env())
    use_settings(settings)  # tenants' templates render in this process's pool, so sized
    render_pool_started()  # its children start now, not at the first request
    engine = make_engine(settings)
    ensure_schema(engine, settings.embedded)
    broker = build_broker(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.json.compact = True
    # Read through `api.http.requests.services()`, which types them; a swapped one takes effect.
    app.extensions["herald"] = {"settings": settings, "engine": engine, "broker": broker}

    from api import views
    from api.http import errors, headers, ratelimit, tracing

    tracing.init_app(app)
    errors.init_app(app)
    ratelimit.init_app(app)
    headers.init_app(app)
    views.init_app(app)
    if settings.trusted_proxies:
        # The client's address, scheme, host and port as the nearest trusted proxy saw them.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    if settings.embedded if run_worker is None else run_worker:
        from worker.runtime import start_worker  # the embedded mode's in-process pool

        app.extensions["herald"]["worker"] = start_worker(broker, settings, engine)
    return app
