"""The archive database on a thread of its own, so that the event loop never waits on SQLite.

SQLite does its work (B-tree writes, the WAL, checkpoints' fsyncs) with the GIL released, so
on its own thread it overlaps the listing's network reads and JSON decoding instead of adding
to them. Every call runs on that one thread, in the order it was made: the connection is only
ever used there, and one page's transaction never interleaves with another's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from ._db import ArchiveDatabase

__all__ = ["DatabaseThread"]

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseThread:
    """An :class:`ArchiveDatabase` opened, used and closed on one worker thread.

    ``async with DatabaseThread(path) as db:`` opens it (raising what opening raises);
    ``await db.call(ArchiveDatabase.method, ...)`` runs a method there and waits for it;
    ``db.later(...)`` queues one and returns its future at once, so that the caller can go on
    (a page is stored while the next one is fetched); ``db.submit(...)`` does the same with a
    :class:`concurrent.futures.Future`, whose ``cancel()`` tells at once whether the call will
    run. Leaving the block closes the database after the queued calls; it returns only once
    the database is closed, so that nothing writes after it (the directory's lock is released
    next).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tengrai-archive-db"
        )
        self._db: ArchiveDatabase | None = None

    async def __aenter__(self) -> DatabaseThread:
        try:
            await asyncio.wrap_future(self._executor.submit(self._open))
        except BaseException:
            await self._shut()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._shut()

    def submit(
        self,
        method: Callable[Concatenate[ArchiveDatabase, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> concurrent.futures.Future[T]:
        """Queue ``method(database, *args, **kwargs)``; return its thread-side future."""
        return self._executor.submit(self._with_db, method, *args, **kwargs)

    def later(
        self,
        method: Callable[Concatenate[ArchiveDatabase, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``method(database, *args, **kwargs)`` and return its future at once.

        Cancelling the future keeps the call from running if it has not started by the time
        the cancellation reaches the thread (a moment later: use :meth:`submit` to know).
        """
        return asyncio.wrap_future(self.submit(method, *args, **kwargs))

    async def call(
        self,
        method: Callable[Concatenate[ArchiveDatabase, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``method(database, *args, **kwargs)`` on the thread and return its result."""
        return await self.later(method, *args, **kwargs)

    def _with_db(
        self,
        method: Callable[Concatenate[ArchiveDatabase, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        assert self._db is not None  # noqa: S101 - calls are only made inside the block
        return method(self._db, *args, **kwargs)

    def _open(self) -> None:
        self._db = ArchiveDatabase(self._path)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def _shut(self) -> None:
        closing = self._executor.submit(self._close)
        self._executor.shutdown(wait=False)
        try:
            # Shielded: cancelled meanwhile, the close still runs after the queued calls.
            await asyncio.shield(asyncio.wrap_future(closing))
        except asyncio.CancelledError:
            # Cancelled again (a second Ctrl-C, an outer timeout): the caller is about to
            # release the directory's lock, which must not happen while this connection may
            # still write, so the loop waits here for the call in progress and the close.
            concurrent.futures.wait([closing])
            raise
