"""SIGTERM is Ctrl-C: what cron, systemd, docker and CI send to stop a command, handled alike.

While the event loop runs, SIGTERM cancels the command's task, as asyncio.run does on SIGINT,
so every ``finally`` records and cleans up; the command then ends with :class:`Terminated`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

__all__ = ["Terminated", "run", "sigterm_as_interrupt"]

_T = TypeVar("_T")


class Terminated(BaseException):
    """SIGTERM arrived: the command stopped as after Ctrl-C (exit 143)."""


class _Handler:
    """The SIGTERM handler: cancels the running command's task, or raises outside the loop."""

    def __init__(self) -> None:
        self.received = False
        self.task: asyncio.Task[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.received = True
        task, loop = self.task, self.loop
        if task is None or loop is None or task.done():
            raise Terminated
        task.cancel()
        # The handler runs between two bytecodes of the main thread: wake the loop's selector.
        loop.call_soon_threadsafe(lambda: None)


_handler: _Handler | None = None


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM stops the command as Ctrl-C does (outside the main thread: no change)."""
    global _handler  # noqa: PLW0603 - a signal handler is process-wide state
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler()
    previous = signal.signal(signal.SIGTERM, handler)
    _handler = handler
    try:
        yield
    finally:
        _handler = None
        signal.signal(signal.SIGTERM, previous)


def run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(coroutine)``, where SIGTERM cancels it and ends in :class:`Terminated`."""
    return asyncio.run(_cancellable(coroutine))


async def _cancellable(coroutine: Coroutine[Any, Any, _T]) -> _T:
    handler = _handler
    if handler is None:
        return await coroutine
    handler.task, handler.loop = asyncio.current_task(), asyncio.get_running_loop()
    try:
        return await coroutine
    except asyncio.CancelledError:
        if handler.received:
            raise Terminated from None
        raise
    finally:
        handler.task = handler.loop = None
