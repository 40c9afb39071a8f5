"""Shared polls for ``wait()``, ``as_completed()`` and ``wait_all()``: one round serves all.

A client and its ``with_options()`` copies share one :class:`SharedPolls`, which runs the poll
rounds of all their waiters on the client's clock, and which webhook deliveries wake at once.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import functools
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Final

from . import _sansio
from ._clock import Clock
from ._converter import converter
from ._errors import ClientStateError, TengrAIError, WaitTimeoutError
from ._models import Artwork, KnownArtwork, UnknownArtwork

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["LISTING_LIMIT", "RECENT_DELIVERIES", "AsCompleted", "SharedPolls", "Waiter", "job_key"]

#: The ``limit`` of each listing page a shared round reads (the API's largest).
LISTING_LIMIT: Final = 500
#: How many final artworks delivered by webhook are remembered for a ``wait()`` still to come.
RECENT_DELIVERIES: Final = 1024
# GETs by id of one round in flight at once: enough to overlap latency, few enough not to
# flood the API when many awaited jobs are missing from the listing.
_GETS_AT_ONCE: Final = 16
# A listing page pays off once it may hold two jobs: for one, its GET by id costs the same.
_WORTH_A_PAGE: Final = 2

OnPoll = Callable[[Artwork], object]
Job = uuid.UUID | str | Artwork


def job_key(job: object) -> tuple[uuid.UUID, _dt.datetime | None]:
    """The id of *job* (an artwork or its id) and, for an artwork, when it was created.

    Raises:
        InvalidArgumentError: Not an artwork, nor a UUID or its 8-4-4-4-12 hex string.
    """
    if isinstance(job, KnownArtwork | UnknownArtwork):
        return _sansio.check_artwork_id(job.id), job.created_at  # an unknown one's id may be None
    return _sansio.check_artwork_id(job), None


class Waiter:
    """One job awaited: its deadline, its poll schedule, and the future of its final artwork.

    Attributes:
        key: The job's id.
        result: Resolved with the final artwork, or with the error that ends the wait.
        last: The artwork as last seen (by a poll or a delivery), or ``None``.
    """

    __slots__ = (
        "deadline",
        "delay",
        "delays",
        "key",
        "last",
        "next_due",
        "on_poll",
        "result",
        "timeout",
        "transport",
    )

    def __init__(
        self,
        key: uuid.UUID,
        *,
        transport: Transport,
        timeout: float | None,
        poll_interval: float,
        on_poll: OnPoll | None = None,
    ) -> None:
        clock = transport.clock
        self.key = key
        self.transport = transport
        self.timeout = timeout
        self.deadline = math.inf if timeout is None else clock.monotonic() + timeout
        self.delays: Iterator[float] = _sansio.poll_delays(poll_interval)
        self.delay = poll_interval
        self.next_due = -math.inf  # the first poll is at once
        self.on_poll = on_poll
        self.last: Artwork | None = None
        self.result: asyncio.Future[Artwork] = asyncio.get_running_loop().create_future()

    def offer(self, artwork: Artwork) -> bool:
        """Hand the waiter what a poll or a delivery saw; ``True`` when its wait is over."""
        if self.result.done():
            return True
        self.last = artwork
        if self.on_poll is not None:
            try:
                self.on_poll(artwork)
            except Exception as exc:  # noqa: BLE001 - the waiter's own callback: its error
                self.result.set_exception(exc)
                return True
        if artwork.status in _sansio.FINAL_STATUSES:
            self.result.set_result(artwork)
            return True
        return False

    def fail(self, error: BaseException) -> None:
        """End the wait with *error* (unless it is over already)."""
        if not self.result.done():
            self.result.set_exception(error)

    def timed_out(self) -> WaitTimeoutError:
        """The error of a wait past its deadline."""
        return WaitTimeoutError(str(self.key), self.timeout or math.inf, self.last)


class SharedPolls:
    """The poll rounds of every waiter of one client (its ``with_options()`` copies included).

    One task runs the rounds while anyone waits, on the client's clock. A round polls every
    job awaited: with two or more, it reads the listing from the newest page (500 artworks a
    page) until every one has been seen, or until fewer than two of those not seen can be
    further down (a page's oldest artwork is older than them); then it GETs by id the jobs
    still not seen whose waiters are due. One job alone is one GET a round, as a lone
    ``wait()`` always did. A waiter is due when its own schedule says (its *poll_interval*,
    growing by half after each of its polls, up to 10 s); a round it did not need still
    brings it what it saw, and restarts its wait from there, so its interval is met or
    bettered. A job delivered (:meth:`deliver`) wakes its waiters at once.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._waiters: dict[Waiter, None] = {}  # an ordered set: registration order
        self._by_key: dict[uuid.UUID, list[Waiter]] = {}
        self._created: dict[uuid.UUID, _dt.datetime] = {}
        self._recent: OrderedDict[uuid.UUID, Artwork] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._pause: asyncio.Future[None] | None = None
        #: Rounds run so far (for tests and benchmarks).
        self.rounds = 0

    def __repr__(self) -> str:
        return f"<SharedPolls waiters={len(self._waiters)} rounds={self.rounds}>"

    @property
    def waiting(self) -> int:
        """How many waiters are registered now."""
        return len(self._waiters)

    def add(self, waiter: Waiter, created_at: _dt.datetime | None = None) -> None:
        """Register *waiter*: it is polled in the next round, which starts at once."""
        delivered = self._recent.get(waiter.key)
        if delivered is not None and waiter.offer(delivered):
            return
        if created_at is not None:
            self._created.setdefault(waiter.key, created_at)
        self._waiters[waiter] = None
        self._by_key.setdefault(waiter.key, []).append(waiter)
        task = self._task
        if task is None or task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        elif self._pause is not None:
            self._pause.cancel()  # the next round is now

    def discard(self, waiter: Waiter) -> asyncio.Task[None] | None:
        """Unregister *waiter*; return the rounds' task if it was the last one (now cancelled)."""
        self._remove(waiter)
        task = self._task
        if not self._waiters and task is not None and not task.done():
            task.cancel()
            return task
        return None

    async def leave(self, waiter: Waiter) -> None:
        """:meth:`discard` *waiter*, and let a cancelled round finish, so that nothing runs on."""
        task = self.discard(waiter)
        if task is not None:
            await asyncio.wait({task})

    def deliver(self, artwork: Artwork) -> int:
        """Hand *artwork* (pushed by a webhook) to its waiters; return how many it ended.

        A final one is also remembered (the last :data:`RECENT_DELIVERIES`), so that a wait
        that starts later returns it without a request.
        """
        key = artwork.id
        if not isinstance(key, uuid.UUID):
            return 0
        if artwork.status in _sansio.FINAL_STATUSES:
            self._recent[key] = artwork
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_DELIVERIES:
                self._recent.popitem(last=False)
        return self._offer(key, artwork)

    # -- the rounds ------------------------------------------------------------------------

    def _remove(self, waiter: Waiter) -> None:
        if self._waiters.pop(waiter, 0) is None:
            same = self._by_key[waiter.key]
            same.remove(waiter)
            if not same:
                del self._by_key[waiter.key]
                self._created.pop(waiter.key, None)

    def _offer(self, key: uuid.UUID, artwork: Artwork) -> int:
        if artwork.created_at is not None:
            self._created[key] = artwork.created_at
        ended = 0
        for waiter in list(self._by_key.get(key, ())):
            if waiter.offer(artwork):
                self._remove(waiter)
                ended += 1
        return ended

    def _fail(self, key: uuid.UUID, error: BaseException, only: Iterable[Waiter]) -> None:
        for waiter in list(only):
            if waiter.key == key:
                waiter.fail(error)
                self._remove(waiter)

    async def _run(self) -> None:
        try:
            await self._rounds()
        except Exception as exc:  # a bug of ours: every wait gets it rather than hanging
            for waiter in list(self._waiters):
                waiter.fail(exc)
                self._remove(waiter)
            raise

    async def _rounds(self) -> None:
        while self._waiters:
            now = self._clock.monotonic()
            for waiter in [w for w in self._waiters if w.deadline <= now or w.result.done()]:
                waiter.fail(waiter.timed_out())
                self._remove(waiter)
            # A waiter whose client was closed is being ended by that close(): leave it be.
            for waiter in [w for w in self._waiters if w.transport.closed]:
                self._remove(waiter)
            due = [w for w in self._waiters if w.next_due <= now]
            if due:
                await self._round(due)
            elif self._waiters:
                wake = min(min(w.next_due, w.deadline) for w in self._waiters)
                await self._sleep(wake - now)

    async def _sleep(self, seconds: float) -> None:
        # In a task of its own, so that add() can cut it short without cancelling the rounds.
        pause = self._pause = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({pause})
        finally:
            pause.cancel()
            self._pause = None

    async def _round(self, due: list[Waiter]) -> None:
        self.rounds += 1
        transport = due[0].transport
        due_set = set(due)
        seen: set[uuid.UUID] = set()
        try:
            if len(self._by_key) >= _WORTH_A_PAGE:
                await self._read_listing(transport, seen)
            missing = list(dict.fromkeys(w.key for w in due if w.key not in seen))
            await self._get_each(transport, missing, due, seen)
        except ClientStateError as exc:
            if transport.closed:
                return  # its waiters are ended by the close; the others go on next round
            for waiter in due:
                self._fail(waiter.key, exc, [waiter])
            return
        except TengrAIError as exc:  # the listing failed: what each due waiter's GET would do
            for waiter in due:
                self._fail(waiter.key, exc, [waiter])
            return
        end = self._clock.monotonic()
        for waiter in list(self._waiters):
            if waiter.key in seen:
                if waiter in due_set:
                    waiter.delay = next(waiter.delays)
                waiter.next_due = end + waiter.delay

    async def _read_listing(self, transport: Transport, seen: set[uuid.UUID]) -> None:
        offset = 0
        while True:
            data = await transport.get_window(offset=offset, limit=LISTING_LIMIT)
            page = converter.structure_page(
                data, offset=offset, limit=LISTING_LIMIT, skip_invalid=True
            )
            oldest: _dt.datetime | None = None
            for artwork in page.items:
                key = artwork.id
                created = artwork.created_at
                if created is not None and (oldest is None or created < oldest):
                    oldest = created
                if isinstance(key, uuid.UUID) and key in self._by_key and key not in seen:
                    seen.add(key)
                    self._offer(key, artwork)
            if not page.has_more or oldest is None:
                return
            # Only jobs at least as old as this page's oldest artwork can be further down;
            # for one alone, its GET costs no more than the next page.
            further = [
                key
                for key in self._by_key
                if key not in seen and (at := self._created.get(key)) is not None and at <= oldest
            ]
            if len(further) < _WORTH_A_PAGE:
                return
            offset = page.next_offset

    async def _get_each(
        self,
        transport: Transport,
        keys: list[uuid.UUID],
        due: list[Waiter],
        seen: set[uuid.UUID],
    ) -> None:
        async def get(key: uuid.UUID) -> None:
            try:
                artwork = converter.structure_artwork(await transport.get_artwork(key))
            except ClientStateError:
                raise
            except TengrAIError as exc:  # NotFoundError for a job gone: its waiters' error
                self._fail(key, exc, due)
                return
            seen.add(key)
            self._offer(key, artwork)

        if not keys:
            return
        if len(keys) == 1:
            await get(keys[0])  # in this task: a lone waiter's poll, exactly as before
            return
        gate = asyncio.Semaphore(_GETS_AT_ONCE)

        async def gated(key: uuid.UUID) -> None:
            async with gate:
                await get(key)

        tasks = [asyncio.ensure_future(gated(key)) for key in keys]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)


