"""HTTP posting for the push providers (FCM, APNs): a kept-alive httpx client per worker
thread, and one place that reads an answer with a cap and says what a failure means."""

from __future__ import annotations

import threading

import httpx

from worker.providers.base import ProviderError

MAX_BODY = 64 * 1024


def kept_alive(timeout: float, http2: bool = False) -> httpx.Client:
    """A client keeping one connection alive, following no redirect."""
    return httpx.Client(
        http1=not http2,
        http2=http2,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


class ThreadClients:
    """One kept-alive client per worker thread, made on its first post."""

    def __init__(self, timeout: float, http2: bool = False) -> None:
        self.timeout, self.http2 = timeout, http2
        self._local = threading.local()

    def get(self) -> httpx.Client:
        """This thread's client."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = kept_alive(self.timeout, self.http2)
        return client

    def close(self) -> None:
        """Close this thread's client (a command that sends once, then exits)."""
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            client.close()


def posted(client, url, body, headers, name, method="POST") -> tuple[int, httpx.Headers, bytes]:
    """The answer's status, headers and body (at most 64 KiB read); ProviderError `transient`
    when no connection was made, `unknown` when the request may have gone."""
    try:
        with client.stream(method, url, content=body, headers=headers) as response:
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BODY:
                    break
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        why = str(exc) or type(exc).__name__
        raise ProviderError(f"{name}/connect", why, transient=True) from exc
    except httpx.HTTPError as exc:
        why = str(exc) or type(exc).__name__
        raise ProviderError(f"{name}/no-answer", why, unknown=True) from exc
    return response.status_code, response.headers, bytes(data[:MAX_BODY])
