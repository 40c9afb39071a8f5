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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from .. import _rules, _sansio
from .._client import TengrAI
from .._converter import wire_object
from .._errors import ClientStateError, NotFoundError, ResponseValidationError, TengrAIError
from .._json import encode_json
from .._models import Artwork, ArtworkPage
from ._db import (
    ArchiveDatabase,
    PageCounts,
    StoredArtwork,
    database_error,
    now_text,
)
from ._downloads import all_together, download_pending
from ._images import DEFAULT_MAX_IMAGE_BYTES, PART_SUFFIX
from ._lock import ArchiveLockedError, locked
from ._report import ArchiveProgress, ArchiveReport, NoProgress, Tally
from ._stop import Stop
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
    with locked(root):
        await asyncio.to_thread(_clean_parts, root / "images")
        path = root / DATABASE_NAME
        try:
            async with DatabaseThread(path) as db:
                run = _Run(client, db, root, progress or NoProgress(), on_finish)
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
        self._tally = Tally()

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
        stop = Stop.of(await db.call(ArchiveDatabase.high_water_mark), since)
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
                self._on_finish(
                    self._tally.report(complete=complete, elapsed=time.monotonic() - started)
                )
        return self._tally.report(complete=complete, elapsed=time.monotonic() - started)

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

    async def _list(self, stop: Stop, *, page_size: int, prefetch: int) -> tuple[bool, str | None]:
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
        self, stop: Stop, stores: _PageStores, *, page_size: int, prefetch: int
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

        await all_together(one(artwork_id) for artwork_id in pending)

    async def _download(self, downloads: int, max_bytes: int) -> None:
        """Download every pending image, *downloads* at a time, counting each as it ends."""
        await download_pending(
            self._client._transport,  # noqa: SLF001 - the archive is the client's own
            self._db,
            self._root,
            downloads=downloads,
            max_bytes=max_bytes,
            on_bytes=self._progress.image_bytes,
            on_outcome=self._tally.count_image,
        )


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

    async def add(self, page: ArtworkPage, stop: Stop) -> bool:
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


def _is_uuid(artwork_id: str) -> bool:
    """Whether the id can be fetched by ``GET /v2/artworks/{id}`` (an unknown kind's may not)."""
    try:
        _sansio.check_artwork_id(artwork_id)
    except ValueError:
        return False
    return True


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
