"""Herald's error type: a code (`subject/reason`), a sentence to act on, an HTTP status."""

from __future__ import annotations


class HeraldError(Exception):
    """A request-level or item-level error with its code and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_dict(self) -> dict[str, str]:
        """The error JSON of SPEC §2."""
        return {"error": self.code, "message": self.message}


def not_found(thing: str, key: str) -> HeraldError:
    """`<thing>/notFound`, the same whether it exists in another project or nowhere."""
    return HeraldError(f"{thing}/notFound", f"No {thing} with id {key!r} in this project.", 404)
