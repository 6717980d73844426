"""Settings.from_env: each variable read, the embedded defaults, and errors naming the variable."""

from __future__ import annotations

import pytest

from shared.infra.config import ConfigError, Settings


def test_an_empty_environment_gives_the_embedded_defaults():
    settings = Settings.from_env({})
    assert settings.embedded and settings.is_sqlite
    assert settings == Settings()


def test_the_send_time_limit_is_read_from_the_environment():
    assert Settings.from_env({"HERALD_SEND_TIME_LIMIT": "12.5"}).send_time_limit == 12.5


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_a_bad_send_time_limit_names_the_variable(raw):
    with pytest.raises(ConfigError, match="HERALD_SEND_TIME_LIMIT"):
        Settings.from_env({"HERALD_SEND_TIME_LIMIT": raw})


def test_the_body_limit_is_the_api_contract_and_not_a_setting():
    assert Settings().max_body_bytes == 1024 * 1024
    with pytest.raises(TypeError):
        Settings(max_body_bytes=10)  # type: ignore[call-arg]


def test_aws_calls_are_signed_unless_boto3_is_asked_for():
    assert Settings.from_env({}).aws_calls == "signed"
    assert Settings.from_env({"HERALD_AWS_CALLS": "boto3"}).aws_calls == "boto3"
    with pytest.raises(ConfigError, match="HERALD_AWS_CALLS"):
        Settings.from_env({"HERALD_AWS_CALLS": "curl"})
