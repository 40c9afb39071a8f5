"""The client's seam to HTTP: the API's requests built, sent through the retry loop, decoded.

:class:`Transport` sends the API's requests over the session it shares with its copies
(``_session.SharedSession``), retries GETs through the one retry loop (``_retry``), sends
each with its body read under the cap (``_exchange``, whose errors ``_failures`` maps) and
hands the answer to ``_sansio``. Beyond that it keeps these promises:

* The API key never reaches an exception: aiohttp's errors carry the request headers, so they
  are described (the key masked) and never chained, neither as ``__cause__`` nor ``__context__``.
* A body is read in chunks and abandoned past ``max_response_bytes``, counted after
  decompression: memory follows the cap, not what the server sends.
* ``close()`` ends every request of the transport at once, sleeping or in flight: it cancels
  the task each runs in, and the request turns that cancellation into :class:`ClientStateError`.
* ``TengrAI.with_options()`` copies share the session and the clock (see
  :meth:`Transport.derive`): closing a copy ends its own requests only; closing the original
  closes the session and every copy.
* A session belongs to the event loop it was made in: using it from another one is a
  :class:`ClientStateError` saying so, and an owned session is closed when its loop shuts
  down (``asyncio.run()`` ending), so that it is never left for the garbage collector.
* With ``trust_env``, an owned session goes through the proxies of ``HTTP_PROXY`` /
  ``HTTPS_PROXY`` unless ``NO_PROXY`` exempts the host, as httpx does (see :meth:`proxy_for`).
* Time comes from one :class:`~tengrai_async.Clock` (retry waits, cooldowns, ``sleep()``).
"""

from __future__ import annotations

import asyncio
import platform
import uuid
import weakref
from collections.abc import Coroutine, Mapping
from typing import Any, Final, Protocol, TypeVar

import aiohttp
import attrs
import yarl

from . import _sansio
from ._clock import SYSTEM_CLOCK, Clock
from ._errors import (
    APIError,
    ClientStateError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    TengrAIError,
    TransportError,
)
from ._exchange import Answer, exchange
from ._failures import what_failed
from ._retry import Attempt, Cooldown, Retry, RetryPolicy, retry_loop
from ._session import CLOSED, ORIGINAL_CLOSED, InFlight, SessionState, SharedSession
from ._version import __version__

# RetryPolicy is ``_retry``'s; it is named here too for the modules that import it from here.
__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "Posted",
    "RequestCounter",
    "RetryPolicy",
    "Transport",
    "classify_get",
]

T = TypeVar("T")

