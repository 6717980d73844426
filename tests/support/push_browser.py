"""The bell's browser notifications under test: a VAPID key for the Herald, pages that host the
bell at Herald's own origin (where /widget-sw.js is), and the stand-in for the push service
that headless Chromium can't reach."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.support.data import token


def vapid_private_key() -> str:
    """A new P-256 private key, PEM, as HERALD_VAPID_PRIVATE_KEY takes it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


class HostPages:
    """Herald's app with pages of the test's on top, at the same origin: a service worker
    must be of the page's origin, so the page that subscribes is served beside /widget-sw.js
    (every other path is Herald's)."""

    def __init__(self, app) -> None:
        self.app = app
        self.pages: dict[str, str] = {}

    def __call__(self, environ, start_response):
        html = self.pages.get(environ["PATH_INFO"])
        if html is None:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]

    def add(self, bell_options: dict | None = None) -> str:
        """Serve a page with the bell in its header, mounted with these options (none: an
        empty header); its path."""
        path = f"/host-{token()}"
        bell = (
            '<script src="/widget.js"></script>\n'
            f"<script>window.bell = Herald.init({json.dumps(bell_options)});</script>"
            if bell_options
            else ""
        )
        self.pages[path] = f"""<!doctype html><html><head><title>Host</title></head>
<body style="margin:0;font-family:sans-serif">
<header style="display:flex;justify-content:flex-end;padding:8px 16px;border-bottom:1px solid #ddd">
<div id="bell"></div></header>
{bell}
</body></html>"""
        return path


# Headless Chromium can't subscribe for real: in a Playwright context (off the record) push
# is refused ("Registration failed - permission denied"), and in a persistent profile
# subscribe() waits forever for Google's push service, which this machine can't reach. This
# stands in for the push service only: PushManager's subscribe and getSubscription answer a
# PushSubscription whose endpoint is a loopback URL and whose keys are a real P-256 key pair
# made here with WebCrypto and 16 random auth bytes. The permission, the service worker's
# registration and the calls to Herald stay the browser's own. `window.pushStandIn` records
# the subscribe calls' applicationServerKey (base64url) and the endpoints unsubscribed.
PUSH_SERVICE_STAND_IN = """
(() => {
  if (!("PushManager" in window)) return;
  const STORE = "herald-test-push-subscription";
  const record = (window.pushStandIn = { serverKeys: [], unsubscribed: [] });
  const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const bytes = (text) => Uint8Array.from(
    atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

  function subscription(saved) {
    const json = { endpoint: saved.endpoint, expirationTime: null, keys: saved.keys };
    const own = {
      endpoint: saved.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: bytes(saved.serverKey).buffer },
      getKey: (name) => bytes(saved.keys[name]).buffer,
      toJSON: () => json,
      unsubscribe: async () => {
        localStorage.removeItem(STORE);
        record.unsubscribed.push(saved.endpoint);
        return true;
      },
    };
    const made = Object.create(PushSubscription.prototype);
    for (const name in own) Object.defineProperty(made, name, { value: own[name] });
    return made;
  }

  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(STORE);
    return saved ? subscription(JSON.parse(saved)) : null;
  };

  PushManager.prototype.subscribe = async function (options) {
    if (Notification.permission !== "granted") {
      throw new DOMException("Registration failed - permission denied", "NotAllowedError");
    }
    const serverKey = b64(options.applicationServerKey);
    record.serverKeys.push(serverKey);
    const pair = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = b64(await crypto.subtle.exportKey("raw", pair.publicKey));
    const auth = b64(crypto.getRandomValues(new Uint8Array(16)));
    const id = b64(crypto.getRandomValues(new Uint8Array(12)));
    const saved = {
      endpoint: "https://127.0.0.1:8443/push/" + id, serverKey: serverKey, keys: { p256dh, auth },
    };
    localStorage.setItem(STORE, JSON.stringify(saved));
    return subscription(saved);
  };
})();
"""
