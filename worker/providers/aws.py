"""What the SES and SNS providers share: one boto3 client per process, errors mapped once."""

from __future__ import annotations

import logging
import re
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as NoConnection,
)

from shared.infra.config import Settings
from worker.providers.base import ProviderError

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
        if status >= 500:  # a gateway or a server failing after it took the request
            return ProviderError(code, message, unknown=True)
        return ProviderError(code, message)
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


def call(method, **kwargs) -> dict:
    """Call a boto3 client method; botocore errors become ProviderError."""
    try:
        return method(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise provider_error(exc) from exc
