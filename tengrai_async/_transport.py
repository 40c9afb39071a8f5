"""The aiohttp session manager: owns or borrows a session, guards its state, retries GETs.

It maps every aiohttp error and timeout to the package's own exceptions, retries what is worth
retrying through stamina, and lets a shared :class:`Cooldown` pause sibling requests on a 429.
Beyond that it keeps these promises:

* The API key never reaches an exception: aiohttp's errors carry the request headers, so they
  are described (the key masked) and never chained, neither as ``__cause__`` nor ``__context__``.
* A body is read in chunks and abandoned past ``max_response_bytes``, counted after
  decompression: memory follows the cap, not what the server sends.
* ``close()`` ends every request of the transport at once, sleeping or in flight: it cancels
  the task each runs in, and the request turns that cancellation into :class:`ClientStateError`.
* A session belongs to the event loop it was made in: using it from another one is a
  :class:`ClientStateError` saying so, and an owned session is closed when its loop shuts
  down (``asyncio.run()`` ending), so that it is never left for the garbage collector.
* With ``trust_env``, an owned session goes through the proxies of ``HTTP_PROXY`` /
  ``HTTPS_PROXY`` unless ``NO_PROXY`` exempts the host, as httpx does (see :meth:`proxy_for`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import platform
import time
import urllib.request
import uuid
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, Final, Protocol, TypeVar

import aiohttp
import attrs
import stamina
import yarl

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
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "Cooldown",
    "RequestCounter",
    "RetryPolicy",
    "Transport",
]

logger = logging.getLogger("tengrai_async")
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


class Transport:
    """Sends ``GET /v2/artworks`` windows over one aiohttp session, with retries.

    The session is created inside the running loop on first use (or on ``open()``) and closed
    by ``close()``; a session passed in is borrowed, used as is and never closed.
    """

    __slots__ = (
        "_base_url",
        "_closed_reason",
        "_closing",
        "_guard",
        "_headers",
        "_interrupted",
        "_loop",
        "_max_response_bytes",
        "_max_retries",
        "_owns_session",
        "_proxy",
        "_requests",
        "_retry",
        "_secret",
        "_session",
        "_state",
        "_timeout",
        "_trust_env",
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
        self._trust_env = trust_env
        self._session = session
        self._owns_session = session is None
        self._proxy: yarl.URL | None = None  # the API's, looked up when the session opens
        self._state = _State.UNOPENED
        self._closed_reason = _CLOSED
        self._closing: asyncio.Future[None] | None = None  # a close() from another loop
        # The loop the session belongs to, known once open.
        self._loop: asyncio.AbstractEventLoop | None = None
        # Closes an owned session when its loop shuts down (see _close_with_loop).
        self._guard: AsyncGenerator[None, None] | None = None
        # The tasks inside get_json() or sleep() now, and those of them close() has cancelled:
        # a request runs in its caller's task, so close() can end it wherever it waits.
        self._requests: set[asyncio.Task[Any]] = set()
        self._interrupted: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:  # the headers hold the key: never show them
        return f"<Transport {self._state.value} {str(self._base_url)!r}>"

    @property
    def base_url(self) -> yarl.URL:
        """The API's base URL."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called (or the event loop of the session has ended)."""
        return self._state is _State.CLOSED

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
        return self._trust_env

    async def session(self) -> aiohttp.ClientSession:
        """The open session (opening the transport if needed), for requests beyond the API's.

        Raises:
            ClientStateError: The transport was closed, or its session belongs to another
                event loop.
        """
        await self.open()
        assert self._session is not None  # noqa: S101 - open() sets it
        return self._session

    def proxy_for(self, url: yarl.URL) -> yarl.URL | None:
        """The proxy for a GET of *url* through the owned session, or ``None`` to go direct.

        With ``trust_env``, the proxy that ``HTTP_PROXY`` / ``HTTPS_PROXY`` name for its
        scheme, unless ``NO_PROXY`` exempts its host (the rules aiohttp, httpx and requests
        share), read from the environment now. A loopback *url* is never sent to a proxy that
        is not on loopback too: that proxy could not reach this machine's loopback, and a
        plain-http request (allowed only because it stays on this machine) would cross the
        network in clear. A borrowed session keeps its own settings: always ``None``.
        """
        if not self._trust_env or not self._owns_session:
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
        if self._state is _State.OPENED:
            return
        loop = asyncio.get_running_loop()
        if self._session is None:
            # Not aiohttp's trust_env: that also reads ~/.netrc, whose credentials aiohttp
            # refuses to combine with the Authorization header (every request would fail for a
            # user with an entry for the API's host), and it looks the proxy up in a thread for
            # each request. The API's proxy is looked up once, here.
            self._session = aiohttp.ClientSession()
            self._proxy = self.proxy_for(self._base_url)
            self._loop = loop
            self._state = _State.OPENED
            self._guard = self._close_with_loop()
            await self._guard.asend(None)
            return
        if self._session.closed:
            raise ClientStateError("the aiohttp session passed to TengrAI is already closed")
        if _loop_of(self._session) is not loop:
            raise _other_loop(_loop_of(self._session), "the aiohttp session passed to TengrAI")
        self._loop = loop
        self._state = _State.OPENED

    def _check_usable(self) -> None:
        if self._state is _State.CLOSED:
            raise ClientStateError(self._closed_reason)
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            raise _other_loop(self._loop, "this TengrAI client's session")

    async def _close_with_loop(self) -> AsyncGenerator[None, None]:
        """Close the transport when the loop of its owned session shuts down.

        This generator yields once and then waits: an event loop closes the async generators
        still open when it shuts down (``asyncio.run()`` does, before closing the loop), which
        runs the ``finally`` below while the loop can still close the session's connections.
        """
        try:
            yield
        finally:
            if self._state is not _State.CLOSED:
                self._state = _State.CLOSED
                self._closed_reason = _LOOP_ENDED
                self._guard = None
                await self._shut()

    async def close(self) -> None:
        """Close: end every request at once, then close the owned session. Idempotent.

        A request waiting (on a retry, a ``Retry-After`` or a 429 cooldown) or in flight
        raises :class:`ClientStateError`. A borrowed session is left open.
        """
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        await self._shut()

    async def _shut(self) -> None:
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop():
            await self._shut_from_elsewhere(loop)
            return
        # Each request ends in its caller's task, which then goes on with whatever it does
        # next: close() does not wait for that.
        for task in self._requests - self._interrupted - {asyncio.current_task()}:
            self._interrupted.add(task)
            task.cancel()
        guard, self._guard = self._guard, None
        if guard is not None:
            await guard.aclose()
        if self._owns_session and self._session is not None:
            await self._session.close()

    def _shut_soon(self) -> None:
        self._closing = asyncio.ensure_future(self._shut())

    async def _shut_from_elsewhere(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close from a loop the session does not belong to: its connections are *loop*'s."""
        if not loop.is_closed():
            # Thread-safe, and done by that loop whenever it runs next (if ever: hence a
            # callback, not a coroutine that might never be awaited).
            loop.call_soon_threadsafe(self._shut_soon)
            return
        # The loop ended without shutting its async generators down (no asyncio.run()): its
        # tasks are gone, and aiohttp can still mark the session closed without it.
        self._guard = None
        if self._owns_session and self._session is not None:
            try:
                await self._session.close()
            except RuntimeError:  # the closed loop refused a callback: drop the connector
                self._session.detach()

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
        for the caller to structure (and validate) when it needs it.

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
        raise ClientStateError(self._closed_reason)

    async def _get_with_retries(
        self,
        url: yarl.URL,
        offset: int,
        cooldown: Cooldown,
        counter: RequestCounter | None,
    ) -> Any:
        attempts = 0
        async for attempt in stamina.retry_context(
            on=self._backoff_hook(cooldown),
            attempts=self._max_retries + 1,
            timeout=None,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        ):
            with attempt:
                await cooldown.wait()
                attempts += 1
                if counter is not None:
                    counter.requests += 1
                    counter.retries += attempts > 1
                return await self._send(url, attempts, offset)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def _backoff_hook(self, cooldown: Cooldown) -> Any:
        cap = self._retry.retry_after_max

        def hook(exc: Exception) -> bool | float:
            if isinstance(exc, RateLimitError):
                wait = min(exc.retry_after, cap) if exc.retry_after is not None else None
                # Siblings of this request wait too, instead of each retrying into the limit.
                cooldown.extend(wait if wait is not None else self._retry.wait_initial)
                return True if wait is None else wait
            if isinstance(exc, APIError):
                if exc.status not in _sansio.RETRYABLE_STATUSES:
                    return False
                asked = _sansio.parse_retry_after(exc.headers.get("Retry-After"))
                return True if asked is None else min(asked, cap)
            if isinstance(exc, ResponseTooLargeError):
                return False  # the same request brings the same body: no point asking again
            return isinstance(exc, TransportError | MalformedResponseError)

        return hook

    async def _send(self, url: yarl.URL, attempt: int, offset: int) -> Any:
        session = self._session
        if session is None or self._state is not _State.OPENED:  # closed while waiting
            raise ClientStateError(self._closed_reason)
        started = time.perf_counter()
        status: int | None = None
        error: TengrAIError | None = None
        try:
            async with session.get(
                url, headers=self._headers, timeout=self._timeout, proxy=self._proxy
            ) as resp:
                status = resp.status
                headers = resp.headers
                body = await self._read_body(resp, url)
        except asyncio.TimeoutError:
            error = APITimeoutError(
                f"GET {url} got no complete answer within {self._timeout.total} s"
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
        """``Type: message`` of an aiohttp error, on one line, clipped, with the key masked."""
        text = _sansio.redact(" ".join(str(exc).split()), self._secret)
        if len(text) > _DESCRIPTION_LIMIT:
            text = f"{text[:_DESCRIPTION_LIMIT]}..."
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _refused(self, url: yarl.URL, exc: ValueError, *, answered: bool) -> TengrAIError:
        """The error for a ``ValueError`` out of aiohttp: mostly, it would not send the request.

        (A borrowed session with ``trust_env=True`` and a ``~/.netrc`` entry for the API's host,
        for one: aiohttp will not combine those credentials with the key.)
        """
        if answered:
            return APIConnectionError(f"GET {url} failed: {self._describe(exc)}")
        return ConfigurationError(f"aiohttp refused to send GET {url}: {self._describe(exc)}")
