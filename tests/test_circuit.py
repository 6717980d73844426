"""The circuit breaker (SPEC §8) of both modes, held to one behaviour: 5 provider-level
failures in a row within 60 s open a circuit for 30 s, then one probe goes, whichever process
asks first; a success closes it. The memory breaker is one process's (its two handles are the
same object), the Redis one is shared by every process (two breakers on one namespace)."""

from __future__ import annotations

import secrets
import time

import pytest
import redis

from shared.providers.breakers.memory import MemoryBreaker
from shared.providers.breakers.redis import RedisBreaker
from tests.support.backends import IN_CI, REDIS_TEST, backends_down

KEY = "default:email:first"


class Clock:
    """A clock the test moves: Unix time from a fixed start."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = 1_800_000_000.0 + seconds


def _redis_down() -> None:
    down = backends_down()
    if down:
        if IN_CI:
            pytest.fail(f"Redis is required in CI, but {down}")
        pytest.skip(down)


@pytest.fixture(params=["memory", "redis"])
def pair(request):
    """Two handles on one mode's circuits, as two worker processes see them, and the clock."""
    clock = Clock()
    if request.param == "memory":
        breaker = MemoryBreaker(clock)
        yield breaker, breaker, clock
        return
    _redis_down()
    namespace = f"herald-test-{secrets.token_hex(4)}"
    yield (
        RedisBreaker(REDIS_TEST, namespace, clock),
        RedisBreaker(REDIS_TEST, namespace, clock),
        clock,
    )
    client = redis.Redis.from_url(REDIS_TEST)
    for name in client.scan_iter(f"{namespace}:*"):
        client.delete(name)


def test_five_failures_in_a_row_open_the_circuit_for_both(pair):
    one, other, clock = pair
    for second in range(4):
        clock.at(second)
        one.failed(KEY)
        assert one.allow(KEY) and one.state(KEY) == "closed"
    clock.at(4)
    one.failed(KEY)
    assert (one.state(KEY), other.state(KEY)) == ("open", "open")
    assert not one.allow(KEY) and not other.allow(KEY)


def test_failures_spread_over_more_than_60_s_or_broken_by_a_success_do_not_open(pair):
    one, other, clock = pair
    for second in (0, 20, 40, 60, 80):  # at 80 s only 4 are within the last 60 s
        clock.at(second)
        one.failed(KEY)
    assert other.allow(KEY) and other.state(KEY) == "closed"
    clock.at(90)
    one.failed(KEY)  # the 5th within 60 s ...
    other.succeeded(KEY)  # ... would open it, had the provider not answered in between
    for second in range(91, 95):
        clock.at(second)
        one.failed(KEY)
    assert one.state(KEY) == "closed" and other.state(KEY) == "closed"


def _opened(one, clock) -> None:
    for second in range(5):
        clock.at(second)
        one.failed(KEY)


def test_an_open_circuit_skips_for_30_s_then_lets_one_probe_of_all_processes_go(pair):
    one, other, clock = pair
    _opened(one, clock)
    clock.at(4 + 29.9)
    assert not one.allow(KEY) and not other.allow(KEY)
    clock.at(4 + 30.1)
    assert (one.state(KEY), other.state(KEY)) == ("halfOpen", "halfOpen")
    assert other.allow(KEY)  # the probe
    assert not one.allow(KEY) and not other.allow(KEY)  # nobody else, this process included
    # When the probe succeeds the circuit closes, for both
    other.succeeded(KEY)
    assert (one.state(KEY), other.state(KEY)) == ("closed", "closed")
    assert one.allow(KEY) and other.allow(KEY) and one.allow(KEY)


def test_a_failed_probe_opens_the_circuit_for_30_s_more(pair):
    one, other, clock = pair
    _opened(one, clock)
    clock.at(40)
    assert one.allow(KEY)
    one.failed(KEY)
    clock.at(69)
    assert not other.allow(KEY) and other.state(KEY) == "open"
    clock.at(70.5)
    assert other.allow(KEY) and not one.allow(KEY)


def test_a_probe_that_never_reports_back_lets_another_go_30_s_later(pair):
    one, other, clock = pair
    _opened(one, clock)
    clock.at(35)
    assert one.allow(KEY)  # its send was unknown: neither failed nor succeeded comes
    if isinstance(one, RedisBreaker):
        redis.Redis.from_url(REDIS_TEST).pexpire(one._keys(KEY)[1], 1)  # Redis's own clock
        time.sleep(0.01)
        clock.at(35.1)
    else:
        clock.at(65.1)
    assert other.allow(KEY)


def test_every_process_tallies_into_one_figure(pair):
    one, other, _ = pair
    for breaker in (one, other):
        breaker.record(KEY, "sent", 0.2, None)
        breaker.record(KEY, "failover", 0.4, "smtp/mailRefused: 421 busy")
        breaker.record(KEY, "skipped", None, "provider/circuitOpen")
    if isinstance(other, RedisBreaker):
        other.flush()  # (its thread does it within a second; `health` flushes its own)
    figures = one.health([KEY, "default:sms:none"])
    mine = figures[KEY]
    assert {k: mine[k] for k in ("sent", "failover", "skipped", "attempts", "failures")} == {
        "sent": 2,
        "failover": 2,
        "skipped": 2,
        "attempts": 6,
        "failures": 2,
    }
    assert (mine["state"], mine["lastError"]) == ("closed", "smtp/mailRefused: 421 busy")
    assert mine["meanSeconds"] == pytest.approx(0.3)
    assert figures["default:sms:none"]["attempts"] == 0


class Counting(redis.Redis):
    """A Redis client that counts the commands it sends (pipelines count once)."""

    commands = 0

    def execute_command(self, *args, **options):
        Counting.commands += 1
        return super().execute_command(*args, **options)


def test_a_closed_circuit_costs_at_most_one_read_a_second_and_no_write(monkeypatch):
    _redis_down()
    monkeypatch.setattr(redis.Redis, "from_url", Counting.from_url.__func__.__get__(Counting))
    breaker = RedisBreaker(REDIS_TEST, f"herald-test-{secrets.token_hex(4)}", flush_every=60)
    Counting.commands = 0
    for _ in range(200):  # 200 sends through a closed circuit, well within a second
        assert breaker.allow(KEY)
        breaker.succeeded(KEY)
        breaker.record(KEY, "sent", 0.01, None)
    assert Counting.commands == 1  # the first allow's HMGET; the tallies wait for the flush
