"""The provider interface: `send` builds, then posts and parses; what fails to build never goes."""

from __future__ import annotations

import pytest

from shared.infra.config import Settings
from shared.providers.urls import parse_provider_url
from worker.providers import BuildFailed, Sms, build_providers, send_with_retries
from worker.providers.outbox import OutboxSmsProvider


class RefusingProvider(OutboxSmsProvider):
    """An outbox whose library refuses every SMS it is given."""

    def build(self, content: Sms) -> tuple[str, bytes]:
        raise ValueError("not a text it can write")


def test_a_request_that_cannot_be_built_fails_and_nothing_goes(tmp_path):
    provider = RefusingProvider(Settings(outbox_dir=tmp_path), parse_provider_url("sms", "outbox"))
    started: list[bool] = []
    with pytest.raises(BuildFailed) as failed:
        send_with_retries(
            provider, Sms("m-1", "+15550100", "hi", None), 1.0, lambda: started.append(True)
        )
    assert str(failed.value) == "build/failed: ValueError: not a text it can write"
    assert not failed.value.transient and not failed.value.unknown
    assert started == []
    assert not (tmp_path / "sms.log").exists()


def test_a_sent_sms_goes_once_and_answers_its_provider_id(tmp_path):
    provider = build_providers(Settings(outbox_dir=tmp_path))["sms"]
    started: list[bool] = []
    provider_id = send_with_retries(
        provider, Sms("m-1", "+15550100", "hi", None), 1.0, lambda: started.append(True)
    )
    assert started == [True]
    assert provider_id in (tmp_path / "sms.log").read_text()


def test_each_provider_is_named_by_its_setting(tmp_path):
    settings = Settings(outbox_dir=tmp_path)
    assert {channel: p.name for channel, p in build_providers(settings).items()} == {
        "email": "outbox",
        "sms": "outbox",
        "push": "outbox",
    }
