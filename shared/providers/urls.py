"""Provider URLs (SPEC §8): each kind of provider declared once (its channel, default port,
whether it names a host and takes credentials, its query parameters), and `parse_provider_url`,
which reads a URL into a `ProviderUrl` or refuses it with the part that is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit


class ProviderUrlError(ValueError):
    """A provider URL Herald can't use: `part` names what is wrong, the message says why."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part
        self.message = message


@dataclass(frozen=True)
class Kind:
    """One kind of provider: its channel, how its URL is written."""

    name: str
    channel: str
    host: bool = False  # the URL names a host (and may name a port)
    port: int | None = None  # the default port
    credentials: bool = False  # the URL may carry USER:PASS (a secret)
    required_credentials: bool = False
    options: tuple[str, ...] = ()  # the query parameters it takes
    required_options: tuple[str, ...] = ()  # those it can't go without
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # an option's allowed values


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("ses", "email", options=("region", "configurationSet")),
        Kind(
            "smtp",
            "email",
            host=True,
            port=587,
            credentials=True,
            options=("tls",),
            choices={"tls": ("starttls", "none")},
        ),
        Kind("smtps", "email", host=True, port=465, credentials=True),
        Kind("sns", "sms", options=("region", "senderId")),
        Kind(
            "twilio",
            "sms",
            credentials=True,
            required_credentials=True,
            options=("from", "messagingServiceSid", "baseUrl"),
        ),
        Kind("webpush", "push", options=("subject",)),
        Kind("fcm", "push", options=("credentials", "baseUrl"), required_options=("credentials",)),
        Kind(
            "apns",
            "push",
            options=("key", "keyId", "teamId", "topic", "host"),
            required_options=("key", "keyId", "teamId", "topic"),
        ),
        Kind("outbox", "email"),
        Kind("outbox", "sms"),
        Kind("outbox", "push"),
    )
    if kind.name != "outbox"
}
CHANNEL_KINDS = {
    "email": ("ses", "smtp", "smtps", "outbox"),
    "sms": ("sns", "twilio", "outbox"),
    "push": ("webpush", "fcm", "apns", "outbox"),
}
_OUTBOX = {channel: Kind("outbox", channel) for channel in CHANNEL_KINDS}


@dataclass(frozen=True)
class ProviderUrl:
    """A parsed provider URL. `url` is the whole URL, secret included: never log it
    (`masked` is the form to show)."""

    channel: str
    kind: str
    name: str
    url: str = field(repr=False)
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def secret(self) -> bool:
        """True when the URL carries a secret (credentials)."""
        return self.password is not None or self.username is not None

    @property
    def masked(self) -> str:
        """The URL with its password (and a Twilio auth token) replaced by `***`; the user
        name too when it is the password (Postmark's server token is both)."""
        user = ""
        if self.username is not None:
            shown = "***" if self.username == self.password else quote(self.username, safe="")
            user = shown + (":***" if self.password is not None else "") + "@"
        where = self.host or ""
        if self.host and ":" in self.host:
            where = f"[{self.host}]"
        if self.port is not None and self.host:
            where += f":{self.port}"
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in self.options.items())
        return f"{self.kind}://{user}{where}" + (f"?{query}" if query else "")


