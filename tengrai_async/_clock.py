"""Time as a parameter: the one object the SDK reads the time from and sleeps on.

The client, its retry loop, cooldowns, ``wait()`` and the fake server's jobs all take a
:class:`Clock`; the default is :data:`SYSTEM_CLOCK`, and tests pass a fake one
(``tengrai_async.testing.FakeClock``) so that backoff and polling take no real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Where time comes from: a monotonic reading, the wall clock, and a way to sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait *seconds* (at once when *seconds* <= 0); cancellable like asyncio.sleep."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``datetime.now(UTC)`` and ``asyncio.sleep``."""

    __slots__ = ()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> dt.datetime:
        """``datetime.now(timezone.utc)``."""
        return dt.datetime.now(dt.timezone.utc)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``."""
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK: Clock = SystemClock()
"""The default clock of every part of the SDK."""
