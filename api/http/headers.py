"""The headers of every answer: never framed, never sniffed, and a content security policy
that lets each page load only what it needs (nothing at all for JSON, scripts and images)."""

from __future__ import annotations

from flask import Flask, Response, request


def _policy(**directives: str) -> str:
    """A Content-Security-Policy value from its directives (`script_src` is `script-src`)."""
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


_LOCKED = {
    "default_src": "'none'",
    "base_uri": "'none'",
    "form_action": "'none'",
    "frame_ancestors": "'none'",
}
# JSON answers, the bell's script, stylesheets, images: nothing is a page to run.
NOTHING = _policy(**_LOCKED)
# /ops: its own script and stylesheet, its JSON calls, its sign-in form.
OPS = _policy(
    **_LOCKED
    | {
        "script_src": "'self'",
        "style_src": "'self'",
        "img_src": "'self'",
        "connect_src": "'self'",
        "form_action": "'self'",
    }
)
# /console: its own script and stylesheet, its JSON calls, its sign-in form. Styles may also be
# inline: CodeMirror writes its style elements, and the e-mail preview (a sandboxed srcdoc frame,
# which inherits this policy) is styled inline as e-mails are; its images come from anywhere, as
# push icons do. No script runs in the frame (sandbox="").
CONSOLE = _policy(
    **_LOCKED
    | {
        "script_src": "'self'",
        "style_src": "'self' 'unsafe-inline'",
        "img_src": "'self' data: https:",
        "connect_src": "'self'",
        "frame_src": "'self'",
        "form_action": "'self'",
    }
)
# /docs: Swagger UI's bundle draws its icons from data: URLs; "Try it out" calls this Herald.
DOCS = _policy(
    **_LOCKED
    | {
        "script_src": "'self'",
        "style_src": "'self'",
        "img_src": "'self' data:",
        "connect_src": "'self'",
    }
)
# /demo: the bell writes its stylesheet into its shadow root; message icons come from anywhere.
DEMO = _policy(
    **_LOCKED
    | {
        "script_src": "'self'",
        "style_src": "'self' 'unsafe-inline'",
        "img_src": "'self' data: https:",
        "connect_src": "'self'",
    }
)
# /unsubscribe/<token>: its stylesheet and its one form, which posts to the page's own URL.
UNSUBSCRIBE = _policy(**_LOCKED | {"style_src": "'self'", "form_action": "'self'"})
# /widget-sw.js: the bell's service worker fetches nothing itself; the notifications it shows
# load their icons (a message's icon, from anywhere over https).
SERVICE_WORKER = _policy(**_LOCKED | {"img_src": "'self' data: https:"})
PAGES = {"ops_page.page": OPS, "ops_page.login": OPS, "docs.docs": DOCS, "demo.page": DEMO}
PAGES |= {"unsubscribe.page": UNSUBSCRIBE, "unsubscribe.confirm": UNSUBSCRIBE}
PAGES |= {"bell.widget_sw_js": SERVICE_WORKER}
PAGES |= {
    f"console.{view}": CONSOLE
    for view in ("page", "login", "logout", "notifications", "new_notification", "notification")
}
PAGES |= {f"console_messages.{view}": CONSOLE for view in ("messages", "message")}
PAGES |= {f"console_users_pages.{view}": CONSOLE for view in ("users_page", "user_page")}
PAGES |= {"console_providers_pages.providers_page": CONSOLE}


def add_headers(response: Response) -> Response:
    """The frame, sniffing and content security headers, the policy chosen by the view."""
    response.headers["Content-Security-Policy"] = PAGES.get(request.endpoint or "", NOTHING)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every answer, errors included."""
    app.after_request(add_headers)