class AsCompleted:
    """``client.artworks.as_completed(jobs)``: each job's final artwork, as it ends.

    An async iterator (and an async context manager). Leaving it early (``break``, an error,
    ``aclose()``, the end of an ``async with``) ends its waits at once.
    """

    def __init__(
        self,
        polls: SharedPolls,
        transport: Transport,
        jobs: list[tuple[uuid.UUID, _dt.datetime | None]],
        *,
        timeout: float | None,
        poll_interval: float,
    ) -> None:
        self._polls = polls
        self._transport = transport
        self._jobs = jobs
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._waiters: list[Waiter] | None = None
        self._index: dict[Waiter, int] = {}
        self._done: asyncio.Queue[Waiter] | None = None
        self._left = len(jobs)

    def __aiter__(self) -> AsCompleted:
        return self

    async def __anext__(self) -> Artwork:
        return (await self.next_done())[1]

    async def __aenter__(self) -> AsCompleted:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def next_done(self) -> tuple[int, Artwork]:
        """The next job to end: its place in *jobs*, and its final artwork.

        Raises:
            StopAsyncIteration: Every job has ended.
            WaitTimeoutError: The timeout passed; it names the first job (in the order
                given) still running. The other waits end with it.
            NotFoundError, APIError, TransportError: A job's poll failed (the others end).
        """
        if self._left <= 0:
            raise StopAsyncIteration
        if self._done is None:
            await self._transport.open()
        done = self._start()
        clock = self._transport.clock
        while True:
            pending = self._pending()
            left = None if self._timeout is None else pending[0].deadline - clock.monotonic()
            try:
                waiter = await self._transport.until_closed(asyncio.wait_for(done.get(), left))
            except asyncio.TimeoutError:
                await self.aclose()
                raise pending[0].timed_out() from None
            except BaseException:
                await self.aclose()
                raise
            if waiter.result.cancelled():
                continue
            error = waiter.result.exception()
            if error is not None:
                await self.aclose()
                raise error
            self._left -= 1
            return self._index[waiter], waiter.result.result()

    async def aclose(self) -> None:
        """End every wait still running (nothing keeps polling for them)."""
        last: asyncio.Task[None] | None = None
        for waiter in self._waiters or ():
            waiter.result.cancel()
            last = self._polls.discard(waiter) or last
        self._left = 0
        self._waiters = []
        if last is not None:
            await asyncio.wait({last})

    def __del__(self) -> None:
        # Dropped after a ``break``: end the waits now rather than when their deadline passes.
        for waiter in self._waiters or ():
            try:
                waiter.result.cancel()
                self._polls.discard(waiter)
            except RuntimeError:  # pragma: no cover - the loop is closed already
                return

    def _pending(self) -> list[Waiter]:
        return [w for w in self._waiters or () if not w.result.done()] or list(self._index)

    def _start(self) -> asyncio.Queue[Waiter]:
        if self._done is not None:
            return self._done
        done: asyncio.Queue[Waiter] = asyncio.Queue()
        self._done = done
        self._waiters = []
        for place, (key, created_at) in enumerate(self._jobs):
            waiter = Waiter(
                key,
                transport=self._transport,
                timeout=self._timeout,
                poll_interval=self._poll_interval,
            )
            self._index[waiter] = place
            self._waiters.append(waiter)
            waiter.result.add_done_callback(functools.partial(_queue_up, done, waiter))
            self._polls.add(waiter, created_at)
        return done


def _queue_up(done: asyncio.Queue[Waiter], waiter: Waiter, _: object) -> None:
    done.put_nowait(waiter)
