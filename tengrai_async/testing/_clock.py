"""A fake clock for tests: sleeps end at once in virtual time, in deadline order, and are recorded.

It stands in for ``SYSTEM_CLOCK`` anywhere the SDK takes a ``clock`` (the client, retries,
cooldowns, ``wait()``, the fake server's jobs), so tests of backoff and polling take no time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools

__all__ = ["FakeClock"]

_SETTLE_ROUNDS = 8
"""Loop iterations to let run before time jumps, so that tasks made ready meanwhile get to
their own sleeps first and wake in deadline order, not in the order they went to sleep."""


class FakeClock:
    """Virtual time: ``sleep()`` returns as soon as the loop has nothing else ready to run.

    With ``auto_advance`` (the default) a sleep lets the event loop run a few iterations, then
    moves the clock to the earliest deadline of all sleepers and wakes those due, so concurrent
    sleepers wake in the order of their deadlines. Without it, time moves only through
    :meth:`advance`. Every sleep asked for is recorded in :attr:`sleeps` (gidgethub's test
    double records what was slept the same way).

    Attributes:
        sleeps: The seconds of each ``sleep()`` call, in call order (negative asks as 0).
    """

    def __init__(
        self,
        *,
        start: float = 1_000.0,
        wall: dt.datetime | None = None,
        auto_advance: bool = True,
    ) -> None:
        self._now = start
        self._start = start
        self._wall = wall or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        if self._wall.tzinfo is None:
            msg = "wall must be timezone-aware"
            raise ValueError(msg)
        self._auto = auto_advance
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._advancing = False
        self._advancer: asyncio.Task[None] | None = None  # held so it is not collected early
        self.sleeps: list[float] = []

    def __repr__(self) -> str:
        return f"FakeClock(monotonic={self._now!r}, sleepers={len(self._sleepers)})"

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the clock was made."""
        return self._now - self._start

    def monotonic(self) -> float:
        """The virtual monotonic time."""
        return self._now

    def now(self) -> dt.datetime:
        """The virtual wall clock: *wall* plus the virtual seconds elapsed."""
        return self._wall + dt.timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        """Sleep *seconds* of virtual time (one loop iteration when *seconds* <= 0)."""
        seconds = max(0.0, float(seconds))
        self.sleeps.append(seconds)
        if seconds == 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        if self._auto and not self._advancing:
            self._advancing = True
            self._advancer = loop.create_task(self._auto_advance())
        await future

    async def advance(self, seconds: float) -> None:
        """Move the clock *seconds* forward, waking every sleeper due by then, in order."""
        target = self._now + max(0.0, seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            self._wake_next()
            await self._settle()
        self._now = max(self._now, target)
        await asyncio.sleep(0)

    def _wake_next(self) -> None:
        deadline = self._sleepers[0][0]
        self._now = max(self._now, deadline)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():  # a cancelled sleeper is simply dropped
                future.set_result(None)

    async def _settle(self) -> None:
        for _ in range(_SETTLE_ROUNDS):
            await asyncio.sleep(0)

    async def _auto_advance(self) -> None:
        try:
            while True:
                await self._settle()
                # Cancelled sleepers leave their futures behind: skip them.
                while self._sleepers and self._sleepers[0][2].done():
                    heapq.heappop(self._sleepers)
                if not self._sleepers:
                    return
                self._wake_next()
        finally:
            self._advancing = False
