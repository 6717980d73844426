"""The embedded default's providers: each e-mail an `.eml` file, each SMS a line of `sms.log`,
each push a line of `push.log`."""

from __future__ import annotations

import json
import os
import threading
import uuid
from email.utils import make_msgid
from pathlib import Path

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.base import Provider, ProviderError
from worker.providers.content import Email, Push, Sms


def _private_folder(folder: Path) -> Path:
    """The folder, created readable by this user only: the messages in it are personal data."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


class _OutboxProvider(Provider):
    """A provider that writes what it built, `(provider id, bytes)`, into the outbox folder."""

    kind = "outbox"

    def post(self, request: tuple[str, bytes]) -> str:
        provider_id, data = request
        try:
            self.write(provider_id, data)
        except OSError as exc:
            raise ProviderError("OutboxWriteFailed", str(exc)) from exc
        return provider_id

    def parse(self, response: str) -> str:
        return response

    def write(self, provider_id: str, data: bytes) -> None:
        """Write one built message; OSError when it can't."""
        raise NotImplementedError(f"{type(self).__name__} must implement write")


class OutboxEmailProvider(_OutboxProvider):
    """Writes each e-mail as `<outbox>/email/<provider id>.eml`."""

    def __init__(self, settings: Settings, url: ProviderUrl) -> None:
        super().__init__(settings, url)
        self.folder = _private_folder(_private_folder(settings.outbox_dir) / "email")

    def build(self, content: Email) -> tuple[str, bytes]:
        provider_id = str(uuid.uuid4())
        mail = content.mime()
        mail["Message-ID"] = make_msgid(idstring=provider_id)
        return provider_id, bytes(mail)

    def write(self, provider_id: str, data: bytes) -> None:
        path = self.folder / f"{provider_id}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)


class _OutboxLog(_OutboxProvider):
    """Appends each message as one JSON line to `<outbox>/<log>`."""

    log = ""
    _lock = threading.Lock()

    def __init__(self, settings: Settings, url: ProviderUrl) -> None:
        super().__init__(settings, url)
        self.path = _private_folder(settings.outbox_dir) / self.log

    def write(self, provider_id: str, data: bytes) -> None:
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)


def _line(values: dict) -> bytes:
    return (json.dumps(values, ensure_ascii=False) + "\n").encode()


class OutboxSmsProvider(_OutboxLog):
    """Appends each SMS as one JSON line to `<outbox>/sms.log`."""

    log = "sms.log"

    def build(self, content: Sms) -> tuple[str, bytes]:
        provider_id = str(uuid.uuid4())
        line = {
            "providerMessageId": provider_id,
            "messageId": content.message_id,
            "to": content.to,
            "senderId": content.sender_id,
            "text": content.text,
        }
        return provider_id, _line(line)


class OutboxPushProvider(_OutboxLog):
    """Appends each push, one device's, as one JSON line to `<outbox>/push.log`."""

    log = "push.log"
    devices = frozenset({"fcm", "apns", "webpush"})

    def build(self, content: Push) -> tuple[str, bytes]:
        provider_id = str(uuid.uuid4())
        device = content.device
        line = {
            "providerMessageId": provider_id,
            "messageId": content.message_id,
            "deviceId": device.id,
            "kind": device.kind,
            "to": device.endpoint if device.kind == "webpush" else device.token,
            "title": content.title,
            "body": content.body,
            "icon": content.icon,
            "url": content.url,
            "data": content.data,
        }
        return provider_id, _line(line)
