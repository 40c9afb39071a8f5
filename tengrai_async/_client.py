"""``TengrAI``, the client, and its ``artworks`` resource: configuration and wiring.

The client reads its settings (argument, then environment, then default), owns the transport
and hands each listing an :class:`ArtworkIterator`.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as _dt
import math
import os
import uuid
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Final

import aiohttp
import yarl

from . import _logging, _sansio
from ._clock import SYSTEM_CLOCK, Clock
from ._converter import converter
from ._create_api import ArtworksCreate
from ._enums import ArtworkStatus, ArtworkType
from ._errors import ConfigurationError, WaitTimeoutError
from ._models import Artwork, ArtworkPage
from ._never_twice import CreateLedger
from ._pagination import DEFAULT_DEDUPE_WINDOW, ArtworkIterator, OnInvalid
from ._transport import DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, Transport
from ._waiting import AsCompleted, SharedPolls, Waiter, job_key

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "ArtworksResource", "TengrAI"]

API_KEY_ENV: Final = "TENGRAI_API_KEY"
BASE_URL_ENV: Final = "TENGRAI_BASE_URL"


class ArtworksResource(ArtworksCreate):
    """``client.artworks``: the listing, one artwork by id, waiting for one, creating them.

    The ``create_<kind>`` methods come from :class:`ArtworksCreate`, which says what they
    check, how they retry and how they avoid making one job twice.
    """

    __slots__ = ("_ledger", "_never_twice", "_polls", "_transport")

    def __init__(
        self,
        transport: Transport,
        *,
        ledger: CreateLedger | None = None,
        never_twice: bool = True,
        polls: SharedPolls | None = None,
    ) -> None:
        self._transport = transport
        self._ledger = ledger if ledger is not None else CreateLedger(transport.clock)
        self._polls = polls if polls is not None else SharedPolls(transport.clock)
        self._never_twice = never_twice

    async def list(
        self, *, offset: int = 0, limit: int = 10, on_invalid: OnInvalid = "raise"
    ) -> ArtworkPage:
        """Fetch one window of artworks (one GET, retried when transient).

        Args:
            offset: How many artworks to skip, newest first (>= 0).
            limit: How many to return (1..=500).
            on_invalid: ``"raise"`` a :class:`ResponseValidationError` for an invalid item, or
                ``"skip"`` it into ``page.invalid``.

        Raises:
            InvalidArgumentError: A bad ``offset``, ``limit`` or ``on_invalid``, before any
                request (a ``ValueError``; :class:`InvalidArgumentTypeError`, a ``TypeError``
                too, for a value of the wrong type).
            APIError: The server answered with an error status.
            TransportError: The connection failed or timed out (after retries).
            ResponseValidationError: The answer breaks the spec.
        """
        _sansio.check_window(offset, limit)
        if on_invalid not in ("raise", "skip"):
            raise _sansio.bad_argument("on_invalid", on_invalid, "'raise' or 'skip'", types=(str,))
        data = await self._transport.get_window(offset=offset, limit=limit)
        return converter.structure_page(
            data, offset=offset, limit=limit, skip_invalid=on_invalid == "skip"
        )

    async def get(self, artwork_id: uuid.UUID | str) -> Artwork:
        """Fetch one artwork by id: ``GET /v2/artworks/{id}`` (retried when transient).

        Args:
            artwork_id: The artwork's id, a ``uuid.UUID`` or its 8-4-4-4-12 hex string.

        Returns:
            The artwork, of whichever kind it is (an unknown kind comes back whole).

        Raises:
            InvalidArgumentError: *artwork_id* is not a UUID (checked before any request).
            NotFoundError: No such artwork: a wrong id, or one deleted after the 8-day
                retention.
            APIError: Any other error status.
            TransportError: The connection failed or timed out (after retries).
            ResponseValidationError: The answer breaks the spec.
        """
        key = _sansio.check_artwork_id(artwork_id)
        return converter.structure_artwork(await self._transport.get_artwork(key))

    async def wait(
        self,
        artwork_id: uuid.UUID | str | Artwork,
        *,
        timeout: float = 300.0,
        poll_interval: float = 1.0,
        on_poll: Callable[[Artwork], object] | None = None,
    ) -> Artwork:
        """Poll :meth:`get` until the artwork's status is final, and return it.

        Final means ``succeeded``, ``failed`` or ``canceled``: a failed job is returned, not
        raised, so check ``artwork.status``. The wait between polls starts at
        *poll_interval* and grows by half each time, up to 10 s (or *poll_interval*, if
        larger). Cancelling the call cancels its poll; nothing keeps running for it. The
        timeout and the waits are measured on the client's ``clock``.

        Concurrent waits of one client (its :meth:`TengrAI.with_options` copies included)
        share their polls: one round reads the listing from the newest page until every job
        awaited has been seen (or the pages reach back past the oldest of them), then GETs
        by id only those it did not see, and each wait takes its artwork from that round.
        One wait alone is one GET a poll, as ever; each keeps its own timeout, and is polled
        at least as often as its own schedule says. A job that is no longer listed and that
        its GET answers 404 for raises :class:`NotFoundError` in its own wait only. A job
        handed to :meth:`deliver` (a webhook's delivery) ends its waits at once, without
        waiting for the next poll.

        Args:
            artwork_id: The artwork (say, what a ``create_*`` method returned), or its id: a
                ``uuid.UUID`` or its 8-4-4-4-12 hex string.
            timeout: Seconds to wait in all, polls included.
            poll_interval: Seconds before the second poll.
            on_poll: Called with the artwork each poll fetched (for progress), final included
                (and with a delivered one); an error it raises ends the wait.

        Raises:
            InvalidArgumentError: A bad argument (checked before any request).
            WaitTimeoutError: No final status within *timeout* (also a ``TimeoutError``); its
                ``artwork`` is the last one fetched.
            NotFoundError: No such artwork.
            APIError, TransportError, ResponseValidationError: As for :meth:`get`.
        """
        key, created_at = job_key(artwork_id)
        _check_seconds("timeout", timeout)
        _check_seconds("poll_interval", poll_interval)
        transport = self._transport
        await transport.open()
        waiter = Waiter(
            key, transport=transport, timeout=timeout, poll_interval=poll_interval, on_poll=on_poll
        )
        self._polls.add(waiter, created_at)
        try:
            # The rounds end the wait at its deadline on the clock; this bound (the time
            # left, in the loop's time) ends it while a round hangs in flight.
            left = max(0.0, waiter.deadline - transport.clock.monotonic())
            return await transport.until_closed(asyncio.wait_for(waiter.result, left))
        except WaitTimeoutError:
            raise
        except asyncio.TimeoutError:
            raise waiter.timed_out() from None
        finally:
            await self._polls.leave(waiter)

    def as_completed(
        self,
        jobs: Iterable[uuid.UUID | str | Artwork],
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> AsCompleted:
        """Each job's final artwork as it ends: ``async for artwork in ...as_completed(jobs)``.

        The jobs' polls are shared with every other wait of this client, as :meth:`wait`
        says; a job given twice is yielded twice. Leaving the loop early (``break``, an
        error, ``aclose()``, or the end of ``async with ...as_completed(jobs) as done:``)
        ends its waits at once: nothing goes on polling for them.

        Args:
            jobs: Artworks (say, what ``create_*`` methods returned) or their ids.
            timeout: Seconds for them all, or ``None`` for no limit.
            poll_interval: Seconds before each job's second poll, growing as in :meth:`wait`.

        Raises:
            InvalidArgumentError: A bad job or argument (here, before any request).
            WaitTimeoutError: Raised by the iteration when *timeout* passes; it names the
                first job (in the order given) that had not ended.
            NotFoundError: Raised by the iteration for a job that is gone (its other waits
                end); as do the errors of :meth:`get`.
        """
        keys = [job_key(job) for job in jobs]
        if timeout is not None:
            _check_seconds("timeout", timeout)
        _check_seconds("poll_interval", poll_interval)
        return AsCompleted(
            self._polls, self._transport, keys, timeout=timeout, poll_interval=poll_interval
        )

    async def wait_all(
        self,
        jobs: Iterable[uuid.UUID | str | Artwork],
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> builtins.list[Artwork]:
        """Wait for every job and return their final artworks in the order given.

        Polls are shared as for :meth:`as_completed`; the first error (a timeout, a job
        gone) ends every wait and is raised.

        Raises:
            As :meth:`as_completed`.
        """
        keys = list(jobs)
        results: dict[int, Artwork] = {}
        async with self.as_completed(keys, timeout=timeout, poll_interval=poll_interval) as done:
            for _ in keys:
                place, artwork = await done.next_done()
                results[place] = artwork
        return [results[place] for place in range(len(keys))]

    def deliver(self, artwork: Artwork) -> int:
        """Hand an artwork pushed to you (a webhook delivery) to this client's waits.

        A final one ends every :meth:`wait` (and ``as_completed``) on its id at once, and is
        remembered (the last 1,024) for a wait that starts later, which then returns it
        without a request. ``tengrai_async.web.setup_webhooks`` calls this for you.

        Returns:
            How many waits it ended.
        """
        return self._polls.deliver(artwork)

    def iterate(
        self,
        *,
        offset: int = 0,
        page_size: int = 500,
        prefetch: int = 4,
        max_items: int | None = None,
        artwork_type: ArtworkType | str | Iterable[ArtworkType | str] | None = None,
        status: ArtworkStatus | str | Iterable[ArtworkStatus | str] | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
        on_invalid: OnInvalid = "raise",
        dedupe_window: int = DEFAULT_DEDUPE_WINDOW,
        seen_ids: Iterable[uuid.UUID | str] = (),
        newest_first: bool = True,
    ) -> ArtworkIterator:
        """Iterate over every artwork from *offset* on, in order, prefetching windows.

        Args:
            offset: Where to start (a previous iterator's ``next_offset`` resumes it).
            page_size: The ``limit`` of each window (1..=500).
            prefetch: How many consecutive windows may be in flight at once.
            max_items: Stop after handing out this many artworks.
            artwork_type: Keep only these kinds (members or strings; unknown kinds too).
            status: Keep only these statuses (one or several).
            created_after: Keep artworks created at or after this aware datetime. The listing
                is newest first, so the first artwork older than this ends the iteration
                (no further window is requested); ``newest_first=False`` filters instead.
            created_before: Keep artworks created strictly before this aware datetime.
            on_invalid: ``"raise"`` on an invalid item, or ``"skip"`` it into ``.invalid``.
            dedupe_window: How many recent ids are remembered to drop duplicates.
            seen_ids: Ids handed out by an earlier run: resuming with them drops the items
                that a shifted listing would repeat.
            newest_first: Trust the listing to be newest first (the API's order). ``False``
                scans everything and only filters by ``created_after``, for a listing that
                is not ordered.

        Raises:
            InvalidArgumentError: A bad argument (checked here, before any request).
        """
        return ArtworkIterator(
            self._transport,
            offset=offset,
            page_size=page_size,
            prefetch=prefetch,
            max_items=max_items,
            artwork_type=artwork_type,
            status=status,
            created_after=created_after,
            created_before=created_before,
            on_invalid=on_invalid,
            dedupe_window=dedupe_window,
            seen_ids=seen_ids,
            newest_first=newest_first,
        )


class TengrAI:
    """The async client of the Tengr.ai API v2.

    Use it as an async context manager, or call :meth:`close` yourself. One client may be
    shared by every task of an application (a web backend's handlers, say);
    :meth:`with_options` gives a client with other timeout or retry settings over the same
    connections.

    Args:
        api_key: The API key; defaults to the ``TENGRAI_API_KEY`` environment variable.
        base_url: The API root; defaults to ``TENGRAI_BASE_URL``, then ``https://api.tengr.ai``.
        timeout: Seconds for one request, body included.
        max_retries: How many times a transient failure is retried.
        session: An aiohttp session to borrow (used as is, never closed by the client).
        retry: Backoff settings for the retries.
        max_response_bytes: The cap on one response body, counted after decompression
            (default 64 MiB): a larger body raises :class:`ResponseTooLargeError` while it is
            read (it is not retried), so memory stays bounded by the cap.
        trust_env: Whether the client's own session goes through the proxy that
            ``HTTP_PROXY`` / ``HTTPS_PROXY`` name, unless ``NO_PROXY`` exempts the host (read
            when the session opens), as httpx and requests do. ``~/.netrc`` is not read. A
            loopback ``base_url`` is never sent to a proxy that is not on loopback too. A
            borrowed session keeps its own settings.
        never_twice: Whether a create that may have reached the server is looked up in the
            listing before it is sent again (see :class:`ArtworksCreate`); ``False`` retries
            it at once, which may make the job twice.
        clock: Where the client reads the time and sleeps: retry waits, 429 cooldowns and
            :meth:`ArtworksResource.wait` (its timeout and its polls). Defaults to the real
            one (``SYSTEM_CLOCK``); tests pass ``tengrai_async.testing.FakeClock()`` to run
            backoff and polling in virtual time. :meth:`with_options` copies share it.

    The first client created reads ``TENGRAI_LOG`` (``debug``, ``info`` or ``warning``): set,
    it sends the ``tengrai_async`` logger's lines (each retry, at WARNING) to stderr.

    Raises:
        ConfigurationError: No API key, a key with control characters, or a base URL that
            carries credentials or would send the key in clear text.
        InvalidArgumentError: A bad ``timeout``, ``max_retries``, ``retry``,
            ``max_response_bytes``, ``trust_env`` or ``clock`` (a ``ValueError``;
            :class:`InvalidArgumentTypeError`, a ``TypeError`` too, for the wrong type).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | yarl.URL | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        trust_env: bool = True,
        never_twice: bool = True,
        clock: Clock | None = None,
    ) -> None:
        _logging.setup_from_env()
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(
                f"no API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
            )
        key = _sansio.check_api_key(key)
        if not key:
            raise ConfigurationError("the API key is blank")
        url = _sansio.check_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or _sansio.DEFAULT_BASE_URL
        )
        _check_seconds("timeout", timeout)
        _check_max_retries(max_retries)
        _check_retry(retry)
        if type(max_response_bytes) is not int or max_response_bytes < 1:
            raise _sansio.bad_argument(
                "max_response_bytes", max_response_bytes, "an integer >= 1", types=(int,)
            )
        if trust_env is not True and trust_env is not False:
            raise _sansio.bad_argument("trust_env", trust_env, "True or False", types=(bool,))
        _check_flag("never_twice", never_twice)
        if clock is not None and not isinstance(clock, Clock):
            raise _sansio.bad_argument(
                "clock", clock, "a Clock (monotonic(), now() and sleep())", types=(Clock,)
            )
        self._transport = Transport(
            api_key=key,
            base_url=url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry or RetryPolicy(),
            session=session,
            max_response_bytes=max_response_bytes,
            trust_env=trust_env,
            clock=SYSTEM_CLOCK if clock is None else clock,
        )
        self.artworks = ArtworksResource(self._transport, never_twice=never_twice)

    @classmethod
    def _over(cls, transport: Transport, artworks: ArtworksResource) -> TengrAI:
        client = cls.__new__(cls)
        client._transport = transport  # noqa: SLF001 - a constructor of this very class
        client.artworks = artworks
        return client

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        never_twice: bool | None = None,
    ) -> TengrAI:
        """A client with these settings that shares this one's session and connection pool.

        Each argument left ``None`` keeps this client's value. The copy is cheap: make one per
        call if you like (``await client.with_options(timeout=5).artworks.get(id)``).

        Closing the copy (or leaving its ``async with``) ends the copy's own requests only; the
        session stays open, and this client keeps working. Closing this client closes the
        session, and with it every copy: their requests end at once, and they raise
        :class:`ClientStateError` from then on. A copy of a copy shares the same session and
        depends on this client alike. If this client is gone without being closed (say
        ``TengrAI().with_options(...)`` kept no reference to it), closing the last copy
        closes the session.

        The copy shares this client's record of the jobs its creates returned, and its 429
        cooldown for creates (see :class:`ArtworksCreate`).

        Raises:
            InvalidArgumentError: A bad ``timeout``, ``max_retries``, ``retry`` or
                ``never_twice``.
            ClientStateError: This client is closed.
        """
        if timeout is not None:
            _check_seconds("timeout", timeout)
        if max_retries is not None:
            _check_max_retries(max_retries)
        _check_retry(retry)
        if never_twice is not None:
            _check_flag("never_twice", never_twice)
        transport = self._transport.derive(timeout=timeout, max_retries=max_retries, retry=retry)
        mine = self.artworks
        artworks = ArtworksResource(
            transport,
            ledger=mine._ledger,  # noqa: SLF001 - shared by the copies, as the session is
            never_twice=mine._never_twice if never_twice is None else never_twice,  # noqa: SLF001
            polls=mine._polls,  # noqa: SLF001 - one client's waits share their polls
        )
        return self._over(transport, artworks)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<TengrAI {state} base_url={str(self.base_url)!r}>"

    @property
    def base_url(self) -> yarl.URL:
        """The API root the client talks to."""
        return self._transport.base_url

    @property
    def timeout(self) -> float:
        """Seconds for one request, body included."""
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        """How many times a transient failure is retried."""
        return self._transport.max_retries

    @property
    def retry(self) -> RetryPolicy:
        """The backoff settings of the retries."""
        return self._transport.retry

    @property
    def clock(self) -> Clock:
        """Where the client reads the time and sleeps (its copies share it)."""
        return self._transport.clock

    @property
    def closed(self) -> bool:
        """Whether the client has been closed, or its event loop has ended (no more use)."""
        return self._transport.closed

    async def __aenter__(self) -> TengrAI:
        await self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client: every request still running ends at once. Idempotent.

        A request asleep before a retry (backoff, ``Retry-After``, a 429 cooldown) or in
        flight raises :class:`ClientStateError`; then the client's own session is closed (a
        borrowed one stays open). For a copy made by :meth:`with_options`, only the copy's
        requests end, and the shared session stays open.
        """
        await self._transport.close()


def _check_seconds(name: str, value: object) -> None:
    """Refuse anything but a finite number of seconds > 0."""
    if not (type(value) in (int, float) and 0 < value < math.inf):  # type: ignore[operator]
        raise _sansio.bad_argument(name, value, "a number of seconds > 0", types=(int, float))


def _check_flag(name: str, value: object) -> None:
    if value is not True and value is not False:
        raise _sansio.bad_argument(name, value, "True or False", types=(bool,))


def _check_max_retries(value: object) -> None:
    if type(value) is not int or value < 0:
        raise _sansio.bad_argument("max_retries", value, "an integer >= 0", types=(int,))


def _check_retry(value: object) -> None:
    if value is not None and not isinstance(value, RetryPolicy):
        raise _sansio.bad_argument("retry", value, "a RetryPolicy", types=(RetryPolicy,))
