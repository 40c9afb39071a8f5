"""JSON bytes to Python and back, with the SDK's error for a body that is not JSON at all.

orjson does the work; the standard library takes over for the rare JSON that orjson refuses
but the spec allows (a string holding a lone UTF-16 surrogate escape, half an emoji), so such
an item is kept exactly instead of failing its whole page. The sans-I/O layer, the converter's
``loads_page``, the export and the archive all go through these two functions.

A body nested deeper than :data:`~tengrai_async._readonly.MAX_DEPTH` levels is refused as
malformed, so that nothing downstream (``repr``, ``==``, ``pickle``, serializers) recurses
without bound: orjson's own depth limit does the counting (see ``_depth_probe``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Final, NoReturn, cast

import orjson

from ._errors import MalformedResponseError
from ._readonly import MAX_DEPTH

__all__ = ["decode_json", "encode_json"]

_PREVIEW: Final = 80
_TOO_DEEP: Final = f"a JSON body nested at most {MAX_DEPTH} levels"


def _accepts_depth(depth: int) -> bool:
    try:
        orjson.loads(b"[" * depth + b"]" * depth)
    except orjson.JSONDecodeError:
        return False
    return True


def _orjson_depth_limit(ceiling: int = 1 << 14) -> int | None:
    """The deepest nesting orjson decodes (1,024 today); ``None`` if it takes *ceiling*."""
    if _accepts_depth(ceiling):  # pragma: no cover - orjson before 3.9.15 had no limit
        return None
    low, high = 1, ceiling  # low is accepted, high is not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _accepts_depth(middle) else (low, middle)
    return low


_LIMIT: Final = _orjson_depth_limit()
#: Levels of ``[`` put around a body so that orjson's limit falls at MAX_DEPTH of the body.
_PAD: Final = None if _LIMIT is None or _LIMIT <= MAX_DEPTH else _LIMIT - MAX_DEPTH


#: Bodies up to this length have their brackets counted before any probe.
_COUNTED: Final = 16_384


def _depth_probe(body: bytes | str) -> Any:
    """Decode *body* with orjson, refusing nesting beyond MAX_DEPTH with ``JSONDecodeError``.

    The body goes inside ``_PAD`` arrays, so orjson's own limit (in C, no extra walk of the
    data) refuses exactly the bodies nested deeper than MAX_DEPTH; one array per level is then
    taken off again. Every level must hold exactly one item: that is what proves the body was
    one JSON value (``1,2`` or ``1],[2`` inside the arrays would be two).
    """
    pad = _PAD
    if pad is None:  # pragma: no cover - an orjson without a depth limit
        return _checked_depth(orjson.loads(body))
    # A body cannot nest deeper than it has brackets: one artwork's body needs no probe.
    # (Counting costs more than probing once a body is a page of artworks.)
    small = len(body) <= _COUNTED
    if isinstance(body, bytes):
        if small and body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
            return orjson.loads(body)
        data = orjson.loads(b"[" * pad + body + b"]" * pad)
    else:
        if small and body.count("[") + body.count("{") <= MAX_DEPTH:
            return orjson.loads(body)
        data = orjson.loads("[" * pad + body + "]" * pad)
    for _ in range(pad):
        if len(data) != 1:
            msg = "not one JSON value"
            raise orjson.JSONDecodeError(msg, "", 0)
        data = data[0]
    return data


def _checked_depth(data: Any) -> Any:  # pragma: no cover - an orjson without a depth limit
    if _depth(data) > MAX_DEPTH:
        msg = "too deep"
        raise orjson.JSONDecodeError(msg, "", 0)
    return data


def _depth(value: Any) -> int:
    """How deep *value* nests, without recursion (for the standard library's rare result)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                children = cast("Iterable[Any]", item.values() if isinstance(item, dict) else item)
                stack.extend((child, level + 1) for child in children)
    return deepest


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def decode_json(body: bytes | str, *, offset: int = 0) -> Any:
    """Decode a JSON body.

    Integers beyond 64 bits come back as floats (orjson's reading; the API documents none).

    Raises:
        MalformedResponseError: The body is not JSON at all, or nests deeper than
            ``MAX_DEPTH`` (128) levels (path ``$``), with the listing offset it was meant for.
    """
    try:
        return _depth_probe(body)
    except orjson.JSONDecodeError:
        pass
    # The rare way: too deep, not JSON, or JSON that only the standard library reads.
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        expected = f"a JSON body ({exc})"
        try:
            # NaN and Infinity are Python's extensions, not JSON: refused here too.
            data = json.loads(body, parse_constant=_no_constant)
        except ValueError:
            data = _REFUSED
        except RecursionError:  # nested deeper than the interpreter's stack allows
            data, expected = _REFUSED, _TOO_DEEP
        if data is not _REFUSED and _depth(data) <= MAX_DEPTH:
            return data
        if data is not _REFUSED:
            expected = _TOO_DEEP
    else:
        expected = _TOO_DEEP  # orjson reads it whole: only the probe's depth refused it
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    raise MalformedResponseError("$", text[:_PREVIEW], expected, raw=body, offset=offset)


_REFUSED: Final = object()


def encode_json(
    value: Any, *, newline: bool = False, default: Callable[[Any], Any] | None = None
) -> bytes:
    """Encode decoded JSON back to compact UTF-8 bytes (a newline after it, if asked).

    A lone surrogate, which UTF-8 cannot hold, is written back as its JSON escape. *default*
    turns what is not JSON into something that is (as in ``json.dumps``).
    """
    option = orjson.OPT_APPEND_NEWLINE if newline else None
    try:
        return orjson.dumps(value, default=default, option=option)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = json.dumps(value, separators=(",", ":"), default=default).encode("ascii")
        return data + b"\n" if newline else data
