"""What each channel's provider is given: its content, built from the message's rendering
(`shared.templating.message`), the user's address and the project's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from worker.providers.base import Email, Sms

Content = dict[str, str | None]
ProviderContent = Email | Sms  # what a provider's `build` takes


def email_content(message_id: str, to: str, content: Content, project: Any) -> Email:
    """The e-mail to send (its From is set: the rendering's `missing` said so)."""
    return Email(
        message_id,
        to,
        content["from"],
        content["fromName"],
        content["replyTo"],
        content["subject"],
        content["html"],
        content["text"],
    )


def sms_content(message_id: str, to: str, content: Content, project: Any) -> Sms:
    """The SMS to send, from the project's sender id."""
    return Sms(message_id, to, content["text"], project.sms_sender_id)


# Channel name -> the builder of its provider's content.
CONTENTS: dict[str, Callable[[str, str, Content, Any], ProviderContent]] = {
    "email": email_content,
    "sms": sms_content,
}
