"""SMS through Amazon SNS `Publish` to a phone number."""

from __future__ import annotations

from shared.config import Settings
from worker.providers.aws import call, make_client
from worker.providers.base import Provider, Sms


class SnsSmsProvider(Provider):
    """Sends SMS with SNS, as transactional messages."""

    def __init__(self, settings: Settings) -> None:
        self.client = make_client("sns", settings)

    def build(self, content: Sms) -> dict:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if content.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": content.sender_id,
            }
        return {"PhoneNumber": content.to, "Message": content.text, "MessageAttributes": attributes}

    def post(self, request: dict) -> dict:
        return call(self.client.publish, **request)

    def parse(self, response: dict) -> str:
        return response["MessageId"]
