"""A clock that runs *speed* times faster than ``time.monotonic()``, shared across processes.

Both processes count from one epoch (CLOCK_MONOTONIC is system-wide on Linux), so a job the
fake server ends at fake second 30 ends then for the waiters of the benchmark's client too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

__all__ = ["ScaledClock"]


class ScaledClock:
    """Fake seconds since *epoch* (a ``time.monotonic()`` reading), *speed* per real second.

    It implements :class:`tengrai_async._clock.Clock`: ``sleep(s)`` takes ``s / speed`` real
    seconds, and ``now()`` is the wall time at the epoch plus the fake seconds since.
    """

    __slots__ = ("_wall_epoch", "epoch", "speed")

    def __init__(self, epoch: float, speed: float) -> None:
        if not speed > 0:
            msg = f"speed must be > 0, got {speed!r}"
            raise ValueError(msg)
        self.epoch = epoch
        self.speed = speed
        self._wall_epoch = time.time() - (time.monotonic() - epoch)

    def __repr__(self) -> str:
        return f"ScaledClock(epoch={self.epoch!r}, speed={self.speed!r})"

    def monotonic(self) -> float:
        """Fake seconds since the epoch."""
        return (time.monotonic() - self.epoch) * self.speed

    def now(self) -> dt.datetime:
        """The wall time at the epoch, plus the fake seconds since (UTC)."""
        return dt.datetime.fromtimestamp(self._wall_epoch + self.monotonic(), dt.timezone.utc)

    async def sleep(self, seconds: float) -> None:
        """Sleep *seconds* fake seconds: ``seconds / speed`` real ones."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def real(self, fake_seconds: float) -> float:
        """How many real seconds *fake_seconds* last."""
        return fake_seconds / self.speed
