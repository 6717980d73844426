"""Channel providers, picked by configuration (`HERALD_EMAIL_PROVIDER`, `HERALD_SMS_PROVIDER`)."""

from __future__ import annotations

from shared.infra.config import Settings
from worker.providers.base import Email, Provider, ProviderError, Sms, send_with_retries

__all__ = ["Email", "Provider", "ProviderError", "Sms", "build_providers", "send_with_retries"]


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The e-mail and SMS providers of these settings."""
    if settings.email_provider == "ses":
        from worker.providers.ses import SesEmailProvider

        email: Provider = SesEmailProvider(settings)
    else:
        from worker.providers.outbox import OutboxEmailProvider

        email = OutboxEmailProvider(settings.outbox_dir)
    if settings.sms_provider == "sns":
        from worker.providers.sns import SnsSmsProvider

        sms: Provider = SnsSmsProvider(settings)
    else:
        from worker.providers.outbox import OutboxSmsProvider

        sms = OutboxSmsProvider(settings.outbox_dir)
    return {"email": email, "sms": sms}