def parse_provider_url(channel: str, url: str, name: str | None = None) -> ProviderUrl:
    """Read a provider URL of this channel; ProviderUrlError naming the wrong part."""
    if channel not in CHANNEL_KINDS:
        raise ProviderUrlError("channel", f"The channel must be one of {', '.join(CHANNEL_KINDS)}.")
    if len(url) > 2000 or any(ord(char) < 33 for char in url):
        raise ProviderUrlError("url", "A provider URL has at most 2,000 characters, no spaces.")
    if "://" not in url and url in CHANNEL_KINDS[channel]:
        url += "://"  # the earlier single names: `ses`, `outbox`
    parts, port = _split(url)
    kind = _kind(channel, parts.scheme)
    host, user, password = parts.hostname, parts.username, parts.password
    if kind.host and not host:
        raise ProviderUrlError("host", f"A {kind.name}:// URL names its server's host.")
    if not kind.host and (host or port is not None):
        raise ProviderUrlError("host", f"A {kind.name}:// URL names no host.")
    if (user is not None or password is not None) and not kind.credentials:
        raise ProviderUrlError("credentials", f"A {kind.name}:// URL takes no credentials.")
    if kind.required_credentials and not (user and password):
        raise ProviderUrlError("credentials", f"A {kind.name}:// URL names USER:SECRET@.")
    if parts.path not in ("", "/") or parts.fragment:
        raise ProviderUrlError("path", f"A {kind.name}:// URL has no path or fragment.")
    options = _options(kind, parts.query)
    return ProviderUrl(
        channel=channel,
        kind=kind.name,
        name=name or kind.name,
        url=url,
        host=host,
        port=port if port is not None else kind.port if kind.host else None,
        username=unquote(user) if user is not None else None,
        password=unquote(password) if password is not None else None,
        options=options,
    )


def _split(url: str):
    """The URL's parts and port, or the part that can't be read (a port is 1 to 65535)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ProviderUrlError("host", f"The URL's host can't be read: {exc}.") from None
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise ProviderUrlError("port", "The URL's port is a number from 1 to 65535.")
    return parts, port


def _kind(channel: str, scheme: str) -> Kind:
    """The kind a URL's scheme names, if the channel has it."""
    if scheme not in CHANNEL_KINDS[channel]:
        allowed = ", ".join(f"{name}://" for name in CHANNEL_KINDS[channel])
        raise ProviderUrlError("scheme", f"An {channel} provider URL starts with {allowed}.")
    return _OUTBOX[channel] if scheme == "outbox" else KINDS[scheme]


def _options(kind: Kind, query: str) -> dict[str, str]:
    """The URL's query parameters, each one the kind takes, given once, with a value."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ProviderUrlError("query", "The URL's query can't be read.") from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if key not in kind.options:
            takes = ", ".join(kind.options) or "none"
            raise ProviderUrlError(
                key, f"A {kind.name}:// URL takes no {key!r} (it takes: {takes})."
            )
        if key in options or not value:
            raise ProviderUrlError(key, f"The URL gives {key!r} once, with a value.")
        if key in kind.choices and value not in kind.choices[key]:
            raise ProviderUrlError(key, f"{key} must be one of {', '.join(kind.choices[key])}.")
        options[key] = value
    for key in kind.required_options:
        if key not in options:
            raise ProviderUrlError(key, f"A {kind.name}:// URL gives {key}=.")
    if kind.name == "twilio" and ("from" in options) == ("messagingServiceSid" in options):
        raise ProviderUrlError("from", "A twilio:// URL gives from or messagingServiceSid, one.")
    if "baseUrl" in options and urlsplit(options["baseUrl"]).scheme not in ("http", "https"):
        raise ProviderUrlError("baseUrl", "baseUrl is an http:// or https:// URL.")
    return options


def parse_chain(channel: str, value: str) -> tuple[ProviderUrl, ...]:
    """A comma-separated chain of provider URLs (an environment variable), first tried first;
    members of one kind are named `kind`, `kind-2`, ..."""
    chain: list[ProviderUrl] = []
    seen: dict[str, int] = {}
    for url in (part.strip() for part in value.split(",")):
        if not url:
            raise ProviderUrlError("url", "A chain of provider URLs has no empty member.")
        scheme = url.split("://", 1)[0]
        seen[scheme] = seen.get(scheme, 0) + 1
        name = scheme if seen[scheme] == 1 else f"{scheme}-{seen[scheme]}"
        chain.append(parse_provider_url(channel, url, name))
    return tuple(chain)
