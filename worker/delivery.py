"""The `deliver_message` actor's work: claim a message's channels, send, record the outcomes."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import Any

from dramatiq.middleware.time_limit import TimeLimitExceeded
from sqlalchemy import Engine, Row, bindparam, update
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from shared.channels import FINAL, MESSAGE_FINAL, Channel, ChannelStatus, MessageStatus
from shared.infra import Settings, autocommit
from shared.infra.models import messages, utcnow
from shared.messages import RESULT_COLUMNS, message_result
from shared.operations.metrics import MESSAGES, OUTCOMES, PROVIDER_SENDS, SEND_SECONDS
from worker.attempts import MAX_ATTEMPTS, crash_message
from worker.channels import IN_CALL, PENDING, ChannelState
from worker.claim import Claim, claim_channels, read_message
from worker.providers import Provider
from worker.providers.book import ChainBook
from worker.providers.chain import Chain, Outcome, default_chains, send_through
from worker.providers.circuit import Breaker, build_breaker
from worker.providers.content import ProviderContent, PushSend
from worker.push import send_push

log = logging.getLogger("herald.delivery")

# The update that writes the outcome, as one autocommitted statement.
_SAVE = update(messages).where(messages.c.pk == bindparam("message_pk")).returning(*RESULT_COLUMNS)
# Every database error that a new connection may not meet: an outcome write is tried again for
# up to this long (a provider id is worth keeping across a database blip).
RETRIED_WRITES = (OperationalError, InterfaceError)
WRITE_BUDGET = 15.0


@dataclass
class DeliveryServices:
    """What the actor needs, built once per process: settings, engine, providers, send pool."""

    settings: Settings
    engine: Engine
    providers: dict[str, Provider]
    pool: ThreadPoolExecutor = field(init=False)
    chains: ChainBook = field(init=False)
    breaker: Breaker = field(init=False)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(self.settings.worker_threads, "herald-send")
        self.chains = ChainBook(self.settings, default_chains(self.settings, self.providers))
        self.breaker = build_breaker(self.settings)


def deliver_message(
    services: DeliveryServices, message_pk: int, refresh_widget: bool = False
) -> dict[str, Any]:
    """Deliver one message on its channels; return its `messages.send` result.

    At most one send per channel: before a provider is called, the channel is committed as
    `sending` by a check-and-set that applies only if the message's status and channel statuses
    are still as the worker read them (of two workers racing, one claims and the other reads
    again). A redelivered job skips final channels, leaves a fresh `sending` to the worker that
    owns it, and records a stale one (its worker died during the provider call) as `unknown`
    instead of sending again. A message whose delivery died `MAX_ATTEMPTS` times (killed, or
    past the time limit) fails with `delivery/crashed`.
    """
    attempt = 0
    try:
        with autocommit(services.engine) as connection:  # one connection: count, read, claim
            row, attempt = read_message(connection, message_pk, count=not refresh_widget)
            crashed = attempt > MAX_ATTEMPTS and crash_message(connection, message_pk)
            if crashed:
                return crashed
            settings = services.settings
            claimed = claim_channels(settings, connection, message_pk, refresh_widget, row)
            sends = claimed.plan is not None and claimed.plan.sends
            chains = services.chains.chains(connection, row.project_id) if sends else {}
        return _send_and_save(services, claimed, chains)
    except TimeLimitExceeded:
        if attempt < MAX_ATTEMPTS:
            raise
        with autocommit(services.engine) as connection:
            crashed = crash_message(connection, message_pk)
        return crashed or deliver_message(services, message_pk, refresh_widget)


def _send_and_save(
    services: DeliveryServices, claimed: Claim, chains: dict[str, Chain]
) -> dict[str, Any]:
    """Send what was claimed and record the outcomes: the message's result."""
    if claimed.plan is None:
        return claimed.answer()
    if not claimed.plan.sends:
        _count(claimed.plan.channels, claimed.row.status)
        return message_result(claimed.row)
    outcomes: dict[Channel, ChannelState] = {}
    try:
        _send_all(services, chains, claimed.plan.sends, outcomes)
    finally:  # interrupted too (the time limit): what went is kept, what didn't is pending
        outcomes = {channel: outcomes.get(channel, PENDING) for channel in claimed.plan.sends}
        saved = _save(services, claimed, outcomes)
    _count(claimed.plan.channels | outcomes, saved.status)
    return message_result(saved)


