"""The aiohttp.web integration: one TengrAI client per application, shared by every handler.

``setup(app)`` creates the client inside the app's ``cleanup_ctx`` (so in the running loop),
closes it on shutdown, and routes :func:`list_artworks`, a handler that proxies
``artworks.list()`` and answers every request with JSON: 200 with the page, 400 for a bad
``offset`` or ``limit``, 502 when the upstream request fails. Errors have the API's own shape,
``{"message": ..., "statusCode": ..., "error": <reason phrase>}``, plus fields of their own.

## One client per application

Created in `cleanup_ctx` (inside the running loop) and shared by every handler; `setup()` and
`tengrai_client_ctx()` pass their keyword arguments to `TengrAI`:

```python
from aiohttp import web
from tengrai_async.web import TENGRAI_CLIENT, setup

app = web.Application()
setup(app, path="/artworks")  # or app.cleanup_ctx.append(tengrai_client_ctx())


async def newest(request: web.Request) -> web.Response:
    page = await request.app[TENGRAI_CLIENT].artworks.list(limit=1)
    return web.json_response({"newest": str(page.items[0].id)})


app.router.add_get("/newest", newest)
web.run_app(app)
```

## `GET /artworks?offset=&limit=`

It answers every request with JSON, never a bare 500:

- **200**: the page: `items`, `offset`, `limit`, `nextOffset`, `hasMore`. `offset` defaults
  to 0 and `limit` to 10, as in `artworks.list()`.
- **400**, before any upstream request, when `offset` or `limit` is given more than once or is
  not plain ASCII digits in range: `offset` from 0 to 2**63 - 1 (`MAX_OFFSET`), `limit` from 1
  to 500. Leading zeros are fine; an empty value, a sign, spaces, `1_0`, `1e3`, other scripts'
  digits and percent-encoded junk are not. Other parameters are ignored.
- **502** when the upstream request fails in any way (any `TengrAIError`), logged at WARNING
  on the `tengrai_async.web` logger; an exception the SDK does not mean to raise is logged
  there with its traceback and answered 502 as well.

Errors have the API's own shape, with a field or two of the proxy's:

```json
{"message": "offset must be an integer from 0 to 9223372036854775807", "statusCode": 400,
 "error": "Bad Request", "parameter": "offset"}
{"message": "the upstream API answered HTTP 503 Service Unavailable", "statusCode": 502,
 "error": "Bad Gateway", "kind": "ServerError", "upstreamStatus": 503}
```

`kind` is the SDK exception's class name; `upstreamStatus` comes with HTTP errors only. The
message is written from the kind of failure, never copied from upstream, so nothing the
upstream says (an echoed API key included) reaches the caller. `tests/test_web.py` runs this
against the fake server with pytest-aiohttp.

## The webhook receiver

Tengr.ai POSTs a job's final artwork to the `webhook` URL given at creation. Its signature
scheme is not public, so the receiver authenticates the sender by a token in the URL:
`webhook_url("https://my.app/tengrai/webhook", token)` is that URL with `?token=...` added
(its own query kept; an empty token raises `InvalidArgumentError`). Then either
`setup_webhooks(app, "/tengrai/webhook", token=token)` on an app that `setup()` gave a client
(it raises `ClientStateError` otherwise): every artwork delivered goes to
`client.artworks.deliver()`, so a `wait()` or `as_completed()` on that job returns at once,
without its next poll, then to the optional `on_artwork` callback; or route
`webhook_handler(on_artwork, token=token)` yourself, for every method
(`app.router.add_route("*", path, handler)`). Its answers, checked in this order, all JSON
with the error shape above:

- **401** `Unauthorized`: the `token` query parameter is missing, given twice or wrong
  (compared with `hmac.compare_digest`); `on_artwork` is not called.
- **405** `Method Not Allowed`, with `Allow: POST`: any method but POST.
- **413**: a body over 1 MiB (`MAX_WEBHOOK_BODY`), by its `Content-Length` or, for a chunked
  body, once the 1 MiB + 1st byte is read; nothing more is read.
- **400**: not JSON, or not an artwork (not an object, or breaking a rule of the listing's
  artworks; the message names the JSON path, never the body's text).
- **200** `{"received": "<id>"}` after `await on_artwork(artwork)`: the artwork is structured
  exactly as the listing's (`converter.structure_artwork`), unknown kinds included.
- **200** without a call for a repeat: the handler remembers the last 4,096
  (`REMEMBERED_DELIVERIES`; `webhook_handler(..., remember=n)` sets another bound)
  deliveries as (id, SHA-256 of the body) pairs, the least recently seen forgotten first;
  the same id with other JSON is a new delivery. A delivery is remembered only once
  `on_artwork` returned, so two copies arriving together may both call it.
- **500**: `on_artwork` raised. Logged at ERROR on the `tengrai_async.web` logger with the
  artwork's id and the traceback, never the body or the URL; not remembered, so the
  sender's retry calls `on_artwork` again.

**The token and the access log.** The handler never logs the token, but aiohttp's access log
prints the request line (`%r`), the query and so the token included. Run the app with a
format without `%r`, e.g. `web.run_app(app, access_log_format=ACCESS_LOG_FORMAT)` (or
`AppRunner(app, access_log_format=ACCESS_LOG_FORMAT)`), or with `access_log=None`.

**Rotating the token.** Jobs created with the old URL still deliver to it, so serve both
tokens during the change-over: route the new one at a second path
(`setup_webhooks(app, "/tengrai/webhook2", token=new)`, or a second `webhook_handler`),
create new jobs with `webhook_url(..., new)`, and drop the old route once the jobs created
before the change have ended (at most their longest run; the API keeps jobs 8 days).
"""

