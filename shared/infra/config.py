"""Configuration: read once from the environment, with the embedded defaults (SPEC §6)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from shared.infra import addresses
from shared.infra.addresses import DEFAULT_PORT, DEFAULT_PUBLIC_URL
from shared.infra.errors import ConfigError
from shared.infra.secrets import secret_keys
from shared.providers.urls import ProviderUrl, ProviderUrlError, parse_chain, parse_provider_url
from shared.push.vapid import checked_key

OUTBOX_EMAIL = parse_provider_url("email", "outbox://")
OUTBOX_SMS = parse_provider_url("sms", "outbox://")
OUTBOX_PUSH = parse_provider_url("push", "outbox://")


@dataclass(frozen=True)
class Settings:
    """Every setting Herald reads; `Settings.from_env()` is the only reader of os.environ, but
    for `PROMETHEUS_MULTIPROC_DIR`: prometheus_client reads that one itself, when it is
    imported and wherever it writes a sample file, so `shared/operations/metrics.py` reads it
    too, at import (before any Settings exist)."""

    database_url: str = "sqlite:///var/herald.db"
    redis_url: str | None = None
    redis_namespace: str = "herald"
    # Each channel's default chain of providers (SPEC §8), first tried first; a project's own
    # chain (`herald providers add`) replaces it for that project.
    email_providers: tuple[ProviderUrl, ...] = (OUTBOX_EMAIL,)
    sms_providers: tuple[ProviderUrl, ...] = (OUTBOX_SMS,)
    push_providers: tuple[ProviderUrl, ...] = (OUTBOX_PUSH,)
    # HERALD_VAPID_PRIVATE_KEY: the Web Push VAPID key (SPEC §10), a P-256 private key as PEM or
    # base64url of its 32 bytes (`herald push keys` makes one). Never in a repr.
    vapid_private_key: str | None = field(default=None, repr=False)
    # The address links in messages point at (the one-click unsubscribe, SPEC §8): the
    # HERALD_PUBLIC_URL, else where `herald serve` listens (`serving`), else its default address.
    public_url: str = DEFAULT_PUBLIC_URL
    outbox_dir: Path = Path("var/outbox")
    send_wait: float = 5.0
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    aws_calls: str = "signed"  # SendEmail and Publish: "signed" requests or the "boto3" client's
    provider_timeout: float = 5.0
    provider_retry_budget: float = 3.0
    worker_threads: int = 32
    web_threads: int = 32
    db_connect_timeout: float = 5.0
    db_statement_timeout: float = 30.0
    project_sends: int = 24  # of the 32 web threads: 8 stay for the other projects
    sweep_interval: float = 30.0
    sweep_requeue_after: float = 120.0
    send_time_limit: float = 60.0
    stream_heartbeat: float = 15.0
    streams_per_user: int = 5  # a user's open feed streams, in every process of the deployment
    streams_per_process: int = 1000
    # The web app serves the feed's streams itself, a thread each (`herald serve`); under the
    # Procfile's gunicorn it does not (api/http/gunicorn_conf.py): the `stream` process does.
    web_streams: bool = True
    render_time_limit: float = 2.0
    render_processes: int = 2  # render pool children of each web and worker process
    render_memory_mb: int = 512  # the address space each of them may use (RLIMIT_AS)
    rate_limit: float = 100.0
    rate_burst: int = 200
    front_rate_limit: float = 10.0
    front_rate_burst: int = 30
    # Delivery feedback and the operator page (SPEC §5).
    sns_certificate_hosts: tuple[str, ...] = ()  # empty: sns.<aws_region>.amazonaws.com
    sns_allow_http: bool = False  # certificates and SubscribeURLs over plain HTTP (tests only)
    sns_max_age: float = 3600.0
    sns_topic_arns: tuple[str, ...] = ()  # empty: /webhooks/ses refuses every message
    ops_token: str | None = None
    # HERALD_SECRET_KEY: Fernet keys sealing the stored widget secrets, the first one sealing
    # (shared.infra.secrets); empty, they are stored in clear. Never in a repr.
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    ops_session_seconds: float = 8 * 3600.0  # the operator page's session cookie lives this long
    ops_sign_ins: int = 10  # sign-in attempts a minute per client address, at /ops
    # Proxies in front of Herald whose X-Forwarded-For/-Proto/-Host/-Port are believed (0: none).
    trusted_proxies: int = 0
    # `/demo` creates a project of its own and sends without a key: None (HERALD_DEMO unset) is
    # off, except for `herald serve` listening on loopback only (`serving`).
    demo: bool | None = None
    # Webhooks (SPEC §9): private addresses and http allowed; a post's time; posts in flight
    # per endpoint and process; the retry schedule and the failing time that disables an
    # endpoint (SPEC's; no environment variable, so only tests make them short).
    webhooks_allow_private: bool = False
    webhook_timeout: float = 15.0
    webhook_concurrency: int = 2
    webhook_retries: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    webhook_disable_after: float = 5 * 86400.0
    webhook_lost_after: float = 75.0  # a post's job not done by then was lost: enqueued again
    max_body_bytes: ClassVar[int] = 1024 * 1024  # SPEC §3: 413 over 1 MiB, a contract

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: SQLite default, in-process broker and worker."""
        return self.redis_url is None

    @property
    def allowed_sns_hosts(self) -> tuple[str, ...]:
        """Hosts SNS certificates and subscription URLs may come from."""
        return self.sns_certificate_hosts or (f"sns.{self.aws_region}.amazonaws.com",)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def chains(self) -> dict[str, tuple[ProviderUrl, ...]]:
        """Each provider channel's default chain, by channel name."""
        return {
            "email": self.email_providers,
            "sms": self.sms_providers,
            "push": self.push_providers,
        }

    def serving(self, host: str, port: int = DEFAULT_PORT) -> Settings:
        """`herald serve`'s settings: the demo on by default when the server listens on
        loopback, and links pointing where it listens unless HERALD_PUBLIC_URL says where."""
        default = self.public_url == DEFAULT_PUBLIC_URL
        return replace(
            self,
            public_url=addresses.served_url(host, port) if default else self.public_url,
            demo=addresses.is_loopback(host) if self.demo is None else self.demo,
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build the settings from an environment mapping (os.environ by default)."""
        env = dict(os.environ if env is None else env)
        redis_url = env.get("REDIS_URL") or None
        return cls(
            database_url=_database_url(env.get("DATABASE_URL") or cls.database_url),
            redis_url=redis_url,
            redis_namespace=env.get("HERALD_REDIS_NAMESPACE") or cls.redis_namespace,
            outbox_dir=Path(env.get("HERALD_OUTBOX_DIR") or cls.outbox_dir),
            send_wait=_number(env, "HERALD_SEND_WAIT", cls.send_wait),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.aws_region,
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            provider_timeout=_number(env, "HERALD_PROVIDER_TIMEOUT", cls.provider_timeout),
            provider_retry_budget=_number(
                env, "HERALD_PROVIDER_RETRY_BUDGET", cls.provider_retry_budget
            ),
            worker_threads=int(_number(env, "HERALD_WORKER_THREADS", cls.worker_threads)),
            sweep_interval=_number(env, "HERALD_SWEEP_INTERVAL", cls.sweep_interval),
            sweep_requeue_after=_number(env, "HERALD_SWEEP_REQUEUE_AFTER", cls.sweep_requeue_after),
            render_time_limit=_number(env, "HERALD_RENDER_TIME_LIMIT", cls.render_time_limit),
            render_processes=int(_number(env, "HERALD_RENDER_PROCESSES", cls.render_processes)),
            render_memory_mb=int(_number(env, "HERALD_RENDER_MEMORY_MB", cls.render_memory_mb)),
            rate_limit=_number(env, "HERALD_RATE_LIMIT", cls.rate_limit),
            rate_burst=int(_number(env, "HERALD_RATE_BURST", cls.rate_burst)),
            front_rate_limit=_number(env, "HERALD_FRONT_RATE_LIMIT", cls.front_rate_limit),
            front_rate_burst=int(_number(env, "HERALD_FRONT_RATE_BURST", cls.front_rate_burst)),
            send_time_limit=_number(env, "HERALD_SEND_TIME_LIMIT", cls.send_time_limit),
            stream_heartbeat=_number(env, "HERALD_STREAM_HEARTBEAT", cls.stream_heartbeat),
            demo=_flag(env, "HERALD_DEMO"),
            webhooks_allow_private=bool(_flag(env, "HERALD_WEBHOOKS_ALLOW_PRIVATE")),
            secret_keys=secret_keys(_names(env, "HERALD_SECRET_KEY")),
            vapid_private_key=checked_key(env.get("HERALD_VAPID_PRIVATE_KEY") or None),
            **_test_webhook_settings(env),
            **_provider_settings(env, redis_url is None),
            **_feedback_settings(env),
            **_capacity_settings(env),
            **_stream_settings(env),
        )


def _provider_settings(env: dict[str, str], embedded: bool) -> dict[str, object]:
    """Each channel's default chain (the outbox when embedded, SES and SNS otherwise) from
    `HERALD_<CHANNEL>_PROVIDERS` (or the earlier single `HERALD_<CHANNEL>_PROVIDER`) and how
    the AWS calls are made; ConfigError naming the variable and the wrong part."""
    values: dict[str, object] = {"aws_calls": env.get("HERALD_AWS_CALLS") or Settings.aws_calls}
    if values["aws_calls"] not in ("signed", "boto3"):
        raise ConfigError(f"HERALD_AWS_CALLS must be signed or boto3, not {values['aws_calls']!r}.")
    for channel, default in (
        ("email", "outbox" if embedded else "ses"),
        ("sms", "outbox" if embedded else "sns"),
        ("push", "outbox" if embedded else "webpush"),
    ):
        name = f"HERALD_{channel.upper()}_PROVIDERS"
        chain = env.get(name) or env.get(name[:-1]) or default
        try:
            values[f"{channel}_providers"] = parse_chain(channel, chain)
        except ProviderUrlError as exc:
            variable = name if env.get(name) else name[:-1]
            raise ConfigError(f"{variable}: {exc.part}: {exc.message}") from None
    return values


def _database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _number(env: dict[str, str], name: str, default: float) -> float:
    """A positive number from the environment, or a ConfigError naming the variable."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero, not {raw!r}.")
    return value


