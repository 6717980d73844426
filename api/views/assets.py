"""Herald's static files under /static/: its own, and Swagger UI's bundled copy for /docs."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Flask, send_from_directory

OWN = Path(__file__).resolve().parents[1] / "static"  # api/static
SWAGGER_UI = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_PREFIX = "swagger-ui/"


def static(filename: str):
    """A file of api/static, or of Swagger UI under `swagger-ui/`."""
    if filename.startswith(SWAGGER_PREFIX):
        return send_from_directory(SWAGGER_UI, filename.removeprefix(SWAGGER_PREFIX))
    return send_from_directory(OWN, filename)


def init_app(app: Flask) -> None:
    """Serve the files as the app's `static` endpoint (the app has no static folder of its
    own, so the files of two packages can share one prefix)."""
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=static)
