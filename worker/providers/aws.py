"""What the SES and SNS providers share: `AwsProvider`, which posts a provider's request either
through the boto3 client (`HERALD_AWS_CALLS=boto3`) or as a request signed with botocore's
SigV4 and sent on a kept-alive connection of its thread (`signed`); and the one mapping of
botocore's errors, of both paths, to ProviderError.

botocore's event machinery and urllib3 session cost most of a client call's CPU, not the HTTP
exchange. On the signed path boto3 still resolves the endpoint (once), the credentials (each
call, refreshed ones included) and the timeouts; each provider turns its service's answers and
failures into the botocore errors that `provider_error` classifies, so both paths end in one
mapping.
"""

from __future__ import annotations

import http.client
import logging
import re
import select
import ssl
import threading
from email.message import Message
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.exceptions import ConnectionError as NoConnection
from botocore.httpsession import get_cert_path

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.base import Provider, ProviderError

Answer = tuple[int, Message, bytes]
# Codes of requests the provider did not process, which a later attempt may get through.
TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "InternalErrorException",
    "ServiceUnavailableException",
    "SlowDown",
}
# Codes about Herald's own AWS identity: their messages name the account, user and resources
# (ARNs), which are the operator's business, not a project's.
ACCOUNT_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "NotAuthorized",
}
ACCOUNT_MESSAGE = "Herald's AWS account may not send this; its operator's log has the details."
# An ARN or a 12-digit account id, in any other message.
_ACCOUNT_DETAIL = re.compile(r"arn:aws[a-z-]*:[^\s\"',;]*|(?<!\d)\d{12}(?!\d)")
_lock = threading.Lock()
log = logging.getLogger("herald.providers")


class AwsProvider(Provider):
    """A provider of one AWS service: its requests posted by `post_signed` (`HERALD_AWS_CALLS=
    signed`) or by the boto3 client's `operation`, with the same arguments."""

    service = ""  # botocore's name of the service: "sesv2", "sns"
    operation = ""  # the client's method: "send_email", "publish"

    def __init__(self, settings: Settings, url: ProviderUrl) -> None:
        super().__init__(settings, url)
        client, self.endpoint = open_service(self.service, settings)
        self.client_call = getattr(client, self.operation)

    def post(self, request: dict) -> dict:
        if self.endpoint is not None:
            return self.post_signed(self.endpoint, request)
        try:
            return self.client_call(**request)
        except (BotoCoreError, ClientError) as exc:
            raise provider_error(exc) from exc

    def post_signed(self, endpoint: SignedEndpoint, request: dict) -> dict:
        """The operation as a signed request: its answer as the client returns it, or
        ProviderError."""
        raise NotImplementedError(f"{type(self).__name__} must implement post_signed")


def open_service(service: str, settings: Settings):
    """The boto3 client of `service` and, with `HERALD_AWS_CALLS=signed`, its signed endpoint
    (the same session's credentials, endpoint, timeouts and CA bundle)."""
    core = botocore.session.get_session()
    session = boto3.session.Session(botocore_session=core)
    client = make_client(service, settings, session)
    if settings.aws_calls != "signed":
        return client, None
    return client, SignedEndpoint(client, session, core.get_config_variable("ca_bundle"))


def make_client(service: str, settings: Settings, session: boto3.session.Session | None = None):
    """A thread-safe boto3 client with explicit timeouts and no retries of botocore's own."""
    config = Config(
        region_name=settings.aws_region,
        connect_timeout=min(settings.provider_timeout, 3.0),
        read_timeout=settings.provider_timeout,
        retries={"total_max_attempts": 1},
        max_pool_connections=max(settings.worker_threads, 10),
        tcp_keepalive=True,
        parameter_validation=False,  # the providers build every request themselves
    )
    with _lock:  # creating clients is not thread-safe; using them is
        return (session or boto3.session.Session()).client(
            service, endpoint_url=settings.aws_endpoint_url, config=config
        )


def provider_error(exc: BotoCoreError | ClientError) -> ProviderError:
    """Map a botocore exception to a ProviderError by what it says of the request: refused
    (failed), not processed or never sent (transient: a retry may get through), or answered
    by no one after it was sent (unknown: it may have gone)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = public_message(code, error.get("Message") or str(exc))
        if code in TRANSIENT_CODES or status in (429, 503):
            return ProviderError(code, message, transient=True)
        if code in ACCOUNT_CODES or status in (401, 403):  # refused before anything was taken
            return ProviderError(code, message, failover=True)
        if status >= 500:  # a gateway or a server failing after it took the request
            return ProviderError(code, message, unknown=True)
        return ProviderError(code, message)
    if isinstance(exc, NoCredentialsError):  # nothing signed, nothing sent
        return ProviderError("NoCredentials", str(exc), failover=True)
    if isinstance(exc, NoConnection):  # no connection, so nothing was sent
        return ProviderError("ConnectionFailed", str(exc), transient=True)
    if isinstance(exc, ReadTimeoutError):
        return ProviderError("Timeout", f"no answer within the read timeout: {exc}", unknown=True)
    if isinstance(exc, HTTPClientError):  # the connection broke during the exchange
        return ProviderError("ConnectionClosed", str(exc), unknown=True)
    return ProviderError(type(exc).__name__, str(exc))


def public_message(code: str, message: str) -> str:
    """The provider's message as a project may see it: a generic sentence for errors about
    Herald's AWS identity, account ids and ARNs masked in the others; the full one is logged."""
    if code in ACCOUNT_CODES:
        log.error("provider refused Herald's AWS identity: %s: %s", code, message)
        return ACCOUNT_MESSAGE
    masked = _ACCOUNT_DETAIL.sub("[redacted]", message)
    if masked != message:
        log.error("provider error naming the AWS account: %s: %s", code, message)
    return masked


