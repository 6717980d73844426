"""Channel providers, one module each, picked by configuration (`HERALD_EMAIL_PROVIDER`,
`HERALD_SMS_PROVIDER`): `base.py` says what a provider implements."""

from __future__ import annotations

from importlib import import_module

from shared.infra import Settings
from worker.providers.base import BuildFailed, Provider, ProviderError, send_with_retries
from worker.providers.content import Email, Sms

__all__ = [
    "BuildFailed",
    "Email",
    "Provider",
    "ProviderError",
    "Sms",
    "build_providers",
    "send_with_retries",
]

# Each channel's providers by name (the values `Settings.from_env` accepts): module and class,
# imported only when picked, so that the outbox of the embedded mode never loads boto3.
PROVIDERS = {
    "email": {
        "ses": "worker.providers.ses:SesEmailProvider",
        "outbox": "worker.providers.outbox:OutboxEmailProvider",
    },
    "sms": {
        "sns": "worker.providers.sns:SnsSmsProvider",
        "outbox": "worker.providers.outbox:OutboxSmsProvider",
    },
}


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The e-mail and SMS providers of these settings."""
    picked = {"email": settings.email_provider, "sms": settings.sms_provider}
    return {channel: _provider(channel, name, settings) for channel, name in picked.items()}


def _provider(channel: str, name: str, settings: Settings) -> Provider:
    """The provider called `name` of this channel, built from the settings."""
    module, cls = PROVIDERS[channel][name].split(":")
    provider = getattr(import_module(module), cls)(settings)
    assert provider.name == name, f"{cls}.name is {provider.name!r}, listed as {name!r}"
    return provider
