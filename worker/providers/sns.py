"""SMS through Amazon SNS `Publish` to a phone number."""

from __future__ import annotations

from shared.infra.config import Settings
from worker.providers.aws import call
from worker.providers.base import Provider, Sms
from worker.providers.signed import open_service, publish


class SnsSmsProvider(Provider):
    """Sends SMS with SNS, as transactional messages: signed requests of Herald's own, or the
    boto3 client's."""

    def __init__(self, settings: Settings) -> None:
        self.client, self.endpoint = open_service("sns", settings)

    def build(self, content: Sms) -> dict:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if content.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": content.sender_id,
            }
        return {"PhoneNumber": content.to, "Message": content.text, "MessageAttributes": attributes}

    def post(self, request: dict) -> dict:
        if self.endpoint is not None:
            return publish(self.endpoint, request)
        return call(self.client.publish, **request)

    def parse(self, response: dict) -> str:
        return response["MessageId"]
