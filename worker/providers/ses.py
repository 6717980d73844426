"""E-mail through Amazon SES v2 `SendEmail` (raw content: the MIME of the text and HTML parts)."""

from __future__ import annotations

from email.utils import formataddr

from shared.config import Settings
from worker.providers.aws import call, make_client
from worker.providers.base import Email, Provider


class SesEmailProvider(Provider):
    """Sends e-mail with SES v2."""

    def __init__(self, settings: Settings) -> None:
        self.client = make_client("sesv2", settings)

    def build(self, content: Email) -> dict:
        return {
            "FromEmailAddress": formataddr((content.from_name or "", content.from_address)),
            "Destination": {"ToAddresses": [content.to]},
            "Content": {"Raw": {"Data": bytes(content.mime())}},
        }

    def post(self, request: dict) -> dict:
        return call(self.client.send_email, **request)

    def parse(self, response: dict) -> str:
        return response["MessageId"]
