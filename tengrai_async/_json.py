"""JSON bytes to Python and back, with the SDK's error for a body that is not JSON at all.

orjson does the work; the standard library takes over for the rare JSON that orjson refuses
but the spec allows (a string holding a lone UTF-16 surrogate escape, half an emoji), so such
an item is kept exactly instead of failing its whole page. The sans-I/O layer, the converter's
``loads_page``, the export and the archive all go through these two functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, NoReturn

import orjson

from ._errors import MalformedResponseError

__all__ = ["decode_json", "encode_json"]

_PREVIEW: Final = 80


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def decode_json(body: bytes | str, *, offset: int = 0) -> Any:
    """Decode a JSON body.

    Integers beyond 64 bits come back as floats (orjson's reading; the API documents none).

    Raises:
        MalformedResponseError: The body is not JSON at all (path ``$``), with the listing
            offset it was meant for.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            # NaN and Infinity are Python's extensions, not JSON: refused here too.
            return json.loads(body, parse_constant=_no_constant)
        except ValueError:
            pass
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        raise MalformedResponseError(
            "$", text[:_PREVIEW], f"a JSON body ({exc})", raw=body, offset=offset
        ) from None


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