def _count(env: dict[str, str], name: str, default: int) -> int:
    """A whole number, zero or more, from the environment, or a ConfigError naming the variable."""
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"{name} must be a whole number, 0 or more, not {env[name]!r}.")
    return int(raw)


def _flag(env: dict[str, str], name: str) -> bool | None:
    """A yes or no from the environment (None when unset), or a ConfigError naming the variable."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {env[name]!r}.")


def _capacity_settings(env: dict[str, str]) -> dict:
    """The web threads, the database timeouts and a project's sends waiting at once."""
    return {
        "web_threads": int(_number(env, "HERALD_WEB_THREADS", Settings.web_threads)),
        "db_connect_timeout": _number(
            env, "HERALD_DB_CONNECT_TIMEOUT", Settings.db_connect_timeout
        ),
        "db_statement_timeout": _number(
            env, "HERALD_DB_STATEMENT_TIMEOUT", Settings.db_statement_timeout
        ),
        "project_sends": int(_number(env, "HERALD_PROJECT_SENDS", Settings.project_sends)),
    }


def _stream_settings(env: dict[str, str]) -> dict:
    """The feed streams: how many may be open, and whether the web process serves them."""
    web_streams = _flag(env, "HERALD_WEB_STREAMS")
    return {
        "streams_per_user": int(_number(env, "HERALD_STREAMS_PER_USER", Settings.streams_per_user)),
        "streams_per_process": int(
            _number(env, "HERALD_STREAMS_PER_PROCESS", Settings.streams_per_process)
        ),
        "web_streams": Settings.web_streams if web_streams is None else web_streams,
    }


