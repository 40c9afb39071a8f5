"""A fake Tengr.ai API serving ``GET /v2/artworks`` and ``GET /v2/artworks/{id}`` over loopback.

It pages, authenticates, validates and answers errors like the spec, injects faults, latency and
new artworks, and runs jobs through their statuses so that polling can be tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import math
import random
import sys
import threading
import time
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
from ._data import KindMix, index_of, make_artwork

if TYPE_CHECKING:
    from types import TracebackType

    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = ["FAULTS", "JOB_OUTCOMES", "FakeTengrAI", "RecordedRequest"]

#: Every fault the server can inject, in the order of the default ``faults``.
FAULTS: Final = ("429", "500", "503", "malformed", "drop")

_DEFAULT_OFFSET: Final = 0
_DEFAULT_LIMIT: Final = 10
#: How a job can end (see :meth:`FakeTengrAI.start_job`).
JOB_OUTCOMES: Final = ("succeeded", "failed", "canceled")


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


def _error(status: int, message: str, **attributes: Any) -> _Answer:
    # The body every error of the API shares (NestJS's): the reason phrase goes in "error".
    body = {"message": message, "statusCode": status, "error": http.HTTPStatus(status).phrase}
    return _Answer(status, orjson.dumps(body), **attributes)


@attrs.define
class _Job:
    # An artwork that moves from starting through processing to its outcome, as it is polled
    # (every `polls` clean answers by id) or as time passes (`seconds`, when given).
    artwork: dict[str, Any]
    outcome: str
    polls: int
    seconds: float | None
    started: float
    duration: float
    results: list[str]
    served: int = 0

    def status(self, now: float) -> str:
        if self.seconds is None:
            step = self.served // self.polls
        else:
            elapsed = now - self.started
            step = 0 if elapsed < self.seconds / 2 else 1 if elapsed < self.seconds else 2
        return ("starting", "processing", self.outcome)[min(step, 2)]

    def snapshot(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        final = status == self.outcome
        # Updating existing keys keeps them where make_artwork put them.
        return {
            **self.artwork,
            "status": status,
            "duration": self.duration if final else 0,
            "results": list(self.results) if final and status == "succeeded" else [],
        }


class FakeTengrAI:
    """A fake Tengr.ai API on a loopback port: ``GET /v2/artworks`` and ``GET /v2/artworks/{id}``.

    Serve the explicit ``artworks`` as given (never validated, so invalid ones test the
    client's policy) or ``count`` synthetic ones from :func:`make_artwork`, newest first. A
    synthetic item is generated and serialized only when a window first includes it, so
    ``count=1_000_000`` starts at once. Use it as an async context manager in async tests, or
    :meth:`in_thread` from synchronous code::

        async with FakeTengrAI(count=1000, fault_rate=0.1) as server:
            exported = await my_app.export_all(base_url=str(server.url), api_key="test-key")
        assert [artwork["id"] for artwork in exported] == server.ids()
        assert server.requests[0].query == {"offset": "0", "limit": "500"}

    ``GET /v2/artworks/{id}`` answers any listed artwork (explicit ones by their string
    ``id``) with exactly the bytes the listing holds for it, or 404. Every error answer has the
    API's body, ``{"message": ..., "statusCode": ..., "error": <reason phrase>}``: 400 for a bad
    ``offset`` or ``limit``, 401, 404 (an unknown artwork or endpoint), and the 429, 500 and 503
    faults. :meth:`start_job` adds an artwork that moves through its statuses as it is polled.

    Args:
        artworks: The artworks to serve, newest first; excludes ``count``.
        count: How many synthetic artworks to serve when ``artworks`` is not given.
        seed: The synthetic history (see :func:`make_artwork`), for listed and inserted items.
        kinds: The mix of artwork kinds of listed and inserted synthetic items (see
            :func:`make_artwork`; default: mostly ``selena``, every documented kind present).
        extras: Whether synthetic items carry keys the docs do not describe.
        api_key: The bearer token required; ``None`` accepts any token (but not none).
        host: The interface to listen on.
        port: The port to listen on; 0 picks a free one (read it back from :attr:`url`).
        latency: Seconds to wait before each answer.
        fault_rate: The probability that a valid, authenticated API request (a listing or a
            found artwork by id) gets one of ``faults`` instead.
        faults: The faults to draw from: ``"429"`` (with ``Retry-After``), ``"500"``,
            ``"503"``, ``"malformed"`` (a 200 whose body is not JSON) and ``"drop"`` (a 200
            whose connection is closed halfway through the body).
        retry_after: The ``Retry-After`` seconds sent with a 429.
        fault_seed: The seed of the fault draws, for reproducible runs.
        insert_every: Insert ``insert_batch`` new artworks before every n-th valid listing
            request (0: never), shifting the offsets as new artworks do during a long listing.
        insert_batch: How many artworks each of those insertions adds.
        redirect_to: When set, answer every API request (listing or by id) with a 307 to this
            base URL, with the same path and query.
    """

    def __init__(
        self,
        artworks: Sequence[Mapping[str, Any]] | None = None,
        *,
        count: int = 0,
        seed: int = 0,
        kinds: KindMix | None = None,
        extras: bool = True,
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
        # Explicit artworks are found by id through this map; synthetic ones carry their index.
        self._explicit_ids: dict[str, int] = {}
        for index, artwork in enumerate(self._explicit or ()):
            item: object = artwork  # anything, as explicit artworks are never validated
            artwork_id = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(artwork_id, str):
                self._explicit_ids.setdefault(artwork_id, index)  # the first of duplicates
        self._seed = seed
        self._kinds = _check_kinds(kinds)
        self._extras = extras
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
        # Serialized items by index (negative for inserted ones): each is dumped once. Jobs
        # are never cached, since their state changes.
        self._cache: dict[int, bytes] = {}
        self._jobs: dict[int, _Job] = {}
        # insert(), start_job() and queue_faults() may come from another thread than the
        # server's loop.
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
        app.router.add_get(ARTWORKS_PATH + "/{id}", self._handle_artwork)
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
        talks to the server over HTTP only. :meth:`insert`, :meth:`start_job` and
        :meth:`queue_faults` are safe to call from the caller's thread.
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
        """How many artworks the listing holds now, inserted ones (and jobs) included."""
        return self._inserted + self._count

    def insert(self, n: int = 1) -> list[dict[str, Any]]:
        """Add *n* artworks newer than all others at the front; return them, newest first.

        They are ``make_artwork(i, seed=seed, kinds=kinds, extras=extras)`` for ``i`` going on
        down from -1, so every offset moves up by *n*, as when artworks are created while a
        listing runs.
        """
        if n < 0:
            msg = f"cannot insert {n} artworks"
            raise ValueError(msg)
        with self._lock:
            return self._insert(n)

    def start_job(
        self,
        kind: str = "selena",
        *,
        outcome: str = "succeeded",
        polls: int = 2,
        seconds: float | None = None,
    ) -> str:
        """Start a job: add one new artwork at the front, as :meth:`insert` does; return its id.

        The artwork is ``make_artwork(i, seed=seed, kinds=[kind], extras=extras)`` for the next
        inserted index ``i``, in status ``"starting"`` with ``duration`` 0 and no ``results``.
        It then moves to ``"processing"`` and on to *outcome*, where it stays: ``"succeeded"``
        with one or two result URLs and a positive ``duration``; ``"failed"`` or ``"canceled"``
        with a positive ``duration`` and no results.

        Without *seconds* the job advances after every *polls* answers to ``GET`` by its id
        (answers with an injected fault do not count). With ``polls=2`` the 1st and 2nd GET
        see ``"starting"``, the 3rd and 4th ``"processing"``, the 5th and later the outcome.
        With *seconds* it advances with the time since this call instead: ``"processing"``
        from ``seconds / 2``, the outcome from ``seconds``. The listing always shows the
        state the next GET by id would see first.

        Args:
            kind: The ``artworkType`` (a name outside the documented twelve makes an unknown
                kind, as ``kinds`` does).
            outcome: ``"succeeded"``, ``"failed"`` or ``"canceled"``.
            polls: How many GETs by id see each of ``"starting"`` and ``"processing"`` (>= 1).
            seconds: How long the job takes in wall-clock seconds (> 0), instead of polls.

        Raises:
            ValueError: An empty *kind*, an unknown *outcome*, *polls* < 1, or *seconds* not a
                positive finite number.
        """
        if not kind:
            msg = f"kind must be a non-empty string, got {kind!r}"
            raise ValueError(msg)
        if outcome not in JOB_OUTCOMES:
            msg = f"outcome must be one of {', '.join(JOB_OUTCOMES)}, got {outcome!r}"
            raise ValueError(msg)
        if polls < 1:
            msg = f"polls must be an integer >= 1, got {polls!r}"
            raise ValueError(msg)
        if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
            msg = f"seconds must be a positive number of seconds or None, got {seconds!r}"
            raise ValueError(msg)
        with self._lock:
            self._inserted += 1
            index = -self._inserted
            artwork = make_artwork(index, seed=self._seed, kinds=[kind], extras=self._extras)
            # The outcome's details come from their own stream, so they do not depend on
            # how make_artwork draws.
            rng = random.Random(f"job:{self._seed}:{index}")
            images = rng.randint(1, 2)
            self._jobs[index] = _Job(
                artwork=artwork,
                outcome=outcome,
                polls=polls,
                seconds=seconds,
                started=time.monotonic(),
                duration=round(rng.uniform(0.5, 60.0), 3),
                results=[
                    f"https://cdn.tengr.ai/artworks/{artwork['id']}/{n}.webp" for n in range(images)
                ],
            )
            return str(artwork["id"])

    def queue_faults(self, *faults: str) -> None:
        """Give the next valid API requests (listing or by id) these faults, in order."""
        _check_faults(faults)
        with self._lock:
            self._queued.extend(faults)

    def ids(self) -> list[str]:
        """The ``id`` of every listed artwork, in listing order (generates them all)."""
        now = time.monotonic()
        return [
            str(self._artwork(index, now)["id"]) for index in range(-self._inserted, self._count)
        ]

    def _make(self, index: int) -> dict[str, Any]:
        return make_artwork(index, seed=self._seed, kinds=self._kinds, extras=self._extras)

    def _insert(self, n: int) -> list[dict[str, Any]]:
        self._inserted += n
        return [self._make(index) for index in range(-self._inserted, n - self._inserted)]

    def _artwork(self, index: int, now: float) -> Mapping[str, Any]:
        job = self._jobs.get(index)
        if job is not None:
            return job.snapshot(now)
        if index < 0 or self._explicit is None:
            return self._make(index)
        return self._explicit[index]

    def _item(self, index: int, now: float) -> bytes:
        item = self._cache.get(index)
        if item is None:
            item = orjson.dumps(self._artwork(index, now))
            if index not in self._jobs:
                self._cache[index] = item
        return item

    def _window(self, offset: int, limit: int) -> bytes:
        first = offset - self._inserted
        last = min(first + limit, self._count)
        now = time.monotonic()
        return b"[" + b",".join(self._item(index, now) for index in range(first, last)) + b"]"

    def _find(self, artwork_id: str) -> int | None:
        # The index of the listed artwork with this id, or None; O(1), generating one item.
        index = self._explicit_ids.get(artwork_id)
        if index is not None:
            return index
        try:
            index = index_of(uuid.UUID(artwork_id))
        except ValueError:
            return None
        last = 0 if self._explicit is not None else self._count
        if not -self._inserted <= index < last:
            return None
        found = self._artwork(index, time.monotonic()).get("id") == artwork_id
        # A uuid from another seed, or a non-canonical spelling of ours, is not found.
        return index if found else None

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        # NestJS's own words for a route it does not have.
        answer = _error(404, f"Cannot {request.method} {request.path}")
        return await self._send(request, answer)

    async def _handle_artworks(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide_listing(request)
        return await self._send(request, answer)

    async def _handle_artwork(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide_artwork(request)
        return await self._send(request, answer)

    def _refuse(self, request: web.Request) -> _Answer | None:
        # What every API request goes through first: the redirect, then the key.
        if self._redirect_to is not None:
            location = self._redirect_to.rstrip("/") + request.path_qs
            return _Answer(307, b"", headers={"Location": location})
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        wrong_key = self._api_key is not None and token != self._api_key
        if scheme.lower() != "bearer" or not token or wrong_key:
            return _error(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
        return None

    def _decide_listing(self, request: web.Request) -> _Answer:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            offset = _parameter(request, "offset", _rules.OFFSET, _DEFAULT_OFFSET)
            limit = _parameter(request, "limit", _rules.LIMIT, _DEFAULT_LIMIT)
        except _BadParameterError as error:
            return _error(400, str(error))
        self._listings += 1
        if self._insert_every and self._listings % self._insert_every == 0:
            self._insert(self._insert_batch)
        fault = self._draw_fault()
        if fault is not None and (answer := _fault_answer(fault, self._retry_after)):
            return answer
        body = self._window(offset, limit)
        return _Answer(200, _malformed(body) if fault == "malformed" else body, fault=fault)

    def _decide_artwork(self, request: web.Request) -> _Answer:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        index = self._find(request.match_info["id"])
        if index is None:
            return _error(404, "artwork not found")
        # Like a rejected listing, a 404 does not use up a fault: only a found artwork does.
        fault = self._draw_fault()
        if fault is not None and (answer := _fault_answer(fault, self._retry_after)):
            return answer
        body = self._item(index, time.monotonic())
        job = self._jobs.get(index)
        # Only a clean GET is a poll: the client saw the state (a HEAD sends no body).
        if job is not None and fault is None and request.method == "GET":
            job.served += 1
        return _Answer(200, _malformed(body) if fault == "malformed" else body, fault=fault)

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


def _fault_answer(fault: str, retry_after: int) -> _Answer | None:
    # The error answer a fault replaces the body with; None for the faults that spoil a 200.
    if fault == "429":
        return _error(
            429, "rate limit exceeded", fault=fault, headers={"Retry-After": str(retry_after)}
        )
    if fault == "500":
        return _error(500, "internal server error", fault=fault)
    if fault == "503":
        return _error(503, "service unavailable", fault=fault)
    return None


def _malformed(body: bytes) -> bytes:
    # A strict prefix of a JSON array or object never closes it, so it is never valid JSON.
    return body[: len(body) // 2]


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


def _check_faults(faults: Sequence[str]) -> None:
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        msg = f"unknown faults {unknown}; the faults are {', '.join(FAULTS)}"
        raise ValueError(msg)


def _check_kinds(kinds: KindMix | None) -> KindMix | None:
    # Checked (and copied) here, so a bad mix fails at construction, not on a request.
    if kinds is None:
        return None
    if isinstance(kinds, str):
        msg = f"kinds must be a sequence of kinds or a mapping, not the string {kinds!r}"
        raise TypeError(msg)
    if isinstance(kinds, Mapping):
        weights = dict(kinds)
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            msg = f"kinds needs weights >= 0 with a positive sum, got {weights!r}"
            raise ValueError(msg)
        return weights
    names = tuple(kinds)
    if not names:
        msg = "kinds needs at least one kind"
        raise ValueError(msg)
    return names
