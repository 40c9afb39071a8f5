"""What the archive's time goes to, for ``bench_archive.py --profile``: timers and probes.

Measurement only: the package is never edited. The timers wrap three of its private functions
for the length of a ``with`` block; the download variants (``_archive_client.py``) switch one
cost off at a time in their own process; the database probe stores the same rows through the
package's ``store_page`` alone (no network, no event loop), with the package's SQLite settings
and with SQLite's defaults, side by side.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from tengrai_async.archive import _db, _images, _sync
from tengrai_async.testing import make_artwork

__all__ = [
    "DownloadTimes",
    "StoreTimes",
    "download_variant",
    "probe_database",
    "time_downloads",
    "time_store",
]


@attrs.define
class StoreTimes:
    """Seconds a first run spent outside the listing itself, and how often."""

    rows: float = 0.0  # _sync._rows on the event loop: wire_object + orjson.dumps + StoredArtwork
    statements: float = 0.0  # store_page's lookup and inserts, on the database's thread
    commits: float = 0.0  # BEGIN IMMEDIATE ... COMMIT there: the WAL write, checkpoints' fsyncs
    pages: int = 0


@contextlib.contextmanager
def time_store() -> Iterator[StoreTimes]:
    """Time the rows made on the loop and ``store_page`` in two parts (wall seconds)."""
    times = StoreTimes()
    rows = _sync._rows  # noqa: SLF001 - measured, not changed
    store_page = _db.ArchiveDatabase.store_page
    commit = _db._Transaction.__exit__  # noqa: SLF001

    def timed_rows(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return rows(*args)
        finally:
            times.rows += time.perf_counter() - started

    def timed_store(self: _db.ArchiveDatabase, artworks: Iterable[_db.StoredArtwork]) -> Any:
        started = time.perf_counter()
        before = times.commits
        counts = store_page(self, artworks)
        times.statements += time.perf_counter() - started - (times.commits - before)
        times.pages += 1
        return counts

    def timed_commit(self: Any, *args: Any) -> None:
        started = time.perf_counter()
        try:
            commit(self, *args)
        finally:
            times.commits += time.perf_counter() - started

    _sync._rows = timed_rows  # noqa: SLF001
    _db.ArchiveDatabase.store_page = timed_store  # type: ignore[method-assign]
    _db._Transaction.__exit__ = timed_commit  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield times
    finally:
        _sync._rows = rows  # noqa: SLF001
        _db.ArchiveDatabase.store_page = store_page  # type: ignore[method-assign]
        _db._Transaction.__exit__ = commit  # type: ignore[method-assign]  # noqa: SLF001


# --- the database alone ---------------------------------------------------------------------

#: SQLite's own defaults, which the package raises (``_db._CACHE_KIB``, ``_CHECKPOINT_PAGES``).
_SQLITE_DEFAULTS = ("PRAGMA cache_size = -2000", "PRAGMA wal_autocheckpoint = 1000")


@attrs.frozen
class Probe:
    """One way of storing the rows: wall and CPU seconds."""

    name: str
    wall: float
    cpu: float


def _one_probe(
    name: str, pages: list[list[_db.StoredArtwork]], pragmas: tuple[str, ...], workdir: Path
) -> Probe:
    directory = Path(tempfile.mkdtemp(dir=workdir))
    db = _db.ArchiveDatabase(directory / "archive.sqlite")
    for pragma in pragmas:
        db._db.execute(pragma)  # noqa: SLF001 - the probe's one change to the package's way
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        for page in pages:
            db.store_page(page)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        db.close()
        shutil.rmtree(directory)
        os.sync()
    return Probe(name, wall, cpu)


def probe_database(
    count: int, rounds: int, workdir: Path, *, defaults: bool = False
) -> dict[str, list[Probe]]:
    """Store *count* synthetic artworks (500 a page) into empty databases, ways interleaved.

    The package's ``store_page``, one transaction a page, on this thread with nothing else
    running: what a first run's database work costs at least. *defaults* adds the same with
    SQLite's default cache and checkpoint sizes.
    """
    rows = [_sync._stored(make_artwork(index), valid=True) for index in range(count)]  # noqa: SLF001
    pages = [[row for row in rows[i : i + 500] if row is not None] for i in range(0, count, 500)]
    ways: dict[str, tuple[str, ...]] = {"store_page, the package's settings": ()}
    if defaults:
        ways["store_page, SQLite's default cache and checkpoints"] = _SQLITE_DEFAULTS
    results: dict[str, list[Probe]] = {name: [] for name in ways}
    for index in range(rounds):
        order = list(ways.items()) if index % 2 == 0 else list(reversed(ways.items()))
        for name, pragmas in order:
            results[name].append(_one_probe(name, pages, pragmas, workdir))
    return results


# --- the download variants --------------------------------------------------------------------


class _NoDigest:
    def update(self, _data: bytes) -> None:
        """Nothing hashed."""

    def hexdigest(self) -> str:
        return "0" * 64


def download_variant(mode: str) -> str:
    """Switch off the cost named after ``archive-`` (in this process); return the base mode.

    ``archive-nofsync``: flush only, no fsync. ``archive-nohash``: no SHA-256.
    ``archive-nodb``: no image records (``record_images`` does nothing on the
    database's thread). Several join with ``-``: ``archive-nofsync-nohash-nodb``.
    """
    if not mode.startswith("archive-"):
        return mode
    for cost in mode.removeprefix("archive-").split("-"):
        if cost == "nofsync":
            _images._sync_to_disk = lambda file: file.flush()  # noqa: SLF001
        elif cost == "nohash":
            _images.hashlib = types.SimpleNamespace(sha256=_NoDigest)  # type: ignore[assignment,attr-defined]
        elif cost == "nodb":
            _db.ArchiveDatabase.record_images = lambda *_, **__: None  # type: ignore[method-assign]
        else:
            msg = f"unknown variant {mode!r}"
            raise ValueError(msg)
    return "archive"


@attrs.define
class DownloadTimes:
    """Seconds spent in the per-image database commit and in the fsyncs (summed over threads)."""

    record: float = 0.0  # record_images: a batch a transaction, on the database's thread
    fsync: float = 0.0  # _sync_to_disk in the default executor, 8 downloads at once


@contextlib.contextmanager
def time_downloads() -> Iterator[DownloadTimes]:
    """Time ``record_images`` and ``_sync_to_disk`` (as this process has them) in the block."""
    times = DownloadTimes()
    record_images = _db.ArchiveDatabase.record_images
    sync_to_disk = _images._sync_to_disk  # noqa: SLF001

    def timed_record(self: Any, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            record_images(self, *args, **kwargs)
        finally:
            times.record += time.perf_counter() - started

    def timed_sync(file: Any) -> None:
        started = time.perf_counter()
        try:
            sync_to_disk(file)
        finally:
            times.fsync += time.perf_counter() - started

    _db.ArchiveDatabase.record_images = timed_record  # type: ignore[method-assign]
    _images._sync_to_disk = timed_sync  # noqa: SLF001
    try:
        yield times
    finally:
        _db.ArchiveDatabase.record_images = record_images  # type: ignore[method-assign]
        _images._sync_to_disk = sync_to_disk  # noqa: SLF001
