"""A fake Tengr.ai API serving ``GET /v2/artworks`` and ``GET /v2/artworks/{id}`` over loopback.

``FakeTengrAI`` holds the parts together: its options, lifecycle and public methods; the listing,
faults, jobs, image host and routes each live in a module of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Collection, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import yarl
from aiohttp import web

from .._client import TengrAI
from .._clock import SYSTEM_CLOCK, Clock
from .._transport import RetryPolicy
from ._create import CreateFault, CreateOptions, CreateRoutes
from ._data import KindMix
from ._faults import DEFAULT_FAULTS, FAULTS, Fault, FaultOptions, FaultPlan, FaultSchedule
from ._http import RecordedRequest, base_url, listen
from ._image_host import IMAGE_FAULTS, ImageHost, ImageKey, ImageOptions
from ._jobs import JOB_OUTCOMES, check_job
from ._keywords import NOT_GIVEN, options_of
from ._listing import Listing, ListingOptions
from ._routes import ApiRoutes
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

#: How much longer than the answers are delayed the timeout of :meth:`FakeTengrAI.client` is.
_CLIENT_TIMEOUT_MARGIN: Final = 1.0
_NOT_RUNNING: Final = "the fake server is not running: use start() or async with"
# The schedule's name here, where the tests of its arithmetic import it.
_FaultSchedule = FaultSchedule


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

    **Options in groups.** Most options are fields of three frozen attrs classes, each field
    also a keyword of the same name here: :class:`ListingOptions`, :class:`FaultOptions` and
    :class:`ImageOptions` (each documents and checks its fields). Give a group whole
    (``listing_options=``, ``fault_options=``, ``image_options=``) or field by field, where a
    field left out keeps its default, but not both for one group. These are the same::

        FakeTengrAI(count=500, fault_options=FaultOptions(fault_rate=0.2, faults=("503",)))
        FakeTengrAI(count=500, fault_rate=0.2, faults=("503",))

    Args:
        artworks: The artworks to serve, newest first; excludes ``count``.
        api_key: The bearer token required; ``None`` accepts any token (but not none).
        host: The interface to listen on.
        port: The port to listen on; 0 picks a free one (read it back from :attr:`url`).
        latency: Seconds to wait before each API answer (>= 0).
        redirect_to: When set, answer every API request (listing or by id) with a 307 to this
            base URL, with the same path and query.
        create: How the jobs made by ``POST /v2/artworks/<kind>`` run (:class:`CreateOptions`).
            The ten routes check a body by the kind's request rules (400 with the API's body
            when one breaks; unknown keys kept), answer 202 with a new ``starting`` artwork
            whose ``parameters`` echo the body and the documented defaults, then list it first
            and run it like a :meth:`start_job` job, its results on :attr:`image_base`.
            :meth:`queue_create_faults` spoils the next POSTs; :attr:`create_bodies` (and
            :attr:`RecordedRequest.body`) record every body.
        clock: Where jobs read the time (a :class:`~tengrai_async.testing.FakeClock` in
            tests); default the system clock.
        webhooks: How a job created with a ``webhook`` (a create body's, or
            :meth:`start_job`'s) is delivered when it ends: its final artwork POSTed to the
            loopback base its origin is routed to (see :class:`WebhookOptions`; every attempt
            in :attr:`webhook_deliveries`, more routes with ``server.webhooks.route()``).
        listing_options: What is listed (:class:`ListingOptions`).
        fault_options: Which API requests fail, and how (:class:`FaultOptions`).
        image_options: The image host (:class:`ImageOptions`).
        count: A field of :class:`ListingOptions`, as are ``seed``, ``kinds``, ``extras``,
            ``insert_every`` and ``insert_batch``.
        fault_rate: A field of :class:`FaultOptions`, as are ``faults``, ``retry_after``,
            ``fault_seed`` and ``fault_timeout``.
        images: A field of :class:`ImageOptions`, as are ``result_origin``, ``image_origin``,
            ``image_size``, ``gone_images``, ``image_latency`` and ``image_chunk_delay``.

    Raises:
        TypeError: A group given with one of its fields as a keyword too, or a group that is
            not an instance of its class; and what the groups refuse with it.
        ValueError: Both ``artworks`` and ``count``, a negative ``latency``; and what the
            groups refuse (see each class).
    """

    def __init__(
        self,
        artworks: Sequence[Mapping[str, Any]] | None = None,
        *,
        count: int = NOT_GIVEN,
        seed: int = NOT_GIVEN,
        kinds: KindMix | None = NOT_GIVEN,
        extras: bool = NOT_GIVEN,
        api_key: str | None = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        fault_rate: float = NOT_GIVEN,
        faults: Sequence[Fault] = NOT_GIVEN,
        retry_after: int = NOT_GIVEN,
        fault_seed: int = NOT_GIVEN,
        fault_timeout: float = NOT_GIVEN,
        insert_every: int = NOT_GIVEN,
        insert_batch: int = NOT_GIVEN,
        redirect_to: str | None = None,
        images: bool = NOT_GIVEN,
        result_origin: str | yarl.URL | None = NOT_GIVEN,
        image_origin: Literal["same", "other"] = NOT_GIVEN,
        image_size: int | None = NOT_GIVEN,
        gone_images: Mapping[ImageKey, int] | Collection[ImageKey] = NOT_GIVEN,
        image_latency: float = NOT_GIVEN,
        image_chunk_delay: float = NOT_GIVEN,
        create: CreateOptions | None = None,
        clock: Clock | None = None,
        webhooks: WebhookOptions | None = None,
        listing_options: ListingOptions | None = None,
        fault_options: FaultOptions | None = None,
        image_options: ImageOptions | None = None,
    ) -> None:
        # The keywords of a group are its fields: read them by name.
        keywords = locals()
        listing = options_of(ListingOptions, "listing_options", keywords)
        if artworks is not None and listing.count:
            msg = "give either artworks or count, not both"
            raise ValueError(msg)
        if latency < 0:
            msg = f"latency must be >= 0, got {latency!r}"
            raise ValueError(msg)
        fault = options_of(FaultOptions, "fault_options", keywords)
        image = options_of(ImageOptions, "image_options", keywords)
        self._api_key, self._host, self._port, self._latency = api_key, host, port, latency
        self._clock = clock or SYSTEM_CLOCK
        # The public methods may be called from another thread than the server's loop.
        self._lock = threading.Lock()
        self._faults = FaultPlan(fault)
        self._images = ImageHost(
            image,
            retry_after=fault.retry_after,
            lock=self._lock,
            on_request=lambda recorded: self.image_requests.append(recorded),  # noqa: PLW0108
        )
        #: The webhook sender: its routes, deliveries still to come, and records.
        self.webhooks = WebhookSender(
            webhooks or WebhookOptions(), clock=self._clock, final=self._final
        )
        self._listing = Listing(
            artworks, listing, images=self._images, clock=self._clock, on_finish=self.webhooks.poke
        )
        self._creates = CreateRoutes(
            create or CreateOptions(), seed=listing.seed, retry_after=fault.retry_after
        )
        self._routes = ApiRoutes(
            self._listing,
            self._faults,
            self._creates,
            api_key=api_key,
            redirect_to=redirect_to,
            latency=latency,
            lock=self._lock,
            clock=self._clock,
            on_request=lambda recorded: self.requests.append(recorded),  # noqa: PLW0108
            on_created=self.webhooks.created,
        )
        # The lambdas above look the lists up on each request, so a test may replace them.
        self._runner: web.AppRunner | None = None
        self._url: yarl.URL | None = None
        #: Every API request, in order of arrival.
        self.requests: list[RecordedRequest] = []
        #: Every request to the image route (or to any path of the image origin), in order.
        self.image_requests: list[RecordedRequest] = []

    @property
    def listing_options(self) -> ListingOptions:
        """What the server lists: ``listing_options``, or the one its keywords made."""
        return self._listing.options

    @property
    def fault_options(self) -> FaultOptions:
        """How its API requests fail: ``fault_options``, or the one its keywords made."""
        return self._faults.options

    @property
    def image_options(self) -> ImageOptions:
        """Its image host: ``image_options``, or the one its keywords made."""
        return self._images.options

    @property
    def _cache(self) -> dict[int, bytes]:
        # The serialized items (the tests count them to see what was made).
        return self._listing.cache

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> yarl.URL:
        """The base URL, such as ``http://127.0.0.1:54321``; only while the server runs."""
        if self._url is None:
            raise RuntimeError(_NOT_RUNNING)
        return self._url

    @property
    def image_base(self) -> yarl.URL:
        """The origin serving the images: :attr:`url`, or another port with ``"other"``."""
        return self._images.base

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
            "timeout": _CLIENT_TIMEOUT_MARGIN + self._latency + self.image_options.image_latency,
            "trust_env": False,
        }
        return TengrAI(**{**settings, **options})

    async def start(self) -> None:
        """Start listening; :attr:`url` then holds the port actually bound."""
        if self._runner is not None:
            msg = "the fake server is already running"
            raise RuntimeError(msg)
        self._faults.open()
        same = self.image_options.image_origin == "same"
        app = self._routes.app(images=self._images.handle if same else None)
        runner = await listen(app, self._host, self._port)
        url = base_url(self._host, runner)
        try:
            await self._images.start(self._host, url)
        except BaseException:
            await runner.cleanup()
            raise
        self._runner, self._url = runner, url
        self.webhooks.open(asyncio.get_running_loop())  # only a running server takes webhooks
        if self.image_options.images:
            # The cached items name the image origin, whose port may have changed.
            with self._lock:
                self._listing.cache.clear()

    async def close(self) -> None:
        """Stop listening; closing a server that is not running does nothing."""
        self._faults.release()  # the requests that "timeout" faults hold end now
        await self.webhooks.close()
        runner, self._runner, self._url = self._runner, None, None
        try:
            await self._images.close()
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
    def in_thread(cls, **kwargs: Any) -> Generator[Self, None, None]:
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

    # -- the listing and its jobs ----------------------------------------------------------

    @property
    def total(self) -> int:
        """How many artworks the listing holds now, inserted ones (and jobs) included."""
        return self._listing.total

    def ids(self) -> list[str]:
        """The ``id`` of every listed artwork, in listing order (generates them all)."""
        return self._listing.ids()

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
            return self._listing.insert(n)

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
        check_job(kind, outcome, polls, seconds)
        with self._lock:
            if webhook is not None:
                self.webhooks.check(webhook)  # before the job is added: nothing half done
            artwork_id = self._listing.start_job(
                kind, outcome=outcome, polls=polls, seconds=seconds
            )
            if webhook is not None:
                self.webhooks.watch(self._listing.next_index + 1, artwork_id, webhook)
            return artwork_id

    def finish_jobs(self) -> list[str]:
        """Move every job of :meth:`start_job` to its outcome now; return the ids it moved.

        The ids are those of the jobs that did not show their outcome yet, oldest first. A
        :meth:`set_status` on a job is undone: it shows its outcome too.
        """
        with self._lock:
            return self._listing.finish_jobs()

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
            self._listing.set_status(artwork_id, status)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every attempt to deliver a job's final artwork to its webhook, in order."""
        return list(self.webhooks.deliveries)

    def _final(self, index: int) -> tuple[bytes | None, float | None]:
        # For the webhook sender, from its task on the server's loop.
        with self._lock:
            return self._listing.final(index)

    # -- faults ----------------------------------------------------------------------------

    def queue_faults(self, *faults: Fault) -> None:
        """Give the next valid API requests (listing or by id) these faults, in order.

        Once they are used up, normal service resumes (or the ``fault_rate`` schedule, which
        the requests they answer do not count). So ``queue_faults("503")`` is one 503, then
        success: a client that retries gets its answer on the second request. Requests
        refused before a fault could apply (a wrong key, a bad ``offset`` or ``limit``, an
        unknown artwork) do not use one up; concurrent requests take them in the order they
        arrive. See :class:`FaultOptions` for what each :data:`Fault` does.
        """
        with self._lock:
            self._faults.queue(faults)

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

    # -- images ----------------------------------------------------------------------------

    def image_url(self, artwork_id: str, n: int = 0, ext: str | None = None) -> yarl.URL:
        """Where image *n* of *artwork_id* is served: ``{image_base}/images/{id}/{n}.{ext}``.

        Args:
            artwork_id: Any id (the route serves an image for any id).
            n: The image's place in ``results``.
            ext: ``"png"`` or ``"webp"``; by default the one :func:`image_ext` gives the
                artwork, as in the ``results`` that ``images=True`` writes.
        """
        return self._images.url(artwork_id, n, ext)

    def image_bytes(self, artwork_id: str, n: int = 0, ext: str | None = None) -> bytes:
        """The bytes :meth:`image_url` serves (``image_size`` applied); see :func:`image_bytes`."""
        return self._images.image(artwork_id, n, ext)

    def queue_image_faults(self, *faults: str) -> None:
        """Give the next image requests these faults, in order (see :data:`IMAGE_FAULTS`).

        Requests for malformed image paths or ``gone_images`` do not use up a fault.
        """
        with self._lock:
            self._images.queue(faults)
