"""The fake server's HTTP plumbing: an answer decided before any await, the record of a request.

Also listening on a loopback port, shared by the API's port and the image host's second one.
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
import yarl
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["Answer", "RecordedRequest", "api_error", "base_url", "hang_up", "listen", "record"]


@attrs.frozen
class RecordedRequest:
    """One request the fake server received, and what it answered.

    Attributes:
        method: The HTTP method.
        path: The request path, without the query.
        query: The query parameters (the first value of a repeated one).
        headers: The request headers, looked up case-insensitively.
        status: The status code answered (200 for a ``"malformed"`` or ``"drop"`` fault, and
            for the image faults ``"drop"``, ``"slow"``, ``"html"`` and ``"huge"``; 0 for a
            ``"timeout"`` fault, which answers nothing).
        fault: The fault injected into the answer, or ``None`` (also for a gone image).
        body: The decoded JSON body of a POST to a create path (``None`` for anything else,
            or a body that is not JSON).
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    status: int
    fault: str | None
    body: Any = None


@attrs.frozen
class Answer:
    """What a route answers, decided under the server's lock before anything is awaited.

    So concurrent requests are decided (and recorded) in the order they arrived.
    """

    status: int
    body: bytes
    fault: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict[str, str])


def api_error(status: int, message: str, **attributes: Any) -> Answer:
    """The body every error of the API shares (NestJS's): the reason phrase goes in "error"."""
    body = {"message": message, "statusCode": status, "error": http.HTTPStatus(status).phrase}
    return Answer(status, orjson.dumps(body), **attributes)


def record(request: web.Request, answer: Answer, body: Any = None) -> RecordedRequest:
    """The record of *request* and its *answer* (*body*: the decoded JSON of a create)."""
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDictProxy(CIMultiDict(request.headers)),
        status=answer.status,
        fault=answer.fault,
        body=body,
    )


def hang_up(request: web.Request) -> None:
    """Close the connection of *request*: what was written is flushed, then the body ends early.

    aiohttp takes the failing ``write_eof()`` that follows for a client disconnect: no log.
    """
    if request.transport is not None:
        request.transport.close()


async def listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve *app* on *host*:*port* (0: a free one); clean up if the port cannot be had."""
    # No access log: a fault-injection run would flood the test output.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def base_url(host: str, runner: web.AppRunner) -> yarl.URL:
    """The ``http://host:port`` that *runner* listens on."""
    return yarl.URL.build(scheme="http", host=host, port=runner.addresses[0][1])
