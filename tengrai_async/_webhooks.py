"""The webhook receiver: an aiohttp handler for the artworks Tengr.ai POSTs to a job's webhook.

A token in the URL authenticates the sender; repeats are answered without a second call.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, cast

import orjson
import yarl
from aiohttp import web

from ._converter import converter
from ._errors import InvalidArgumentError, ResponseValidationError
from ._models import Artwork
from ._web_bodies import error_response as _error
from ._web_bodies import json_response

__all__ = ["MAX_WEBHOOK_BODY", "REMEMBERED_DELIVERIES", "webhook_handler", "webhook_url"]

logger = logging.getLogger("tengrai_async.web")

#: The largest body the handler reads (1 MiB); a larger one is answered 413, read no further.
MAX_WEBHOOK_BODY: Final = 1024 * 1024
#: How many recent deliveries, as (id, SHA-256 of the body) pairs, a handler remembers.
REMEMBERED_DELIVERIES: Final = 4096
#: The query parameter that carries the token.
TOKEN_PARAMETER: Final = "token"  # noqa: S105 - a parameter name, not a secret

_CHUNK: Final = 64 * 1024

_Key = tuple["uuid.UUID | None", bytes]  # (artwork id, SHA-256 of the body)
OnArtwork = Callable[[Artwork], Awaitable[object]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _check_token(token: str) -> bytes:
    if not token:
        raise InvalidArgumentError("token", token, "a non-empty string")
    return token.encode()


def webhook_url(url: str | yarl.URL, token: str) -> str:
    """*url* (the full URL of the webhook's route) carrying *token* as its ``token`` parameter.

    The URL's own query is kept; a ``token`` already in it is replaced. Pass the result as
    ``webhook`` to ``create_*``.

    Raises:
        InvalidArgumentError: An empty *token*, or *url* not absolute.
    """
    _check_token(token)
    parsed = yarl.URL(url)
    if not parsed.is_absolute():
        raise InvalidArgumentError("url", str(url), "an absolute URL such as https://my.app/hook")
    return str(parsed.update_query({TOKEN_PARAMETER: token}))


async def _read_body(request: web.Request) -> bytes | None:
    """The body, or ``None`` when it is over :data:`MAX_WEBHOOK_BODY` (reading stops there)."""
    length = request.content_length
    if length is not None and length > MAX_WEBHOOK_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_WEBHOOK_BODY:
        chunk = await request.content.read(min(_CHUNK, MAX_WEBHOOK_BODY + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > MAX_WEBHOOK_BODY else b"".join(chunks)


def _artwork(body: bytes) -> Artwork | str:
    """The artwork of *body*, or what is wrong with it (never the body's own text)."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "the body is not JSON"
    if not isinstance(data, dict):
        return "the body is not an artwork: not a JSON object"
    try:
        return converter.structure_artwork(data)  # the listing's rules: an id is required
    except ResponseValidationError as exc:
        return f"the body is not an artwork: {exc.path or 'the object'} breaks the spec"


class _Deliveries:
    """The last :data:`REMEMBERED_DELIVERIES` deliveries handled, oldest first."""

    def __init__(self, bound: int = REMEMBERED_DELIVERIES) -> None:
        self._bound = bound
        self._seen: collections.OrderedDict[_Key, None] = collections.OrderedDict()

    def __contains__(self, key: _Key) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        return False

    def add(self, key: _Key) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self._bound:
            self._seen.popitem(last=False)


def webhook_handler(
    on_artwork: OnArtwork, *, token: str, remember: int = REMEMBERED_DELIVERIES
) -> Handler:
    """An aiohttp handler that awaits ``on_artwork(artwork)`` for each artwork delivered.

    Route it for every method (``app.router.add_route("*", path, handler)``) so it answers
    405 itself. It remembers the last *remember* deliveries to answer repeats without a call.
    See :mod:`tengrai_async.web` for every answer.

    Raises:
        InvalidArgumentError: An empty *token*, or *remember* not an integer >= 1.
    """
    expected = _check_token(token)
    bound = cast("object", remember)  # checked at run time: callers are not all type-checked
    if isinstance(bound, bool) or not isinstance(bound, int) or bound < 1:
        raise InvalidArgumentError("remember", remember, "an integer >= 1")
    deliveries = _Deliveries(remember)

    async def handle(request: web.Request) -> web.StreamResponse:
        given = request.query.getall(TOKEN_PARAMETER, [])
        # Constant time on bytes; a missing or repeated token fails the same comparison.
        offered = given[0].encode() if len(given) == 1 else b""
        if not hmac.compare_digest(offered, expected):
            return _error(401, "a missing or wrong webhook token")
        if request.method != "POST":
            response = _error(405, f"the webhook takes POST, not {request.method}")
            response.headers["Allow"] = "POST"
            return response
        body = await _read_body(request)
        if body is None:
            return _error(413, f"the body is over {MAX_WEBHOOK_BODY} bytes")
        artwork = _artwork(body)
        if isinstance(artwork, str):
            return _error(400, artwork)
        key = (artwork.id, hashlib.sha256(body).digest())
        if key not in deliveries:
            try:
                await on_artwork(artwork)
            except Exception as exc:
                # Not remembered: the sender's retry calls again. No body, no URL (its token).
                logger.error(  # noqa: TRY400 - the traceback is the callback's, kept below
                    "webhook callback raised %s for artwork %s",
                    type(exc).__name__,
                    artwork.id,
                    exc_info=exc,
                )
                return _error(500, "the webhook callback failed")
            deliveries.add(key)
        return json_response({"received": str(artwork.id)})

    return handle
