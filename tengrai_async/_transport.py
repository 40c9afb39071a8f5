"""The aiohttp session manager: owns or borrows a session, guards its state, retries GETs.

It maps every aiohttp error and timeout to the package's own exceptions, retries what is worth
retrying (logging each retry on the ``tengrai_async`` logger), and lets a shared
:class:`Cooldown` pause sibling requests on a 429. Beyond that it keeps these promises:

* The API key never reaches an exception: aiohttp's errors carry the request headers, so they
  are described (the key masked) and never chained, neither as ``__cause__`` nor ``__context__``.
* A body is read in chunks and abandoned past ``max_response_bytes``, counted after
  decompression: memory follows the cap, not what the server sends.
* ``close()`` ends every request of the transport at once, sleeping or in flight: it cancels
  the task each runs in, and the request turns that cancellation into :class:`ClientStateError`.
* ``TengrAI.with_options()`` copies share the session (see :meth:`Transport.derive`): closing a
  copy ends its own requests only; closing the original closes the session and every copy.
* A session belongs to the event loop it was made in: using it from another one is a
  :class:`ClientStateError` saying so, and an owned session is closed when its loop shuts
  down (``asyncio.run()`` ending), so that it is never left for the garbage collector.
* With ``trust_env``, an owned session goes through the proxies of ``HTTP_PROXY`` /
  ``HTTPS_PROXY`` unless ``NO_PROXY`` exempts the host, as httpx does (see :meth:`proxy_for`).
"""

from __future__ import annotations

import asyncio
import enum
import errno
import os
import platform
import random
import ssl
import time
import urllib.request
import uuid
import weakref
from collections.abc import AsyncGenerator, Coroutine, Mapping
from typing import Any, Final, Protocol, TypeVar

import aiohttp
import attrs
import yarl
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError

from . import _sansio
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientStateError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    TengrAIError,
    TransportError,
)
from ._logging import logger
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "Cooldown",
    "RequestCounter",
    "RetryPolicy",
    "Transport",
]

T = TypeVar("T")