from __future__ import annotations

import http
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import orjson
from aiohttp import web

from . import _rules
from ._client import TengrAI
from ._converter import converter
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientStateError,
    ResponseTooLargeError,
    ResponseValidationError,
    TengrAIError,
)
from ._models import Artwork
from ._web_bodies import error_response as _error
from ._webhooks import (
    MAX_WEBHOOK_BODY,
    REMEMBERED_DELIVERIES,
    OnArtwork,
    webhook_handler,
    webhook_url,
)

__all__ = [
    "ACCESS_LOG_FORMAT",
    "MAX_OFFSET",
    "MAX_WEBHOOK_BODY",
    "REMEMBERED_DELIVERIES",
    "TENGRAI_CLIENT",
    "list_artworks",
    "setup",
    "setup_webhooks",
    "tengrai_client_ctx",
    "webhook_handler",
    "webhook_url",
]

logger = logging.getLogger(__name__)

#: An access log format for ``web.run_app(app, access_log_format=...)`` (or ``AppRunner``)
#: without ``%r``, the request line: that holds the URL with its query, the webhook's token.
ACCESS_LOG_FORMAT: Final = '%a %t %s %b %Tf "%{User-Agent}i"'
#: Where the shared client lives: ``request.app[TENGRAI_CLIENT]``.
TENGRAI_CLIENT: Final = web.AppKey("tengrai_client", TengrAI)
#: The largest ``offset`` the handler passes on (``2**63 - 1``). A larger one cannot be a 64-bit
#: integer upstream, so it is the caller's mistake (400), not an upstream failure (502).
MAX_OFFSET: Final = 2**63 - 1

_OFFSET: Final = _rules.IntRange(0, MAX_OFFSET)
_LIMIT: Final = _rules.LIMIT
_DEFAULT_OFFSET: Final = 0
_DEFAULT_LIMIT: Final = 10


