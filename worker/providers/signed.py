"""SES v2 `SendEmail` and SNS `Publish` as requests Herald builds, signs with botocore's SigV4
and sends over a kept-alive connection of its thread (`HERALD_AWS_CALLS=signed`).

botocore's event machinery and urllib3 session cost most of a client call's CPU, not the HTTP
exchange. boto3 still resolves the endpoint (once), the credentials (each call, refreshed ones
included) and the timeouts; the answers and failures are turned into the botocore errors that
`aws.provider_error` classifies, so both paths end in one mapping.
"""

from __future__ import annotations

import http.client
import json
import select
import ssl
import threading
import xml.etree.ElementTree as ElementTree
from base64 import b64encode
from email.message import Message
from urllib.parse import urlencode, urlsplit

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import get_cert_path
from botocore.parsers import ResponseParserError

from shared.infra.config import Settings
from worker.providers.aws import make_client, provider_error

Answer = tuple[int, Message, bytes]
SES_SEND_EMAIL = "/v2/email/outbound-emails"
SNS_VERSION = "2010-03-31"


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


def open_service(service: str, settings: Settings):
    """The boto3 client of `service` and, with `HERALD_AWS_CALLS=signed`, its signed endpoint
    (the same session's credentials, endpoint, timeouts and CA bundle)."""
    core = botocore.session.get_session()
    session = boto3.session.Session(botocore_session=core)
    client = make_client(service, settings, session)
    if settings.aws_calls != "signed":
        return client, None
    return client, SignedEndpoint(client, session, core.get_config_variable("ca_bundle"))


def send_email(endpoint: SignedEndpoint, request: dict) -> dict:
    """SES v2 `SendEmail` of raw content (REST-JSON): `{"MessageId"}` or ProviderError."""
    raw = {"Data": b64encode(request["Content"]["Raw"]["Data"]).decode()}
    body = json.dumps({**request, "Content": {"Raw": raw}}).encode()
    status, headers, data = endpoint.post(SES_SEND_EMAIL, body, "application/json")
    if status >= 301:
        raise provider_error(ClientError(_json_error(status, headers, data), "SendEmail"))
    return _metadata(_json_object(data), status)


def publish(endpoint: SignedEndpoint, request: dict) -> dict:
    """SNS `Publish` (query protocol, XML answers): `{"MessageId"}` or ProviderError."""
    body = urlencode(_query(request)).encode()  # as botocore prepares a dict body
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    status, _headers, data = endpoint.post("/", body, content_type)
    if status >= 301:
        raise provider_error(ClientError(_query_error(status, data), "Publish"))
    message_id = _xml(data).find(".//{*}MessageId")
    parsed = {} if message_id is None else {"MessageId": message_id.text}
    return _metadata(parsed, status)


def _query(request: dict) -> dict[str, str]:
    """`Publish`'s parameters, flattened as botocore's query serializer does."""
    params = {"Action": "Publish", "Version": SNS_VERSION}
    params.update({k: v for k, v in request.items() if k != "MessageAttributes"})
    for i, (name, value) in enumerate(request.get("MessageAttributes", {}).items(), 1):
        params[f"MessageAttributes.entry.{i}.Name"] = name
        for key, field in value.items():
            params[f"MessageAttributes.entry.{i}.Value.{key}"] = field
    return params


def _metadata(parsed: dict, status: int) -> dict:
    """A parsed answer with its status, as botocore returns it."""
    parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
    return parsed


def _generic_error(status: int, data: bytes) -> dict | None:
    """A 5xx without a protocol body (empty, or a gateway's HTML page), as botocore reads it:
    the status for code, its reason for message."""
    if status < 500 or (data.strip() and not data.strip().startswith(b"<html>")):
        return None
    reason = http.client.responses.get(status, "")
    return _metadata({"Error": {"Code": str(status), "Message": reason}}, status)


def _json_object(data: bytes) -> dict:
    """A JSON body; one that is not JSON becomes its message, as botocore reads it."""
    if not data:
        return {}
    text = data.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"message": text}
    return parsed if isinstance(parsed, dict) else {"message": text}


def _json_error(status: int, headers: Message, data: bytes) -> dict:
    """A REST-JSON error: the code from `x-amzn-ErrorType` (`Code:url`), else the body's `code`
    or `__type` (`namespace#Code`), else the status; the message from `message`/`Message`."""
    generic = _generic_error(status, data)
    if generic is not None:
        return generic
    body = _json_object(data)
    code = headers.get("x-amzn-ErrorType")
    if code is None:
        code = body.get("code", body.get("Code", body.get("__type", str(status))))
    code = str(code).split(":", 1)[0].rsplit("#", 1)[-1]
    message = body.get("message", body.get("Message", ""))
    return _metadata({"Error": {"Code": code, "Message": message}}, status)


def _query_error(status: int, data: bytes) -> dict:
    """A query-protocol error: `<ErrorResponse><Error><Code/><Message/></Error>`."""
    generic = _generic_error(status, data)
    if generic is not None:
        return generic
    root = _xml(data)
    errors = _child(root, "Errors")
    error = _child(root if errors is None else errors, "Error")
    if error is None:
        return _metadata({}, status)
    fields = {_tag(node): node.text for node in error}
    parsed = {"Error": {"Code": fields.get("Code"), "Message": fields.get("Message")}}
    return _metadata(parsed, status)


def _xml(data: bytes) -> ElementTree.Element:
    """An XML answer, parsed by the standard library with no document type (so no entities
    to expand). Anything else raises botocore's ResponseParserError, as the client does (not
    a ProviderError: an answer that can't be read leaves the send unknown)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ResponseParserError("Unable to parse response: a document type is not expected")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ResponseParserError(f"Unable to parse response ({exc}), invalid XML") from exc


def _child(node: ElementTree.Element, name: str) -> ElementTree.Element | None:
    """The first child of `node` called `name`, whatever its namespace."""
    return next((child for child in node if _tag(child) == name), None)


def _tag(node: ElementTree.Element) -> str:
    """An element's name without its namespace."""
    return node.tag.rsplit("}", 1)[-1]
