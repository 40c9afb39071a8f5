"""The images of an archive run: downloaded so many at a time, each recorded as it ends.

The records go to the database's thread by the batch (:class:`ImageRecords`), all of them
written before :func:`download_pending` returns, even when interrupted.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, Final

from .._transport import Transport
from ._db import ArchiveDatabase, ImageJob, ImageOutcome
from ._images import ImageHosts, download_image
from ._thread import DatabaseThread

__all__ = ["ImageRecords", "all_together", "download_pending"]


async def download_pending(
    transport: Transport,
    db: DatabaseThread,
    root: Path,
    *,
    downloads: int,
    max_bytes: int,
    on_bytes: Callable[[int], None],
    on_outcome: Callable[[ImageOutcome], None],
) -> None:
    """Download every pending image into *root*, *downloads* at a time, recording each.

    Each outcome goes to *on_outcome* as it ends, then to the database: the records are
    written on the database's thread a batch at a time while the downloads go on; they are all
    written before this returns, even when interrupted: an image on disk is never fetched again.
    """
    requests_per_run = transport.max_retries + 1
    jobs = iter(await db.call(ArchiveDatabase.pending_images, requests_per_run))
    hosts = ImageHosts(transport)
    records = ImageRecords(db)

    async def worker() -> None:
        for job in jobs:  # the workers share one iterator: each job is taken once
            outcome = await download_image(
                transport,
                job.url,
                directory=root,
                artwork_id=job.artwork_id,
                position=job.position,
                max_bytes=max_bytes,
                on_bytes=on_bytes,
                hosts=hosts,
            )
            on_outcome(outcome)
            records.add(job, outcome)

    try:
        await all_together(worker() for _ in range(downloads))
    finally:
        await asyncio.shield(records.flush())


#: Image records handed to the database's thread at once: each hand-over costs the event loop
#: its GIL for a while, so they go by the batch, or when the oldest has waited a second; a run
#: killed with ``kill -9`` loses at most these (their images are fetched again by the next run).
_RECORDS_PER_BATCH: Final = 32
_RECORD_DELAY: Final = 1.0


class ImageRecords:
    """Image records on their way to the database, a batch at a time, in order."""

    def __init__(self, db: DatabaseThread) -> None:
        self._db = db
        self._batch: list[tuple[ImageJob, ImageOutcome]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: collections.deque[asyncio.Future[None]] = collections.deque()

    def add(self, job: ImageJob, outcome: ImageOutcome) -> None:
        """Queue the record; raise the error of an earlier batch that could not be written."""
        self._batch.append((job, outcome))
        if len(self._batch) >= _RECORDS_PER_BATCH:
            self._send()
        elif self._timer is None:
            # Sent a second later at the latest, even if no other download ends meanwhile.
            self._timer = asyncio.get_running_loop().call_later(_RECORD_DELAY, self._send)
        while self._writing and self._writing[0].done():
            self._writing.popleft().result()

    async def flush(self) -> None:
        """Write what is queued and wait for every batch."""
        self._send()
        await asyncio.gather(*self._writing)

    def _send(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._batch:
            self._writing.append(self._db.later(ArchiveDatabase.record_images, self._batch))
            self._batch = []


async def all_together(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run the coroutines together; the first error (or a cancellation) cancels the others.

    ``asyncio.TaskGroup`` does this from Python 3.11 on; the package supports 3.10.
    """
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
