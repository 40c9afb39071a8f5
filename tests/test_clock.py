"""The clock seam: the system clock's readings, and the fake clock's virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tengrai_async import Clock, SystemClock
from tengrai_async._clock import SYSTEM_CLOCK
from tengrai_async.testing import FakeClock


async def test_system_clock_is_a_clock_with_aware_now() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert isinstance(SYSTEM_CLOCK, SystemClock)
    assert SYSTEM_CLOCK.now().tzinfo is not None
    before = SYSTEM_CLOCK.monotonic()
    await SYSTEM_CLOCK.sleep(-1)  # a negative ask is no wait, not an error
    assert SYSTEM_CLOCK.monotonic() >= before
    assert repr(SYSTEM_CLOCK) == "SystemClock()"


async def test_fake_sleep_moves_virtual_time_and_is_recorded() -> None:
    clock = FakeClock()
    assert isinstance(clock, Clock)
    loop = asyncio.get_running_loop()
    real = loop.time()
    await clock.sleep(3600)
    assert clock.elapsed == 3600
    assert clock.sleeps == [3600]
    assert clock.now() == dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone.utc)
    assert loop.time() - real < 1  # an hour of virtual time, no real hour


async def test_concurrent_fake_sleepers_wake_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.elapsed))

    await asyncio.gather(nap("long", 5), nap("short", 1), nap("mid", 2))
    assert woke == [("short", 1), ("mid", 2), ("long", 5)]
    assert clock.elapsed == 5  # concurrent sleeps overlap, as real ones do


async def test_cancelled_fake_sleeper_does_not_hold_time_back() -> None:
    clock = FakeClock()
    task = asyncio.create_task(clock.sleep(100))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await clock.sleep(1)
    assert clock.elapsed == 1


async def test_manual_fake_clock_moves_only_when_advanced() -> None:
    clock = FakeClock(auto_advance=False)
    task = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)  # the task goes to sleep at virtual time 0
    await clock.advance(9)
    assert not task.done()
    await clock.advance(1)
    assert task.done()
    assert clock.elapsed == 10


def test_fake_clock_wants_an_aware_wall_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(wall=dt.datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point
