"""Read-only JSON: what ``artwork.raw`` hands out, plain ``dict`` and ``list`` to serializers.

:class:`FrozenDict` and :class:`FrozenList` subclass ``dict`` and ``list`` (so ``json.dumps``,
orjson, ``web.json_response``, ``copy`` and ``pickle`` take them as they are) and refuse every
change. :func:`freeze` copies decoded JSON into them, :func:`thaw` back into plain containers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NoReturn, SupportsIndex, cast

from ._errors import ValidationError

__all__ = [
    "FILL_DICT",
    "FILL_LIST",
    "MAX_DEPTH",
    "NEW_DICT",
    "NEW_LIST",
    "SET_ITEM",
    "FrozenDict",
    "FrozenList",
    "freeze",
    "thaw",
]

#: How deep JSON may nest (``[[1]]`` is 2 levels): deeper than anything the API sends, and
#: shallow enough that every walk of the data (``repr``, ``==``, ``pickle``, ``copy``,
#: ``json.dumps``, orjson's 254-level encoder) stays far from Python's recursion limit.
MAX_DEPTH: Final = 128

# The C functions beneath the refused methods, for this module's and the generated code's own
# building: typed, since the builtins' overloads leave type checkers guessing.
NEW_DICT: Final = cast("Callable[[type[FrozenDict]], FrozenDict]", dict.__new__)
FILL_DICT: Final = cast("Callable[[dict[str, Any], Mapping[str, Any]], None]", dict.update)
SET_ITEM: Final = cast("Callable[[dict[str, Any], str, Any], None]", dict.__setitem__)
NEW_LIST: Final = cast("Callable[[type[FrozenList]], FrozenList]", list.__new__)
FILL_LIST: Final = cast("Callable[[list[Any], Iterable[Any]], None]", list.extend)
_new_dict: Final = NEW_DICT
_fill_dict: Final = FILL_DICT
_set_item: Final = SET_ITEM
_new_list: Final = NEW_LIST
_fill_list: Final = FILL_LIST


def _refuse(value: object) -> NoReturn:
    kind = "object" if isinstance(value, dict) else "array"
    msg = (
        f"this JSON {kind} is read-only (it is what the API sent); "
        "converter.unstructure(model) gives a mutable copy"
    )
    raise TypeError(msg)


class FrozenDict(dict[str, Any]):
    """A JSON object that cannot be changed: a ``dict`` to every reader, its values frozen too.

    Equal to the plain ``dict`` with the same items; unhashable like it. ``copy.copy`` and
    ``copy.deepcopy`` give it back as it is (nothing in it can change); ``pickle`` round-trips
    it as a ``FrozenDict``.
    """

    __slots__ = ()

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # A second __init__ would update the dict in place: only freeze() builds one.
        _refuse(self)

    def __setitem__(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def __ior__(self, *_args: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def clear(self) -> NoReturn:
        _refuse(self)

    def pop(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def popitem(self) -> NoReturn:
        _refuse(self)

    def setdefault(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def update(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        _refuse(self)

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, _memo: Any) -> FrozenDict:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # dict(self) holds the frozen values, which pickle reduces in turn.
        return (freeze, (dict(self),))


class FrozenList(list[Any]):
    """A JSON array that cannot be changed: a ``list`` to every reader, its items frozen too.

    Equal to the plain ``list`` with the same items; slices and ``+`` give plain lists.
    """

    __slots__ = ()

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # A second __init__ would empty and refill the list: only freeze() builds one.
        _refuse(self)

    def __setitem__(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def __iadd__(self, *_args: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def __imul__(self, _count: SupportsIndex) -> NoReturn:
        _refuse(self)

    def append(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def extend(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def insert(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def pop(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def remove(self, *_args: Any) -> NoReturn:
        _refuse(self)

    def clear(self) -> NoReturn:
        _refuse(self)

    def sort(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        _refuse(self)

    def reverse(self) -> NoReturn:
        _refuse(self)

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, _memo: Any) -> FrozenList:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (freeze, (list(self),))


_DEEP: Final = f"JSON nested at most {MAX_DEPTH} levels"
#: What needs no copy: JSON's scalars, and what is frozen already.
_KEEP: Final = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})


def _too_deep(value: object) -> ValidationError:
    # Not the value itself: its repr would recurse as deep as it nests.
    return ValidationError("$", f"<a {type(value).__name__} nested deeper>", _DEEP)


def freeze(value: Any, budget: int = MAX_DEPTH) -> Any:
    """A read-only copy of JSON *value*: its objects and arrays frozen at every depth.

    A frozen value comes back as it is; scalars (and anything that is neither a dict nor a
    list) are kept. One C-level copy per container, and a type check per value.

    Raises:
        ValidationError: *value* nests deeper than *budget* levels (:data:`MAX_DEPTH`).
    """
    kind = type(value)
    if kind is dict:
        if budget <= 0:
            raise _too_deep(value)
        result: FrozenDict = _new_dict(FrozenDict)
        _fill_dict(result, value)
        for key, item in value.items():
            if type(item) not in _KEEP:
                _set_item(result, key, freeze(item, budget - 1))
        return result
    if kind is list:
        if budget <= 0:
            raise _too_deep(value)
        array: FrozenList = _new_list(FrozenList)
        if _KEEP.issuperset(map(type, value)):  # all scalars, checked in C: one C-level copy
            _fill_list(array, value)
        else:
            _fill_list(array, [i if type(i) in _KEEP else freeze(i, budget - 1) for i in value])
        return array
    if kind in _KEEP or not isinstance(value, dict | list):
        return value
    # Another subclass of dict or list (a caller's own data): frozen like a plain one.
    return freeze(dict(value) if isinstance(value, dict) else list(value), budget)


def thaw(value: Any, budget: int = MAX_DEPTH) -> Any:
    """A deep, plain, mutable copy of JSON *value* (frozen or not).

    Raises:
        ValidationError: *value* nests deeper than *budget* levels (:data:`MAX_DEPTH`).
    """
    if not isinstance(value, dict | list):
        return value
    if budget <= 0:
        raise _too_deep(value)
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else thaw(v, budget - 1) for k, v in value.items()}
    return [v if type(v) in _SCALARS else thaw(v, budget - 1) for v in value]


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