def answered(parsed: dict, status: int) -> dict:
    """A parsed answer with its status, as botocore returns it."""
    parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
    return parsed


def generic_error(status: int, data: bytes) -> dict | None:
    """A 5xx without a protocol body (empty, or a gateway's HTML page), as botocore reads it:
    the status for code, its reason for message."""
    if status < 500 or (data.strip() and not data.strip().startswith(b"<html>")):
        return None
    reason = http.client.responses.get(status, "")
    return answered({"Error": {"Code": str(status), "Message": reason}}, status)


class SignedEndpoint:
    """One AWS service's endpoint, as botocore resolved it, called with signed requests over one
    kept-alive connection per thread (HTTPS with verified certificates for an `https` URL)."""

    def __init__(self, client, session: boto3.session.Session, ca_bundle: str | None) -> None:
        self.url = client.meta.endpoint_url
        parts = urlsplit(self.url)
        self.https = parts.scheme == "https"
        self.tls = ssl.create_default_context(cafile=ca_bundle or get_cert_path(True))
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        default_port = parts.port in (None, 443 if self.https else 80)
        self.host_header = self.host if default_port else f"{self.host}:{parts.port}"
        self.prefix = parts.path.rstrip("/")
        self.region = client.meta.region_name
        self.signing_name = client.meta.service_model.signing_name
        self.connect_timeout = client.meta.config.connect_timeout
        self.read_timeout = client.meta.config.read_timeout
        self.credentials = session.get_credentials()
        self.local = threading.local()

    def post(self, path: str, body: bytes, content_type: str) -> Answer:
        """Sign and send one POST; its status, headers and body. Failures raise ProviderError."""
        try:
            return self._exchange(path, body, self._signed(path, body, content_type))
        except BotoCoreError as exc:
            raise provider_error(exc) from exc

    def _signed(self, path: str, body: bytes, content_type: str) -> dict[str, str]:
        """The request's headers, signed with the credentials of the moment."""
        if self.credentials is None:
            raise NoCredentialsError()
        request = AWSRequest(
            "POST",
            f"{self.url.rstrip('/')}{path}",
            data=body,
            headers={"Host": self.host_header, "Content-Type": content_type},
        )
        frozen = self.credentials.get_frozen_credentials()
        SigV4Auth(frozen, self.signing_name, self.region).add_auth(request)
        return dict(request.headers.items())

    def _exchange(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """Send on this thread's connection and read the whole answer. Once the request started
        going out, a broken connection or a late answer means it may have arrived."""
        connection = self._connection()
        try:
            connection.request("POST", self.prefix + path, body, headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError as exc:
            self._drop()
            raise ReadTimeoutError(endpoint_url=self.url, error=exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise ConnectionClosedError(endpoint_url=self.url) from exc
        if response.will_close:
            self._drop()
        return response.status, response.headers, data

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection, opened anew when there is none or the server closed it
        while it was idle (noticed here, before the request, so it costs no send)."""
        connection = getattr(self.local, "connection", None)
        if connection is not None and connection.sock is not None:
            if not _dropped(connection.sock):
                return connection
            self._drop()
        connection = self._open()
        self.local.connection = connection
        return connection

    def _open(self) -> http.client.HTTPConnection:
        """A new connection within the connect timeout; failing, nothing was sent."""
        if self.https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.connect_timeout, context=self.tls
            )
        else:
            connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.connect_timeout
            )
        try:
            connection.connect()
        except TimeoutError as exc:
            raise ConnectTimeoutError(endpoint_url=self.url, error=exc) from exc
        except ssl.SSLError as exc:
            raise SSLError(endpoint_url=self.url, error=exc) from exc
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=self.url, error=exc) from exc
        connection.sock.settimeout(self.read_timeout)
        return connection

    def _drop(self) -> None:
        """Close this thread's connection; the next request opens another."""
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            connection.close()


def _dropped(sock) -> bool:
    """True when an idle connection is readable: the server closed it (or wrote out of turn),
    as urllib3's `is_connection_dropped` tells."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
