"""JSON bytes to Python, with the SDK's error for a body that is not JSON at all.

The sans-I/O layer and the converter's ``loads_page`` both decode through this one function.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ._errors import MalformedResponseError

__all__ = ["decode_json"]

_PREVIEW: Final = 80


def decode_json(body: bytes | str, *, offset: int = 0) -> Any:
    """Decode a JSON body.

    Raises:
        MalformedResponseError: The body is not JSON at all (path ``$``), with the listing
            offset it was meant for.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        raise MalformedResponseError(
            "$", text[:_PREVIEW], f"a JSON body ({exc})", raw=body, offset=offset
        ) from None
