"""The aiohttp session a client and its copies share, its lifecycle, and cancel-on-close.

:class:`SharedSession` owns (or borrows) the one session of a client and of every
``with_options()`` copy: it opens it in the running loop, refuses another loop, closes it when
its loop ends, and on ``close()`` ends every request of every copy. :class:`InFlight` is how
each transport's ``close()`` ends its own requests wherever they wait.
"""

from __future__ import annotations

import asyncio
import enum
import urllib.request
import weakref
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, Final, Protocol, TypeVar

import aiohttp
import yarl

from . import _sansio
from ._errors import ClientStateError
from ._logging import logger

__all__ = [
    "CLOSED",
    "ORIGINAL_CLOSED",
    "InFlight",
    "SessionState",
    "SharedSession",
    "uncancel",
]

T = TypeVar("T")

CLOSED: Final = "this TengrAI client is closed; create a new one (a closed client cannot reopen)"
_LOOP_ENDED: Final = (
    "this TengrAI client was closed when the event loop it was used in ended (each "
    "asyncio.run() runs a new loop); create the client inside the loop that uses it"
)
ORIGINAL_CLOSED: Final = (
    "the TengrAI client this one was made from with with_options() is closed, and with it "
    "the session they shared; create a new client"
)


class SessionState(enum.Enum):
    """Where a shared session is in its life (httpx's ``ClientState``)."""

    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


class _User(Protocol):
    """A transport over the shared session, as the session sees it."""

    @property
    def closed(self) -> bool: ...

    def interrupt(self) -> None: ...


def uncancel(task: asyncio.Task[Any]) -> int:
    """Undo one ``cancel()`` of *task*; return the cancellations still pending (3.11+)."""
    undo = getattr(task, "uncancel", None)  # Python 3.10 keeps no count
    return int(undo()) if undo is not None else 0


def _loop_of(session: aiohttp.ClientSession) -> asyncio.AbstractEventLoop:
    # aiohttp has no public accessor: ClientSession.loop is deprecated (and warns).
    loop: asyncio.AbstractEventLoop = session._loop  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
    return loop


def _other_loop(loop: asyncio.AbstractEventLoop, whose: str) -> ClientStateError:
    where = "an event loop that has ended" if loop.is_closed() else "another event loop"
    return ClientStateError(
        f"{whose} belongs to {where}, not the running one (each asyncio.run() runs a new "
        "loop); create the client inside the loop that uses it"
    )


def _env_proxy(url: yarl.URL) -> yarl.URL | None:
    """The proxy the environment names for *url*, by the rules aiohttp's ``trust_env`` uses."""
    if not url.host or urllib.request.proxy_bypass(url.host):
        return None
    proxy = urllib.request.getproxies().get(url.scheme)
    return yarl.URL(proxy) if proxy else None


class InFlight:
    """The tasks inside one transport's requests, so that its ``close()`` can end them.

    A request runs in its caller's task, not one of its own; :meth:`run` records the task,
    and :meth:`interrupt` cancels every recorded one wherever it waits.
    """

    __slots__ = ("_interrupted", "_tasks")

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._interrupted: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, T], reason: Callable[[], str]) -> T:
        """Await *work* in the current task; if :meth:`interrupt` cancels it, raise.

        Nothing about the request changes but this: the cancellation :meth:`interrupt` caused
        (and only that one) becomes a :class:`ClientStateError` saying ``reason()``.
        """
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - awaited outside any task: nothing to cancel
            return await work
        self._tasks.add(task)
        try:
            return await work
        except asyncio.CancelledError:
            # Not interrupt()'s doing, or cancelled from elsewhere too: that cancellation stands.
            if task not in self._interrupted or uncancel(task) > 0:
                raise
        finally:
            self._tasks.discard(task)
            self._interrupted.discard(task)
        # Raised outside the handler: the cancellation was close()'s, not the caller's.
        raise ClientStateError(reason())

    def interrupt(self) -> None:
        """Cancel every request recorded (but the current task's)."""
        current = asyncio.current_task()
        for task in self._tasks - self._interrupted - {current}:
            self._interrupted.add(task)
            task.cancel()


class SharedSession:
    """The session of a client and of its ``with_options()`` copies, and its lifecycle.

    Every transport made from one by ``Transport.derive`` shares it: one session, one
    connection pool, one event loop. The transport it was created for (the *root*) closes it;
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
        "users",
    )

    def __init__(
        self, *, base_url: yarl.URL, session: aiohttp.ClientSession | None, trust_env: bool
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.owns_session = session is None
        self.trust_env = trust_env
        self.proxy: yarl.URL | None = None  # the API's, looked up when the session opens
        self.state = SessionState.UNOPENED
        self.closed_reason = CLOSED
        self.closing: asyncio.Future[None] | None = None  # a close() from another loop
        # The loop the session belongs to, known once open.
        self.loop: asyncio.AbstractEventLoop | None = None
        # Closes an owned session when its loop shuts down (see _close_with_loop).
        self.guard: AsyncGenerator[None, None] | None = None
        # Every transport using the session (held weakly: a dropped copy needs no closing).
        self.users: weakref.WeakSet[_User] = weakref.WeakSet()
        self.root: weakref.ref[_User] | None = None

    def proxy_for(self, url: yarl.URL) -> yarl.URL | None:
        """See ``Transport.proxy_for``."""
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
        if self.state is SessionState.CLOSED:
            raise ClientStateError(self.closed_reason)
        if self.loop is not None and self.loop is not asyncio.get_running_loop():
            raise _other_loop(self.loop, "this TengrAI client's session")

    async def open(self) -> None:
        """Create the owned session in the running loop (a no-op if already open)."""
        self.check_usable()
        if self.state is SessionState.OPENED:
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
            self.state = SessionState.OPENED
            self.guard = self._close_with_loop()
            await self.guard.asend(None)
            return
        if self.session.closed:
            raise ClientStateError("the aiohttp session passed to TengrAI is already closed")
        if _loop_of(self.session) is not loop:
            raise _other_loop(_loop_of(self.session), "the aiohttp session passed to TengrAI")
        self.loop = loop
        self.state = SessionState.OPENED

    async def _close_with_loop(self) -> AsyncGenerator[None, None]:
        """Close the session when the loop it belongs to shuts down.

        This generator yields once and then waits: an event loop closes the async generators
        still open when it shuts down (``asyncio.run()`` does, before closing the loop), which
        runs the ``finally`` below while the loop can still close the session's connections.
        """
        try:
            yield
        finally:
            if self.state is not SessionState.CLOSED:
                self.state = SessionState.CLOSED
                self.closed_reason = _LOOP_ENDED
                self.guard = None
                await self._shut()

    async def close(self) -> None:
        """End the requests of every transport sharing the session, then close it if owned."""
        if self.state is SessionState.CLOSED:
            return
        self.state = SessionState.CLOSED
        await self._shut()

    async def close_if_orphaned(self) -> None:
        """Close the session if its root is gone (never closed) and every copy is closed."""
        if self.root is not None and self.root() is None and all(u.closed for u in self.users):
            await self.close()

    async def _shut(self) -> None:
        loop = self.loop
        if loop is not None and loop is not asyncio.get_running_loop():
            await self._shut_from_elsewhere(loop)
            return
        for user in list(self.users):
            user.interrupt()
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
