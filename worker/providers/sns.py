"""SMS through Amazon SNS `Publish` to a phone number, and SNS's wire format on the signed path:
query-protocol requests, XML answers and errors."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from worker.providers.aws import (
    AwsProvider,
    SignedEndpoint,
    answered,
    generic_error,
    provider_error,
)
from worker.providers.content import Sms

VERSION = "2010-03-31"


class SnsSmsProvider(AwsProvider):
    """Sends SMS with SNS, as transactional messages: signed requests of Herald's own, or the
    boto3 client's."""

    kind = "sns"
    service = "sns"
    operation = "publish"

    def build(self, content: Sms) -> dict:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if content.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": content.sender_id,
            }
        return {"PhoneNumber": content.to, "Message": content.text, "MessageAttributes": attributes}

    def post_signed(self, endpoint: SignedEndpoint, request: dict) -> dict:
        """`Publish` in the query protocol: `{"MessageId"}` or ProviderError."""
        body = urlencode(_query(request)).encode()  # as botocore prepares a dict body
        content_type = "application/x-www-form-urlencoded; charset=utf-8"
        status, _headers, data = endpoint.post("/", body, content_type)
        if status >= 301:
            raise provider_error(ClientError(_error(status, data), "Publish"))
        message_id = _xml(data).find(".//{*}MessageId")
        return answered({} if message_id is None else {"MessageId": message_id.text}, status)

    def parse(self, response: dict) -> str:
        return response["MessageId"]


def _query(request: dict) -> dict[str, str]:
    """`Publish`'s parameters, flattened as botocore's query serializer does."""
    params = {"Action": "Publish", "Version": VERSION}
    params.update({k: v for k, v in request.items() if k != "MessageAttributes"})
    for i, (name, value) in enumerate(request.get("MessageAttributes", {}).items(), 1):
        params[f"MessageAttributes.entry.{i}.Name"] = name
        for key, field in value.items():
            params[f"MessageAttributes.entry.{i}.Value.{key}"] = field
    return params


def _error(status: int, data: bytes) -> dict:
    """A query-protocol error: `<ErrorResponse><Error><Code/><Message/></Error>`."""
    generic = generic_error(status, data)
    if generic is not None:
        return generic
    root = _xml(data)
    errors = _child(root, "Errors")
    error = _child(root if errors is None else errors, "Error")
    if error is None:
        return answered({}, status)
    fields = {_tag(node): node.text for node in error}
    parsed = {"Error": {"Code": fields.get("Code"), "Message": fields.get("Message")}}
    return answered(parsed, status)


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
