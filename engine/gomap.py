"""Go map reading semantics for expressions: a missing key reads as the zero value."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


class GoMap(dict):  # type: ignore[type-arg]
    """A typed Go map: reading a missing key yields the element type's zero value."""

    __slots__ = ("_zero",)

    def __init__(self, data: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
                 zero: Callable[[], Any] = lambda: None) -> None:
        super().__init__(data)
        self._zero = zero

    def __missing__(self, key: Any) -> Any:
        return self._zero()

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ARG002 - Go semantics
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            return self._zero()
        except TypeError:
            return self._zero()
