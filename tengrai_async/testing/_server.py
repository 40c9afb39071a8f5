"""A fake Tengr.ai API serving ``GET /v2/artworks`` over real loopback HTTP.

It pages, authenticates and validates like the spec, and injects faults, latency and new artworks.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import orjson
import yarl
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from .. import _rules
from .._sansio import ARTWORKS_PATH
from ._data import make_artwork

if TYPE_CHECKING:
    from types import TracebackType

    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = ["FAULTS", "FakeTengrAI", "RecordedRequest"]

#: Every fault the server can inject, in the order of the default ``faults``.
FAULTS: Final = ("429", "500", "503", "malformed", "drop")

_DEFAULT_OFFSET: Final = 0
_DEFAULT_LIMIT: Final = 10


@attrs.frozen
class RecordedRequest:
    """One request the fake server received, and what it answered.

    Attributes:
        method: The HTTP method.
        path: The request path, without the query.
        query: The query parameters (the first value of a repeated one).
        headers: The request headers, looked up case-insensitively.
        status: The status code answered (200 for a ``"malformed"`` or ``"drop"`` fault).
        fault: The fault injected into the answer, or ``None``.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    status: int
    fault: str | None


@attrs.frozen
class _Answer:
    # Everything the handler decides before it awaits anything, so concurrent requests are
    # decided (and recorded) in the order they arrived.
    status: int
    body: bytes
    fault: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


def _error(status: int, message: str, **extra: Any) -> _Answer:
    return _Answer(status, orjson.dumps({"error": message, **extra}))