def _save(services: DeliveryServices, claimed: Claim, outcomes: dict[Channel, ChannelState]) -> Row:
    """Write the outcomes; the message is `sent` once every channel is final in this worker's
    view (a channel another worker still has in flight leaves it `queued`, and the sweeper's
    next delivery of it finds every channel final). Retried on a database error for up to
    `WRITE_BUDGET` s; past it the channels stay `sending` and become `unknown`."""
    states = {channel: ChannelState.of(channel, claimed.row) for channel in Channel} | outcomes
    done = all(state.final for state in states.values())
    status = MessageStatus.SENT if done else claimed.row.status
    values = {"status": status, "updated_at": utcnow()}
    for channel, state in outcomes.items():
        values.update(state.values(channel))
        earlier = claimed.plan.earlier.get(channel)
        if earlier and state.attempts:  # a retried channel: its attempts before come first
            values[channel.attempts.name] = [*earlier, *state.attempts]
    retrying = Retrying(
        retry=retry_if_exception_type(RETRIED_WRITES),
        stop=stop_after_delay(min(WRITE_BUDGET, services.settings.send_time_limit / 2)),
        wait=wait_exponential_jitter(initial=0.1, max=2.0),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, autocommit(services.engine) as connection:
            return connection.execute(_SAVE, {"message_pk": claimed.row.pk, **values}).one()
    raise AssertionError("unreachable: tenacity either returns or raises")


def _send_all(
    services: DeliveryServices,
    chains: dict[str, Chain],
    sends: dict[Channel, ProviderContent],
    outcomes: dict[Channel, ChannelState],
) -> None:
    """Send every claimed channel into `outcomes`; the e-mail and the SMS of one message go at
    the same time, and an interrupted one still waits for the other's outcome."""
    first, *others = sends.items()
    futures = [
        services.pool.submit(
            copy_context().run, _send, services, chains[channel], content, outcomes
        )
        for channel, content in others
    ]
    try:
        _send(services, chains[first[0]], first[1], outcomes)
    finally:
        wait(futures)


def _send(
    services: DeliveryServices,
    chain: Chain,
    content: ProviderContent,
    outcomes: dict[Channel, ChannelState],
) -> None:
    """Send one channel's content with its provider. `outcomes[channel]` says at each step
    what is true if the delivery stops there: nothing went while the request was built, the
    send may have gone once it started to go (`posting`)."""
    channel = Channel(chain.channel)
    outcomes[channel] = PENDING
    if isinstance(content, PushSend):  # one push a device, each claimed on its own
        outcomes[channel] = send_push(services, chain, content)
        return

    def posting() -> None:  # the request is built and starts to go: it may have gone
        outcomes[channel] = ChannelState(ChannelStatus.UNKNOWN, IN_CALL)

    def unposting() -> None:  # that provider certainly did not take it: nothing went
        outcomes[channel] = PENDING

    budget = services.settings.provider_retry_budget
    try:
        with SEND_SECONDS.labels(channel, chain.members[0].name).time():
            outcome = send_through(chain, content, budget, posting, services.breaker, unposting)
    except Exception as exc:  # noqa: BLE001 - it broke during the call: it may have gone
        code = type(exc).__name__
        state, name = ChannelState(ChannelStatus.UNKNOWN, f"unknown: {code}: {exc}"), None
    else:
        state, code, name = _state(outcome), outcome.error and outcome.error.code, outcome.provider
    outcomes[channel] = state
    if state.status != ChannelStatus.SENT:
        log.warning("%s send %s: %s", channel, state.status, code, extra={"channel": channel})
    PROVIDER_SENDS.labels(channel, name or chain.members[-1].name, state.status).inc()


def _state(outcome: Outcome) -> ChannelState:
    """The channel's state after its chain's outcome, with every attempt."""
    attempts = tuple(outcome.attempts)
    if outcome.status == "sent":
        return ChannelState(
            ChannelStatus.SENT, None, outcome.provider_id, outcome.provider, attempts
        )
    detail = str(outcome.error) if outcome.error is not None else "provider/circuitOpen"
    status = ChannelStatus.UNKNOWN if outcome.status == "unknown" else ChannelStatus.FAILED
    last = outcome.attempts[-1] if outcome.attempts else {}  # the one that refused or broke
    provider = last.get("provider") if last.get("outcome") == outcome.status else None
    return ChannelState(status, detail, None, provider, attempts)


def _count(states: dict[Channel, ChannelState], status: str) -> None:
    """Count and log the final outcomes among these channel states, and the message's status
    if it is final."""
    for channel, state in states.items():
        if state.status in FINAL:
            OUTCOMES.labels(channel, state.status).inc()
    if status in MESSAGE_FINAL:
        MESSAGES.labels(status).inc()
    channels = {str(channel): state.status for channel, state in states.items() if state.status}
    log.info("message %s", status, extra={"status": status, "channels": channels})
