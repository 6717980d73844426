"""Channel providers, one module each, picked by the kind of a provider URL (SPEC §8):
`base.py` says what a provider implements."""

from __future__ import annotations

from importlib import import_module

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.base import BuildFailed, Provider, ProviderError, send_with_retries
from worker.providers.content import Email, Sms

__all__ = [
    "BuildFailed",
    "Email",
    "Provider",
    "ProviderError",
    "Sms",
    "build_provider",
    "build_providers",
    "send_with_retries",
]

# Each channel's providers by kind (the schemes `shared.providers.urls` accepts): module and
# class, imported only when picked, so that the outbox of the embedded mode never loads boto3.
PROVIDERS = {
    "email": {
        "ses": "worker.providers.ses:SesEmailProvider",
        "smtp": "worker.providers.smtp:SmtpEmailProvider",
        "smtps": "worker.providers.smtp:SmtpEmailProvider",
        "outbox": "worker.providers.outbox:OutboxEmailProvider",
    },
    "sms": {
        "sns": "worker.providers.sns:SnsSmsProvider",
        "twilio": "worker.providers.twilio:TwilioSmsProvider",
        "outbox": "worker.providers.outbox:OutboxSmsProvider",
    },
    "push": {
        "webpush": "worker.providers.webpush:WebPushProvider",
        "fcm": "worker.providers.fcm:FcmProvider",
        "apns": "worker.providers.apns:ApnsProvider",
        "outbox": "worker.providers.outbox:OutboxPushProvider",
    },
}


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The first provider of each channel's default chain."""
    return {
        channel: build_provider(settings, chain[0]) for channel, chain in settings.chains.items()
    }


def build_provider(settings: Settings, url: ProviderUrl) -> Provider:
    """The provider of this URL, built from the settings."""
    module, cls = PROVIDERS[url.channel][url.kind].split(":")
    provider = getattr(import_module(module), cls)(settings, url)
    assert provider.kind in (url.kind, url.kind.rstrip("s")), f"{cls} is not a {url.kind}"
    return provider