class FakeTengrAI:
    """A fake Tengr.ai API on a loopback port: ``GET /v2/artworks`` and nothing else.

    Serve the explicit ``artworks`` as given (never validated, so invalid ones test the
    client's policy) or ``count`` synthetic ones from :func:`make_artwork`, newest first. A
    synthetic item is generated and serialized only when a window first includes it, so
    ``count=1_000_000`` starts at once. Use it as an async context manager in async tests, or
    :meth:`in_thread` from synchronous code::

        async with FakeTengrAI(count=1000, fault_rate=0.1) as server:
            exported = await my_app.export_all(base_url=str(server.url), api_key="test-key")
        assert [artwork["id"] for artwork in exported] == server.ids()
        assert server.requests[0].query == {"offset": "0", "limit": "500"}

    Args:
        artworks: The artworks to serve, newest first; excludes ``count``.
        count: How many synthetic artworks to serve when ``artworks`` is not given.
        seed: The synthetic history (see :func:`make_artwork`), for listed and inserted items.
        api_key: The bearer token required; ``None`` accepts any token (but not none).
        host: The interface to listen on.
        port: The port to listen on; 0 picks a free one (read it back from :attr:`url`).
        latency: Seconds to wait before each answer.
        fault_rate: The probability that a valid request gets one of ``faults`` instead.
        faults: The faults to draw from: ``"429"`` (with ``Retry-After``), ``"500"``,
            ``"503"``, ``"malformed"`` (a 200 whose body is not JSON) and ``"drop"`` (a 200
            whose connection is closed halfway through the body).
        retry_after: The ``Retry-After`` seconds sent with a 429.
        fault_seed: The seed of the fault draws, for reproducible runs.
        insert_every: Insert ``insert_batch`` new artworks before every n-th valid listing
            request (0: never), shifting the offsets as new artworks do during a long listing.
        insert_batch: How many artworks each of those insertions adds.
        redirect_to: When set, answer every listing request with a 307 to this base URL, with
            the same path and query.
    """

    def __init__(
        self,
        artworks: Sequence[Mapping[str, Any]] | None = None,
        *,
        count: int = 0,
        seed: int = 0,
        api_key: str | None = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: Sequence[str] = FAULTS,
        retry_after: int = 0,
        fault_seed: int = 0,
        insert_every: int = 0,
        insert_batch: int = 1,
        redirect_to: str | None = None,
    ) -> None:
        if artworks is not None and count:
            msg = "give either artworks or count, not both"
            raise ValueError(msg)
        if count < 0 or insert_every < 0 or insert_batch < 0 or latency < 0:
            msg = "count, insert_every, insert_batch and latency must be >= 0"
            raise ValueError(msg)
        if not 0.0 <= fault_rate <= 1.0:
            msg = f"fault_rate must be in 0..=1, got {fault_rate!r}"
            raise ValueError(msg)
        _check_faults(faults)
        if fault_rate and not faults:
            msg = "a fault_rate needs at least one fault to draw"
            raise ValueError(msg)
        self._explicit = list(artworks) if artworks is not None else None
        self._count = len(self._explicit) if self._explicit is not None else count
        self._seed = seed
        self._api_key = api_key
        self._host = host
        self._port = port
        self._latency = latency
        self._fault_rate = fault_rate
        self._faults = tuple(faults)
        self._retry_after = retry_after
        self._fault_rng = random.Random(fault_seed)
        self._insert_every = insert_every
        self._insert_batch = insert_batch
        self._redirect_to = redirect_to
        self._queued: list[str] = []
        self._inserted = 0
        self._listings = 0
        # Serialized items by index (negative for inserted ones): each is dumped once.
        self._cache: dict[int, bytes] = {}
        # insert() and queue_faults() may come from another thread than the server's loop.
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._url: yarl.URL | None = None
        self.requests: list[RecordedRequest] = []

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> yarl.URL:
        """The base URL, such as ``http://127.0.0.1:54321``; only while the server runs."""
        if self._url is None:
            msg = "the fake server is not running: use start() or async with"
            raise RuntimeError(msg)
        return self._url

    async def start(self) -> None:
        """Start listening; :attr:`url` then holds the port actually bound."""
        if self._runner is not None:
            msg = "the fake server is already running"
            raise RuntimeError(msg)
        app = web.Application()
        app.router.add_get(ARTWORKS_PATH, self._handle_artworks)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # No access log: a fault-injection run would flood the test output.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._url = yarl.URL.build(scheme="http", host=self._host, port=runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening; closing a server that is not running does nothing."""
        runner, self._runner, self._url = self._runner, None, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, **kwargs: Any) -> Iterator[Self]:
        """Run a server, built from *kwargs*, on its own event loop in a daemon thread.

        For synchronous code and fixtures: the caller's thread (and any event loop it runs)
        talks to the server over HTTP only. :meth:`insert` and :meth:`queue_faults` are safe to
        call from the caller's thread.
        """
        server = cls(**kwargs)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="FakeTengrAI", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(server.start(), loop).result()
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.close(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    # -- the listing -----------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many artworks the listing holds now, inserted ones included."""
        return self._inserted + self._count

    def insert(self, n: int = 1) -> list[dict[str, Any]]:
        """Add *n* artworks newer than all others at the front; return them, newest first.

        They are ``make_artwork(i, seed=seed)`` for ``i`` going on down from -1, so every
        offset moves up by *n*, as when artworks are created while a listing runs.
        """
        if n < 0:
            msg = f"cannot insert {n} artworks"
            raise ValueError(msg)
        with self._lock:
            return self._insert(n)

    def queue_faults(self, *faults: str) -> None:
        """Give the next valid listing requests these faults, in order, before random ones."""
        _check_faults(faults)
        with self._lock:
            self._queued.extend(faults)

    def ids(self) -> list[str]:
        """The ``id`` of every listed artwork, in listing order (generates them all)."""
        return [str(self._artwork(index)["id"]) for index in range(-self._inserted, self._count)]

    def _insert(self, n: int) -> list[dict[str, Any]]:
        self._inserted += n
        return [
            make_artwork(index, seed=self._seed)
            for index in range(-self._inserted, n - self._inserted)
        ]

    def _artwork(self, index: int) -> Mapping[str, Any]:
        if index < 0 or self._explicit is None:
            return make_artwork(index, seed=self._seed)
        return self._explicit[index]

    def _item(self, index: int) -> bytes:
        item = self._cache.get(index)
        if item is None:
            item = self._cache[index] = orjson.dumps(self._artwork(index))
        return item

    def _window(self, offset: int, limit: int) -> bytes:
        first = offset - self._inserted
        last = min(first + limit, self._count)
        return b"[" + b",".join(self._item(index) for index in range(first, last)) + b"]"

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        answer = _error(404, f"no such endpoint: {request.method} {request.path}")
        return await self._send(request, answer)

    async def _handle_artworks(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide(request)
        return await self._send(request, answer)

    def _decide(self, request: web.Request) -> _Answer:
        if self._redirect_to is not None:
            location = self._redirect_to.rstrip("/") + request.path_qs
            return _Answer(307, b"", headers={"Location": location})
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        wrong_key = self._api_key is not None and token != self._api_key
        if scheme.lower() != "bearer" or not token or wrong_key:
            answer = _error(401, "missing or invalid API key")
            return attrs.evolve(answer, headers={"WWW-Authenticate": "Bearer"})
        try:
            offset = _parameter(request, "offset", _rules.OFFSET, _DEFAULT_OFFSET)
            limit = _parameter(request, "limit", _rules.LIMIT, _DEFAULT_LIMIT)
        except _BadParameterError as error:
            return _error(400, str(error), parameter=error.name)
        self._listings += 1
        if self._insert_every and self._listings % self._insert_every == 0:
            self._insert(self._insert_batch)
        fault = self._draw_fault()
        if fault == "429":
            answer = _error(429, "rate limit exceeded")
            retry_after = {"Retry-After": str(self._retry_after)}
            return attrs.evolve(answer, fault=fault, headers=retry_after)
        if fault in {"500", "503"}:
            return attrs.evolve(_error(int(fault), "internal error"), fault=fault)
        body = self._window(offset, limit)
        if fault == "malformed":
            # A strict prefix of a JSON array never closes it, so this is never valid JSON.
            body = body[: len(body) // 2]
        return _Answer(200, body, fault=fault)

    def _draw_fault(self) -> str | None:
        if self._queued:
            return self._queued.pop(0)
        if self._fault_rate and self._fault_rng.random() < self._fault_rate:
            return self._fault_rng.choice(self._faults)
        return None

    async def _send(self, request: web.Request, answer: _Answer) -> web.StreamResponse:
        # Recorded before any await, so the record keeps the order of arrival.
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=CIMultiDictProxy(CIMultiDict(request.headers)),
                status=answer.status,
                fault=answer.fault,
            )
        )
        if self._latency:
            await asyncio.sleep(self._latency)
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
        # close() flushes what was written, then the client sees the body end early.
        # aiohttp treats the failing write_eof() that follows as a client disconnect: no log.
        if request.transport is not None:
            request.transport.close()
        return response


class _BadParameterError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _parameter(request: web.Request, name: str, rule: _rules.IntRange, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    value = rule.from_query(text)
    if value is None:
        raise _BadParameterError(
            name, f"invalid query parameter {name!r}: expected {rule.expected}, got {text!r}"
        )
    return value


def _check_faults(faults: Sequence[str]) -> None:
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        msg = f"unknown faults {unknown}; the faults are {', '.join(FAULTS)}"
        raise ValueError(msg)
