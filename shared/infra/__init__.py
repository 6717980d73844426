"""What every process stands on: settings, the database, the broker, errors, logs, validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import lazy_exports

# Imported on first use: `models` needs `shared.channels`, which needs `validation`; and the
# render process, which needs `errors`, stays without the database and the broker.
if TYPE_CHECKING:
    from shared.infra.broker import DELIVER, QUEUE, broker_reachable, build_broker
    from shared.infra.config import ConfigError, Settings
    from shared.infra.db import (
        SchemaOutdated,
        autocommit,
        check_schema,
        ensure_schema,
        make_engine,
        transaction,
        upgrade,
    )
    from shared.infra.errors import (
        Forbidden,
        HeraldError,
        NotFound,
        RateLimited,
        Refused,
        Unauthorized,
        Unavailable,
    )
    from shared.infra.logs import JobLogs, configure_logging
    from shared.infra.models import utcnow
    from shared.infra.validation import Data, Id, Item, check_email, parse_item

__all__ = [
    "DELIVER",
    "QUEUE",
    "ConfigError",
    "Data",
    "Forbidden",
    "HeraldError",
    "Id",
    "Item",
    "JobLogs",
    "NotFound",
    "RateLimited",
    "Refused",
    "SchemaOutdated",
    "Settings",
    "Unauthorized",
    "Unavailable",
    "autocommit",
    "broker_reachable",
    "build_broker",
    "check_email",
    "check_schema",
    "configure_logging",
    "ensure_schema",
    "make_engine",
    "parse_item",
    "transaction",
    "upgrade",
    "utcnow",
]
__getattr__ = lazy_exports(__name__, __file__, __all__)