def _feedback_settings(env: dict[str, str]) -> dict:
    """The settings of delivery feedback (SNS), of the operator page and of the proxies in front."""
    return {
        "sns_certificate_hosts": _names(env, "HERALD_SNS_CERT_HOSTS"),
        "sns_allow_http": env.get("HERALD_SNS_ALLOW_HTTP", "").lower() in ("1", "true", "yes"),
        "sns_max_age": _number(env, "HERALD_SNS_MAX_AGE", Settings.sns_max_age),
        "sns_topic_arns": _names(env, "HERALD_SNS_TOPIC_ARNS"),
        "ops_token": env.get("HERALD_OPS_TOKEN") or None,
        "public_url": addresses.checked_public_url(env.get("HERALD_PUBLIC_URL")),
        "ops_session_seconds": _number(
            env, "HERALD_OPS_SESSION_SECONDS", Settings.ops_session_seconds
        ),
        "ops_sign_ins": int(_number(env, "HERALD_OPS_SIGN_INS", Settings.ops_sign_ins)),
        "trusted_proxies": _count(env, "HERALD_TRUSTED_PROXIES", Settings.trusted_proxies),
    }


def _names(env: dict[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list from the environment."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _test_webhook_settings(env: dict[str, str]) -> dict:
    """HERALD_TEST_WEBHOOK_SCALE, for the tests' processes only: the webhook retry schedule,
    the time a job is taken for lost and the failing time that disables, multiplied by it."""
    if not env.get("HERALD_TEST_WEBHOOK_SCALE"):
        return {}
    scale = _number(env, "HERALD_TEST_WEBHOOK_SCALE", 1.0)
    return {
        "webhook_retries": tuple(delay * scale for delay in Settings.webhook_retries),
        "webhook_lost_after": Settings.webhook_lost_after * scale,
        "webhook_disable_after": Settings.webhook_disable_after * scale,
    }