USER_AGENT = (
    f"tengrai-async/{__version__} aiohttp/{aiohttp.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)
#: The default cap on one response body, after decompression: 64 MiB.
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
# aiohttp's messages quote raw response bytes (up to kilobytes of them): enough to tell what
# went wrong is kept.
_DESCRIPTION_LIMIT: Final = 300
_CLOSED: Final = "this TengrAI client is closed; create a new one (a closed client cannot reopen)"
_LOOP_ENDED: Final = (
    "this TengrAI client was closed when the event loop it was used in ended (each "
    "asyncio.run() runs a new loop); create the client inside the loop that uses it"
)
_ORIGINAL_CLOSED: Final = (
    "the TengrAI client this one was made from with with_options() is closed, and with it "
    "the session they shared; create a new client"
)
# 2**64 times any wait is beyond any wait_max: the doubling stops there (no float overflow).
_MAX_DOUBLINGS: Final = 64


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How GETs are retried (the count of retries is the client's ``max_retries``).

    Attributes:
        wait_initial: Seconds before the first retry; doubles with each further one.
        wait_max: The cap on one exponential wait.
        wait_jitter: Up to this many random seconds are added to each exponential wait.
        retry_after_max: The cap on a server's ``Retry-After``: longer asks are cut to this.
    """

    wait_initial: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    wait_max: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    wait_jitter: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    retry_after_max: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number *attempt* (1-based), jitter included.

        ``wait_initial`` doubled for each attempt before, plus up to ``wait_jitter`` at random,
        capped at ``wait_max``. A ``Retry-After`` replaces it (see ``retry_after_max``).
        """
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        jitter = random.uniform(0, self.wait_jitter) if self.wait_jitter else 0.0  # noqa: S311
        return min(self.wait_max, self.wait_initial * 2.0**doublings + jitter)

    @classmethod
    def instant(cls) -> RetryPolicy:
        """Retries that do not wait: every retry still happens, at once (for tests).

        ``Retry-After`` is capped to 0 too, so a test of a flaky API runs at full speed
        while it still exercises every retry.
        """
        return cls(wait_initial=0.0, wait_max=0.0, wait_jitter=0.0, retry_after_max=0.0)


class RequestCounter(Protocol):
    """What the transport counts into: the iterator's stats, or nothing."""

    requests: int
    retries: int


class Cooldown:
    """A pause shared by the requests of one listing: a 429 to one holds back all of them."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        """Hold every request back for at least *seconds* from now."""
        self._until = max(self._until, time.monotonic() + seconds)

    @property
    def remaining(self) -> float:
        """Seconds left before requests may go out again."""
        return max(0.0, self._until - time.monotonic())

    async def wait(self) -> None:
        """Sleep until the cooldown is over (it may be extended while sleeping)."""
        # A deadline that only moves later is simpler to poll than to signal with an Event.
        while (left := self.remaining) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def _loop_of(session: aiohttp.ClientSession) -> asyncio.AbstractEventLoop:
    # aiohttp has no public accessor: ClientSession.loop is deprecated (and warns).
    loop: asyncio.AbstractEventLoop = session._loop  # noqa: SLF001
    return loop


def _other_loop(loop: asyncio.AbstractEventLoop, whose: str) -> ClientStateError:
    where = "an event loop that has ended" if loop.is_closed() else "another event loop"
    return ClientStateError(
        f"{whose} belongs to {where}, not the running one (each asyncio.run() runs a new "
        "loop); create the client inside the loop that uses it"
    )


def _uncancel(task: asyncio.Task[Any]) -> int:
    """Undo one ``cancel()`` of *task*; return the cancellations still pending (3.11+)."""
    uncancel = getattr(task, "uncancel", None)  # Python 3.10 keeps no count
    return int(uncancel()) if uncancel is not None else 0


def _env_proxy(url: yarl.URL) -> yarl.URL | None:
    """The proxy the environment names for *url*, by the rules aiohttp's ``trust_env`` uses."""
    if not url.host or urllib.request.proxy_bypass(url.host):
        return None
    proxy = urllib.request.getproxies().get(url.scheme)
    return yarl.URL(proxy) if proxy else None


def _encoded(response: aiohttp.ClientResponse) -> bool:
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    return coding not in ("", "identity")


class _Pool:
    """The session of a client and of its ``with_options()`` copies, and its lifecycle.

    Every :class:`Transport` made from one by :meth:`Transport.derive` shares it: one session,
    one connection pool, one event loop. The transport it was created for (the *root*) closes it;
    when the root is gone (garbage, never closed), the last of its copies to close does.
    """

    __slots__ = (
        "base_url",
        "closed_reason",
        "closing",
        "guard",
        "loop",
        "owns_session",
        "proxy",
        "root",
        "session",
        "state",
        "trust_env",
        "views",
    )

    def __init__(
        self, *, base_url: yarl.URL, session: aiohttp.ClientSession | None, trust_env: bool
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.owns_session = session is None
        self.trust_env = trust_env
        self.proxy: yarl.URL | None = None  # the API's, looked up when the session opens
        self.state = _State.UNOPENED
        self.closed_reason = _CLOSED
        self.closing: asyncio.Future[None] | None = None  # a close() from another loop
        # The loop the session belongs to, known once open.
        self.loop: asyncio.AbstractEventLoop | None = None
        # Closes an owned session when its loop shuts down (see _close_with_loop).
        self.guard: AsyncGenerator[None, None] | None = None
        # Every transport using the session (held weakly: a dropped copy needs no closing).
        self.views: weakref.WeakSet[Transport] = weakref.WeakSet()
        self.root: weakref.ref[Transport] | None = None

    def proxy_for(self, url: yarl.URL) -> yarl.URL | None:
        """See :meth:`Transport.proxy_for`."""
        if not self.trust_env or not self.owns_session:
            return None
        # On macOS and Windows this reads the system settings too: cheap, but not free.
        proxy = _env_proxy(url)
        if proxy is None or not _sansio.is_loopback(url.host):
            return proxy
        if _sansio.is_loopback(proxy.host):
            return proxy
        logger.debug(
            "not using the proxy at %s:%s for the loopback host %s",
            proxy.host,
            proxy.port,
            url.host,
        )
        return None

    def check_usable(self) -> None:
        """Raise :class:`ClientStateError` if the session is closed or of another loop."""
        if self.state is _State.CLOSED:
            raise ClientStateError(self.closed_reason)
        if self.loop is not None and self.loop is not asyncio.get_running_loop():
            raise _other_loop(self.loop, "this TengrAI client's session")

    async def open(self) -> None:
        """Create the owned session in the running loop (a no-op if already open)."""
        self.check_usable()
        if self.state is _State.OPENED:
            return
        loop = asyncio.get_running_loop()
        if self.session is None:
            # Not aiohttp's trust_env: that also reads ~/.netrc, whose credentials aiohttp
            # refuses to combine with the Authorization header (every request would fail for a
            # user with an entry for the API's host), and it looks the proxy up in a thread for
            # each request. The API's proxy is looked up once, here.
            self.session = aiohttp.ClientSession()
            self.proxy = self.proxy_for(self.base_url)
            self.loop = loop
            self.state = _State.OPENED
            self.guard = self._close_with_loop()
            await self.guard.asend(None)
            return
        if self.session.closed:
            raise ClientStateError("the aiohttp session passed to TengrAI is already closed")
        if _loop_of(self.session) is not loop:
            raise _other_loop(_loop_of(self.session), "the aiohttp session passed to TengrAI")
        self.loop = loop
        self.state = _State.OPENED

    async def _close_with_loop(self) -> AsyncGenerator[None, None]:
        """Close the session when the loop it belongs to shuts down.

        This generator yields once and then waits: an event loop closes the async generators
        still open when it shuts down (``asyncio.run()`` does, before closing the loop), which
        runs the ``finally`` below while the loop can still close the session's connections.
        """
        try:
            yield
        finally:
            if self.state is not _State.CLOSED:
                self.state = _State.CLOSED
                self.closed_reason = _LOOP_ENDED
                self.guard = None
                await self._shut()

    async def close(self) -> None:
        """End the requests of every transport sharing the session, then close it if owned."""
        if self.state is _State.CLOSED:
            return
        self.state = _State.CLOSED
        await self._shut()

    async def _shut(self) -> None:
        loop = self.loop
        if loop is not None and loop is not asyncio.get_running_loop():
            await self._shut_from_elsewhere(loop)
            return
        for view in list(self.views):
            view._interrupt()  # noqa: SLF001 - the pool and its views work as one
        guard, self.guard = self.guard, None
        if guard is not None:
            await guard.aclose()
        if self.owns_session and self.session is not None:
            await self.session.close()

    def _shut_soon(self) -> None:
        self.closing = asyncio.ensure_future(self._shut())

    async def _shut_from_elsewhere(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close from a loop the session does not belong to: its connections are *loop*'s."""
        if not loop.is_closed():
            # Thread-safe, and done by that loop whenever it runs next (if ever: hence a
            # callback, not a coroutine that might never be awaited).
            loop.call_soon_threadsafe(self._shut_soon)
            return
        # The loop ended without shutting its async generators down (no asyncio.run()): its
        # tasks are gone, and aiohttp can still mark the session closed without it.
        self.guard = None
        if self.owns_session and self.session is not None:
            try:
                await self.session.close()
            except RuntimeError:  # the closed loop refused a callback: drop the connector
                self.session.detach()


class Transport:
    """Sends ``GET /v2/artworks`` windows over one aiohttp session, with retries.

    The session is created inside the running loop on first use (or on ``open()``) and closed
    by ``close()``; a session passed in is borrowed, used as is and never closed.
    :meth:`derive` makes a transport with other timeout and retry settings over the same
    session (``TengrAI.with_options()``).
    """

    __slots__ = (
        "__weakref__",
        "_base_url",
        "_closed",
        "_headers",
        "_interrupted",
        "_max_response_bytes",
        "_max_retries",
        "_pool",
        "_requests",
        "_retry",
        "_root",
        "_secret",
        "_timeout",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: yarl.URL,
        timeout: float,
        max_retries: int,
        retry: RetryPolicy,
        session: aiohttp.ClientSession | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        trust_env: bool = True,
    ) -> None:
        self._base_url = base_url
        self._secret = api_key
        self._headers = _sansio.request_headers(api_key, USER_AGENT)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._retry = retry
        self._max_response_bytes = max_response_bytes
        self._pool = _Pool(base_url=base_url, session=session, trust_env=trust_env)
        self._pool.root = weakref.ref(self)
        self._pool.views.add(self)
        self._root = True
        self._closed = False  # this transport's own close(), for a copy (derive())
        # The tasks inside get_json() or sleep() now, and those of them close() has cancelled:
        # a request runs in its caller's task, so close() can end it wherever it waits.
        self._requests: set[asyncio.Task[Any]] = set()
        self._interrupted: set[asyncio.Task[Any]] = set()

    def derive(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> Transport:
        """A transport over the same session with these settings (``None`` keeps this one's).

        Closing the copy ends its own requests and leaves the session open; closing this
        transport (the root of the copy) closes the session and every copy with it.

        Raises:
            ClientStateError: This transport is closed.
        """
        if self.closed:
            raise ClientStateError(self._reason())
        copy = object.__new__(Transport)
        copy._base_url = self._base_url
        copy._secret = self._secret
        copy._headers = self._headers
        copy._timeout = self._timeout if timeout is None else aiohttp.ClientTimeout(total=timeout)
        copy._max_retries = self._max_retries if max_retries is None else max_retries
        copy._retry = self._retry if retry is None else retry
        copy._max_response_bytes = self._max_response_bytes
        copy._pool = self._pool
        copy._root = False
        copy._closed = False
        copy._requests = set()
        copy._interrupted = set()
        self._pool.views.add(copy)
        return copy

    def __repr__(self) -> str:  # the headers hold the key: never show them
        state = "closed" if self.closed else self._pool.state.value
        return f"<Transport {state} {str(self._base_url)!r}>"

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The session, once open (or the borrowed one): for tests and benchmarks."""
        return self._pool.session

    @property
    def base_url(self) -> yarl.URL:
        """The API's base URL."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called, the session closed, or its event loop ended."""
        return self._closed or self._pool.state is _State.CLOSED

    @property
    def retry(self) -> RetryPolicy:
        """The backoff settings of the retries."""
        return self._retry

    @property
    def max_retries(self) -> int:
        """How many times a transient failure is retried."""
        return self._max_retries

    @property
    def timeout(self) -> float:
        """Seconds for one API request, body included."""
        return float(self._timeout.total or 0.0)

    @property
    def max_response_bytes(self) -> int:
        """The cap on one API response body, after decompression."""
        return self._max_response_bytes

    @property
    def trust_env(self) -> bool:
        """Whether the owned session takes its proxies from the environment."""
        return self._pool.trust_env

    async def session(self) -> aiohttp.ClientSession:
        """The open session (opening the transport if needed), for requests beyond the API's.

        Raises:
            ClientStateError: The transport was closed, or its session belongs to another
                event loop.
        """
        await self.open()
        assert self._pool.session is not None  # noqa: S101 - open() sets it
        return self._pool.session

    def proxy_for(self, url: yarl.URL) -> yarl.URL | None:
        """The proxy for a GET of *url* through the owned session, or ``None`` to go direct.

        With ``trust_env``, the proxy that ``HTTP_PROXY`` / ``HTTPS_PROXY`` name for its
        scheme, unless ``NO_PROXY`` exempts its host (the rules aiohttp, httpx and requests
        share), read from the environment now. A loopback *url* is never sent to a proxy that
        is not on loopback too: that proxy could not reach this machine's loopback, and a
        plain-http request (allowed only because it stays on this machine) would cross the
        network in clear. A borrowed session keeps its own settings: always ``None``.
        """
        return self._pool.proxy_for(url)

    def headers_for(self, url: yarl.URL) -> dict[str, str]:
        """The headers for a GET of *url*: the API key only when *url* is the API's origin."""
        if _sansio.same_origin(url, self._base_url):
            return dict(self._headers)
        return {name: value for name, value in self._headers.items() if name != "Authorization"}

    async def open(self) -> None:
        """Create the owned session in the running loop (a no-op if already open).

        Raises:
            ClientStateError: The transport was closed, or its session (owned, or the one
                passed in) belongs to another event loop.
        """
        self._check_usable()
        await self._pool.open()

    def _reason(self) -> str:
        """Why this transport is closed, in words."""
        pool = self._pool
        if self._closed or pool.state is not _State.CLOSED:
            return _CLOSED
        if pool.closed_reason == _CLOSED and not self._root:
            return _ORIGINAL_CLOSED  # closed with the original, not by its own close()
        return pool.closed_reason

    def _check_usable(self) -> None:
        if self._closed:
            raise ClientStateError(_CLOSED)
        if self._pool.state is _State.CLOSED:
            raise ClientStateError(self._reason())
        self._pool.check_usable()

    def _interrupt(self) -> None:
        """Cancel every request of this transport (they raise :class:`ClientStateError`)."""
        current = asyncio.current_task()
        for task in self._requests - self._interrupted - {current}:
            self._interrupted.add(task)
            task.cancel()

    async def close(self) -> None:
        """Close: end every request at once, then close the owned session. Idempotent.

        A request waiting (on a retry, a ``Retry-After`` or a 429 cooldown) or in flight
        raises :class:`ClientStateError`. A borrowed session is left open.

        A copy made by :meth:`derive` ends only its own requests and leaves the session open
        for the others, unless the transport it came from is gone and no other copy is open:
        then the session is closed too. Closing the transport the copies came from closes
        them all.
        """
        pool = self._pool
        if self._root:
            await pool.close()
            return
        if self._closed:
            return
        self._closed = True
        loop = pool.loop
        if loop is None or loop is asyncio.get_running_loop():
            self._interrupt()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._interrupt)
        if pool.root is not None and pool.root() is None and all(v.closed for v in pool.views):
            await pool.close()

    async def get_window(
        self,
        *,
        offset: int,
        limit: int,
        cooldown: Cooldown | None = None,
        counter: RequestCounter | None = None,
    ) -> Any:
        """GET one listing window; return its decoded, unchecked JSON (see :meth:`get_json`)."""
        url = _sansio.list_url(self._base_url, offset=offset, limit=limit)
        return await self.get_json(url, offset=offset, cooldown=cooldown, counter=counter)

    async def get_artwork(self, artwork_id: uuid.UUID) -> Any:
        """GET one artwork by id; return its decoded, unchecked JSON (see :meth:`get_json`)."""
        return await self.get_json(_sansio.artwork_url(self._base_url, artwork_id))

    async def get_json(
        self,
        url: yarl.URL,
        *,
        offset: int = 0,
        cooldown: Cooldown | None = None,
        counter: RequestCounter | None = None,
    ) -> Any:
        """GET *url*, retrying transient failures; return its decoded, unchecked JSON.

        A body that is not JSON is retried like a transport error; a well-formed one is left
        for the caller to structure (and validate) when it needs it. Each retry is logged at
        WARNING on the ``tengrai_async`` logger; the error raised when retries run out says
        how many attempts were made (its ``attempts``).

        Raises:
            APIError: A non-2xx answer that is not retried, or the last one after retries.
            TransportError: Connection failure or timeout after retries.
            ResponseTooLargeError: A body over ``max_response_bytes`` (not retried).
            MalformedResponseError: A body that is not JSON, after retries.
            ClientStateError: The transport is closed, or was closed meanwhile, or its session
                belongs to another event loop.
        """
        await self.open()
        return await self.until_closed(
            self._get_with_retries(url, offset, cooldown or Cooldown(), counter)
        )

    async def sleep(self, seconds: float) -> None:
        """Sleep *seconds*, unless ``close()`` comes first: for waits between requests.

        Raises:
            ClientStateError: The transport is closed, or was closed during the sleep.
        """
        self._check_usable()
        await self.until_closed(asyncio.sleep(seconds))

    async def until_closed(self, work: Coroutine[Any, Any, T]) -> T:
        """Await *work* in the current task; if ``close()`` cancels it, raise ClientStateError.

        *work* runs in its caller's task, not one of its own, so that nothing about the
        request changes but this: ``close()`` cancels the task wherever it waits, and the
        cancellation it caused (and only that one) becomes a :class:`ClientStateError`.
        """
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - awaited outside any task: nothing to cancel
            return await work
        self._requests.add(task)
        try:
            return await work
        except asyncio.CancelledError:
            # Not close()'s doing, or cancelled from elsewhere too: that cancellation stands.
            if task not in self._interrupted or _uncancel(task) > 0:
                raise
        finally:
            self._requests.discard(task)
            self._interrupted.discard(task)
        # Raised outside the handler: the cancellation was close()'s, not the caller's.
        raise ClientStateError(self._reason())

    async def _get_with_retries(
        self,
        url: yarl.URL,
        offset: int,
        cooldown: Cooldown,
        counter: RequestCounter | None,
    ) -> Any:
        # A loop of its own rather than stamina's: stamina reports every retry to its global
        # hooks (logging, structlog, prometheus), which would print bare lines for users who
        # set no logging up; this loop logs each retry itself, with what a reader needs.
        attempts = self._max_retries + 1
        attempt = 0
        while True:
            await cooldown.wait()
            attempt += 1
            if counter is not None:
                counter.requests += 1
                counter.retries += attempt > 1
            try:
                return await self._send(url, attempt, offset)
            except (APIError, TransportError, MalformedResponseError) as exc:
                error: TengrAIError = exc
            wait = self._retry_wait(error, attempt, cooldown)
            if wait is None or attempt >= attempts:
                error.attempts = attempt
                raise error
            seconds, asked = wait
            logger.warning(
                "GET %s (attempt %d of %d): %s; retrying in %.3g s%s",
                url,
                attempt,
                attempts,
                _reason(error, url),
                seconds,
                _why(seconds, asked),
            )
            await asyncio.sleep(seconds)

    def _retry_wait(
        self, error: TengrAIError, attempt: int, cooldown: Cooldown
    ) -> tuple[float, float | None] | None:
        """The wait before retrying after *error*, and the ``Retry-After`` asked, if any.

        ``None`` when *error* is not worth another try. A 429 also extends *cooldown*, so that
        the siblings of the request wait too, instead of each retrying into the limit.
        """
        policy = self._retry
        asked: float | None
        if isinstance(error, RateLimitError):
            asked = error.retry_after
            cooldown.extend(
                min(asked, policy.retry_after_max) if asked is not None else policy.wait_initial
            )
        elif isinstance(error, APIError):
            if error.status not in _sansio.RETRYABLE_STATUSES:
                return None
            asked = _sansio.parse_retry_after(error.headers.get("Retry-After"))
        elif isinstance(error, ResponseTooLargeError):
            return None  # the same request brings the same body: no point asking again
        elif isinstance(error, TransportError | MalformedResponseError):
            asked = None
        else:  # pragma: no cover - _get_with_retries catches nothing else
            return None
        if asked is not None:
            return min(asked, policy.retry_after_max), asked
        return policy.backoff(attempt), None

    async def _send(self, url: yarl.URL, attempt: int, offset: int) -> Any:
        session = self._pool.session
        if session is None or self.closed or self._pool.state is not _State.OPENED:
            raise ClientStateError(self._reason())  # closed while waiting
        started = time.perf_counter()
        status: int | None = None
        headers: Mapping[str, str] = {}
        body = b""
        error: TengrAIError | None = None
        try:
            async with session.get(
                url, headers=self._headers, timeout=self._timeout, proxy=self._pool.proxy
            ) as resp:
                status = resp.status
                headers = resp.headers
                body = await self._read_body(resp, url)
        except asyncio.TimeoutError:
            error = APITimeoutError(
                f"GET {url} failed: no complete answer within {self._timeout.total:g} s"
            )
        except (aiohttp.ClientError, OSError) as exc:
            error = APIConnectionError(f"GET {url} failed: {self._describe(exc)}")
        except ValueError as exc:
            error = self._refused(url, exc, answered=status is not None)
        except RuntimeError:
            if not session.closed:
                raise
            error = ClientStateError(
                "the aiohttp session passed to TengrAI was closed by its owner"
            )
        finally:
            logger.debug(
                "GET %s -> %s (attempt %d, %.1f ms)",
                url,
                "error" if status is None else status,
                attempt,
                (time.perf_counter() - started) * 1000,
            )
        if error is not None:
            # Raised here, outside the handlers, so that aiohttp's exception is neither its
            # __cause__ nor its __context__: aiohttp's carry the request, key and all.
            raise error
        assert status is not None  # noqa: S101 - set before the body was read
        return _sansio.decode_response(status, headers, body, offset=offset, secret=self._secret)

    async def _read_body(self, resp: aiohttp.ClientResponse, url: yarl.URL) -> bytes:
        """The body, read chunk by chunk and given up as soon as it is over the cap."""
        cap = self._max_response_bytes
        declared = resp.content_length
        # An encoded body's length says nothing of its size once decompressed.
        if declared is not None and declared > cap and not _encoded(resp):
            raise ResponseTooLargeError(
                f"GET {url}: the body of {declared} bytes is over max_response_bytes ({cap})",
                cap,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_any():  # decompressed, in bounded pieces
            size += len(chunk)
            if size > cap:
                raise ResponseTooLargeError(
                    f"GET {url}: the body is over max_response_bytes ({cap} bytes, counted "
                    "after decompression)",
                    cap,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _describe(self, exc: BaseException) -> str:
        """What happened, in words, then aiohttp's error: one line, clipped, the key masked."""
        return _sansio.redact(describe_failure(exc), self._secret)

    def _refused(self, url: yarl.URL, exc: ValueError, *, answered: bool) -> TengrAIError:
        """The error for a ``ValueError`` out of aiohttp: mostly, it would not send the request.

        (A borrowed session with ``trust_env=True`` and a ``~/.netrc`` entry for the API's host,
        for one: aiohttp will not combine those credentials with the key.)
        """
        if answered:
            return APIConnectionError(f"GET {url} failed: {self._describe(exc)}")
        return ConfigurationError(f"aiohttp refused to send GET {url}: {self._describe(exc)}")


def _reason(error: TengrAIError, url: yarl.URL) -> str:
    """What went wrong with one attempt, for the retry's log line (the URL is said already)."""
    if isinstance(error, MalformedResponseError):
        return "the body is not JSON"
    text = str(error.args[0]) if error.args else type(error).__name__
    return text.removeprefix(f"GET {url} failed: ")


def _why(seconds: float, asked: float | None) -> str:
    """Where a wait came from, when a ``Retry-After`` set it."""
    if asked is None:
        return ""
    if asked <= seconds:
        return ", as its Retry-After asked"
    return f", not the {asked:g} s its Retry-After asked (retry_after_max)"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return f"{text[:_DESCRIPTION_LIMIT]}..." if len(text) > _DESCRIPTION_LIMIT else text


def _os_text(error: OSError) -> str:
    """An OS error's own words: ``Connection refused``, not ``[Errno 111] Connect call ...``.

    A TLS error keeps its text: its number is OpenSSL's, not the system's.
    """
    if isinstance(error, ssl.SSLError):
        return str(error.strerror or error.reason or error)
    if error.errno is not None and error.errno > 0:
        try:
            return os.strerror(error.errno)
        except ValueError:  # pragma: no cover - an errno the platform does not know
            pass
    return str(error.strerror or error)


def _detail(exc: BaseException) -> str:
    """The text of aiohttp's error, without the ``400, message=`` it gives parser errors."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        text = str(exc.certificate_error)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        text = _os_text(exc.os_error)
    elif isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        text = exc.message
    elif isinstance(exc, aiohttp.ClientPayloadError) and isinstance(
        exc.__cause__, HttpProcessingError
    ):
        text = exc.__cause__.message
    elif isinstance(exc, OSError):
        text = _os_text(exc)
    else:
        text = str(exc)
    text = _one_line(text)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_failure(exc: BaseException) -> str:  # noqa: PLR0911, PLR0912 - one per kind
    """One sentence saying what went wrong on the connection, then aiohttp's error in brackets.

    Never an HTTP-looking status: aiohttp gives its parser and payload errors the code 400,
    which no server sent. The text is not redacted: callers mask the key.
    """
    detail = f"({_detail(exc)})"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects, {len(exc.history)} followed {detail}"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"the proxy answered HTTP {exc.status} {detail}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"the answer is not valid HTTP {detail}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"could not resolve the host {exc.host} {detail}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientConnectorSSLError):
        return f"the TLS handshake with {exc.host}:{exc.port} failed {detail}"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"could not connect to the proxy {exc.host}:{exc.port} {detail}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect to {exc.host}:{exc.port} {detail}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"the server closed the connection before a complete answer {detail}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        if isinstance(exc.__cause__, ContentEncodingError):
            return f"the body could not be decompressed {detail}"
        return f"the connection broke off in the middle of the body {detail}"
    if isinstance(exc, ConnectionResetError) or getattr(exc, "errno", None) == errno.ECONNRESET:
        return f"the connection was reset {detail}"
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):
        return f"the connection failed {detail}"
    if isinstance(exc, ValueError):
        return f"the answer could not be read {detail}"
    return _detail(exc)
