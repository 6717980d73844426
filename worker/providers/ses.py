"""E-mail through Amazon SES v2 `SendEmail` (simple content: HTML and text parts)."""

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
        body = {}
        if content.html is not None:
            body["Html"] = {"Data": content.html, "Charset": "UTF-8"}
        if content.text is not None:
            body["Text"] = {"Data": content.text, "Charset": "UTF-8"}
        request = {
            "FromEmailAddress": formataddr((content.from_name or "", content.from_address)),
            "Destination": {"ToAddresses": [content.to]},
            "Content": {
                "Simple": {"Subject": {"Data": content.subject, "Charset": "UTF-8"}, "Body": body}
            },
        }
        if content.reply_to:
            request["ReplyToAddresses"] = [content.reply_to]
        return request

    def post(self, request: dict) -> dict:
        return call(self.client.send_email, **request)

    def parse(self, response: dict) -> str:
        return response["MessageId"]
