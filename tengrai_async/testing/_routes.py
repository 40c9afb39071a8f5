"""The fake server's API routes: the listing, an artwork by id, the creates and unknown paths.

Each request is decided under the server's lock before anything is awaited, recorded, then sent.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import orjson
from aiohttp import web

from .. import _rules
from .._sansio import ARTWORKS_PATH
from ._faults import malformed
from ._http import Answer, RecordedRequest, api_error, hang_up, record

if TYPE_CHECKING:
    from .._clock import Clock
    from ._create import CreateRoutes
    from ._faults import FaultPlan
    from ._listing import Listing

__all__ = ["ApiRoutes"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DEFAULT_OFFSET: Final = 0
_DEFAULT_LIMIT: Final = 10


class _BadParameterError(Exception):
    pass


def _parameter(request: web.Request, name: str, rule: _rules.IntRange, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    value = rule.from_query(text)
    if value is None:
        raise _BadParameterError(f"{name} must be {rule.expected}, got {text!r}")
    return value


class ApiRoutes:
    """The handlers of the API's routes, over one server's listing, faults and creates.

    Every request but an unknown path's goes through the redirect, then the key, first.
    Each is handed to *on_request*, recorded, before anything is awaited; each job a create
    made to *on_created* (its index, id and the request's body).
    """

    def __init__(
        self,
        listing: Listing,
        faults: FaultPlan,
        creates: CreateRoutes,
        *,
        api_key: str | None,
        redirect_to: str | None,
        latency: float,
        lock: threading.Lock,
        clock: Clock,
        on_request: Callable[[RecordedRequest], None],
        on_created: Callable[[int, str, Any], None],
    ) -> None:
        self._listing = listing
        self._faults = faults
        self._creates = creates
        self._api_key = api_key
        self._redirect_to = redirect_to
        self._latency = latency
        self._lock = lock
        self._clock = clock
        self._on_request = on_request
        self._on_created = on_created

    def app(self, *, images: _Handler | None) -> web.Application:
        """The API's application: its routes, then the image route if given, then any path."""
        app = web.Application()
        app.router.add_get(ARTWORKS_PATH, self._handle_listing)
        app.router.add_get(ARTWORKS_PATH + "/{id}", self._handle_artwork)
        app.router.add_post(ARTWORKS_PATH + "/{kind}", self._handle_create)
        if images is not None:
            app.router.add_get("/images/{tail:.*}", images)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        return app

    async def _handle_listing(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide_listing(request)
        return await self._send(request, answer)

    async def _handle_artwork(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide_artwork(request)
        return await self._send(request, answer)

    async def _handle_create(self, request: web.Request) -> web.StreamResponse:
        # Checked by the create routes, then run as a job.
        raw = await request.read()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        with self._lock:
            answer = self._refuse(request)
            if answer is None:
                decision = self._creates.decide(
                    request.match_info["kind"],
                    body,
                    index=self._listing.next_index,
                    clock=self._clock,
                )
                if decision.job is not None:
                    index = self._listing.add_created(decision.job, self._creates.options)
                    self._on_created(index, str(decision.job["id"]), body)
                answer = Answer(
                    decision.status, decision.body, decision.fault, headers=decision.headers
                )
        return await self._send(request, answer, body=body)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        # NestJS's own words for a route it does not have.
        answer = api_error(404, f"Cannot {request.method} {request.path}")
        return await self._send(request, answer)

    def _refuse(self, request: web.Request) -> Answer | None:
        # What every API request goes through first: the redirect, then the key.
        if self._redirect_to is not None:
            location = self._redirect_to.rstrip("/") + request.path_qs
            return Answer(307, b"", headers={"Location": location})
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        wrong_key = self._api_key is not None and token != self._api_key
        if scheme.lower() != "bearer" or not token or wrong_key:
            headers = {"WWW-Authenticate": "Bearer"}
            return api_error(401, "missing or invalid API key", headers=headers)
        return None

    def _decide_listing(self, request: web.Request) -> Answer:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            offset = _parameter(request, "offset", _rules.OFFSET, _DEFAULT_OFFSET)
            limit = _parameter(request, "limit", _rules.LIMIT, _DEFAULT_LIMIT)
        except _BadParameterError as error:
            return api_error(400, str(error))
        self._listing.listed()
        fault = self._faults.draw()
        not_found = f"Cannot GET {request.path}"
        if fault is not None and (answer := self._faults.answer(fault, not_found)):
            return answer
        body = self._listing.window(offset, limit)
        return Answer(200, malformed(body) if fault == "malformed" else body, fault=fault)

    def _decide_artwork(self, request: web.Request) -> Answer:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        index = self._listing.find(request.match_info["id"])
        if index is None:
            return api_error(404, "artwork not found")
        # Like a rejected listing, a 404 does not use up a fault: only a found artwork does.
        fault = self._faults.draw()
        if fault is not None and (answer := self._faults.answer(fault, "artwork not found")):
            return answer
        body = self._listing.item(index)
        # Only a clean GET is a poll: the client saw the state (a HEAD sends no body).
        if fault is None and request.method == "GET":
            self._listing.polled(index)
        return Answer(200, malformed(body) if fault == "malformed" else body, fault=fault)

    async def _send(
        self, request: web.Request, answer: Answer, *, body: Any = None
    ) -> web.StreamResponse:
        # Recorded before any await, so the record keeps the order of arrival.
        self._on_request(record(request, answer, body))
        if self._latency:
            await asyncio.sleep(self._latency)
        if answer.fault == "timeout":
            await self._faults.hold()
            # Nothing reaches the client: its connection is closed before any answer.
            hang_up(request)
            return web.Response(status=504)
        headers = {"X-Request-Id": str(uuid.uuid4()), **answer.headers}
        if answer.fault != "drop":
            return web.Response(
                status=answer.status,
                body=answer.body,
                headers=headers,
                content_type="application/json" if answer.body else None,
            )
        response = web.StreamResponse(status=200, headers=headers)
        response.content_type = "application/json"
        response.content_length = len(answer.body)
        await response.prepare(request)
        await response.write(answer.body[: len(answer.body) // 2])
        # The client sees the body end early.
        hang_up(request)
        return response
