"""The provider chain's failover rules (SPEC §8) and the circuit breaker, with stand-in
providers at the client boundary that raise scripted ProviderErrors."""

from __future__ import annotations

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.base import Provider, ProviderError
from worker.providers.chain import Chain, send_through
from worker.providers.circuit import MemoryBreaker
from worker.providers.content import Sms


class Scripted(Provider):
    """Raises the scripted errors in turn, then sends."""

    kind = "scripted"

    def __init__(self, name: str, errors: list[ProviderError]) -> None:
        super().__init__(Settings.from_env({}), ProviderUrl("sms", "scripted", name, "x://"))
        self.errors = list(errors)
        self.sent: list[Sms] = []

    def build(self, content):
        return content

    def post(self, request):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(request)
        return f"{self.name}-id"

    def parse(self, response) -> str:
        return response


SMS = Sms("m1", "+15550100", "hi", None)


def _run(first: ProviderError, breaker=None):
    one, two = Scripted("one", [first]), Scripted("two", [])
    outcome = send_through(
        Chain("sms", [one, two]), SMS, 0.1, lambda: None, breaker or MemoryBreaker()
    )
    return outcome, one, two


def test_failover_error_goes_to_the_next_provider_once():
    outcome, _, two = _run(ProviderError("auth/failed", "no", failover=True))
    assert (outcome.status, outcome.provider, len(two.sent)) == ("sent", "two", 1)
    assert [a["outcome"] for a in outcome.attempts] == ["failover", "sent"]


def test_recipient_refusal_and_unknown_stop_the_chain():
    for error, status in [
        (ProviderError("to/refused", "no"), "failed"),
        (ProviderError("timeout", "?", unknown=True), "unknown"),
    ]:
        outcome, _, two = _run(error)
        assert (outcome.status, two.sent) == (status, [])


def test_transient_goes_to_the_next_provider():
    outcome, _, two = _run(ProviderError("throttled", "slow", transient=True))
    assert (outcome.status, len(two.sent)) == ("sent", 1)


def test_circuit_opens_after_five_failures_and_probes_after_30s():
    now = [0.0]
    breaker = MemoryBreaker(lambda: now[0])
    for _ in range(5):
        _run(ProviderError("down", "x", failover=True), breaker)
    outcome, one, _ = _run(ProviderError("down", "x", failover=True), breaker)
    assert outcome.attempts[0] == {
        **outcome.attempts[0],
        "outcome": "skipped",
        "error": "provider/circuitOpen",
    }
    now[0] = 31.0
    one = Scripted("one", [])
    outcome = send_through(Chain("sms", [one]), SMS, 0.1, lambda: None, breaker)
    assert (outcome.status, len(one.sent), breaker.state("default:sms:one")) == (
        "sent",
        1,
        "closed",
    )


def test_aws_auth_errors_fail_over_and_a_rejection_fails():
    from botocore.exceptions import ClientError, NoCredentialsError

    from worker.providers.aws import provider_error

    def client(code, status):
        body = {
            "Error": {"Code": code, "Message": "m"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return provider_error(ClientError(body, "SendEmail"))

    assert client("UnrecognizedClientException", 403).failover
    assert provider_error(NoCredentialsError()).failover
    rejected = client("MessageRejected", 400)
    assert not (rejected.failover or rejected.unknown)