USER_AGENT = (
    f"tengrai-async/{__version__} aiohttp/{aiohttp.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)
#: The default cap on one response body, after decompression: 64 MiB.
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
# The failures of a GET itself; a closed client or a refused configuration is no failure of it.
_GET_FAILURES: Final = (APIError, TransportError, MalformedResponseError)


class RequestCounter(Protocol):
    """What the transport counts into: the iterator's stats, or nothing."""

    requests: int
    retries: int


def classify_get(error: Exception) -> Retry | None:
    """Whether a failed GET is worth another try, and the wait its server asked for.

    Every status of ``_sansio.RETRYABLE_STATUSES`` (a 429 extends the cooldown too), every
    connection failure and timeout, and a body that is not JSON; never a body over the cap
    (the same request brings the same body), nor anything else.
    """
    if isinstance(error, RateLimitError):
        return Retry(error.retry_after, rate_limited=True)
    if isinstance(error, APIError):
        if error.status not in _sansio.RETRYABLE_STATUSES:
            return None
        return Retry(_sansio.parse_retry_after(error.headers.get("Retry-After")))
    if isinstance(error, ResponseTooLargeError):
        return None
    if isinstance(error, TransportError | MalformedResponseError):
        return Retry()
    return None


@attrs.frozen
class Posted:
    """How one POST went (:meth:`Transport.post_once`): its decoded answer, or its error.

    Attributes:
        data: The decoded JSON of a 2xx answer (``None`` on an error).
        error: The error: an :class:`APIError` for a non-2xx answer, a
            :class:`TransportError` or :class:`MalformedResponseError`; ``None`` on success.
        unsent: Whether the request certainly never left (the connection could not be
            opened), so sending it again cannot make anything twice.
    """

    data: Any = None
    error: TengrAIError | None = None
    unsent: bool = False


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
        "_clock",
        "_closed",
        "_headers",
        "_in_flight",
        "_max_response_bytes",
        "_max_retries",
        "_retry",
        "_root",
        "_secret",
        "_shared",
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
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._base_url = base_url
        self._secret = api_key
        self._headers = _sansio.request_headers(api_key, USER_AGENT)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._retry = retry
        self._max_response_bytes = max_response_bytes
        self._clock = clock
        self._shared = SharedSession(base_url=base_url, session=session, trust_env=trust_env)
        self._shared.root = weakref.ref(self)
        self._shared.users.add(self)
        self._root = True
        self._closed = False  # this transport's own close(), for a copy (derive())
        # The tasks inside get_json() or sleep() now: close() ends them wherever they wait.
        self._in_flight = InFlight()

    def derive(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> Transport:
        """A transport over the same session with these settings (``None`` keeps this one's).

        The copy shares the clock too. Closing the copy ends its own requests and leaves the
        session open; closing this transport (the root of the copy) closes the session and
        every copy with it.

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
        copy._clock = self._clock
        copy._shared = self._shared
        copy._root = False
        copy._closed = False
        copy._in_flight = InFlight()
        self._shared.users.add(copy)
        return copy

    def __repr__(self) -> str:  # the headers hold the key: never show them
        state = "closed" if self.closed else self._shared.state.value
        return f"<Transport {state} {str(self._base_url)!r}>"

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The session, once open (or the borrowed one): for tests and benchmarks."""
        return self._shared.session

    @property
    def base_url(self) -> yarl.URL:
        """The API's base URL."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called, the session closed, or its event loop ended."""
        return self._closed or self._shared.state is SessionState.CLOSED

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
        return self._shared.trust_env

    @property
    def clock(self) -> Clock:
        """Where the transport reads the time and sleeps (shared by its copies)."""
        return self._clock

    @property
    def secret(self) -> str:
        """The API key, for masking it out of text (never for sending it elsewhere)."""
        return self._secret

    async def session(self) -> aiohttp.ClientSession:
        """The open session (opening the transport if needed), for requests beyond the API's.

        Raises:
            ClientStateError: The transport was closed, or its session belongs to another
                event loop.
        """
        await self.open()
        assert self._shared.session is not None  # noqa: S101 - open() sets it
        return self._shared.session

    def proxy_for(self, url: yarl.URL) -> yarl.URL | None:
        """The proxy for a GET of *url* through the owned session, or ``None`` to go direct.

        With ``trust_env``, the proxy that ``HTTP_PROXY`` / ``HTTPS_PROXY`` name for its
        scheme, unless ``NO_PROXY`` exempts its host (the rules aiohttp, httpx and requests
        share), read from the environment now. A loopback *url* is never sent to a proxy that
        is not on loopback too: that proxy could not reach this machine's loopback, and a
        plain-http request (allowed only because it stays on this machine) would cross the
        network in clear. A borrowed session keeps its own settings: always ``None``.
        """
        return self._shared.proxy_for(url)

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
        await self._shared.open()

    def _reason(self) -> str:
        """Why this transport is closed, in words."""
        shared = self._shared
        if self._closed or shared.state is not SessionState.CLOSED:
            return CLOSED
        if shared.closed_reason == CLOSED and not self._root:
            return ORIGINAL_CLOSED  # closed with the original, not by its own close()
        return shared.closed_reason

    def _check_usable(self) -> None:
        if self._closed:
            raise ClientStateError(CLOSED)
        if self._shared.state is SessionState.CLOSED:
            raise ClientStateError(self._reason())
        self._shared.check_usable()

    def interrupt(self) -> None:
        """Cancel every request of this transport (they raise :class:`ClientStateError`)."""
        self._in_flight.interrupt()

    async def close(self) -> None:
        """Close: end every request at once, then close the owned session. Idempotent.

        A request waiting (on a retry, a ``Retry-After`` or a 429 cooldown) or in flight
        raises :class:`ClientStateError`. A borrowed session is left open.

        A copy made by :meth:`derive` ends only its own requests and leaves the session open
        for the others, unless the transport it came from is gone and no other copy is open:
        then the session is closed too. Closing the transport the copies came from closes
        them all.
        """
        shared = self._shared
        if self._root:
            await shared.close()
            return
        if self._closed:
            return
        self._closed = True
        loop = shared.loop
        if loop is None or loop is asyncio.get_running_loop():
            self.interrupt()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self.interrupt)
        await shared.close_if_orphaned()

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
        label = f"GET {url}"

        async def send(attempt: Attempt) -> Any:
            if counter is not None:
                counter.requests += 1
                counter.retries += attempt.number > 1
            return await self._send(url, attempt.number, offset)

        return await self.until_closed(
            retry_loop(
                send,
                classify=classify_get,
                policy=self._retry,
                max_retries=self._max_retries,
                label=label,
                describe=lambda error: what_failed(error, label),
                clock=self._clock,
                cooldown=cooldown or Cooldown(self._clock),
                catch=_GET_FAILURES,
            )
        )

    async def sleep(self, seconds: float) -> None:
        """Sleep *seconds* on the clock, unless ``close()`` comes first: for waits between requests.

        Raises:
            ClientStateError: The transport is closed, or was closed during the sleep.
        """
        self._check_usable()
        await self.until_closed(self._clock.sleep(seconds))

    async def until_closed(self, work: Coroutine[Any, Any, T]) -> T:
        """Await *work* in the current task; if ``close()`` cancels it, raise ClientStateError.

        *work* runs in its caller's task, not one of its own, so that nothing about the
        request changes but this: ``close()`` cancels the task wherever it waits, and the
        cancellation it caused (and only that one) becomes a :class:`ClientStateError`.
        """
        return await self._in_flight.run(work, self._reason)

    async def _send(self, url: yarl.URL, attempt: int, offset: int) -> Any:
        answer = await self._exchange("GET", url, attempt, headers=self._headers)
        answer.failures.raise_error()
        assert answer.status is not None  # noqa: S101 - set unless the exchange failed
        return _sansio.decode_response(
            answer.status, answer.headers, answer.body, offset=offset, secret=self._secret
        )

    async def post_once(self, url: yarl.URL, payload: bytes, attempt: int) -> Posted:
        """POST the JSON *payload* to *url* once, never retried (a create retries its own way).

        Failures come back in the :class:`Posted`, not raised, with whether the request may
        have reached the server; only a closed transport raises.

        Raises:
            ClientStateError: The transport is closed, or was closed meanwhile.
        """
        headers = {**self._headers, "Content-Type": "application/json"}
        try:
            answer = await self._exchange("POST", url, attempt, headers=headers, data=payload)
        except ResponseTooLargeError as exc:
            return Posted(error=exc)
        failures = answer.failures
        if failures.error is not None:
            return Posted(error=failures.error, unsent=failures.unsent)
        assert answer.status is not None  # noqa: S101 - set unless the exchange failed
        try:
            return Posted(
                _sansio.decode_response(
                    answer.status, answer.headers, answer.body, secret=self._secret
                )
            )
        except (APIError, MalformedResponseError) as exc:
            return Posted(error=exc)

    async def _exchange(
        self,
        method: str,
        url: yarl.URL,
        attempt: int,
        *,
        headers: Mapping[str, str],
        data: bytes | None = None,
    ) -> Answer:
        """One request over the shared session (see ``_exchange.exchange``).

        Raises:
            ClientStateError: The transport is closed, or was closed meanwhile.
            ResponseTooLargeError: The body is over ``max_response_bytes``.
        """
        session = self._shared.session
        if session is None or self.closed or self._shared.state is not SessionState.OPENED:
            raise ClientStateError(self._reason())  # closed while waiting
        return await exchange(
            session,
            method,
            url,
            attempt=attempt,
            headers=headers,
            data=data,
            timeout=self._timeout,
            proxy=self._shared.proxy,
            secret=self._secret,
            cap=self._max_response_bytes,
        )
