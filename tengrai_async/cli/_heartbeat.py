"""A progress line on stderr every 10 s when it is not a terminal (cron mail, a CI log, a file).

A bar needs a terminal; a log needs lines, few enough to read and often enough that a long run
is never silent. The time comes from the clock seam, so tests take none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Final, TextIO

from .._clock import SYSTEM_CLOCK, Clock

__all__ = ["INTERVAL", "heartbeat", "size"]

#: Seconds between two progress lines.
INTERVAL: Final = 10.0


def size(count: int) -> str:
    """A byte count as the summaries print it: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":  # noqa: PLR2004
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.asynccontextmanager
async def heartbeat(
    stream: TextIO,
    line: Callable[[float], str],
    *,
    enabled: bool,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[None]:
    """Inside, write ``line(seconds so far)`` to *stream* every :data:`INTERVAL` seconds."""
    if not enabled:
        yield
        return
    started = clock.monotonic()

    async def beat() -> None:
        ticks = 0
        while True:
            ticks += 1
            # Aimed at the next multiple of the interval: a slow write never makes it drift.
            await clock.sleep(started + ticks * INTERVAL - clock.monotonic())
            with contextlib.suppress(OSError):  # a closed stderr stops no run
                stream.write(line(clock.monotonic() - started) + "\n")
                stream.flush()

    task = asyncio.ensure_future(beat())
    try:
        yield
    finally:
        task.cancel()
        # wait() neither raises the beat's cancellation nor hides one of this task's own.
        await asyncio.wait([task])