def tengrai_client_ctx(**client_kwargs: Any) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry that opens one client for the app's lifetime.

    The keyword arguments go to :class:`TengrAI` (``api_key``, ``base_url``, ``timeout``, ...).
    """

    async def client_ctx(app: web.Application) -> AsyncIterator[None]:
        async with TengrAI(**client_kwargs) as client:
            app[TENGRAI_CLIENT] = client
            yield

    _CLIENT_CTXS.add(client_ctx)
    return client_ctx


# The cleanup_ctx entries tengrai_client_ctx() made, so setup_webhooks() can tell an app that
# will have a client from one that never will, before it starts.
_CLIENT_CTXS: Final[weakref.WeakSet[Callable[..., Any]]] = weakref.WeakSet()


def _query_int(
    request: web.Request, name: str, default: int, rule: _rules.IntRange
) -> int | web.Response:
    """The parameter *name* as an integer, *default* when absent, or a 400 answer.

    The one value is read by the rule itself, as plain ASCII digits: no sign (not even ``-0``),
    leading zeros as many as the caller likes.
    """
    values = request.query.getall(name, [])
    if not values:
        return default
    if len(values) == 1:
        value = rule.from_query(values[0], signed=False, zero_padded=True)
        if value is not None:
            return value
    message = (
        f"{name} must be given once, not {len(values)} times"
        if len(values) > 1
        else f"{name} must be {rule.expected}"
    )
    return _error(400, message, parameter=name)


def _upstream_message(exc: Exception) -> str:
    """A short account of an upstream failure.

    It is built from the error's type, never from its text: the upstream's own words or an
    echoed request could carry anything (the API key included) to the proxy's caller.
    """
    if isinstance(exc, APIError):
        try:
            reason = f" {http.HTTPStatus(exc.status).phrase}"
        except ValueError:
            reason = ""
        return f"the upstream API answered HTTP {exc.status}{reason}"
    if isinstance(exc, APITimeoutError):
        return "the upstream API did not answer in time"
    if isinstance(exc, ResponseTooLargeError):
        return "the upstream API's answer was too large"
    if isinstance(exc, APIConnectionError):
        return "the upstream API could not be reached"
    if isinstance(exc, ResponseValidationError):
        return "the upstream API's answer broke the API spec"
    return "the upstream request failed"


def _upstream_failure(exc: Exception) -> web.Response:
    extra: dict[str, Any] = {"kind": type(exc).__name__}
    if isinstance(exc, APIError):
        extra["upstreamStatus"] = exc.status
    return _error(502, _upstream_message(exc), **extra)


async def list_artworks(request: web.Request) -> web.Response:
    """``GET ?offset=&limit=``: one page of artworks from the upstream API, as JSON.

    Every answer is JSON. 200: the page (``items``, ``offset``, ``limit``, ``nextOffset``,
    ``hasMore``). 400, before any upstream request: ``offset`` or ``limit`` is repeated, or is
    not plain ASCII digits in range (``offset`` 0 to ``2**63 - 1``, ``limit`` 1 to 500); the
    error names the ``parameter``. 502: the upstream request failed; the error gives the SDK
    exception's ``kind`` and, for an HTTP error, the ``upstreamStatus``.
    """
    offset = _query_int(request, "offset", _DEFAULT_OFFSET, _OFFSET)
    if isinstance(offset, web.Response):
        return offset
    limit = _query_int(request, "limit", _DEFAULT_LIMIT, _LIMIT)
    if isinstance(limit, web.Response):
        return limit
    client = request.app[TENGRAI_CLIENT]
    try:
        page = await client.artworks.list(offset=offset, limit=limit)
        body = orjson.dumps(
            {
                "items": [converter.unstructure(artwork) for artwork in page.items],
                "offset": page.offset,
                "limit": page.limit,
                "nextOffset": page.next_offset,
                "hasMore": page.has_more,
            }
        )
    except TengrAIError as exc:
        logger.warning("upstream failure: %s", exc)
        return _upstream_failure(exc)
    except Exception as exc:
        # Not an error the SDK means to raise, so a bug (ours, or data no test foresaw): the
        # traceback goes to the log, and the caller still gets JSON, never a bare 500.
        logger.exception("unexpected error while proxying the artwork listing")
        return _upstream_failure(exc)
    return web.Response(body=body, content_type="application/json")


def setup(app: web.Application, *, path: str = "/artworks", **client_kwargs: Any) -> None:
    """Give *app* a shared client (see :func:`tengrai_client_ctx`) and route ``GET path``."""
    app.cleanup_ctx.append(tengrai_client_ctx(**client_kwargs))
    app.router.add_get(path, list_artworks)


def setup_webhooks(
    app: web.Application,
    path: str = "/tengrai/webhook",
    *,
    token: str,
    on_artwork: OnArtwork | None = None,
) -> None:
    """Route the webhook receiver at *path* on an app that :func:`setup` gave a client.

    Each artwork delivered goes to that client's waits (``client.artworks.deliver``), so a
    ``wait()`` whose job is delivered returns at once; then to *on_artwork*, if given. The
    route answers every method (405 for all but POST). Give the sender
    ``webhook_url("https://<your host>" + path, token)``.

    Raises:
        InvalidArgumentError: An empty *token*.
        ClientStateError: *app* has no client: call ``setup(app)`` (or add
            ``tengrai_client_ctx()`` to its ``cleanup_ctx``) first.
    """
    if not any(ctx in _CLIENT_CTXS for ctx in app.cleanup_ctx):
        msg = (
            "setup_webhooks() needs an app with a client: call tengrai_async.web.setup(app) "
            "(or add tengrai_client_ctx() to app.cleanup_ctx) first"
        )
        raise ClientStateError(msg)

    async def deliver(artwork: Artwork) -> None:
        app[TENGRAI_CLIENT].artworks.deliver(artwork)
        if on_artwork is not None:
            await on_artwork(artwork)

    app.router.add_route("*", path, webhook_handler(deliver, token=token))
