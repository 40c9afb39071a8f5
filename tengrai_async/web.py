"""The aiohttp.web integration: one TengrAI client per application, shared by every handler.

``setup(app)`` creates the client inside the app's ``cleanup_ctx`` (so in the running loop),
closes it on shutdown, and routes a handler that proxies ``artworks.list()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import orjson
from aiohttp import web

from . import _rules
from ._client import TengrAI
from ._converter import converter
from ._errors import APIError, TengrAIError

__all__ = ["TENGRAI_CLIENT", "list_artworks", "setup", "tengrai_client_ctx"]

#: Where the shared client lives: ``request.app[TENGRAI_CLIENT]``.
TENGRAI_CLIENT: Final = web.AppKey("tengrai_client", TengrAI)


def tengrai_client_ctx(**client_kwargs: Any) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry that opens one client for the app's lifetime.

    The keyword arguments go to :class:`TengrAI` (``api_key``, ``base_url``, ``timeout``, ...).
    """

    async def client_ctx(app: web.Application) -> AsyncIterator[None]:
        async with TengrAI(**client_kwargs) as client:
            app[TENGRAI_CLIENT] = client
            yield

    return client_ctx


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _query_int(request: web.Request, name: str, default: int, rule: _rules.IntRange) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    value = rule.from_query(text)
    if value is None:
        raise web.HTTPBadRequest(
            text=orjson.dumps(
                {"error": f"{name} must be {rule.expected}", "parameter": name}
            ).decode(),
            content_type="application/json",
        )
    return value


async def list_artworks(request: web.Request) -> web.Response:
    """``GET ?offset=&limit=``: one page of artworks from the upstream API, as JSON.

    Answers 400 with a JSON error for a bad ``offset`` or ``limit`` (checked before any
    upstream request) and 502 with a JSON error when the upstream API fails.
    """
    offset = _query_int(request, "offset", 0, _rules.OFFSET)
    limit = _query_int(request, "limit", 10, _rules.LIMIT)
    client = request.app[TENGRAI_CLIENT]
    try:
        page = await client.artworks.list(offset=offset, limit=limit)
    except TengrAIError as exc:
        detail: dict[str, Any] = {"error": "upstream failure", "kind": type(exc).__name__}
        if isinstance(exc, APIError):
            detail["upstreamStatus"] = exc.status
        return _json(detail, status=502)
    return _json(
        {
            "items": [converter.unstructure(artwork) for artwork in page.items],
            "offset": page.offset,
            "limit": page.limit,
            "nextOffset": page.next_offset,
            "hasMore": page.has_more,
        }
    )


def setup(app: web.Application, *, path: str = "/artworks", **client_kwargs: Any) -> None:
    """Give *app* a shared client (see :func:`tengrai_client_ctx`) and route ``GET path``."""
    app.cleanup_ctx.append(tengrai_client_ctx(**client_kwargs))
    app.router.add_get(path, list_artworks)
