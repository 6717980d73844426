"""SES v2 `SendEmail` and SNS `Publish` as Herald's signed requests (`HERALD_AWS_CALLS=signed`)
and through the boto3 client: the same request reaches moto, every fault ends in the same
outcome, and a wrong signature is refused."""

from __future__ import annotations

import socket
import time
import urllib.request

import boto3
import pytest

from bench.standin import HANG_UP, Fault, StandIn
from shared.infra.config import Settings
from shared.providers.urls import parse_provider_url
from tests.support.data import SENDER, phone, token
from tests.support.received import moto_sent
from worker.providers import Email, Provider, ProviderError, Sms, send_with_retries
from worker.providers.aws import ACCOUNT_MESSAGE
from worker.providers.ses import SesEmailProvider
from worker.providers.sns import SnsSmsProvider

MODES = ("signed", "boto3")
BUDGET = 0.6  # s of retries: enough for a few, short enough for a test


def providers(endpoint: str, mode: str) -> dict[str, Provider]:
    """The SES and SNS providers of this endpoint and way of calling AWS."""
    settings = Settings(aws_endpoint_url=endpoint, aws_calls=mode, provider_timeout=1.0)
    return {
        "ses": SesEmailProvider(settings, parse_provider_url("email", "ses")),
        "sns": SnsSmsProvider(settings, parse_provider_url("sms", "sns")),
    }


def content(service: str, recipient: str) -> Email | Sms:
    """An e-mail (with a non-ASCII name and subject) or an SMS (with a sender id) to send."""
    if service == "ses":
        return Email(
            f"m-{token()}", recipient, SENDER, "Zoë Herald", "help@example.com",
            "Ça marche", "<p>Hello & welcome</p>", "Hello & welcome",
        )  # fmt: skip
    return Sms(f"m-{token()}", recipient, "Code 1234 — ünïcode & = + ok", "Herald")


def outcome(provider: Provider, message: Email | Sms) -> tuple[str, str | None]:
    """The channel's outcome as the worker records it: sent, failed or unknown, with the code."""
    try:
        send_with_retries(provider, message, BUDGET)
    except ProviderError as exc:
        return ("unknown" if exc.unknown else "failed"), exc.code
    return "sent", None


def recipient(service: str) -> str:
    return f"s-{token()}@example.com" if service == "ses" else phone()


def received(standin: StandIn, service: str, to: str) -> int:
    """How many of the stand-in's recorded requests went to this address or number."""
    if service == "ses":
        return sum(1 for m in standin.emails if m["Destination"]["ToAddresses"] == [to])
    return sum(1 for m in standin.sms if m["PhoneNumber"] == to)


def test_moto_receives_the_same_email_and_sms_either_way(moto):
    # Given one built e-mail and SMS, sent once by the boto3 client
    to, number = f"same-{token()}@example.com", phone()
    reference = providers(moto, "boto3")
    email_request = reference["ses"].build(content("ses", to))
    sms_request = reference["sns"].build(content("sns", number))
    reference["ses"].deliver(email_request)
    reference["sns"].deliver(sms_request)
    # When the same requests go as signed requests
    sent = providers(moto, "signed")
    email_id = sent["ses"].deliver(email_request)
    sms_id = sent["sns"].deliver(sms_request)
    # Then moto holds two identical e-mails and two identical SMS, ours by their ids
    emails, sms = moto_sent(moto)
    mails = [m for m in emails if to in m["destinations"]]
    texts = [m for m in sms if m["phone_number"] == number]
    assert email_id in {m["id"] for m in mails} and sms_id in {m["message_id"] for m in texts}
    assert len(mails) == 2 and len(texts) == 2
    assert mails[0]["raw_data"] == mails[1]["raw_data"]
    assert mails[0]["source"] == mails[1]["source"]
    assert mails[0]["source"].endswith(f"<{SENDER}>")
    assert texts[0]["message"] == texts[1]["message"] == "Code 1234 — ünïcode & = + ok"


@pytest.fixture(scope="module")
def standin():
    with StandIn(idle_timeout=0.3) as server:
        yield server


@pytest.fixture(scope="module", params=MODES)
def by_mode(request, standin):
    """The providers of one way of calling AWS, against the stand-in."""
    return request.param, providers(standin.url, request.param)


@pytest.fixture(autouse=True)
def no_faults_left(standin):
    yield
    standin.faults["ses"].clear()
    standin.faults["sns"].clear()


