"""The aiohttp session manager: owns or borrows a session, guards its state, retries GETs.

It maps every aiohttp error and timeout to the package's own exceptions, retries what is worth
retrying through stamina, and lets a shared :class:`Cooldown` pause sibling requests on a 429.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import platform
import time
import uuid
from typing import Any, Protocol

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
    MalformedResponseError,
    RateLimitError,
    TransportError,
)
from ._version import __version__

__all__ = ["USER_AGENT", "Cooldown", "RequestCounter", "RetryPolicy", "Transport"]

logger = logging.getLogger("tengrai_async")

USER_AGENT = (
    f"tengrai-async/{__version__} aiohttp/{aiohttp.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
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


class Transport:
    """Sends ``GET /v2/artworks`` windows over one aiohttp session, with retries.

    The session is created inside the running loop on first use (or on ``open()``) and closed
    by ``close()``; a session passed in is borrowed, used as is and never closed.
    """

    __slots__ = (
        "_base_url",
        "_headers",
        "_max_retries",
        "_owns_session",
        "_retry",
        "_session",
        "_state",
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
    ) -> None:
        self._base_url = base_url
        self._headers = _sansio.request_headers(api_key, USER_AGENT)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._retry = retry
        self._session = session
        self._owns_session = session is None
        self._state = _State.UNOPENED

    def __repr__(self) -> str:  # the headers hold the key: never show them
        return f"<Transport {self._state.value} {str(self._base_url)!r}>"

    @property
    def base_url(self) -> yarl.URL:
        """The API's base URL."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
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

    async def session(self) -> aiohttp.ClientSession:
        """The open session (opening the transport if needed), for requests beyond the API's.

        Raises:
            ClientStateError: The transport was closed.
        """
        await self.open()
        assert self._session is not None  # noqa: S101 - open() sets it
        return self._session

    def headers_for(self, url: yarl.URL) -> dict[str, str]:
        """The headers for a GET of *url*: the API key only when *url* is the API's origin."""
        if _sansio.same_origin(url, self._base_url):
            return dict(self._headers)
        return {name: value for name, value in self._headers.items() if name != "Authorization"}

    async def open(self) -> None:
        """Create the owned session in the running loop (a no-op if already open).

        Raises:
            ClientStateError: The transport was closed.
        """
        if self._state is _State.CLOSED:
            raise ClientStateError(
                "this TengrAI client is closed; create a new one (a closed client cannot reopen)"
            )
        if self._state is _State.OPENED:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession()
        elif self._session.closed:
            raise ClientStateError("the aiohttp session passed to TengrAI is already closed")
        self._state = _State.OPENED

    async def close(self) -> None:
        """Close the owned session (a borrowed one is left open). Idempotent."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._owns_session and self._session is not None:
            await self._session.close()

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
            MalformedResponseError: A body that is not JSON, after retries.
        """
        await self.open()
        cooldown = cooldown or Cooldown()
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
            return isinstance(exc, TransportError | MalformedResponseError)

        return hook

    async def _send(self, url: yarl.URL, attempt: int, offset: int) -> Any:
        session = self._session
        if session is None or self._state is not _State.OPENED:  # closed while waiting
            raise ClientStateError("this TengrAI client is closed")
        started = time.perf_counter()
        status: int | str = "error"
        try:
            async with session.get(url, headers=self._headers, timeout=self._timeout) as resp:
                status = resp.status
                body = await resp.read()
                headers = resp.headers
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(
                f"GET {url} got no complete answer within {self._timeout.total} s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            logger.debug(
                "GET %s -> %s (attempt %d, %.1f ms)",
                url,
                status,
                attempt,
                (time.perf_counter() - started) * 1000,
            )
        return _sansio.decode_response(status, headers, body, offset=offset)
