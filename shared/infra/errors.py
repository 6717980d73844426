"""Herald's domain errors: a code (`subject/reason`) and a sentence to act on, nothing of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


class ConfigError(Exception):
    """A configuration value that Herald cannot run with (shared.infra.config)."""


class HeraldError(Exception):
    """A request-level or item-level error with its code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The error JSON of SPEC §2."""
        return {"error": self.code, "message": self.message}


class NotFound(HeraldError):
    """The thing named does not exist in this project."""


class Unauthorized(HeraldError):
    """The request does not prove which project it acts for."""


class Forbidden(HeraldError):
    """The request says who sent it, but that could not be verified: nothing it says is done."""


class Conflict(HeraldError):
    """The thing is not in a state that allows this change (now, or any more)."""


class RateLimited(HeraldError):
    """The caller spent its request budget; it may retry once the bucket has refilled."""


class UnsupportedMediaType(HeraldError):
    """The body is not of the one type the call takes."""


class Unavailable(HeraldError):
    """A service Herald depends on (database, broker) does not answer; retry later."""


def not_found(thing: str, key: str) -> NotFound:
    """`<thing>/notFound`, the same whether it exists in another project or nowhere."""
    return NotFound(f"{thing}/notFound", f"No {thing} with id {key!r} in this project.")


@dataclass(frozen=True)
class Refused:
    """A batch item Herald did not take: the id it named (when it named a string) and why."""

    id: str | None
    error: HeraldError

    def result(self) -> dict[str, object]:
        """The item's result: the error JSON under the item's id."""
        return {"id": self.id, "ok": False, **self.error.as_dict()}