FAULTS = {
    "throttled then sent": ([Fault(400, "Throttling", "Rate exceeded")], ("sent", None), 1),
    "throttled by 429": ([Fault(429, "TooManyRequestsException", "slow")], ("sent", None), 1),
    "a 500 may have gone": (
        [Fault(500, "InternalServerError", "x")],
        ("unknown", "InternalServerError"),
        0,
    ),
    "refused with a code": (
        [Fault(400, "MessageRejected", "no")],
        ("failed", "MessageRejected"),
        0,
    ),
    "closed mid-call": ([Fault(HANG_UP, "")], ("unknown", "ConnectionClosed"), 0),
}


@pytest.mark.parametrize("service", ["ses", "sns"])
@pytest.mark.parametrize("row", FAULTS, ids=list(FAULTS))
def test_each_fault_has_the_same_outcome_either_way(by_mode, standin, service, row):
    faults, expected, copies = FAULTS[row]
    _mode, sent = by_mode
    to = recipient(service)
    standin.inject(service, *faults)
    status, code = outcome(sent[service], content(service, to))
    assert status == expected[0]
    assert code == expected[1]
    assert received(standin, service, to) == copies


@pytest.mark.parametrize("service", ["ses", "sns"])
def test_an_unreachable_endpoint_fails_after_retries(by_mode, service):
    mode, _sent = by_mode
    with socket.socket() as closed:  # a port that was free: nothing listens there
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    provider = providers(f"http://127.0.0.1:{port}", mode)[service]
    started = time.monotonic()
    status, code = outcome(provider, content(service, recipient(service)))
    assert (status, code) == ("failed", "ConnectionFailed")
    assert time.monotonic() - started >= BUDGET  # retried until the budget ran out


@pytest.mark.parametrize("service", ["ses", "sns"])
def test_a_connection_closed_while_idle_is_replaced_before_the_next_send(by_mode, standin, service):
    _mode, sent = by_mode
    first, second = recipient(service), recipient(service)
    assert outcome(sent[service], content(service, first))[0] == "sent"
    # When the stand-in closes the kept-alive connection after its idle timeout
    time.sleep(0.6)
    # Then the next send opens another and goes, once
    assert outcome(sent[service], content(service, second)) == ("sent", None)
    assert received(standin, service, second) == 1


@pytest.fixture
def enforced_signatures(moto, monkeypatch):
    """moto checking every request's SigV4 signature against an IAM user's access key, which
    the environment's credentials then are."""
    iam = boto3.client("iam", endpoint_url=moto, region_name="us-east-1")
    user = f"herald-{token()}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="send",
        PolicyDocument='{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": ["ses:*", "sns:*"], "Resource": "*"}]}',
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    _reset_auth(moto, "0")
    yield key
    _reset_auth(moto, "inf")


def _reset_auth(moto: str, count: str) -> None:
    """Set how many more requests moto takes without checking their signature."""
    request = urllib.request.Request(
        f"{moto}/moto-api/reset-auth", count.encode(), {"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request).close()


def refusal(moto: str, mode: str, service: str) -> tuple[str, str, str]:
    """The outcome, code and message of one send refused by moto."""
    provider = providers(moto, mode)[service]
    with pytest.raises(ProviderError) as refused:
        provider.send(content(service, recipient(service)))
    error = refused.value
    return ("unknown" if error.unknown else "failed"), error.code, error.message


def test_moto_checks_the_signature_and_refuses_a_wrong_one(moto, enforced_signatures, monkeypatch):
    for mode in MODES:
        sent = providers(moto, mode)
        for service in ("ses", "sns"):
            to = recipient(service)
            assert outcome(sent[service], content(service, to)) == ("sent", None), (mode, service)
    # When the secret is not the key's
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-" + enforced_signatures["SecretAccessKey"])
    # Then moto refuses both calls, and the signed path reads its refusal as the client does
    for service in ("ses", "sns"):
        assert refusal(moto, "signed", service) == refusal(moto, "boto3", service)
    # (moto answers SES v2 with an XML body that a REST-JSON client reads as a bare 403)
    assert refusal(moto, "signed", "ses")[:2] == ("failed", "403")
    assert refusal(moto, "signed", "sns") == (
        "failed",
        "SignatureDoesNotMatch",
        ACCOUNT_MESSAGE,
    )
