"""A fake Tengr.ai API serving ``GET /v2/artworks`` and ``GET /v2/artworks/{id}`` over loopback.

It pages, authenticates, validates and answers errors like the spec, injects faults, latency and
new artworks, and runs jobs through their statuses so that polling can be tested. It also serves
the images of ``results`` (``GET /images/{id}/{n}.{ext}``), on its own port or another origin,
with faults of their own, so that downloading them can be tested offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import math
import random
import re
import sys
import threading
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import attrs
import orjson
import yarl
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from .. import _rules
from .._client import TengrAI
from .._clock import SYSTEM_CLOCK, Clock
from .._sansio import ARTWORKS_PATH
from .._transport import RetryPolicy
from ._create import CreateFault, CreateOptions, CreateRoutes
from ._data import KindMix, index_of, make_artwork
from ._images import IMAGE_CONTENT_TYPES, IMAGE_EXTS, _filler, image_bytes, image_ext
from ._webhooks import WebhookDelivery, WebhookOptions, WebhookSender

if TYPE_CHECKING:
    from types import TracebackType

    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = [
    "DEFAULT_FAULTS",
    "FAULTS",
    "IMAGE_FAULTS",
    "JOB_OUTCOMES",
    "FakeTengrAI",
    "Fault",
    "ImageKey",
    "RecordedRequest",
]

#: A fault the server can give an API request (see :class:`FakeTengrAI` for what each does).
Fault = Literal["429", "500", "503", "malformed", "drop", "timeout", "401", "403", "404"]
#: Every :data:`Fault`.
FAULTS: Final[tuple[Fault, ...]] = get_args(Fault)
#: The default ``faults`` of ``fault_rate``: those a client should retry through, at once.
DEFAULT_FAULTS: Final[tuple[Fault, ...]] = ("429", "500", "503", "malformed", "drop")
#: Every fault :meth:`FakeTengrAI.queue_image_faults` can give an image request.
IMAGE_FAULTS: Final = ("404", "410", "429", "500", "503", "drop", "slow", "html", "huge")
#: An image named by ``(artwork_id, n)``, or by its URL (or just the URL's path).
ImageKey = tuple[str, int] | str | yarl.URL

_IMAGE_PATH: Final = re.compile(r"/images/(?P<id>[^/]+)/(?P<n>0|[1-9][0-9]*)\.(?P<ext>[a-z]+)")
_GONE_STATUSES: Final = (404, 410)
#: The ``Content-Length`` of a ``"huge"`` image (1 TiB) ...
_HUGE_LENGTH: Final = 1 << 40
#: ... of which at most this much is streamed before the connection is closed.
_HUGE_STREAMED: Final = 256 << 20
_HUGE_CHUNK: Final = 64 << 10
#: How many pieces a ``"slow"`` image body is sent in.
_SLOW_CHUNKS: Final = 4
_HTML: Final = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><p>Please sign in to view this image.</p></body></html>"
)

_DEFAULT_OFFSET: Final = 0
_DEFAULT_LIMIT: Final = 10
#: How much longer than the answers are delayed the timeout of :meth:`FakeTengrAI.client` is.
_CLIENT_TIMEOUT_MARGIN: Final = 1.0
#: ``fault_rate`` is read as a fraction with at most this denominator (0.2 is exactly 1/5).
_RATE_DENOMINATOR: Final = 1_000_000
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


class _FaultSchedule:
    # Which requests fault at fault_rate, by error diffusion: after n requests exactly
    # ceil(n * rate) faults, the first on the first request, the others evenly spread. The
    # faults take turns, round after round, each round shuffled when a seed is given.

    def __init__(self, rate: float, faults: Sequence[Fault], seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            msg = f"fault_rate must be in 0..=1, got {rate!r}"
            raise ValueError(msg)
        _check_faults(faults)
        if rate and not faults:
            msg = "a fault_rate needs at least one fault to draw"
            raise ValueError(msg)
        self._rate = Fraction(rate).limit_denominator(_RATE_DENOMINATOR)
        self._faults = tuple(faults)
        self._shuffle = random.Random(seed) if seed else None
        self._requests = 0
        self._given = 0
        self._round: list[Fault] = []

    def next(self) -> Fault | None:
        if not self._rate:
            return None
        self._requests += 1
        due = math.ceil(self._requests * self._rate)
        if due == self._given:
            return None
        self._given = due  # one more, as the rate is at most 1
        if not self._round:
            self._round = list(self._faults)
            if self._shuffle is not None:
                self._shuffle.shuffle(self._round)
        return self._round.pop(0)


@attrs.frozen
class _ImageOptions:
    # The image route's settings, checked as the server is built.
    origin: str
    size: int | None
    gone: Mapping[tuple[str, int], int]
    latency: float
    chunk_delay: float

    def __attrs_post_init__(self) -> None:
        if self.origin not in ("same", "other"):
            msg = f"image_origin must be 'same' or 'other', got {self.origin!r}"
            raise ValueError(msg)
        if self.size is not None and self.size < 0:
            msg = f"image_size must be >= 0 or None, got {self.size!r}"
            raise ValueError(msg)
        if self.latency < 0 or self.chunk_delay < 0:
            msg = "image_latency and image_chunk_delay must be >= 0"
            raise ValueError(msg)


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
    finished: bool = False  # set by finish_jobs() and set_status()

    def status(self, now: float) -> str:
        if self.finished:
            return self.outcome
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

    :meth:`client` gives a :class:`~tengrai_async.TengrAI` wired to the server, with instant
    retries.

    ``GET /v2/artworks/{id}`` answers any listed artwork (explicit ones by their string
    ``id``) with exactly the bytes the listing holds for it, or 404. Every error answer has the
    API's body, ``{"message": ..., "statusCode": ..., "error": <reason phrase>}``: 400 for a bad
    ``offset`` or ``limit``, 401, 404 (an unknown artwork or endpoint), and the HTTP faults.
    :meth:`start_job` adds an artwork that moves through its statuses as it is polled;
    :meth:`finish_jobs` and :meth:`set_status` move artworks on at once (between two runs of the
    code under test, say). A job created with a ``webhook`` has its final artwork POSTed there
    when it ends, through a loopback route (see ``webhooks``).

    ``GET /images/{id}/{n}.{ext}`` (``ext`` ``png`` or ``webp``; no key needed, as on a CDN)
    answers a small valid image that depends only on ``(id, n, ext)``: :meth:`image_bytes`
    tells which, :meth:`image_url` where. It is served on :attr:`image_base`: the API's own
    port, or with ``image_origin="other"`` a second port serving nothing else. The
    ``results`` of synthetic artworks point there (unless ``images=False``); explicit artworks
    keep the URLs they are given. Image requests are recorded in :attr:`image_requests` (not in
    :attr:`requests`), and get faults of their own from :meth:`queue_image_faults`.

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
        fault_rate: The share of valid, authenticated API requests (listings and found
            artworks by id) that get one of ``faults`` instead, on a fixed schedule: the n-th
            such request faults when ``ceil(n * fault_rate)`` goes up, so the first one
            faults, then one in every ``1 / fault_rate`` (with 0.2: the 1st, 6th, 11th...),
            and after n requests exactly ``ceil(n * fault_rate)`` have. The faults take turns
            in the order of ``faults``. Requests answered from :meth:`queue_faults` do not
            count.
        faults: The faults ``fault_rate`` injects (default :data:`DEFAULT_FAULTS`): any
            :data:`Fault`. ``"429"`` (with ``Retry-After``), ``"500"``, ``"503"``, ``"401"``
            (with ``WWW-Authenticate: Bearer``), ``"403"`` and ``"404"`` answer that status
            with the API's error body; ``"malformed"`` a 200 whose body is not JSON;
            ``"drop"`` a 200 whose connection is closed halfway through the body;
            ``"timeout"`` nothing: the request is held ``fault_timeout`` seconds, then its
            connection is closed unanswered.
        retry_after: The ``Retry-After`` seconds sent with a 429.
        fault_seed: The order of the faults: 0 takes them in the order of ``faults``, round
            after round; another seed shuffles each round with ``random.Random(fault_seed)``,
            reproducibly. Which requests fault does not depend on it.
        fault_timeout: How long a ``"timeout"`` fault holds its request (after ``latency``)
            before closing the connection unanswered, in seconds (default 5): a client whose
            timeout is shorter (:meth:`client`'s is) sees a timeout. Closing the server ends
            every held request at once, so a test never waits longer than its client does.
        insert_every: Insert ``insert_batch`` new artworks before every n-th valid listing
            request (0: never), shifting the offsets as new artworks do during a long listing.
        insert_batch: How many artworks each of those insertions adds.
        redirect_to: When set, answer every API request (listing or by id) with a 307 to this
            base URL, with the same path and query.
        images: Point the ``results`` of synthetic artworks (listed, inserted, by id and jobs)
            at this server's images, ``{image_base}/images/{id}/{n}.{ext}`` (the default), so
            that nothing run against it looks up a real host; the extension (``png`` or
            ``webp``) is fixed per artwork. ``False`` keeps the ``https://cdn.tengr.ai`` URLs
            :func:`make_artwork` gives (another origin: the data exactly as generated). The
            image route is served either way.
        result_origin: The origin the ``results`` name instead of :attr:`image_base`, such as
            ``http://images.example.invalid``, for a client that reaches this server by that
            name (a resolver of its own mapping it here): the URLs then do not change with
            the port. ``None`` (the default): :attr:`image_base`.
        image_origin: ``"same"`` serves the images on the API's port; ``"other"`` on another
            port of the same host (another origin), which serves nothing else.
        image_size: Grow every image to about this many bytes with a padding chunk that
            decoders skip (see :func:`image_bytes`), e.g. ``1 << 20`` for benchmarks.
        gone_images: Images that answer 404 forever: ``(artwork_id, n)`` pairs or URLs (any
            extension). A mapping chooses the status of each: 404 or 410.
        image_latency: Seconds to wait before each image answer.
        image_chunk_delay: Seconds between the pieces of a ``"slow"`` image body.
        create: How the jobs made by ``POST /v2/artworks/<kind>`` run (see
            :class:`CreateOptions`). Those ten routes check a body against the kind's request
            rules (400 with the API's body when one breaks; unknown keys kept) and answer 202
            with a new ``starting`` artwork whose ``parameters`` echo the body plus the
            documented defaults; the job is then listed first and runs like a
            :meth:`start_job` one, its results on :attr:`image_base`.
            :meth:`queue_create_faults` spoils the next POSTs; :attr:`create_bodies` (and
            :attr:`RecordedRequest.body`) record every body.
        clock: Where jobs read the time (a :class:`~tengrai_async.testing.FakeClock` in
            tests); default the system clock.
        webhooks: How a job created with a ``webhook`` (a create body's, or
            :meth:`start_job`'s) is delivered when it ends: its final artwork POSTed to the
            loopback base its origin is routed to (see :class:`WebhookOptions`; every attempt
            in :attr:`webhook_deliveries`, more routes with ``server.webhooks.route()``).
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
        faults: Sequence[Fault] = DEFAULT_FAULTS,
        retry_after: int = 0,
        fault_seed: int = 0,
        fault_timeout: float = 5.0,
        insert_every: int = 0,
        insert_batch: int = 1,
        redirect_to: str | None = None,
        images: bool = True,
        result_origin: str | yarl.URL | None = None,
        image_origin: Literal["same", "other"] = "same",
        image_size: int | None = None,
        gone_images: Mapping[ImageKey, int] | Collection[ImageKey] = (),
        image_latency: float = 0.0,
        image_chunk_delay: float = 0.05,
        create: CreateOptions | None = None,
        clock: Clock | None = None,
        webhooks: WebhookOptions | None = None,
    ) -> None:
        if artworks is not None and count:
            msg = "give either artworks or count, not both"
            raise ValueError(msg)
        if count < 0 or insert_every < 0 or insert_batch < 0 or latency < 0:
            msg = "count, insert_every, insert_batch and latency must be >= 0"
            raise ValueError(msg)
        if not (math.isfinite(fault_timeout) and fault_timeout > 0):
            msg = f"fault_timeout must be a positive number of seconds, got {fault_timeout!r}"
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
        self._schedule = _FaultSchedule(fault_rate, faults, fault_seed)
        self._retry_after = retry_after
        self._fault_timeout = fault_timeout
        self._insert_every = insert_every
        self._insert_batch = insert_batch
        self._redirect_to = redirect_to
        self._images = images
        self._result_origin = None if result_origin is None else _origin(result_origin)
        self._image = _ImageOptions(
            origin=image_origin,
            size=image_size,
            gone=_gone_images(gone_images),
            latency=image_latency,
            chunk_delay=image_chunk_delay,
        )
        self._queued_image_faults: list[str] = []
        self._clock = clock or SYSTEM_CLOCK
        self._creates = CreateRoutes(create or CreateOptions(), seed=seed, retry_after=retry_after)
        #: The webhook sender: its routes, deliveries still to come, and records.
        self.webhooks = WebhookSender(
            webhooks or WebhookOptions(), clock=self._clock, final=self._final_item
        )
        # set_status() overrides, by index.
        self._statuses: dict[int, str] = {}
        self._queued: list[Fault] = []
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
        self._image_runner: web.AppRunner | None = None
        self._url: yarl.URL | None = None
        self._image_base: yarl.URL | None = None
        # Set by close(), to end the requests a "timeout" fault holds.
        self._closing: asyncio.Event | None = None
        #: Every API request, in order of arrival.
        self.requests: list[RecordedRequest] = []
        #: Every request to the image route (or to any path of the image origin), in order.
        self.image_requests: list[RecordedRequest] = []

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> yarl.URL:
        """The base URL, such as ``http://127.0.0.1:54321``; only while the server runs."""
        if self._url is None:
            msg = "the fake server is not running: use start() or async with"
            raise RuntimeError(msg)
        return self._url

    @property
    def image_base(self) -> yarl.URL:
        """The origin serving the images: :attr:`url`, or another port with ``"other"``."""
        if self._image_base is None:
            msg = "the fake server is not running: use start() or async with"
            raise RuntimeError(msg)
        return self._image_base

    @property
    def api_key(self) -> str | None:
        """The bearer token the server requires, or ``None`` when it accepts any."""
        return self._api_key

    def client(self, **options: Any) -> TengrAI:
        """A :class:`~tengrai_async.TengrAI` for this running server; close it when done.

        It has the server's :attr:`url` and :attr:`api_key` (``"test-key"`` when any key is
        accepted), instant retries (:meth:`tengrai_async.RetryPolicy.instant`: every retry
        still happens, without waiting), a ``timeout`` of 1 second more than the
        server's ``latency`` and ``image_latency`` (shorter than ``fault_timeout``, so a
        ``"timeout"`` fault times out), and ``trust_env=False`` (no proxy)::

            async with FakeTengrAI(count=50) as server, server.client() as client:
                ids = [str(artwork.id) async for artwork in client.artworks.iterate()]

        Build it on the event loop that will use it (it opens its session there).

        Args:
            **options: Any :class:`~tengrai_async.TengrAI` keyword argument, over these
                (``max_retries=0``, say).
        """
        settings: dict[str, Any] = {
            "api_key": self._api_key or "test-key",
            "base_url": self.url,
            "retry": RetryPolicy.instant(),
            "timeout": _CLIENT_TIMEOUT_MARGIN + self._latency + self._image.latency,
            "trust_env": False,
        }
        return TengrAI(**{**settings, **options})

    async def start(self) -> None:
        """Start listening; :attr:`url` then holds the port actually bound."""
        if self._runner is not None:
            msg = "the fake server is already running"
            raise RuntimeError(msg)
        self._closing = asyncio.Event()
        self.webhooks.open(asyncio.get_running_loop())
        app = web.Application()
        app.router.add_get(ARTWORKS_PATH, self._handle_artworks)
        app.router.add_get(ARTWORKS_PATH + "/{id}", self._handle_artwork)
        app.router.add_post(ARTWORKS_PATH + "/{kind}", self._handle_create)
        if self._image.origin == "same":
            app.router.add_get("/images/{tail:.*}", self._handle_image)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = await _listen(app, self._host, self._port)
        image_runner = None
        if self._image.origin == "other":
            images = web.Application()
            images.router.add_get("/images/{tail:.*}", self._handle_image)
            images.router.add_route("*", "/{tail:.*}", self._handle_unknown_image)
            try:
                image_runner = await _listen(images, self._host, 0)
            except BaseException:
                await runner.cleanup()
                raise
        self._runner, self._image_runner = runner, image_runner
        self._url = _base_url(self._host, runner)
        self._image_base = (
            self._url if image_runner is None else _base_url(self._host, image_runner)
        )
        if self._images:
            # The cached items name the image origin, whose port may have changed.
            with self._lock:
                self._cache.clear()

    async def close(self) -> None:
        """Stop listening; closing a server that is not running does nothing."""
        if self._closing is not None:
            self._closing.set()  # the requests that "timeout" faults hold end now
        await self.webhooks.close()
        runner, self._runner, self._url = self._runner, None, None
        image_runner, self._image_runner, self._image_base = self._image_runner, None, None
        try:
            if image_runner is not None:
                await image_runner.cleanup()
        finally:
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
        talks to the server over HTTP only. :meth:`insert`, :meth:`start_job`,
        :meth:`queue_faults`, :meth:`queue_image_faults`, :meth:`finish_jobs` and
        :meth:`set_status` are safe to call from the caller's thread.
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
        listing runs. With ``images=True`` on a running server, they are returned as served,
        with their ``results`` on :attr:`image_base`.
        """
        if n < 0:
            msg = f"cannot insert {n} artworks"
            raise ValueError(msg)
        with self._lock:
            inserted = self._insert(n)
            if self._images and self._image_base is not None:
                inserted = [self._with_images(artwork) for artwork in inserted]
            return inserted

    def start_job(
        self,
        kind: str = "selena",
        *,
        outcome: str = "succeeded",
        polls: int = 2,
        seconds: float | None = None,
        webhook: str | None = None,
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
            webhook: Where to POST the final artwork when the job ends (see ``webhooks`` in
                :class:`FakeTengrAI`); on a running server only.

        Raises:
            ValueError: An empty *kind*, an unknown *outcome*, *polls* < 1, *seconds* not a
                positive finite number, or *webhook* not an absolute http(s) URL.
            RuntimeError: A *webhook* while the server is not running.
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
                started=self._clock.monotonic(),
                duration=round(rng.uniform(0.5, 60.0), 3),
                results=[
                    f"https://cdn.tengr.ai/artworks/{artwork['id']}/{n}.webp" for n in range(images)
                ],
            )
            if webhook is not None:
                self.webhooks.watch(index, str(artwork["id"]), webhook)
            return str(artwork["id"])

    def queue_faults(self, *faults: Fault) -> None:
        """Give the next valid API requests (listing or by id) these faults, in order.

        Once they are used up, normal service resumes (or the ``fault_rate`` schedule, which
        the requests they answer do not count). So ``queue_faults("503")`` is one 503, then
        success: a client that retries gets its answer on the second request. Requests
        refused before a fault could apply (a wrong key, a bad ``offset`` or ``limit``, an
        unknown artwork) do not use one up; concurrent requests take them in the order they
        arrive. See ``faults`` in :class:`FakeTengrAI` for what each :data:`Fault` does.
        """
        _check_faults(faults)
        with self._lock:
            self._queued.extend(faults)

    def queue_create_faults(self, *faults: CreateFault) -> None:
        """Give the next POSTs to a create path these faults, in order (see :data:`CreateFault`).

        ``queue_create_faults("accept-504")`` makes the next create's job and then answers
        504, as a gateway that gave up on a server that did take the job; ``"503"`` refuses
        one before any job exists. A POST refused for its key does not use one up.

        Raises:
            ValueError: An unknown fault.
        """
        with self._lock:
            self._creates.queue(faults)

    @property
    def create_bodies(self) -> list[Any]:
        """The decoded JSON body of every POST to a create path, in order of arrival."""
        return list(self._creates.bodies)

    def finish_jobs(self) -> list[str]:
        """Move every job of :meth:`start_job` to its outcome now; return the ids it moved.

        The ids are those of the jobs that did not show their outcome yet, oldest first. A
        :meth:`set_status` on a job is undone: it shows its outcome too.
        """
        now = self._clock.monotonic()
        moved = []
        with self._lock:
            for index in sorted(self._jobs, reverse=True):  # -1 is the oldest job
                job = self._jobs[index]
                overridden = self._statuses.pop(index, None) is not None
                if overridden or job.status(now) != job.outcome:
                    moved.append(str(job.artwork["id"]))
                job.finished = True
        self.webhooks.poke()
        return moved

    def set_status(self, artwork_id: str, status: str) -> None:
        """Serve the listed artwork *artwork_id* with this ``status`` from now on.

        On a job with an outcome (``"succeeded"``, ``"failed"``, ``"canceled"``) it finishes
        the job with that outcome, as :meth:`finish_jobs` does, the results included. Anywhere
        else it overrides what the artwork (synthetic, explicit or job) says:

        - ``"succeeded"`` keeps the artwork's ``results``; if it has none and ``images=True``,
          it gets one or two image URLs (on :attr:`image_base`);
        - any other status empties ``results``;
        - ``"starting"`` sets ``duration`` to 0; another status sets a ``duration`` of 0 to a
          positive one (a ``duration`` the artwork lacks stays absent).

        A status the API does not document is served as given. The last call wins.

        Raises:
            KeyError: No listed artwork has this id.
            ValueError: An empty *status*.
        """
        if not status:
            msg = f"status must be a non-empty string, got {status!r}"
            raise ValueError(msg)
        with self._lock:
            index = self._find(artwork_id)
            if index is None:
                msg = f"no listed artwork has the id {artwork_id!r}"
                raise KeyError(msg)
            self._cache.pop(index, None)
            job = self._jobs.get(index)
            if job is not None and status in JOB_OUTCOMES:
                self._statuses.pop(index, None)
                job.outcome = status
                job.finished = True
            else:
                self._statuses[index] = status
            self.webhooks.poke(index)

    # -- images ----------------------------------------------------------------------------

    def image_url(self, artwork_id: str, n: int = 0, ext: str | None = None) -> yarl.URL:
        """Where image *n* of *artwork_id* is served: ``{image_base}/images/{id}/{n}.{ext}``.

        Args:
            artwork_id: Any id (the route serves an image for any id).
            n: The image's place in ``results``.
            ext: ``"png"`` or ``"webp"``; by default the one :func:`image_ext` gives the
                artwork, as in the ``results`` that ``images=True`` writes.
        """
        if ext is None:
            ext = image_ext(artwork_id)
        if ext not in IMAGE_EXTS or n < 0 or not artwork_id or "/" in artwork_id:
            msg = f"no image route for artwork {artwork_id!r}, n={n!r}, ext={ext!r}"
            raise ValueError(msg)
        base = self._result_origin or self.image_base
        return base.with_path(f"/images/{artwork_id}/{n}.{ext}")

    def image_bytes(self, artwork_id: str, n: int = 0, ext: str | None = None) -> bytes:
        """The bytes :meth:`image_url` serves (``image_size`` applied); see :func:`image_bytes`."""
        return image_bytes(
            artwork_id, n, image_ext(artwork_id) if ext is None else ext, size=self._image.size
        )

    def queue_image_faults(self, *faults: str) -> None:
        """Give the next image requests these faults, in order (see :data:`IMAGE_FAULTS`).

        ``"404"``, ``"410"``, ``"429"`` (with ``Retry-After``), ``"500"`` and ``"503"``
        answer that status with a short ``text/plain`` body; ``"html"`` a 200 whose
        ``Content-Type`` is ``text/html`` (a sign-in page); ``"drop"`` the image's headers
        and half its body, then the connection is closed; ``"slow"`` the whole image in
        4 pieces, ``image_chunk_delay`` seconds apart; ``"huge"`` a ``Content-Length`` of
        1 TiB, then garbage until the client hangs up (or 256 MiB were sent, when the
        connection is closed). Requests for malformed image paths or ``gone_images`` do not
        use up a fault.
        """
        _check_image_faults(faults)
        with self._lock:
            self._queued_image_faults.extend(faults)

    def ids(self) -> list[str]:
        """The ``id`` of every listed artwork, in listing order (generates them all)."""
        now = self._clock.monotonic()
        return [
            str(self._artwork(index, now)["id"]) for index in range(-self._inserted, self._count)
        ]

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every attempt to deliver a job's final artwork to its webhook, in order."""
        return list(self.webhooks.deliveries)

    def _final_item(self, index: int) -> tuple[bytes | None, float | None]:
        # For the webhook sender: the bytes GET by id answers once the job shows a final
        # status, and when it ends by time (None when by polls).
        with self._lock:
            job = self._jobs[index]
            now = self._clock.monotonic()
            artwork = self._served(index, now)
            final = artwork.get("status") in JOB_OUTCOMES
            ends_at = None if job.seconds is None else job.started + job.seconds
            return (self._item(index, now) if final else None), ends_at

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

    def _served(self, index: int, now: float) -> Mapping[str, Any]:
        # The artwork as the API answers it: its results on the image origin, its status set.
        artwork = self._artwork(index, now)
        if self._images and (index < 0 or self._explicit is None):
            artwork = self._with_images(artwork)
        status = self._statuses.get(index)
        if status is not None:
            artwork = self._with_status(artwork, status)
        return artwork

    def _with_images(self, artwork: Mapping[str, Any]) -> dict[str, Any]:
        # As many results as the synthetic artwork has, on the image route. Updating the
        # existing key keeps it where make_artwork put it.
        artwork_id = str(artwork["id"])
        count = len(artwork["results"])
        return {**artwork, "results": [str(self.image_url(artwork_id, n)) for n in range(count)]}

    def _with_status(self, artwork: Mapping[str, Any], status: str) -> dict[str, Any]:
        item = {**artwork, "status": status}
        rng = random.Random(f"status:{item.get('id')}")
        if status != "succeeded":
            if item.get("results"):
                item["results"] = []
        elif not item.get("results") and self._images:
            artwork_id = str(item.get("id"))
            item["results"] = [str(self.image_url(artwork_id, n)) for n in range(rng.randint(1, 2))]
        if "duration" in item:
            if status == "starting":
                item["duration"] = 0
            elif not item["duration"]:
                item["duration"] = round(rng.uniform(0.5, 60.0), 3)
        return item

    def _item(self, index: int, now: float) -> bytes:
        item = self._cache.get(index)
        if item is None:
            item = orjson.dumps(self._served(index, now))
            if index not in self._jobs:
                self._cache[index] = item
        return item

    def _window(self, offset: int, limit: int) -> bytes:
        first = offset - self._inserted
        last = min(first + limit, self._count)
        now = self._clock.monotonic()
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
        found = self._artwork(index, self._clock.monotonic()).get("id") == artwork_id
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

    async def _handle_create(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        with self._lock:
            answer = self._refuse(request)
            if answer is None:
                decision = self._creates.decide(
                    request.match_info["kind"], body, index=-self._inserted - 1, clock=self._clock
                )
                if decision.job is not None:
                    self._add_job(decision.job, body.get("webhook"))
                answer = _Answer(
                    decision.status, decision.body, decision.fault, headers=decision.headers
                )
        return await self._send(request, answer, body=body)

    def _add_job(self, artwork: dict[str, Any], webhook: str | None) -> None:
        # A created artwork, at the front of the listing, run by the job machinery.
        options = self._creates.options
        self._inserted += 1
        rng = random.Random(f"job:{self._seed}:{-self._inserted}")
        self._jobs[-self._inserted] = _Job(
            artwork=artwork,
            outcome=options.outcome,
            polls=options.polls,
            seconds=options.seconds,
            started=self._clock.monotonic(),
            duration=round(rng.uniform(0.5, 60.0), 3),
            results=[str(self.image_url(artwork["id"], n)) for n in range(options.images)],
        )
        if webhook is not None:
            self.webhooks.watch(-self._inserted, str(artwork["id"]), webhook)

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
        not_found = f"Cannot GET {request.path}"
        if fault is not None and (answer := _fault_answer(fault, self._retry_after, not_found)):
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
        not_found = "artwork not found"
        if fault is not None and (answer := _fault_answer(fault, self._retry_after, not_found)):
            return answer
        body = self._item(index, self._clock.monotonic())
        job = self._jobs.get(index)
        # Only a clean GET is a poll: the client saw the state (a HEAD sends no body).
        if job is not None and fault is None and request.method == "GET":
            job.served += 1
            self.webhooks.poke(index)
        return _Answer(200, _malformed(body) if fault == "malformed" else body, fault=fault)

    async def _handle_unknown_image(self, request: web.Request) -> web.StreamResponse:
        # Anything but an image on the image origin: a CDN's plain 404.
        return await self._send_image(request, _image_error(404))

    async def _handle_image(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            answer = self._decide_image(request)
        return await self._send_image(request, answer)

    def _decide_image(self, request: web.Request) -> _Answer:
        match = _IMAGE_PATH.fullmatch(request.path)
        if match is None or match["ext"] not in IMAGE_EXTS:
            return _image_error(404)
        artwork_id, n, ext = match["id"], int(match["n"]), match["ext"]
        gone = self._image.gone.get((artwork_id, n))
        if gone is not None:
            return _image_error(gone)
        fault = self._queued_image_faults.pop(0) if self._queued_image_faults else None
        if fault is not None and fault.isdigit():
            headers = {"Retry-After": str(self._retry_after)} if fault == "429" else {}
            return _image_error(int(fault), fault=fault, headers=headers)
        if fault == "html":
            return _Answer(200, _HTML, fault=fault, headers={"Content-Type": "text/html"})
        body = self.image_bytes(artwork_id, n, ext)
        return _Answer(200, body, fault=fault, headers={"Content-Type": IMAGE_CONTENT_TYPES[ext]})

    async def _send_image(self, request: web.Request, answer: _Answer) -> web.StreamResponse:
        # Recorded before any await, so the record keeps the order of arrival.
        self.image_requests.append(_record(request, answer))
        if self._image.latency:
            await asyncio.sleep(self._image.latency)
        headers = dict(answer.headers)
        content_type = headers.pop("Content-Type")
        if answer.fault not in ("drop", "slow", "huge"):
            return web.Response(
                status=answer.status, body=answer.body, headers=headers, content_type=content_type
            )
        response = web.StreamResponse(status=answer.status, headers=headers)
        response.content_type = content_type
        response.content_length = _HUGE_LENGTH if answer.fault == "huge" else len(answer.body)
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        try:
            if answer.fault == "drop":
                await response.write(answer.body[: len(answer.body) // 2])
            elif answer.fault == "slow":
                await self._trickle(response, answer.body)
                return response
            else:
                await _stream_garbage(response)
        except ConnectionError:
            return response  # the client hung up, as it may
        # As for the API's "drop": the client sees the body end early, and aiohttp takes the
        # failing write_eof() that follows for a client disconnect (no log).
        if request.transport is not None:
            request.transport.close()
        return response

    async def _trickle(self, response: web.StreamResponse, body: bytes) -> None:
        size = -(-len(body) // _SLOW_CHUNKS)
        for start in range(0, len(body), size):
            if start:
                await asyncio.sleep(self._image.chunk_delay)
            await response.write(body[start : start + size])

    def _draw_fault(self) -> Fault | None:
        if self._queued:
            return self._queued.pop(0)
        return self._schedule.next()

    async def _hold(self) -> None:
        # A "timeout" fault: wait out fault_timeout, or until the server closes.
        closing = self._closing
        if closing is None:  # pragma: no cover - requests come only while running
            return
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(closing.wait(), self._fault_timeout)

    async def _send(
        self, request: web.Request, answer: _Answer, *, body: Any = None
    ) -> web.StreamResponse:
        # Recorded before any await, so the record keeps the order of arrival.
        self.requests.append(_record(request, answer, body))
        if self._latency:
            await asyncio.sleep(self._latency)
        if answer.fault == "timeout":
            await self._hold()
            if request.transport is not None:
                request.transport.close()
            # Nothing reaches the client: its connection is closed before any answer.
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
        # close() flushes what was written, then the client sees the body end early.
        # aiohttp treats the failing write_eof() that follows as a client disconnect: no log.
        if request.transport is not None:
            request.transport.close()
        return response


async def _listen(app: web.Application, host: str, port: int) -> web.AppRunner:
    # No access log: a fault-injection run would flood the test output.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _base_url(host: str, runner: web.AppRunner) -> yarl.URL:
    return yarl.URL.build(scheme="http", host=host, port=runner.addresses[0][1])


def _record(request: web.Request, answer: _Answer, body: Any = None) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDictProxy(CIMultiDict(request.headers)),
        status=answer.status,
        fault=answer.fault,
        body=body,
    )


def _image_error(status: int, **attributes: Any) -> _Answer:
    # A CDN's error: a line of plain text, not the API's JSON.
    body = f"{status} {http.HTTPStatus(status).phrase}\n".encode()
    headers = {**attributes.pop("headers", {}), "Content-Type": "text/plain"}
    return _Answer(status, body, headers=headers, **attributes)


async def _stream_garbage(response: web.StreamResponse) -> None:
    chunk = _filler(_HUGE_CHUNK)
    for _ in range(_HUGE_STREAMED // _HUGE_CHUNK):
        await response.write(chunk)


def _image_key(key: object) -> tuple[str, int]:
    if isinstance(key, tuple) and len(key) == 2:  # noqa: PLR2004 - a pair
        artwork_id, n = key
        if isinstance(artwork_id, str) and isinstance(n, int) and n >= 0:
            return artwork_id, n
    if isinstance(key, str | yarl.URL):
        match = _IMAGE_PATH.fullmatch(yarl.URL(key).path)
        if match is not None:
            return match["id"], int(match["n"])
    msg = f"an image is an (artwork_id, n) pair or a URL of /images/{{id}}/{{n}}.{{ext}}: {key!r}"
    raise ValueError(msg)


def _origin(text: str | yarl.URL) -> yarl.URL:
    """*text* as an http(s) origin (no path, query or fragment), or ``ValueError``."""
    url = yarl.URL(text)
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/"):
        msg = f"result_origin must be an http(s) origin such as http://host:8080, got {text!r}"
        raise ValueError(msg)
    if url.query_string or url.fragment or url.user is not None:
        msg = f"result_origin must be an http(s) origin such as http://host:8080, got {text!r}"
        raise ValueError(msg)
    return url.with_path("")


def _gone_images(gone: Mapping[ImageKey, int] | Collection[ImageKey]) -> dict[tuple[str, int], int]:
    pairs = gone.items() if isinstance(gone, Mapping) else ((key, 404) for key in gone)
    result = {}
    for key, status in pairs:
        if status not in _GONE_STATUSES:
            msg = f"a gone image answers 404 or 410, not {status!r}"
            raise ValueError(msg)
        result[_image_key(key)] = status
    return result


#: The message of each HTTP fault's error body (a 404's depends on the route).
_FAULT_MESSAGES: Final[Mapping[str, str]] = {
    "401": "missing or invalid API key",
    "403": "Forbidden resource",  # NestJS's words for a guard's refusal
    "429": "rate limit exceeded",
    "500": "internal server error",
    "503": "service unavailable",
}


def _fault_answer(fault: Fault, retry_after: int, not_found: str) -> _Answer | None:
    # The answer a fault replaces the body with; None for the faults that spoil a 200.
    if fault == "timeout":
        return _Answer(0, b"", fault=fault)
    if not fault.isdigit():
        return None
    headers = (
        {"Retry-After": str(retry_after)}
        if fault == "429"
        else {"WWW-Authenticate": "Bearer"}
        if fault == "401"
        else {}
    )
    message = _FAULT_MESSAGES.get(fault, not_found)
    return _error(int(fault), message, fault=fault, headers=headers)


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
    unknown = sorted(set(faults) - set(FAULTS), key=repr)
    if unknown:
        msg = f"unknown faults {unknown}; the faults are {', '.join(FAULTS)}"
        raise ValueError(msg)


def _check_image_faults(faults: Sequence[str]) -> None:
    unknown = sorted(set(faults) - set(IMAGE_FAULTS), key=repr)
    if unknown:
        msg = f"unknown image faults {unknown}; they are {', '.join(IMAGE_FAULTS)}"
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
