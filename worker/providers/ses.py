"""E-mail through Amazon SES v2 `SendEmail` (raw content: the MIME of the text and HTML parts),
and SES's wire format on the signed path: REST-JSON requests, answers and errors."""

from __future__ import annotations

import json
from base64 import b64encode
from email.message import Message
from email.utils import formataddr

from botocore.exceptions import ClientError

from worker.providers.aws import (
    AwsProvider,
    SignedEndpoint,
    answered,
    generic_error,
    provider_error,
)
from worker.providers.content import Email

SEND_EMAIL = "/v2/email/outbound-emails"


class SesEmailProvider(AwsProvider):
    """Sends e-mail with SES v2: signed requests of Herald's own, or the boto3 client's."""

    kind = "ses"
    service = "sesv2"
    operation = "send_email"

    def build(self, content: Email) -> dict:
        return {
            "FromEmailAddress": formataddr((content.from_name or "", content.from_address)),
            "Destination": {"ToAddresses": [content.to]},
            "Content": {"Raw": {"Data": bytes(content.mime())}},
        }

    def post_signed(self, endpoint: SignedEndpoint, request: dict) -> dict:
        """`SendEmail` of raw content as REST-JSON: `{"MessageId"}` or ProviderError."""
        raw = {"Data": b64encode(request["Content"]["Raw"]["Data"]).decode()}
        body = json.dumps({**request, "Content": {"Raw": raw}}).encode()
        status, headers, data = endpoint.post(SEND_EMAIL, body, "application/json")
        if status >= 301:
            raise provider_error(ClientError(_error(status, headers, data), "SendEmail"))
        return answered(_json_object(data), status)

    def parse(self, response: dict) -> str:
        return response["MessageId"]


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


def _error(status: int, headers: Message, data: bytes) -> dict:
    """A REST-JSON error: the code from `x-amzn-ErrorType` (`Code:url`), else the body's `code`
    or `__type` (`namespace#Code`), else the status; the message from `message`/`Message`."""
    generic = generic_error(status, data)
    if generic is not None:
        return generic
    body = _json_object(data)
    code = headers.get("x-amzn-ErrorType")
    if code is None:
        code = body.get("code", body.get("Code", body.get("__type", str(status))))
    code = str(code).split(":", 1)[0].rsplit("#", 1)[-1]
    message = body.get("message", body.get("Message", ""))
    return answered({"Error": {"Code": code, "Message": message}}, status)
