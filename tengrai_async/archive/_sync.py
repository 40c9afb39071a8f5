"""One archive run: list what is new, bring unfinished artworks up to date, fetch the images.

The listing is newest first, so a run stops at the first artwork older than the newest one a
complete earlier run saw (the high-water mark): an unchanged archive costs one listing request.
Each page is stored in one transaction; an interrupted run leaves the mark where it was, so the
next run lists down to it again and stores nothing twice.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import datetime as _dt
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from pathlib import Path
from typing import Any, Final, Protocol

import attrs
import filelock

from .. import _rules, _sansio
from .._client import TengrAI
from .._converter import wire_object
from .._errors import ClientStateError, NotFoundError, ResponseValidationError, TengrAIError
from .._json import encode_json
from .._lockfile import holds
from .._models import Artwork, ArtworkPage
from ._db import (
    ArchiveDatabase,
    ImageJob,
    ImageOutcome,
    PageCounts,
    StoredArtwork,
    database_error,
    now_text,
)
from ._images import DEFAULT_MAX_IMAGE_BYTES, PART_SUFFIX, ImageHosts, download_image
from ._thread import DatabaseThread

__all__ = [
    "DATABASE_NAME",
    "ArchiveLockedError",
    "ArchiveProgress",
    "ArchiveReport",
    "sync",
]

logger = logging.getLogger("tengrai_async.archive")

#: The database file inside the archive directory.
DATABASE_NAME: Final = "archive.sqlite"
_LOCK_NAME: Final = "archive.lock"
_PID_NAME: Final = "archive.pid"


class ArchiveLockedError(TengrAIError):
    """Another run holds the archive directory's lock.

    Attributes:
        pid: The other run's process id, when it could be read.
    """

    def __init__(self, directory: Path, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"{directory} is being archived by {who}; try again when it is done")


class ArchiveProgress(Protocol):
    """What a run reports while it goes (the command line draws it with tqdm)."""

    def artworks(self, count: int) -> None:
        """*count* more artworks were stored."""

    def image_bytes(self, count: int) -> None:
        """*count* more image bytes were written."""


@attrs.frozen(kw_only=True)
class ArchiveReport:
    """What one run did.

    Attributes:
        new: Artworks archived for the first time.
        updated: Archived artworks whose JSON changed (a status that moved on, say).
        unchanged: Artworks seen again exactly as archived.
        invalid: Artworks new or changed in this run that broke a rule of the spec (archived
            as sent all the same).
        invalid_errors: The error of each of those ``invalid`` artworks, in the order met:
            its ``raw`` is the artwork as sent (its ``"id"`` among it), its ``path`` the JSON
            path of the rule it broke.
        removed: Unfinished artworks the API no longer has (their JSON is kept).
        unrefreshed: Unfinished artworks that could not be fetched by id (left as they were).
        images_downloaded: Images written to ``images/``.
        images_gone: Images whose host answered 404 or 410.
        images_failed: Images that could not be kept (after retries, or refused).
        bytes_downloaded: The bytes of the images written.
        complete: Whether the listing was read down to what was already archived (or its end);
            only then does the next run stop at this run's newest artwork.
        elapsed: Seconds the run took.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    invalid_errors: tuple[ResponseValidationError, ...] = ()
    removed: int = 0
    unrefreshed: int = 0
    images_downloaded: int = 0
    images_gone: int = 0
    images_failed: int = 0
    bytes_downloaded: int = 0
    complete: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether nothing was invalid and no image failed (a gone image is not a failure)."""
        return self.invalid == 0 and self.images_failed == 0


@attrs.define
class _Tally:
    counts: PageCounts = attrs.field(factory=PageCounts)
    invalid_errors: list[ResponseValidationError] = attrs.field(factory=list)
    removed: int = 0
    unrefreshed: int = 0
    done: int = 0
    gone: int = 0
    failed: int = 0
    bytes: int = 0


class _NoProgress:
    def artworks(self, count: int) -> None:
        """Nothing to show."""

    def image_bytes(self, count: int) -> None:
        """Nothing to show."""


def _stored(raw: Any, *, valid: bool) -> StoredArtwork | None:
    """The row of one artwork's JSON, or ``None`` when it has no string id to key it by."""
    # A model's JSON is a read-only dict subclass (artwork.raw), an invalid item's plain JSON.
    if not isinstance(raw, dict) or type(raw.get("id")) is not str:
        return None
    results = raw.get("results")
    urls = (
        tuple(results) if isinstance(results, list) and all(type(u) is str for u in results) else ()
    )

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if type(value) is str else None

    return StoredArtwork(
        id=raw["id"],
        artwork_type=text("artworkType"),
        status=text("status"),
        created_at=text("createdAt"),
        json=encode_json(raw),
        results=urls,
        valid=valid,
    )


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the directory's OS file lock (released by the OS even if the process is killed)."""
    lock_file = directory / _LOCK_NAME
    lock = filelock.FileLock(lock_file)
    pid_file = directory / _PID_NAME
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise ArchiveLockedError(directory, _read_pid(pid_file)) from None
    if not holds(lock, lock_file):
        # Locked a file its holder had just removed: the holder was still there a moment ago.
        lock.release()
        raise ArchiveLockedError(directory, _read_pid(pid_file))
    try:
        pid_file.write_text(f"{os.getpid()}\n", encoding="ascii")
        yield
    finally:
        # Both go while the lock is held (a run that opened the lock file a moment ago then
        # holds a file with no name, and holds() tells it so): a finished run leaves neither.
        for stale in (pid_file, lock_file):
            with contextlib.suppress(OSError):
                stale.unlink()
        lock.release()


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _prepare(root: Path) -> Path:
    """Create the archive directory and its ``images/`` (a few metadata calls, no waiting)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    return root


def _clean_parts(images: Path) -> None:
    """Remove downloads a killed run left half-done (the lock says no run is writing)."""
    for part in images.glob(f".*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):
            part.unlink()


async def sync(
    client: TengrAI,
    directory: str | os.PathLike[str],
    *,
    images: bool = True,
    since: _dt.datetime | None = None,
    page_size: int = 500,
    prefetch: int = 4,
    downloads: int = 8,
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    progress: ArchiveProgress | None = None,
    on_finish: Callable[[ArchiveReport], object] | None = None,
) -> ArchiveReport:
    """Bring the archive in *directory* up to date: new artworks, changed ones, their images.

    *directory* is created if missing; it holds ``archive.sqlite`` and ``images/``. A run lists
    newest first and stops at the first artwork older than the newest one the last complete
    run saw (or than *since*); artworks archived while unfinished and not met in the listing
    are fetched by id; then every image of a succeeded artwork not yet downloaded is fetched,
    *downloads* at a time.

    Args:
        client: The client to list with (its retries apply to images too).
        directory: The archive directory.
        images: Download images (``False`` records their URLs for a later run).
        since: Also stop the listing at the first artwork created before this aware datetime.
        page_size: Artworks per listing request (1 to 500).
        prefetch: Listing requests in flight at once, after the first.
        downloads: Images downloaded at once.
        max_image_bytes: The cap on one image; a larger one is recorded as failed.
        progress: Told of every page stored and every chunk of image written.
        on_finish: Called with the run's report as the run ends, however it ends: done,
            failed or interrupted (the counts so far), before the error is raised.

    Raises:
        ArchiveLockedError: Another run is archiving into *directory*.
        ArchiveDatabaseError: ``archive.sqlite`` is not an archive this version can use.
        ArchiveWriteError: ``archive.sqlite`` could not be written during the run (a full
            disk, an I/O error, another program holding its lock); what was stored is kept.
        ValueError: A bad argument (before anything is written).
        OSError: *directory* cannot be created or written.
        APIError, TransportError: The listing failed (what was stored so far is kept).
    """
    candidate: object = since  # callers without a type checker may pass anything
    if candidate is not None and (
        not isinstance(candidate, _dt.datetime) or candidate.utcoffset() is None
    ):
        raise ValueError(f"since must be a timezone-aware datetime, not {since!r}")
    for name, value in (("prefetch", prefetch), ("downloads", downloads)):
        if type(value) is not int or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, not {value!r}")
    if not _rules.LIMIT.accepts(page_size):
        raise ValueError(f"page_size must be {_rules.LIMIT.expected}, not {page_size!r}")
    if type(max_image_bytes) is not int or max_image_bytes < 1:
        raise ValueError(f"max_image_bytes must be an integer >= 1, not {max_image_bytes!r}")
    root = _prepare(Path(directory))
    started = time.monotonic()
    with _locked(root):
        await asyncio.to_thread(_clean_parts, root / "images")
        path = root / DATABASE_NAME
        try:
            async with DatabaseThread(path) as db:
                run = _Run(client, db, root, progress or _NoProgress(), on_finish)
                return await run.go(
                    images=images,
                    since=since,
                    page_size=page_size,
                    prefetch=prefetch,
                    downloads=downloads,
                    max_image_bytes=max_image_bytes,
                    started=started,
                )
        except sqlite3.DatabaseError as exc:
            # A disk that filled up, or a file damaged after it was opened.
            raise database_error(path, exc) from None
        finally:
            # Still under the lock: no download of this run (or a killed one) is left half-done.
            _clean_parts(root / "images")


class _Run:
    """The state of one run, between its phases."""

    def __init__(
        self,
        client: TengrAI,
        db: DatabaseThread,
        root: Path,
        progress: ArchiveProgress,
        on_finish: Callable[[ArchiveReport], object] | None = None,
    ) -> None:
        self._client = client
        self._on_finish = on_finish
        self._db = db
        self._root = root
        self._progress = progress
        self._tally = _Tally()

    async def go(
        self,
        *,
        images: bool,
        since: _dt.datetime | None,
        page_size: int,
        prefetch: int,
        downloads: int,
        max_image_bytes: int,
        started: float,
    ) -> ArchiveReport:
        db = self._db
        run = await db.call(ArchiveDatabase.start_run)
        seen_since = now_text()
        stop = _Stop.of(await db.call(ArchiveDatabase.high_water_mark), since)
        outcome = "interrupted"
        complete, newest = False, None
        listing_failed: TengrAIError | None = None
        try:
            try:
                complete, newest = await self._list(stop, page_size=page_size, prefetch=prefetch)
            except TengrAIError as exc:
                # Images already known still go before the 8 days are up; the error is raised
                # once they are fetched.
                listing_failed = exc
            await self._refresh(seen_since, prefetch)
            if images:
                await self._download(downloads, max_image_bytes)
            if listing_failed is not None:
                raise listing_failed
            outcome = "done"
        except (TengrAIError, sqlite3.DatabaseError):
            outcome = "failed"
            raise
        finally:
            tally = self._tally
            # Shielded: an interrupted run is recorded as such even if cancelled again.
            await asyncio.shield(
                db.later(
                    ArchiveDatabase.finish_run,
                    run,
                    outcome=outcome,
                    complete=complete and outcome == "done",
                    newest=newest,
                    new=tally.counts.new,
                    updated=tally.counts.updated,
                    unchanged=tally.counts.unchanged,
                    invalid=tally.counts.invalid,
                    images_done=tally.done,
                    images_gone=tally.gone,
                    images_failed=tally.failed,
                    bytes=tally.bytes,
                )
            )
            if self._on_finish is not None:
                self._on_finish(self._report(complete=complete, started=started))
        return self._report(complete=complete, started=started)

    def _report(self, *, complete: bool, started: float) -> ArchiveReport:
        tally = self._tally
        return ArchiveReport(
            new=tally.counts.new,
            updated=tally.counts.updated,
            unchanged=tally.counts.unchanged,
            invalid=tally.counts.invalid,
            invalid_errors=tuple(tally.invalid_errors),
            removed=tally.removed,
            unrefreshed=tally.unrefreshed,
            images_downloaded=tally.done,
            images_gone=tally.gone,
            images_failed=tally.failed,
            bytes_downloaded=tally.bytes,
            complete=complete,
            elapsed=time.monotonic() - started,
        )

    def _account(
        self, counts: PageCounts, stored: int, errors: Iterable[ResponseValidationError] = ()
    ) -> None:
        tally = self._tally.counts
        tally.new += counts.new
        tally.updated += counts.updated
        tally.unchanged += counts.unchanged
        tally.invalid += counts.invalid
        if counts.invalid_ids:
            by_id = {_raw_id(error): error for error in errors}
            self._tally.invalid_errors += [
                by_id[artwork_id] for artwork_id in counts.invalid_ids if artwork_id in by_id
            ]
        self._progress.artworks(stored)

    async def _store(
        self, items: Iterable[Artwork], invalid: Iterable[ResponseValidationError] = ()
    ) -> None:
        artworks, errors = list(items), list(invalid)
        counts = await self._db.call(ArchiveDatabase.store_page, _rows(artworks, errors))
        self._account(counts, len(artworks) + len(errors), errors)

    async def _list(self, stop: _Stop, *, page_size: int, prefetch: int) -> tuple[bool, str | None]:
        """List newest first down to the stop; return (complete, the newest ``createdAt``).

        Every page fetched is stored whole (an artwork already archived costs one comparison),
        so an artwork that showed up late among older ones is still caught. Pages are stored
        on the database's thread while the next ones are fetched; what was fetched before a
        listing error is stored all the same.
        """
        stores = _PageStores(self._db, self._account)
        try:
            result = await self._list_pages(stop, stores, page_size=page_size, prefetch=prefetch)
        except TengrAIError:
            await stores.settle()
            raise
        except BaseException:
            await stores.abandon()
            raise
        await stores.settle()
        return result

    async def _list_pages(
        self, stop: _Stop, stores: _PageStores, *, page_size: int, prefetch: int
    ) -> tuple[bool, str | None]:
        artworks = self._client.artworks
        # The first window goes alone: on an archive that is up to date it is the only one.
        first = await artworks.list(offset=0, limit=page_size, on_invalid="skip")
        newest = _newest(first)
        if await stores.add(first, stop):
            return stop.completes, newest
        if not first.has_more:
            return True, newest
        async with artworks.iterate(
            offset=first.next_offset,
            page_size=page_size,
            prefetch=prefetch,
            on_invalid="skip",
            # A listing that shifted meanwhile repeats the first page's end: stored once.
            seen_ids=[artwork.id for artwork in first.items if artwork.id is not None],
        ) as iterator:
            async for page in iterator.pages():
                if await stores.add(page, stop):
                    return stop.completes, newest
        return True, newest  # the end of the listing

    async def _refresh(self, seen_since: str, concurrency: int) -> None:
        """Fetch by id every running artwork the listing did not show again.

        An id that is not a UUID cannot be fetched and is left alone; one whose fetch fails is
        left as it was and counted in ``unrefreshed``: neither stops the run or its images.
        """
        unfinished = await self._db.call(ArchiveDatabase.unfinished, seen_since)
        pending = [artwork_id for artwork_id in unfinished if _is_uuid(artwork_id)]
        if not pending:
            return
        semaphore = asyncio.Semaphore(concurrency)

        async def one(artwork_id: str) -> None:
            async with semaphore:
                try:
                    artwork = await self._client.artworks.get(artwork_id)
                except NotFoundError:
                    await self._db.call(ArchiveDatabase.mark_removed, artwork_id)
                    self._tally.removed += 1
                    return
                except ResponseValidationError as exc:
                    await self._store([], [exc])
                    return
                except (TengrAIError, ValueError) as exc:
                    if isinstance(exc, ClientStateError):
                        raise
                    logger.warning("could not refresh artwork %r: %s", artwork_id, exc)
                    self._tally.unrefreshed += 1
                    return
            await self._store([artwork])

        await _all(one(artwork_id) for artwork_id in pending)

    async def _download(self, downloads: int, max_bytes: int) -> None:
        """Download every pending image, *downloads* at a time, recording each as it ends.

        The records are written on the database's thread a batch at a time while the
        downloads go on; they are all written before this returns, even when interrupted: an
        image on disk is never fetched again.
        """
        transport = self._client._transport  # noqa: SLF001 - the archive is the client's own
        requests_per_run = transport.max_retries + 1
        jobs = iter(await self._db.call(ArchiveDatabase.pending_images, requests_per_run))
        hosts = ImageHosts(transport)
        on_bytes: Callable[[int], None] = self._progress.image_bytes
        records = _ImageRecords(self._db)

        async def worker() -> None:
            for job in jobs:  # the workers share one iterator: each job is taken once
                outcome = await download_image(
                    transport,
                    job.url,
                    directory=self._root,
                    artwork_id=job.artwork_id,
                    position=job.position,
                    max_bytes=max_bytes,
                    on_bytes=on_bytes,
                    hosts=hosts,
                )
                self._count(outcome)
                records.add(job, outcome)

        try:
            await _all(worker() for _ in range(downloads))
        finally:
            await asyncio.shield(records.flush())

    def _count(self, outcome: ImageOutcome) -> None:
        tally = self._tally
        if outcome.state == "done":
            tally.done += 1
            tally.bytes += outcome.size or 0
        elif outcome.state == "gone":
            tally.gone += 1
        else:
            tally.failed += 1


#: Image records handed to the database's thread at once: each hand-over costs the event loop
#: its GIL for a while, so they go by the batch, or when the oldest has waited a second; a run
#: killed with ``kill -9`` loses at most these (their images are fetched again by the next run).
_RECORDS_PER_BATCH: Final = 32
_RECORD_DELAY: Final = 1.0


class _ImageRecords:
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


#: Pages handed to the database's thread and not yet stored, at most: enough to keep it busy
#: while the listing goes on, few enough that an interrupted run loses little.
_PAGES_AHEAD: Final = 2


class _PageStores:
    """The listing's pages on their way to the database's thread, oldest first."""

    def __init__(
        self,
        db: DatabaseThread,
        account: Callable[[PageCounts, int, Iterable[ResponseValidationError]], None],
    ) -> None:
        self._db = db
        self._account = account
        # The thread's own futures: cancel() says at once whether a page will be stored; each
        # with its count of artworks and its invalid items' errors.
        self._pending: collections.deque[
            tuple[concurrent.futures.Future[PageCounts], int, tuple[ResponseValidationError, ...]]
        ] = collections.deque()

    async def add(self, page: ArtworkPage, stop: _Stop) -> bool:
        """Queue the page (but artworks older than ``since``); return whether it met the stop.

        Waits while more than :data:`_PAGES_AHEAD` pages are queued.
        """
        kept = [artwork for artwork in page.items if not stop.before_since(artwork)]
        rows = _rows(kept, page.invalid)
        count = len(kept) + len(page.invalid)
        future = self._db.submit(ArchiveDatabase.store_page, rows)
        self._pending.append((future, count, page.invalid))
        while len(self._pending) > _PAGES_AHEAD:
            await self._settle_oldest()
        return any(stop.reached(artwork) for artwork in page.items)

    async def settle(self) -> None:
        """Wait until every queued page is stored; a failure abandons the rest."""
        try:
            while self._pending:
                await self._settle_oldest()
        except BaseException:
            await self.abandon()
            raise

    async def abandon(self) -> None:
        """Drop the pages not yet begun: the next run lists them again.

        The one being stored is committed all the same, so it is waited for and counted
        (unless this is cancelled again).
        """
        begun = [entry for entry in self._pending if not entry[0].cancel()]
        self._pending.clear()
        for future, count, errors in begun:
            try:
                counts = await asyncio.shield(asyncio.wrap_future(future))
            except Exception:  # noqa: BLE001, S112 - the error that matters is already raised
                continue
            self._account(counts, count, errors)

    async def _settle_oldest(self) -> None:
        future, count, errors = self._pending[0]
        counts = await asyncio.wrap_future(future)
        self._pending.popleft()
        self._account(counts, count, errors)


#: How far below the last complete run's newest artwork a run still lists: an artwork that
#: becomes visible after a newer one (creation and commit order can differ) is caught.
STOP_LAG: Final = _dt.timedelta(minutes=15)


@attrs.frozen
class _Stop:
    """Where a run's listing stops, and whether stopping there makes the run complete."""

    mark: _dt.datetime | None
    since: _dt.datetime | None

    @classmethod
    def of(cls, mark_text: str | None, since: _dt.datetime | None) -> _Stop:
        mark = None
        if mark_text is not None:
            with contextlib.suppress(ValueError):
                mark = _rules.Timestamp.parse(mark_text) - STOP_LAG
        return cls(mark, since)

    @property
    def bound(self) -> _dt.datetime | None:
        """The later of the mark and ``since``: the first artwork older than it ends listing."""
        if self.mark is None or self.since is None:
            return self.mark or self.since
        return max(self.mark, self.since)

    @property
    def completes(self) -> bool:
        """Stopping at the bound leaves nothing unarchived (``since`` alone would)."""
        return self.since is None or (self.mark is not None and self.mark >= self.since)

    def reached(self, artwork: Artwork) -> bool:
        bound, created = self.bound, artwork.created_at
        return bound is not None and created is not None and created < bound

    def before_since(self, artwork: Artwork) -> bool:
        created = artwork.created_at
        return self.since is not None and created is not None and created < self.since


def _is_uuid(artwork_id: str) -> bool:
    """Whether the id can be fetched by ``GET /v2/artworks/{id}`` (an unknown kind's may not)."""
    try:
        _sansio.check_artwork_id(artwork_id)
    except ValueError:
        return False
    return True


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
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


def _rows(
    artworks: Iterable[Artwork], invalid: Iterable[ResponseValidationError]
) -> list[StoredArtwork]:
    """The rows of a page's artworks (valid) and of its invalid items.

    Made on the event loop: the database's thread then holds the GIL only briefly (a thread
    that keeps taking it back from a busy loop waits for it each time).
    """
    rows = [_stored(wire_object(artwork), valid=True) for artwork in artworks]
    rows += [_stored(error.raw, valid=False) for error in invalid]
    return [row for row in rows if row is not None]


def _raw_id(error: ResponseValidationError) -> object:
    raw = error.raw
    return raw.get("id") if isinstance(raw, dict) else None


def _newest(page: ArtworkPage) -> str | None:
    """The ``createdAt`` text of the listing's first artwork (valid or not)."""
    if page.items:
        first = wire_object(page.items[0])
        value = first.get("createdAt")
        return value if isinstance(value, str) else None
    return None
