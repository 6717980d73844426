"""`herald serve`: the embedded default, or the web process alone."""

from __future__ import annotations

import click

from api.cli.context import load_settings
from shared.infra.db import SchemaOutdated


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the embedded default, or the web process alone when REDIS_URL is set."""
    from werkzeug.serving import make_server

    from api import create_app

    settings = load_settings().serving(host, port)
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
