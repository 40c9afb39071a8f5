"""Read-only views of decoded JSON: what ``artwork.raw`` hands out.

The views wrap the decoded objects without copying them (keeping ``raw`` costs nothing), and
wrap each nested object or array as it is read, so no depth of ``raw`` can be changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

__all__ = ["JSONArrayView", "JSONObjectView", "thaw", "view"]


def view(value: Any) -> Any:
    """A read-only view of a decoded JSON value (scalars are returned as they are)."""
    if type(value) is dict:
        return JSONObjectView(value)
    if type(value) is list:
        return JSONArrayView(value)
    return value


def thaw(value: Any) -> Any:
    """A deep, plain, mutable copy of decoded JSON (or of a view of it)."""
    if isinstance(value, JSONObjectView | JSONArrayView):
        value = value._data  # noqa: SLF001 - the views are this module's own
    if type(value) is dict:
        return {key: thaw(item) for key, item in value.items()}
    if type(value) is list:
        return [thaw(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    return value._data if isinstance(value, JSONObjectView | JSONArrayView) else value  # noqa: SLF001


class JSONObjectView(Mapping[str, Any]):
    """A JSON object that can be read but not changed; nested values are views too.

    It compares equal to the plain ``dict`` it wraps (and to another view of an equal one).
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return view(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        return bool(self._data == _plain(other))

    __hash__ = None  # type: ignore[assignment]  # like the dict it wraps

    def __repr__(self) -> str:
        return repr(self._data)


class JSONArrayView(Sequence[Any]):
    """A JSON array that can be read but not changed; nested values are views too."""

    __slots__ = ("_data",)

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return JSONArrayView(self._data[index])
        return view(self._data[index])

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return bool(self._data == _plain(other))

    __hash__ = None  # type: ignore[assignment]  # like the list it wraps

    def __repr__(self) -> str:
        return repr(self._data)
