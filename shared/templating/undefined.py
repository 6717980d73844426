"""Undefined names in templates: they render as nothing, as in Nunjucks, and are listed for a
preview.

`{{ order.total }}` with no `order` is an undefined value whose attributes and items are
undefined too; printed, tested, iterated or compared it behaves like an empty value. The path
of each one a render used (`order.total`) is recorded while `undefined_names` is open. The
sandbox's refusals (an unsafe attribute) are errors, never undefined values
(`BoundedSandbox.unsafe_undefined`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import Undefined
from jinja2.utils import missing

_met: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "undefined_names", default=None
)


@contextmanager
def undefined_names() -> Iterator[list[str]]:
    """Inside the block, the paths of the undefined values that renders used, in first use
    order, each once."""
    names: list[str] = []
    token = _met.set(names)
    try:
        yield names
    finally:
        _met.reset(token)


def blank(value: Any) -> bool:
    """True when the value is undefined (its use recorded); for filters that render it empty."""
    if isinstance(value, Undefined):
        if isinstance(value, LenientUndefined):
            value._record()
        return True
    return False


def _path(parent: str | None, name: Any) -> str | None:
    """`order.total` for an attribute or a string key, `items[0]` for another key."""
    if isinstance(name, str):
        return f"{parent}.{name}" if parent else name
    return f"{parent or ''}[{name!r}]"


class LenientUndefined(Undefined):
    """An undefined value that chains through attributes and items and renders as nothing."""

    __slots__ = ()

    @property
    def _path_met(self) -> str | None:
        """Where the template met it: `order.total`, or a missing key's name."""
        name = self._undefined_name
        if name is None:
            return None
        return name if isinstance(name, str) else _path(None, name)

    def _record(self) -> None:
        """Note this value's path as used, when a preview is listening."""
        names = _met.get()
        path = self._path_met
        if names is not None and path and path not in names:
            names.append(path)

    def _child(self, name: Any) -> LenientUndefined:
        return type(self)(obj=missing, name=_path(self._path_met, name))

    def __getattr__(self, name: str) -> LenientUndefined:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, name: Any) -> LenientUndefined:  # type: ignore[override]
        return self._child(name)

    def _used(self, *_: Any) -> LenientUndefined:
        """Arithmetic on an undefined value is undefined: it renders as nothing."""
        self._record()
        return self

    def _compared(self, _other: Any) -> bool:
        """An ordering comparison with an undefined value is false, as in JavaScript."""
        self._used()
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _used
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _used
    __mod__ = __rmod__ = __pow__ = __rpow__ = __pos__ = __neg__ = _used
    __lt__ = __le__ = __gt__ = __ge__ = _compared

    def __eq__(self, other: Any) -> bool:
        self._record()
        return isinstance(other, Undefined)

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(type(self))

    def __int__(self) -> int:
        self._used()
        return 0

    def __float__(self) -> float:
        self._used()
        return 0.0

    def __str__(self) -> str:
        self._record()
        return ""

    def __html__(self) -> str:
        return str(self)

    def __len__(self) -> int:
        self._record()
        return 0

    def __iter__(self) -> Iterator[Any]:
        self._record()
        yield from ()

    def __bool__(self) -> bool:
        self._record()
        return False
