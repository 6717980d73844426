"""E-mail through Amazon SES v2 `SendEmail` (raw content: the MIME of the text and HTML parts)."""

from __future__ import annotations

from email.utils import formataddr

from shared.infra.config import Settings
from worker.providers.aws import call
from worker.providers.base import Email, Provider
from worker.providers.signed import open_service, send_email


class SesEmailProvider(Provider):
    """Sends e-mail with SES v2: signed requests of Herald's own, or the boto3 client's."""

    def __init__(self, settings: Settings) -> None:
        self.client, self.endpoint = open_service("sesv2", settings)

    def build(self, content: Email) -> dict:
        return {
            "FromEmailAddress": formataddr((content.from_name or "", content.from_address)),
            "Destination": {"ToAddresses": [content.to]},
            "Content": {"Raw": {"Data": bytes(content.mime())}},
        }

    def post(self, request: dict) -> dict:
        if self.endpoint is not None:
            return send_email(self.endpoint, request)
        return call(self.client.send_email, **request)

    def parse(self, response: dict) -> str:
        return response["MessageId"]
