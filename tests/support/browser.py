"""Browser fixtures: a running Herald on a loopback port, Debian's headless Chromium driven by
Playwright, and a page of another origin that embeds the bell the way a customer's app does."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from shared.feed.reading import user_hmac
from tests.support.calls import answer, send, upsert_notification, upsert_users
from tests.support.data import comment_notification, token

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

NOTIFICATION = comment_notification("<b>{{ author }}</b> commented: {{ text }}")


@contextlib.contextmanager
def served(app):
    """The app served over HTTP on a free loopback port, for the block: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def herald_url(herald):
    """The module's Herald (each mode) served over HTTP on a free loopback port."""
    with served(herald.app) as url:
        yield url


class AppPages:
    """The customer's app: pages served from another origin than Herald's (localhost and
    another port), so every call the bell makes crosses CORS, as on a real site."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.origin = f"http://localhost:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wsgi(self, environ, start_response):
        html = self.pages.get(environ["PATH_INFO"])
        status = "200 OK" if html else "404 Not Found"
        start_response(status, [("Content-Type", "text/html; charset=utf-8")])
        return [(html or "").encode()]

    def add(self, html: str) -> str:
        """Serve a page; its URL."""
        path = f"/app-{token()}"
        self.pages[path] = html
        return self.origin + path


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save their pictures: a temporary folder, so that a test run
    leaves the work tree as it was, unless HERALD_SCREENSHOTS names one
    (`HERALD_SCREENSHOTS=docs/screenshots` refreshes the README's)."""
    asked = os.environ.get("HERALD_SCREENSHOTS")
    if not asked:
        return tmp_path_factory.mktemp("screenshots")
    Path(asked).mkdir(parents=True, exist_ok=True)
    return Path(asked)


@pytest.fixture(scope="session")
def app_pages():
    pages = AppPages()
    yield pages
    pages.server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless; Playwright never fetches a browser of its own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # two shared cores in CI: room for a slow delivery

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context and page, 1280x800, light colour scheme."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


class Customer:
    """A project with the test notification and one user, and the calls its server makes."""

    def __init__(self, client, project: dict, herald_url: str, app_pages: AppPages) -> None:
        self.client = client
        self.app_pages = app_pages
        self.project = project
        self.herald_url = herald_url
        self.user_id = f"u-{token()}"
        upsert_notification(client, NOTIFICATION)
        [result] = upsert_users(
            client, {"id": self.user_id, "email": f"{self.user_id}@example.com"}
        )
        assert result["ok"], result

    def send(self, count: int = 1, **fields) -> list[dict]:
        """Send `count` comments to the user (in batches of 50); their results."""
        results = []
        for start in range(0, count, 50):
            items = [
                {
                    "notificationId": "comment",
                    "userId": self.user_id,
                    "data": {"author": "Ann", "text": f"note {start + n}"},
                    **fields,
                }
                for n in range(min(50, count - start))
            ]
            results += send(self.client, *items)
        return results

    def feed(self) -> dict:
        """The user's feed as the frontend API answers it (first page, total, unread)."""
        options = self.bell_options()
        auth = {key: options[key] for key in ("projectId", "userId", "userHmac")}
        return answer(self.client.flask.get("/front/messages.list", query_string=auth))

    def bell_options(self, **extra) -> dict:
        """The options of Herald.init for this user."""
        return {
            "projectId": self.project["projectId"],
            "userId": self.user_id,
            "userHmac": user_hmac(self.project["widgetSecret"], self.user_id),
            "host": self.herald_url,
            "bellSelector": "#bell",
            "onClickMessage": None,
            **extra,
        }

    def open_app(self, page, **extra) -> None:
        """Load a page of the customer's app with the bell in its header."""
        options = json.dumps(self.bell_options(**extra))
        html = f"""<!doctype html><html><head><title>App</title>
<link rel="icon" href="data:image/png;base64,{TINY_PNG}"></head>
<body style="margin:0;font-family:sans-serif">
<header style="display:flex;justify-content:flex-end;padding:8px 16px;border-bottom:1px solid #ddd">
<div id="bell"></div></header>
<script src="{self.herald_url}/widget.js"></script>
<script>
  var options = {options};
  options.onClickMessage = function (m) {{ window.clicked = m.id; }};
  window.bell = Herald.init(options);
</script></body></html>"""
        page.goto(self.app_pages.add(html))


TINY_PNG = (  # a 16x16 indigo square, the page's own favicon
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAGUlEQVR4nGPwd3v6nxLMMGrAqAGjBgwXAwC/"
    "zHkf7/G+JwAAAABJRU5ErkJggg=="
)


@pytest.fixture
def customer(client, project, herald_url, app_pages) -> Customer:
    return Customer(client, project, herald_url, app_pages)
