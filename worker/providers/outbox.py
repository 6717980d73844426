"""The embedded default's providers: each e-mail an `.eml` file, each SMS a line of `sms.log`."""

from __future__ import annotations

import json
import os
import threading
import uuid
from email.utils import make_msgid

from shared.infra.config import Settings
from worker.providers.base import Provider, ProviderError
from worker.providers.content import Email, Sms


class OutboxEmailProvider(Provider):
    """Writes each e-mail as `<outbox>/email/<provider id>.eml`."""

    name = "outbox"

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.outbox_dir / "email"
        self.folder.mkdir(parents=True, exist_ok=True)

    def build(self, content: Email) -> tuple[str, bytes]:
        provider_id = str(uuid.uuid4())
        mail = content.mime()
        mail["Message-ID"] = make_msgid(idstring=provider_id)
        return provider_id, bytes(mail)

    def post(self, request: tuple[str, bytes]) -> str:
        provider_id, data = request
        try:
            (self.folder / f"{provider_id}.eml").write_bytes(data)
        except OSError as exc:
            raise ProviderError("OutboxWriteFailed", str(exc)) from exc
        return provider_id

    def parse(self, response: str) -> str:
        return response


class OutboxSmsProvider(Provider):
    """Appends each SMS as one JSON line to `<outbox>/sms.log`."""

    name = "outbox"
    _lock = threading.Lock()

    def __init__(self, settings: Settings) -> None:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        self.path = settings.outbox_dir / "sms.log"

    def build(self, content: Sms) -> tuple[str, bytes]:
        provider_id = str(uuid.uuid4())
        line = {
            "providerMessageId": provider_id,
            "messageId": content.message_id,
            "to": content.to,
            "senderId": content.sender_id,
            "text": content.text,
        }
        return provider_id, (json.dumps(line, ensure_ascii=False) + "\n").encode()

    def post(self, request: tuple[str, bytes]) -> str:
        provider_id, line = request
        try:
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise ProviderError("OutboxWriteFailed", str(exc)) from exc
        return provider_id

    def parse(self, response: str) -> str:
        return response
